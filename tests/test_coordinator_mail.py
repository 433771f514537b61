"""Issue #20 item 7: a coordinator's weekly digest of new events that fit the school (and the
switch that turns it off), and the reminder the day before for the coordinators of
registered groups. Both sent by cron commands, idempotent."""

from __future__ import annotations

import email
from datetime import datetime, timedelta
from email import policy

import pytest
import time_machine

from formats.timefmt import TOMSK
from models import Audience, OrgKind, Registration, Role, TicketStatus, User, db, now_utc
from models.outbox import OutboxMessage
from tests.factories import mail_bytes
from webapp.schools.mailings import queue_coordinator_reminders, queue_digests

#: A Monday morning in Tomsk, when cron sends the digest.
MONDAY = datetime(2026, 11, 30, 8, 0, tzinfo=TOMSK)


def digests() -> list[OutboxMessage]:
    return OutboxMessage.query.filter(OutboxMessage.dedupe_key.like("digest:%")).order_by(
        OutboxMessage.id).all()


def plain(row) -> str:
    return email.message_from_bytes(mail_bytes(row), policy=policy.default).get_body(
        ("plain",)).get_content()


@pytest.fixture
def city(factory):
    """School A teaches grades 7 and 8; school B's coordinator switched the digest off; a
    kindergarten. Events published during the week before MONDAY, and one older."""
    with time_machine.travel(MONDAY - timedelta(days=3), tick=False):
        school = factory.create_org(name="Гимназия № 1")
        for grade in (7, 8):
            factory.create_student(school, grade=grade, class_name=f"{grade}А")
        factory.create_user(Role.COORDINATOR, organization=school, email="a@school.ru")
        other = factory.create_org()
        factory.create_user(Role.COORDINATOR, organization=other, email="b@school.ru",
                            weekly_digest=False)
        kindergarten = factory.create_org(kind=OrgKind.PRESCHOOL, name="Детский сад № 5")
        factory.create_user(Role.COORDINATOR, organization=kindergarten, email="k@dou.ru")
        uni = factory.create_org(kind=OrgKind.UNIVERSITY)
        start = MONDAY + timedelta(days=14)
        events = {
            "fits": factory.create_event(uni, title="Профпроба 5–9", grades_min=5,
                                         grades_max=9, starts_at=start),
            "young": factory.create_event(uni, title="Для 1–4", grades_min=1, grades_max=4,
                                          starts_at=start),
            "teachers": factory.create_event(uni, title="КПК для педагогов",
                                             audience=Audience.TEACHERS, grades_min=None,
                                             grades_max=None, starts_at=start),
            "preschool": factory.create_event(uni, title="Для дошкольников",
                                              audience=Audience.PRESCHOOL, grades_min=None,
                                              grades_max=None, starts_at=start),
            "parents": factory.create_event(uni, title="Собрание родителей",
                                            audience=Audience.PARENTS, grades_min=None,
                                            grades_max=None, starts_at=start),
            "internal": factory.create_event(other, title="Внутреннее другой школы",
                                             school_internal=True, starts_at=start),
        }
        events["old"] = factory.create_event(uni, title="Давняя публикация", starts_at=start,
                                             published_at=MONDAY - timedelta(days=12))
    db.session.commit()
    return events


def test_the_digest_fits_each_school_and_respects_the_switch(city):
    with time_machine.travel(MONDAY, tick=False):
        report = queue_digests()
    db.session.commit()
    assert (report.queued, report.switched_off) == (2, 1)
    by_address = {row.to_address: plain(row) for row in digests()}
    assert set(by_address) == {"a@school.ru", "k@dou.ru"}  # not b@: switched off
    school = by_address["a@school.ru"]
    assert "Профпроба 5–9" in school and "КПК для педагогов" in school
    for other in ("Для 1–4", "Для дошкольников", "Собрание родителей",
                  "Внутреннее другой школы", "Давняя публикация"):
        assert other not in school
    kindergarten = by_address["k@dou.ru"]
    assert "Для дошкольников" in kindergarten and "КПК для педагогов" in kindergarten
    assert "Профпроба 5–9" not in kindergarten
    assert "/school/mail" in school  # how to switch it off


