"""Issue #20 item 6: moving an event (date, time, venue) reaches the people registered for
it — schools on their pages and their coordinators, parents and teachers with an e-mail —
once per change; the organizer sees who will be told before saving; a start in the past is
asked about first."""

from __future__ import annotations

import email
import re
from datetime import datetime, timedelta
from email import policy

import pytest

from formats.timefmt import TOMSK
from models import (
    Audience,
    Event,
    EventStatus,
    ParentSignup,
    Registration,
    Role,
    SchoolNotice,
    TicketStatus,
    now_utc,
)
from models.outbox import OutboxMessage
from tests.factories import mail_bytes
from webapp.parents.recipients import people_to_tell


def text(response) -> str:
    return response.get_data(as_text=True)


def local(days: int, hour: int = 10) -> datetime:
    day = (now_utc() + timedelta(days=days)).astimezone(TOMSK).date()
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=TOMSK)


def edit_form(event: Event, **overrides) -> dict:
    """The edit form as the organizer submits it, with the event's current values."""
    data = {
        "title": event.title, "description": "", "category": event.category.code,
        "audience": event.audience.value, "grades_min": str(event.grades_min or ""),
        "grades_max": str(event.grades_max or ""),
        "starts_at": event.starts_at.astimezone(TOMSK).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": event.ends_at.astimezone(TOMSK).strftime("%Y-%m-%dT%H:%M"),
        "venue_name": event.venue_name, "venue_address": event.venue_address,
        "venue_room": event.venue_room or "", "capacity": str(event.capacity),
        "per_school_quota": "", "registration_opens_at": "", "registration_closes_at": "",
        "checkin_opens_at": "", "checkin_closes_at": "", "early": "no", "roadmap_item": "",
    }
    data.update(overrides)
    return data


def parent(event, *, email=None, phone=None, name="Смирнова Ольга") -> ParentSignup:
    from models import db

    signup = ParentSignup(event_id=event.id, name=name, email=email, phone=phone,
                          consent_version="1", consent_at=now_utc(),
                          manage_secret_hash=f"{name}{email}{phone}"[:64].ljust(64, "x"))
    db.session.add(signup)
    db.session.flush()
    return signup


@pytest.fixture
def world(factory, db):
    """A published event of an organizer with: school A's group (a pupil, a teacher with an
    e-mail), school B whose only ticket was cancelled, a parent with an e-mail, one with a
    phone only, and one whose sign-up was cancelled."""
    organizer = factory.create_user(Role.ORGANIZER, email="org@uni.ru")
    start = local(10)
    event = factory.create_event(organizer.organization, starts_at=start,
                                 ends_at=start + timedelta(hours=2))
    school_a, school_b = factory.create_org(), factory.create_org()
    coord_a = factory.create_user(Role.COORDINATOR, organization=school_a, email="a@school.ru")
    factory.create_user(Role.COORDINATOR, organization=school_b, email="b@school.ru")
    reg_a = Registration(event_id=event.id, organization_id=school_a.id)
    reg_b = Registration(event_id=event.id, organization_id=school_b.id)
    db.session.add_all([reg_a, reg_b])
    db.session.flush()
    factory.create_ticket(event, factory.create_student(school_a), registration=reg_a)
    factory.create_ticket(event, factory.create_teacher(school_a, email="teacher@school.ru"),
                          registration=reg_a)
    factory.create_ticket(event, factory.create_student(school_b), registration=reg_b,
                          status=TicketStatus.CANCELLED, cancelled_at=now_utc())
    factory.create_ticket(event, parent(event, email="mama@mail.ru", name="Мама"))
    factory.create_ticket(event, parent(event, phone="+79131112233", name="Папа"))
    factory.create_ticket(event, parent(event, email="gone@mail.ru", name="Ушла"),
                          status=TicketStatus.CANCELLED, cancelled_at=now_utc())
    db.session.commit()
    return {"organizer": organizer, "event": event, "school_a": school_a,
            "school_b": school_b, "coord_a": coord_a}


def change_mail() -> list[OutboxMessage]:
    return OutboxMessage.query.filter(OutboxMessage.subject.like("Изменение:%")).order_by(
        OutboxMessage.id).all()


