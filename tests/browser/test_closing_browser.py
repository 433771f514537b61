"""Issue #15 items 4 and 6 on a phone (390 px), as people do it: the admin sets the city's
target of 60 % for indicator 1 on the targets page; the coordinator of a school below it opens
the school's page, follows «Кого записать» and registers the proposed group in one step, and the
forecast on the page rises; the organizer invites another school at risk, once."""

from __future__ import annotations

from models import (
    OrgKind,
    Role,
    SchoolInvitation,
    SchoolNotice,
    Ticket,
    TicketStatus,
    db,
)
from models.academic_year import current_academic_year
from tests.browser.pages import login


def test_target_whom_to_send_one_step_and_invitation(live_server, browser, factory):
    year = current_academic_year()
    school = factory.create_org(name="МАОУ СОШ № 7 (браузер)", short_name="СОШ № 7")
    other = factory.create_org(name="МАОУ СОШ № 8 (браузер)", short_name="СОШ № 8")
    for org in (school, other):
        factory.create_baseline(org, year, students_total=10, students_ovz=0, teachers_total=2)
    kids = [factory.create_student(school, last_name=f"Ученик{i}", class_name="7А", grade=7)
            for i in range(8)]
    factory.create_student(other, class_name="8А", grade=8)
    university = factory.create_org(name="ТГУ (браузер)", kind=OrgKind.UNIVERSITY)
    event = factory.create_event(organizer=university, title="Профпроба в ТГУ", capacity=30,
                                 grades_min=7, grades_max=11)
    admin = factory.create_user(Role.ADMIN, email="admin@gap.local")
    coordinator = factory.create_user(Role.COORDINATOR, organization=school,
                                      email="coord@gap.local")
    factory.create_user(Role.COORDINATOR, organization=other, email="coord8@gap.local")
    organizer = factory.create_user(Role.ORGANIZER, organization=university,
                                    email="org@gap.local")
    db.session.commit()
    context = browser.phone(live_server)
    page = context.new_page()

    login(page, live_server, admin.email)
    page.goto(f"{live_server.url}/admin/targets?year={year}")
    page.fill("#t-city-students", "60")
    page.get_by_role("button", name="Сохранить цели").click()
    page.wait_for_load_state()
    assert "сохранены" in page.locator(".alert").first.inner_text()
    context.clear_cookies()

    login(page, live_server, coordinator.email)
    page.goto(f"{live_server.url}/reports/schools/{school.id}")
    first_row = page.locator("#forecast tbody tr").first
    assert "под угрозой" in first_row.inner_text()
    block = page.locator("#closing-students")
    assert "вовлечь ещё 6 обучающихся" in block.inner_text()
    block.get_by_role("link", name="Кого записать: 6 обучающихся").click()
    page.wait_for_url("**/register?**")
    assert page.locator("input[name=students]:checked").count() == 6
    page.get_by_role("button", name="Зарегистрировать группу").click()
    page.wait_for_url("**/school/registrations/**")
    db.session.rollback()
    tickets = Ticket.query.filter_by(event_id=event.id, status=TicketStatus.CONFIRMED).all()
    assert sorted(t.student_id for t in tickets) == sorted(k.id for k in kids[:6])
    page.goto(f"{live_server.url}/reports/schools/{school.id}")
    first_row = page.locator("#forecast tbody tr").first
    assert "под угрозой" not in first_row.inner_text() and "60,0" in first_row.inner_text()
    assert page.locator("#closing-students").count() == 0
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    context.clear_cookies()

    login(page, live_server, organizer.email)
    page.goto(f"{live_server.url}/organizer/events/{event.id}")
    demand = page.locator("#demand")
    assert "СОШ № 8" in demand.inner_text() and "СОШ № 7" not in demand.inner_text()
    assert "Ученик" not in page.content()
    demand.get_by_role("button", name="Пригласить").click()
    page.wait_for_load_state()
    assert "Приглашение отправлено" in page.locator(".alert").first.inner_text()
    assert "Приглашение отправлено" in page.locator("#demand").inner_text()
    assert page.locator("#demand").get_by_role("button", name="Пригласить").count() == 0
    db.session.rollback()
    assert SchoolInvitation.query.count() == 1
    assert SchoolNotice.query.filter_by(organization_id=other.id).count() == 1