def test_the_digest_is_sent_once_a_week_however_often_cron_runs(city, runner, factory):
    with time_machine.travel(MONDAY, tick=False):
        first = runner.invoke(args=["send-digest", "--no-send"])
    with time_machine.travel(MONDAY + timedelta(hours=5), tick=False):
        second = runner.invoke(args=["send-digest", "--no-send"])
    assert "Подборок поставлено в очередь: 2" in first.output, first.output
    assert "Подборок поставлено в очередь: 0; уже отправлены на этой неделе: 2" in second.output
    assert len(digests()) == 2

    # Next week: only what was published since the last digest.
    with time_machine.travel(MONDAY + timedelta(days=2), tick=False):
        uni = factory.create_org(kind=OrgKind.UNIVERSITY)
        factory.create_event(uni, title="Новая неделя", grades_min=7, grades_max=7,
                             starts_at=MONDAY + timedelta(days=20))
    db.session.commit()
    with time_machine.travel(MONDAY + timedelta(days=7), tick=False):
        runner.invoke(args=["send-digest", "--no-send"])
    week_two = [r for r in digests() if r.to_address == "a@school.ru"][-1]
    assert "Новая неделя" in plain(week_two) and "Профпроба 5–9" not in plain(week_two)
    assert len(digests()) == 3  # the kindergarten had nothing new: no letter


def test_the_coordinator_switches_the_digest_off_on_their_page(client, auth, city):
    auth.login("a@school.ru")
    page = client.get("/school/mail").get_data(as_text=True)
    assert 'name="weekly_digest"' in page and "checked" in page
    response = client.post_form("/school/mail", {})  # the box unticked
    assert response.status_code == 303
    db.session.expire_all()
    assert User.query.filter_by(email="a@school.ru").one().weekly_digest is False
    assert "checked" not in client.get("/school/mail").get_data(as_text=True).split(
        'name="weekly_digest"')[0][-200:]
    with time_machine.travel(MONDAY, tick=False):
        queue_digests()
    assert "a@school.ru" not in {r.to_address for r in digests()}
    client.post_form("/school/mail", {"weekly_digest": "y"})
    db.session.expire_all()
    assert User.query.filter_by(email="a@school.ru").one().weekly_digest is True


def test_only_coordinators_have_the_mail_page(client, auth, factory):
    factory.create_user(Role.ORGANIZER, email="org@uni.ru")
    db.session.commit()
    auth.login("org@uni.ru")
    assert client.get("/school/mail").status_code == 403


def test_coordinators_of_registered_groups_get_the_reminder_once(factory, runner):
    tomorrow = (now_utc().astimezone(TOMSK) + timedelta(days=1)).replace(hour=11, minute=0)
    event = factory.create_event(starts_at=tomorrow, ends_at=tomorrow + timedelta(hours=2))
    school, gone, later = factory.create_org(), factory.create_org(), factory.create_org()
    factory.create_user(Role.COORDINATOR, organization=school, email="a@school.ru")
    factory.create_user(Role.COORDINATOR, organization=gone, email="gone@school.ru")
    factory.create_user(Role.COORDINATOR, organization=later, email="later@school.ru")
    for org, status in ((school, TicketStatus.CONFIRMED), (gone, TicketStatus.CANCELLED)):
        registration = Registration(event_id=event.id, organization_id=org.id)
        db.session.add(registration)
        db.session.flush()
        for _ in range(2):
            factory.create_ticket(event, factory.create_student(org),
                                  registration=registration, status=status)
    next_week = factory.create_event(starts_at=tomorrow + timedelta(days=7))
    registration = Registration(event_id=next_week.id, organization_id=later.id)
    db.session.add(registration)
    db.session.flush()
    factory.create_ticket(next_week, factory.create_student(later), registration=registration)
    db.session.commit()

    result = runner.invoke(args=["send-reminders", "--no-send"])
    assert "координаторам школ: 1" in result.output, result.output
    runner.invoke(args=["send-reminders", "--no-send"])
    rows = OutboxMessage.query.filter(OutboxMessage.dedupe_key.like("reminder:event:%")).all()
    assert [r.to_address for r in rows] == ["a@school.ru"]
    assert rows[0].subject == f"Напоминание: завтра «{event.title}»"
    assert "подтверждено участников: 2" in plain(rows[0])
    assert queue_coordinator_reminders() == 0