def test_who_is_told_only_live_tickets_with_an_address(world):
    people = people_to_tell(world["event"])
    assert people.school_ids == [world["school_a"].id]  # not B: its ticket was cancelled
    assert [u.email for u in people.coordinators] == ["a@school.ru"]
    assert [c.email for c in people.parents] == ["mama@mail.ru"]
    assert [c.email for c in people.teachers] == ["teacher@school.ru"]
    assert people.parents_without_email == 1
    assert people.summary() == (
        "Об изменении узнают: 1 школа, 1 родитель, 1 педагог; ещё 1 родитель без почты "
        "увидят новые время и место на странице своей записи.")


def test_the_edit_form_says_who_will_be_told_before_saving(client, auth, world):
    auth.login("org@uni.ru")
    page = text(client.get(f"/organizer/events/{world['event'].id}/edit"))
    line = re.search(r'id="who-is-told"><strong>([^<]*)</strong>', page)
    assert line and line.group(1).startswith("Об изменении узнают: 1 школа, 1 родитель, "
                                              "1 педагог")
    assert page.index('id="who-is-told"') < page.index("Сохранить изменения</button>")


def test_a_move_is_told_once_per_change(client, auth, db, world):
    event = world["event"]
    auth.login("org@uni.ru")
    url = f"/organizer/events/{event.id}/edit"
    # Saving without touching the date, time or venue tells nobody.
    assert client.post_form(url, edit_form(event, title="Новое название")).status_code == 303
    assert change_mail() == []

    new_start = local(12, hour=15)
    moved = edit_form(event, starts_at=new_start.strftime("%Y-%m-%dT%H:%M"),
                      ends_at=(new_start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    assert client.post_form(url, moved).status_code == 303
    assert client.post_form(url, moved).status_code == 303  # the same values again
    rows = change_mail()
    assert sorted(r.to_address for r in rows) == ["a@school.ru", "mama@mail.ru",
                                                  "teacher@school.ru"]
    notices = SchoolNotice.query.all()
    assert [n.organization_id for n in notices] == [world["school_a"].id]
    assert f"стало {new_start:%d.%m.%Y}, 15:00–17:00" in notices[0].message

    body = email.message_from_bytes(mail_bytes(next(r for r in rows
                                                    if r.to_address == "mama@mail.ru")),
                                    policy=policy.default)
    plain = body.get_body(("plain",)).get_content()
    assert f"Дата и время: было {local(10):%d.%m.%Y}, 10:00–12:00 — стало " \
           f"{new_start:%d.%m.%Y}, 15:00–17:00" in plain
    ics = next(p for p in body.walk() if p.get_filename() == "meropriyatie.ics").get_content()
    ics = ics.decode() if isinstance(ics, bytes) else ics
    assert new_start.astimezone(TOMSK).strftime("%Y%m%d") in ics

    # A second real change (the venue) is a second notice.
    db.session.expire_all()
    event = db.session.get(Event, event.id)
    assert client.post_form(url, edit_form(event, venue_room="ауд. 214")).status_code == 303
    rows = change_mail()
    assert len(rows) == 6
    assert SchoolNotice.query.count() == 2
    latest = email.message_from_bytes(mail_bytes(rows[-1]), policy=policy.default)
    assert "Место: было Главный корпус, г. Томск, пр. Ленина, 36 — стало Главный корпус, " \
           "г. Томск, пр. Ленина, 36, ауд. 214" in latest.get_body(("plain",)).get_content()


def test_a_draft_moved_tells_nobody(client, auth, db, factory, world):
    event = world["event"]
    event.status = EventStatus.DRAFT
    db.session.commit()
    auth.login("org@uni.ru")
    start = local(20)
    client.post_form(f"/organizer/events/{event.id}/edit", edit_form(
        event, starts_at=start.strftime("%Y-%m-%dT%H:%M"),
        ends_at=(start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")))
    assert change_mail() == []


def test_moving_into_the_past_asks_first(client, auth, db, world):
    event = world["event"]
    auth.login("org@uni.ru")
    url = f"/organizer/events/{event.id}/edit"
    past = local(-3)
    data = edit_form(event, starts_at=past.strftime("%Y-%m-%dT%H:%M"),
                     ends_at=(past + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    response = client.post_form(url, data)
    assert response.status_code == 200  # the form again, with the question
    page = text(response)
    assert "— в прошлом. Проверьте дату и год" in page
    assert 'name="confirm_past"' in page  # the second step appears
    db.session.expire_all()
    assert db.session.get(Event, event.id).starts_at == local(10)  # nothing saved
    assert change_mail() == []

    response = client.post_form(url, {**data, "confirm_past": "y"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Event, event.id).starts_at == past


def test_the_confirmation_is_not_asked_without_a_reason(client, auth, db, world):
    """A first visit shows no checkbox; an event with nobody registered moves freely."""
    auth.login("org@uni.ru")
    event = world["event"]
    assert 'name="confirm_past"' not in text(client.get(f"/organizer/events/{event.id}/edit"))
    empty = Event(**{c: getattr(event, c) for c in (
        "organizer_id", "title", "category_id", "audience", "grades_min", "grades_max",
        "starts_at", "ends_at", "venue_name", "venue_address", "capacity")},
        status=EventStatus.PUBLISHED, published_at=now_utc())
    db.session.add(empty)
    db.session.commit()
    past = local(-2)
    response = client.post_form(f"/organizer/events/{empty.id}/edit", edit_form(
        empty, starts_at=past.strftime("%Y-%m-%dT%H:%M"),
        ends_at=(past + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")))
    assert response.status_code == 303


def test_creating_or_repeating_in_the_past_asks_first(client, auth, db, world):
    auth.login("org@uni.ru")
    past = local(-5)
    data = edit_form(world["event"], title="Прошедшая профпроба",
                     starts_at=past.strftime("%Y-%m-%dT%H:%M"),
                     ends_at=(past + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    response = client.post_form("/organizer/events/new", data)
    assert response.status_code == 200 and "— в прошлом. Проверьте дату и год" in text(response)
    assert Event.query.filter_by(title="Прошедшая профпроба").count() == 0
    assert client.post_form("/organizer/events/new",
                            {**data, "confirm_past": "y"}).status_code == 303
    assert Event.query.filter_by(title="Прошедшая профпроба").count() == 1

    url = f"/organizer/events/{world['event'].id}/repeat"
    form = {"mode": "dates", "dates": f"{past:%d.%m.%Y}", "count": ""}
    response = client.post_form(url, form)
    assert response.status_code == 200 and "Начало копии (" in text(response)
    before = Event.query.count()
    assert client.post_form(url, {**form, "confirm_past": "y"}).status_code == 303
    assert Event.query.count() == before + 1


def test_the_api_records_past_events_as_before(client, db, factory, world):
    """The API's contract is unchanged: no confirmation step there."""
    from tests.factories import bearer, create_token

    token = create_token(world["organizer"])
    db.session.commit()
    past = local(-5)
    response = client.post("/api/v1/events", headers=bearer(token), json={
        "title": "Прошедшее", "category": "university", "audience": "students",
        "starts_at": past.isoformat(), "ends_at": (past + timedelta(hours=1)).isoformat(),
        "venue": "ТГУ", "capacity": 10, "early": False, "ovz_adapted": False})
    assert response.status_code == 201, response.get_json()


def test_parents_audience_events_tell_parents_too(client, auth, db, factory):
    organizer = factory.create_user(Role.ORGANIZER, email="o2@uni.ru")
    event = factory.create_event(organizer.organization, audience=Audience.PARENTS,
                                 category_code="parents", grades_min=None, grades_max=None)
    factory.create_ticket(event, parent(event, email="p@mail.ru"))
    db.session.commit()
    auth.login("o2@uni.ru")
    client.post_form(f"/organizer/events/{event.id}/edit", edit_form(event, venue_name="ДК"))
    assert [r.to_address for r in change_mail()] == ["p@mail.ru"]


def test_cancelling_tells_the_schools_on_their_pages_and_group_teachers(client, auth, db,
                                                                        world):
    auth.login("org@uni.ru")
    event = world["event"]
    response = client.post_form(f"/organizer/events/{event.id}/cancel",
                                {"reason": "Площадка закрыта на ремонт"})
    assert response.status_code == 303
    notices = {n.organization_id: n.message for n in SchoolNotice.query.all()}
    assert notices[world["school_a"].id] == (f"Отменено мероприятие: {event.title}. Причина: "
                                             "Площадка закрыта на ремонт.")
    told = {r.to_address for r in OutboxMessage.query.filter(
        OutboxMessage.subject.like("Мероприятие отменено%"))}
    assert {"a@school.ru", "mama@mail.ru", "teacher@school.ru"} <= told
    auth.logout()
    auth.login("a@school.ru")
    assert "Площадка закрыта на ремонт" in text(client.get("/school/registrations"))
