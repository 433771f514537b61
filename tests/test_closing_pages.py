"""Issue #15 items 4 and 6 as people see them: «Что поможет достичь цели» on the school's page
with the one-step link to the group registration, «Школы под угрозой» on the city dashboard, and
on the organizer's event page «Школы, которым это мероприятие поможет» with «Пригласить» (a
notice and a letter, once per event and school; names and counts only).

The gaps (which school is below which target, from ``reports.forecast``) are given here directly:
what is tested is what the pages do with them. ``test_forecast_gap_end_to_end`` at the end goes
through a real target and forecast."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest

from models import (
    AuditLog,
    OrgKind,
    OutboxMessage,
    Role,
    SchoolInvitation,
    SchoolNotice,
    Ticket,
    TicketStatus,
    db,
    now_utc,
)
from models.academic_year import current_academic_year
from reports.forecast import TargetGap
from tests.factories import mail_bytes
from webapp.reports import gap_sections


def gap(org, indicator="students", needed=3, target="60.0", high="40.0"):
    high = Decimal(high)
    return TargetGap(organization_id=org.id, indicator=indicator, target=Decimal(target),
                     forecast_low=high - 10, forecast=high - 5, forecast_high=high,
                     people_needed=needed)


@pytest.fixture
def gaps(monkeypatch):
    """The schools at risk the pages see: fill the list in a test."""
    given: list = []
    monkeypatch.setattr(gap_sections, "current_city_gaps",
                        lambda forecast=None, now=None: list(given))
    monkeypatch.setattr(gap_sections, "current_school_gaps",
                        lambda org_id, forecast=None, now=None:
                        [g for g in given if g.organization_id == org_id])
    return given


@pytest.fixture
def school(factory):
    return factory.create_org(name="МАОУ СОШ № 7 (тест)")


@pytest.fixture
def coordinator(factory, school):
    return factory.create_user(Role.COORDINATOR, organization=school,
                               email="coord7@test.local")


@pytest.fixture
def university(factory):
    return factory.create_org(name="ТГУ (тест)", kind=OrgKind.UNIVERSITY)


@pytest.fixture
def organizer(factory, university):
    return factory.create_user(Role.ORGANIZER, organization=university)


def register_link(page: str) -> str:
    match = re.search(r'href="([^"]*/register\?[^"]*)"', page)
    assert match, "no «Кого записать» link"
    return unescape(match.group(1))


def test_school_page_offers_whom_to_send_and_registers_in_one_step(
        client, auth, factory, school, coordinator, university, gaps):
    kids = [factory.create_student(school, last_name=f"Ученик{i}", class_name="8А", grade=8)
            for i in range(4)]
    factory.create_student(school, last_name="Ранний", class_name="2А", grade=2)
    event = factory.create_event(organizer=university, title="Профпроба в ТГУ", capacity=10,
                                 per_school_quota=3, grades_min=7, grades_max=11)
    db.session.commit()
    gaps.append(gap(school, needed=5))
    auth.login(coordinator.email)
    page = client.get(f"/reports/schools/{school.id}").get_data(as_text=True)
    assert "Что поможет достичь цели" in page
    assert "Цель — <strong>60,0\u00a0%</strong>" in page and "вовлечь ещё 5 обучающихся" in page
    assert "Ещё не участвовали и не записаны: 5." in page  # 4 in 8А and one in 2А
    assert "Профпроба в ТГУ" in page
    assert "Кого записать: 3 обучающихся" in page  # the quota (3) binds, not the need (5)
    link = register_link(page)
    assert link.startswith(f"/events/{event.id}/register?")
    proposed = [int(v) for v in re.findall(r"student=(\d+)", link)]
    assert proposed == [k.id for k in kids[:3]]

    form = client.get(link).get_data(as_text=True)
    assert "Отмечены предложенные ученики: 3." in form
    for kid in kids[:3]:
        assert f'value="{kid.id}" checked' in form
    response = client.post_form(link, {"students": [str(i) for i in proposed]})
    assert response.status_code == 303
    tickets = Ticket.query.filter_by(event_id=event.id).all()
    assert sorted(t.student_id for t in tickets) == sorted(proposed)
    assert all(t.status == TicketStatus.CONFIRMED for t in tickets)
    # The quota is used up now: the event is no longer offered.
    page = client.get(f"/reports/schools/{school.id}").get_data(as_text=True)
    assert "Профпроба в ТГУ" not in page
    assert "Сейчас нет мероприятий с открытой записью" in page


def test_admin_link_keeps_the_school_and_past_years_show_nothing(
        client, auth, factory, school, gaps):
    admin = factory.create_user(Role.ADMIN)
    factory.create_student(school)
    event = factory.create_event()
    db.session.commit()
    gaps.append(gap(school))
    auth.login(admin.email)
    page = client.get(f"/reports/schools/{school.id}").get_data(as_text=True)
    assert "Ещё не участвовали и не записаны: 1 — меньше, чем нужно" in page  # 1 of 3
    link = register_link(page)
    assert link.startswith(f"/events/{event.id}/register?") and f"org={school.id}" in link
    assert "Отмечены предложенные ученики: 1." in client.get(link).get_data(as_text=True)
    past = client.get(f"/reports/schools/{school.id}?year={current_academic_year() - 1}")
    assert "Что поможет достичь цели" not in past.get_data(as_text=True)


def test_teachers_gap_links_to_the_registration_without_students(
        client, auth, factory, school, coordinator, gaps):
    from models import Audience
    event = factory.create_event(audience=Audience.TEACHERS, grades_min=None, grades_max=None,
                                 title="Курсы для педагогов")
    db.session.commit()
    gaps.append(gap(school, "teachers", needed=2))
    auth.login(coordinator.email)
    page = client.get(f"/reports/schools/{school.id}").get_data(as_text=True)
    assert "привлечь ещё 2 педагогов" in page and "Курсы для педагогов" in page
    assert f'href="/events/{event.id}/register">Записать педагогов' in page


def test_city_dashboard_lists_schools_at_risk_with_events(client, auth, factory, gaps):
    admin = factory.create_user(Role.ADMIN)
    far = factory.create_org(name="СОШ № 2 (тест)")
    near = factory.create_org(name="СОШ № 40 (тест)")
    factory.create_student(far, grade=9, class_name="9А")
    factory.create_student(near, grade=9, class_name="9А")
    factory.create_event(title="Ярмарка профессий", grades_min=8, grades_max=11)
    db.session.commit()
    gaps.extend([gap(far, high="10.0", needed=40), gap(near, high="50.0")])
    auth.login(admin.email)
    page = client.get("/reports/").get_data(as_text=True)
    assert "Школы под угрозой" in page
    section = page[page.index('id="at-risk"'):page.index('id="parents-h"')]
    assert section.index("СОШ № 2 (тест)") < section.index("СОШ № 40 (тест)")
    assert "вовлечь ещё 40 обучающихся" in section and section.count("Ярмарка профессий") == 2
    assert f'/reports/schools/{far.id}?year={current_academic_year()}#closing' in section
    past = client.get(f"/reports/?year={current_academic_year() - 1}").get_data(as_text=True)
    assert "Школы под угрозой" not in past
    narrowed = client.get("/reports/?category=university").get_data(as_text=True)
    assert "Школы под угрозой" not in narrowed


def test_organizer_sees_schools_at_risk_names_and_counts_only(
        client, auth, factory, school, coordinator, university, organizer, gaps):
    factory.create_student(school, last_name="Секретов", class_name="9А", grade=9, ovz=True)
    registered = factory.create_org(name="СОШ № 3 (тест)")
    factory.create_student(registered, last_name="Записанный", grade=9, class_name="9Б")
    event = factory.create_event(organizer=university, grades_min=8, grades_max=11)
    from models import Registration, RegistrationStatus
    db.session.add(Registration(event_id=event.id, organization_id=registered.id,
                                status=RegistrationStatus.ACTIVE))
    db.session.commit()
    gaps.extend([gap(school, needed=12), gap(registered)])
    auth.login(organizer.email)
    page = client.get(f"/organizer/events/{event.id}").get_data(as_text=True)
    section = page[page.index('id="demand"'):]
    assert "Школы, которым это мероприятие поможет" in section
    assert "МАОУ СОШ № 7 (тест)" in section and "вовлечь ещё 12 обучающихся" in section
    assert "СОШ № 3 (тест)" not in section  # already registered
    assert "Секретов" not in page and "Записанный" not in page and "ОВЗ" not in section
    assert "Пригласить" in section


def test_invitation_is_sent_once_with_a_notice_and_a_letter(
        client, auth, factory, school, coordinator, university, organizer, gaps):
    factory.create_student(school, grade=9, class_name="9А")
    event = factory.create_event(organizer=university, title="День открытых дверей",
                                 grades_min=8, grades_max=11)
    db.session.commit()
    gaps.append(gap(school, needed=12))
    auth.login(organizer.email)
    url = f"/organizer/events/{event.id}/invitations/{school.id}"
    first = client.post_form(url)
    assert first.status_code == 303 and first.location.endswith(f"/organizer/events/{event.id}")
    (invitation,) = SchoolInvitation.query.all()
    assert (invitation.event_id, invitation.organization_id) == (event.id, school.id)
    (notice,) = SchoolNotice.query.filter_by(organization_id=school.id).all()
    assert notice.event_id == event.id and "ТГУ (тест) приглашает школу" in notice.message
    (letter,) = OutboxMessage.query.filter(OutboxMessage.dedupe_key.like("invitation:%")).all()
    assert letter.to_address == coordinator.email
    body = mail_bytes(letter).decode("utf-8", "replace")
    assert "Приглашение на мероприятие" in letter.subject
    assert AuditLog.query.filter_by(action="invitation.send").count() == 1

    page = client.get(f"/organizer/events/{event.id}").get_data(as_text=True)
    assert "Приглашение отправлено" in page
    second = client.post_form(url, follow_redirects=True).get_data(as_text=True)
    assert "уже отправлено" in second
    assert re.search(r"уже отправлено \d\d\.\d\d\.\d{4} \d\d:\d\d", second)
    assert SchoolInvitation.query.count() == 1
    assert SchoolNotice.query.count() == 1
    assert OutboxMessage.query.filter(OutboxMessage.dedupe_key.like("invitation:%")).count() == 1
    assert body  # the letter was built

    # The school sees the notice on its pages.
    auth.logout()
    auth.login(coordinator.email)
    mine = client.get("/school/registrations").get_data(as_text=True)
    assert "приглашает школу на «День открытых дверей»" in mine


def test_invitation_refused_without_csrf_for_others_and_when_not_in_demand(
        client, auth, factory, school, coordinator, university, organizer, gaps):
    factory.create_student(school, grade=9, class_name="9А")
    event = factory.create_event(organizer=university, grades_min=8, grades_max=11)
    other_org = factory.create_org(name="ТПУ (тест)", kind=OrgKind.UNIVERSITY)
    stranger = factory.create_user(Role.ORGANIZER, organization=other_org)
    not_at_risk = factory.create_org(name="СОШ № 9 (тест)")
    db.session.commit()
    gaps.append(gap(school))
    url = f"/organizer/events/{event.id}/invitations/{school.id}"
    auth.login(stranger.email)
    assert client.post_form(url).status_code == 403
    page = client.get(f"/organizer/events/{event.id}")
    assert page.status_code in (403, 404)
    auth.logout()
    auth.login(coordinator.email)
    assert client.post_form(url).status_code == 403
    auth.logout()
    auth.login(organizer.email)
    assert client.post(url).status_code == 400  # no CSRF token: nothing happens
    assert SchoolInvitation.query.count() == 0
    refused = client.post_form(f"/organizer/events/{event.id}/invitations/{not_at_risk.id}",
                               follow_redirects=True).get_data(as_text=True)
    assert "сейчас не в списке" in refused
    assert SchoolInvitation.query.count() == 0 and SchoolNotice.query.count() == 0
    # A school at risk without a coordinator's account: the notice only, and it is said so.
    lonely = factory.create_org(name="СОШ № 10 (тест)")
    factory.create_student(lonely, grade=9, class_name="9А")
    db.session.commit()
    gaps.append(gap(lonely))
    said = client.post_form(f"/organizer/events/{event.id}/invitations/{lonely.id}",
                            follow_redirects=True).get_data(as_text=True)
    assert "Письмо не ушло: у школы нет профкоординатора" in said
    assert SchoolNotice.query.filter_by(organization_id=lonely.id).count() == 1
    assert SchoolInvitation.query.count() == 1
    assert client.post_form(f"/organizer/events/{event.id}/invitations/999999").status_code \
        == 404


def test_no_demand_section_for_events_not_taking_registrations(
        client, auth, factory, school, university, organizer, gaps):
    factory.create_student(school, grade=9, class_name="9А")
    closed = factory.create_event(organizer=university,
                                  registration_closes_at=now_utc() - timedelta(minutes=5))
    db.session.commit()
    gaps.append(gap(school))
    auth.login(organizer.email)
    page = client.get(f"/organizer/events/{closed.id}").get_data(as_text=True)
    assert "Школы, которым это мероприятие поможет" not in page


def test_forecast_gap_end_to_end(client, auth, factory, school, coordinator, university):
    """The admin sets a city target of 60 % for indicator 1 (API); the school has no check-ins
    yet, so even its forecast's high end is below: its page says whom to send; registering that
    group in one step raises the forecast (confirmed bookings × show rate) to the target, and
    the block for indicator 1 goes."""
    year = current_academic_year()
    factory.create_baseline(school, year, students_total=10, students_ovz=0, teachers_total=2)
    kids = [factory.create_student(school, last_name=f"Ученик{i}", class_name="7А", grade=7)
            for i in range(8)]
    event = factory.create_event(organizer=university, title="Профпроба", capacity=30)
    admin = factory.create_user(Role.ADMIN)
    token = factory.create_token(admin)
    db.session.commit()
    assert client.put(f"/api/v1/targets/{year}", json={"city": {"students": 60.0}},
                      headers=factory.bearer(token)).status_code == 200

    def forecast():
        body = client.get(f"/api/v1/reports/forecast?year={year}&organization_id={school.id}",
                          headers=factory.bearer(token)).json
        return body["students"]

    before = forecast()
    assert before["status"] == "at_risk" and before["forecast"]["percent"] == 0.0
    auth.login(coordinator.email)
    page = client.get(f"/reports/schools/{school.id}").get_data(as_text=True)
    assert 'id="closing-students"' in page and "вовлечь ещё 6 обучающихся" in page
    assert "Ещё не участвовали и не записаны: 8." in page and "меньше, чем нужно" not in page
    link = register_link(page)
    assert [int(v) for v in re.findall(r"student=(\d+)", link)] == [k.id for k in kids[:6]]
    response = client.post_form(link, {"students": re.findall(r"student=(\d+)", link)})
    assert response.status_code == 303
    assert Ticket.query.filter_by(event_id=event.id, status=TicketStatus.CONFIRMED).count() == 6
    after = forecast()
    assert after["forecast"]["percent"] == 60.0 and after["status"] != "at_risk"
    page = client.get(f"/reports/schools/{school.id}").get_data(as_text=True)
    assert 'id="closing-students"' not in page


def test_school_without_roster_is_asked_to_load_it(client, auth, factory, school, coordinator,
                                                   gaps):
    event = factory.create_event(title="Ярмарка вакансий")
    db.session.commit()
    gaps.append(gap(school))
    auth.login(coordinator.email)
    page = client.get(f"/reports/schools/{school.id}").get_data(as_text=True)
    assert "Список обучающихся школы ещё не загружен" in page
    assert "Ярмарка вакансий" in page and "Кого записать:" not in page
    assert "меньше, чем нужно" not in page
    assert f'href="/events/{event.id}/register">Записать группу' in page


def test_organizers_city_gaps_are_kept_for_a_while_when_configured(app, factory, monkeypatch):
    calls = []

    def gaps(forecast=None, now=None):
        calls.append(now)
        return []

    monkeypatch.setattr(gap_sections, "current_city_gaps", gaps)
    monkeypatch.setattr(gap_sections, "_CITY_GAPS", {})
    event = factory.create_event()
    gap_sections.event_demand(event)
    gap_sections.event_demand(event)
    assert len(calls) == 2  # off under TESTING
    app.config["GAPS_CACHE_SECONDS"] = 300
    gap_sections.event_demand(event)
    gap_sections.event_demand(event)
    assert len(calls) == 3
