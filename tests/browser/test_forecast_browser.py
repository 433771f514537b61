"""On a phone (390 px), as a new user would: the admin sets the city's target of 60 % for
indicator 1, the coordinator of a school at risk opens the school's page and reads the target,
the forecast range and the status; nothing is wider than the screen."""

from __future__ import annotations

from datetime import timedelta

from models import Role, now_utc


def _login(page, url, email, password):
    page.goto(url + "/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("main button[type=submit]")
    page.wait_for_url("**/dashboard")


def test_admin_sets_a_target_and_the_school_sees_it_at_risk(live_server, browser, factory, db):
    admin = factory.create_user(Role.ADMIN, email="admin@fc.local")
    school = factory.create_org(name="МАОУ СОШ № 9", short_name="СОШ № 9")
    coordinator = factory.create_user(Role.COORDINATOR, organization=school,
                                      email="coord@fc.local")
    year = now_utc().year if now_utc().month >= 9 else now_utc().year - 1
    factory.create_baseline(school, year, students_total=100, students_ovz=0, teachers_total=5)
    past = factory.create_event(starts_at=now_utc() - timedelta(days=20))
    for _ in range(3):
        factory.create_checkin(factory.create_ticket(past, factory.create_student(school)))
    db.session.commit()

    page = browser.phone(live_server).new_page()
    _login(page, live_server.url, admin.email, factory.PASSWORD)
    page.goto(f"{live_server.url}/admin/targets")
    page.get_by_label("1. Обучающиеся — Город (все школы), цель в процентах").fill("60")
    page.get_by_role("button", name="Сохранить цели").click()
    assert "сохранены" in page.locator(".alert-success").inner_text()
    page.context.clear_cookies()

    _login(page, live_server.url, coordinator.email, factory.PASSWORD)
    page.goto(f"{live_server.url}/reports/")
    row = page.locator("#forecast-students")
    row.scroll_into_view_if_needed()
    text = row.inner_text()
    assert "60,0" in text and "под угрозой" in text
    assert "3,0" in text  # now: 3 of 100
    assert "взята городская доля явки" not in page.content()  # it has its own bookings
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
