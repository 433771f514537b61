"""The city's «ранняя профориентация» rule as people meet it: an admin on a phone changes the
rule of the year, an organizer then creates an event that the new rule makes early."""

from __future__ import annotations

from datetime import timedelta

from formats.timefmt import TOMSK
from models import AuditLog, Event, Role, now_utc
from models.academic_year import academic_year_of
from models.early_rule import EarlyRule
from tests.browser.pages import login


def test_admin_changes_the_rule_and_a_new_event_follows_it(live_server, browser, factory, db):
    admin = factory.create_user(Role.ADMIN, email="admin@test.local")
    organizer = factory.create_user(Role.ORGANIZER, email="org@test.local")
    db.session.commit()
    start = (now_utc() + timedelta(days=10)).astimezone(TOMSK).replace(
        hour=10, minute=0, second=0, microsecond=0)
    year = academic_year_of(start)

    phone = browser.phone(live_server).new_page()
    login(phone, live_server, admin.email)
    phone.goto(f"{live_server.url}/admin/early-rule?year={year}")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert "дошкольники; 1–4 классы" in phone.locator("#early-rule-now").inner_text()
    phone.select_option("#max_grade", "6")
    phone.get_by_label("«Урок цифры»").check()
    phone.get_by_role("button", name="Сохранить правило").click()
    assert "сохранено" in phone.locator(".flash-messages").inner_text()
    assert "1–6 классы; категория «Урок цифры»" in phone.locator("#early-rule-now").inner_text()
    db.session.rollback()
    assert db.session.get(EarlyRule, year).max_grade == 6
    assert AuditLog.query.filter_by(action="early_rule.save").count() == 1

    desk = browser.desktop(live_server).new_page()
    login(desk, live_server, organizer.email)
    desk.goto(f"{live_server.url}/organizer/events/new")
    assert "1–6 классы" in desk.locator("#early-hint").inner_text()
    assert desk.eval_on_selector("#early", "e => e.value") == "auto"
    desk.fill("#title", "Экскурсия для 5–6 классов")
    desk.select_option("#category", "university")
    desk.select_option("#audience", "students")
    desk.fill("#grades_min", "5")
    desk.fill("#grades_max", "6")
    desk.fill("#starts_at", start.strftime("%Y-%m-%dT%H:%M"))
    desk.fill("#ends_at", (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    desk.fill("#venue_name", "ТГУ")
    desk.fill("#capacity", "20")
    desk.locator("main form button[type=submit]").last.click()
    desk.wait_for_url("**/organizer/events/*")
    assert "ранняя профориентация" in desk.locator("main").inner_text()
    db.session.rollback()
    assert Event.query.filter_by(title="Экскурсия для 5–6 классов").one().early is True
