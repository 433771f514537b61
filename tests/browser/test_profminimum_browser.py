"""Issue #14 on a 390×844 phone in real Chromium, as a new coordinator would: open
«Профминимум», see 8Б behind, open its list, follow the link to an upcoming профпроба and
register the students who are behind."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from models import OrgKind, ProfminimumFormat, Role, Ticket, TicketStatus, db, now_utc
from tests.browser.pages import login

pytestmark = pytest.mark.browser


def test_coordinator_registers_the_students_behind_for_a_probe(browser, live_server, factory):
    school = factory.create_org(kind=OrgKind.SCHOOL, name="МАОУ СОШ № 7")
    university = factory.create_org(kind=OrgKind.UNIVERSITY, name="ТГУ")
    coordinator = factory.create_user(Role.COORDINATOR, organization=school)
    done = [factory.create_student(school, last_name=n, first_name="Анна", class_name="7А",
                                   grade=7) for n in ("Антонова", "Белова")]
    behind = [factory.create_student(school, last_name=n, first_name="Илья", class_name="8Б",
                                     grade=8) for n in ("Васильев", "Григорьев", "Денисов")]
    held = factory.create_event(university, title="Профильная смена",
                                starts_at=now_utc() - timedelta(hours=3),
                                academic_hours_override=Decimal(40))
    for student in done:
        factory.create_checkin(factory.create_ticket(held, student))
    trial = ProfminimumFormat.query.filter_by(code="trial").one()
    probe = factory.create_event(university, title="Профпроба «Химик-лаборант»",
                                 starts_at=now_utc() + timedelta(days=6), grades_min=8,
                                 grades_max=9, profminimum_format=trial)
    db.session.commit()

    page = browser.phone(live_server).new_page()
    login(page, live_server, coordinator.email)
    page.goto(f"{live_server.url}/dashboard")
    page.locator(".navbar-toggler").click()
    # The menu is open once Bootstrap's collapse has finished (a click while it slides can miss).
    page.locator(".navbar-collapse.show").wait_for()
    page.get_by_role("link", name="Профминимум").click()
    page.wait_for_url("**/profminimum/**")
    page.get_by_role("heading", name="Профминимум: МАОУ СОШ № 7").wait_for()
    row = page.locator("#pm-classes tr", has_text="8Б")
    assert row.locator("td").last.inner_text() == "3"  # all three behind
    assert page.locator("#pm-classes tr", has_text="7А").locator("td").nth(1).inner_text() == "2"

    row.get_by_role("link", name="8Б").click()
    page.get_by_role("heading", name="Профминимум: 8Б").wait_for()
    assert page.locator("#pm-students tbody tr").count() == 3
    page.get_by_role("link", name="Записать отстающих на «Профпроба «Химик-лаборант»»").click()
    page.get_by_text("Отмечены предложенные ученики: 3.").wait_for()
    for student in behind:
        assert page.get_by_label(f"{student.last_name} Илья").is_checked()
    page.get_by_role("button", name="Зарегистрировать группу").click()
    page.get_by_text("Группа записана: подтверждено 3.").wait_for()

    db.session.rollback()
    tickets = Ticket.query.filter_by(event_id=probe.id, status=TicketStatus.CONFIRMED).all()
    assert {t.student_id for t in tickets} == {s.id for s in behind}
