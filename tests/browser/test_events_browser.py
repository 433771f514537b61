"""As a new user would: an organizer publishes an event on a phone, a visitor finds it in the
catalogue at 390 px and subscribes to the feed; a real iCalendar parser reads the right time."""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Calendar

from formats.timefmt import TOMSK
from models import Event, EventStatus, Role, now_utc


def test_publish_find_on_phone_and_subscribe(live_server, browser, factory, db):
    organizer = factory.create_user(Role.ORGANIZER)
    db.session.commit()
    day = (now_utc() + timedelta(days=12)).astimezone(TOMSK).date()

    context = browser.phone(live_server)
    page = context.new_page()
    page.goto(live_server.url + "/login")
    page.fill("#email", organizer.email)
    page.fill("#password", factory.PASSWORD)
    page.click("button[type=submit]")
    page.goto(live_server.url + "/organizer/events/new")
    page.fill("#title", "Профпроба «Графический дизайнер»")
    page.select_option("#category", "cpc_program")
    page.select_option("#audience", "students")
    page.fill("#grades_min", "7")
    page.fill("#grades_max", "9")
    page.fill("#starts_at", f"{day:%Y-%m-%d}T10:00")
    page.fill("#ends_at", f"{day:%Y-%m-%d}T09:00")  # a mistake first
    page.fill("#venue_address", "г. Томск, ул. Тимакова, 9")
    page.fill("#capacity", "25")
    page.click("form[novalidate] button[type=submit]")
    summary = page.locator(".error-summary")
    assert "Окончание должно быть позже начала" in summary.inner_text()
    # The focus moves once the page's script has run: wait for it (fails after 5 s).
    page.wait_for_function(
        "() => document.activeElement && document.activeElement.hasAttribute("
        "'data-error-summary')",
        timeout=5000)
    page.fill("#ends_at", f"{day:%Y-%m-%d}T12:00")
    page.click("form[novalidate] button[type=submit]")
    page.get_by_role("button", name="Опубликовать").click()
    assert "Мероприятие опубликовано" in page.locator(".flash-messages").inner_text()
    db.session.rollback()  # end the test's read transaction to see the server's writes
    event = Event.query.one()
    assert event.status == EventStatus.PUBLISHED

    visitor = browser.phone(live_server).new_page()
    visitor.goto(live_server.url + "/events")
    assert visitor.evaluate("document.documentElement.scrollWidth") <= 390
    visitor.get_by_text("Фильтры и поиск").click()
    visitor.fill("#q", "графический")
    visitor.get_by_role("button", name="Показать мероприятия").click()
    assert "Найдено мероприятий: 1" in visitor.locator("[role=status]").first.inner_text()
    visitor.get_by_role("link", name="Профпроба «Графический дизайнер»").click()
    assert f"{day:%d.%m.%Y}, 10:00" in visitor.locator(".event-facts").inner_text()
    assert visitor.evaluate("document.documentElement.scrollWidth") <= 390

    visitor.goto(live_server.url + "/events?q=графический")
    feed_url = visitor.locator("#feed-url").input_value()
    assert feed_url.startswith("http://profroute.test/events/feed.ics?")
    local_url = live_server.url + feed_url.removeprefix("http://profroute.test")
    response = visitor.request.get(local_url)
    assert response.ok and response.headers["content-type"].startswith("text/calendar")
    [item] = Calendar.from_ical(response.body()).walk("VEVENT")
    assert str(item["SUMMARY"]) == "Профпроба «Графический дизайнер»"
    start = item.decoded("DTSTART")
    assert start.astimezone(TOMSK) == datetime(day.year, day.month, day.day, 10, tzinfo=TOMSK)
