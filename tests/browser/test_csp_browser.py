"""The main pages of every role in real Chromium under the Content-Security-Policy, on a desktop
and on a phone: no CSP violation and no script error on any of them (the ``browser`` fixture
fails the test otherwise), and the behaviour their scripts add still works — the board's bar,
the print buttons, the private link that selects itself, the error summary that takes focus."""

from __future__ import annotations

import pytest

from models import ParentSignup, Registration, Ticket, User
from tests.browser.pages import login
from webapp.demo import load_demo
from webapp.demo.directory import DEMO_PASSWORD
from webapp.parents.services import hash_secret

pytestmark = pytest.mark.browser

SECRET = "browser-parent-secret-0123456789ab"


@pytest.fixture
def demo(db, factory):
    ctx = load_demo("small")
    coordinator = User.query.filter_by(email="school@demo.local").one()
    event = ctx["today_event"]
    registration = Registration.query.filter_by(
        event_id=event.id, organization_id=coordinator.organization_id).first()
    ticket = Ticket.query.filter_by(registration_id=registration.id).first()
    factory.create_checkin(ticket)  # someone came: the board's bar is not empty
    parent = ParentSignup.query.filter(ParentSignup.name.is_not(None)).first()
    parent.manage_secret_hash = hash_secret(SECRET)
    parent_event = next(e for e in ctx["parent_events"] if e.starts_at > event.starts_at)
    db.session.commit()
    return {"event": event, "registration": registration, "ticket": ticket,
            "school": coordinator.organization, "parent_event": parent_event}




def visit(page, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    page.wait_for_load_state("load")


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_main_pages_of_every_role_run_under_the_policy(browser, live_server, demo, size):
    base = live_server.url
    event, registration = demo["event"], demo["registration"]
    context = browser.desktop(live_server) if size == "desktop" else browser.phone(live_server)
    page = context.new_page()

    for url in ("/", "/events", f"/events/{event.id}", "/organizers",
                f"/events/{demo['parent_event'].id}/signup", f"/t/{demo['ticket'].token}",
                f"/g/{registration.group_code}", f"/my/{SECRET}", "/privacy"):
        visit(page, base + url)
    # The private link selects itself, ready to copy (a script, not an onclick).
    visit(page, f"{base}/my/{SECRET}")
    page.click("#private-link")
    assert page.evaluate("() => { const i = document.getElementById('private-link');"
                         " return i.selectionEnd - i.selectionStart === i.value.length; }")

    login(page, live_server, "admin@demo.local", DEMO_PASSWORD)
    for url in ("/dashboard", "/admin/organizations", "/admin/users", "/admin/baselines?year=2025",
                "/admin/audit", "/account/tokens", "/reports/", "/reports/roadmap",
                f"/reports/events/{event.id}", f"/organizer/events/{event.id}",
                f"/organizer/events/{event.id}/edit", "/organizer/events/new",
                f"/organizer/events/{event.id}/scans", f"/organizer/events/{event.id}/contacts",
                f"/organizer/events/{event.id}/scanner-links", "/admin/mail"):
        visit(page, base + url)
    # The board's bar gets its width from the page's data through board.js.
    visit(page, f"{base}/organizer/events/{event.id}/board")
    expected = float(page.get_attribute("[data-progress] .progress-bar", "data-width"))
    assert expected > 0
    page.wait_for_function("(w) => parseFloat(document.querySelector("
                           "'[data-progress] .progress-bar').style.width) === w", arg=expected)
    bar = page.locator("[data-progress] .progress-bar").bounding_box()
    track = page.locator("[data-progress]").bounding_box()
    assert bar["width"] == pytest.approx(track["width"] * expected / 100, abs=2)
    # The analytical report's print button is wired by a script.
    visit(page, f"{base}/reports/spravka?year=2025")
    page.evaluate("() => { window.__printed = 0; window.print = () => { window.__printed++; }; }")
    page.get_by_role("button", name="Печать").click()
    assert page.evaluate("() => window.__printed") == 1
    context.clear_cookies()

    login(page, live_server, "school@demo.local", DEMO_PASSWORD)
    for url in ("/school/students", "/school/teachers", "/school/registrations",
                f"/school/registrations/{registration.id}", f"/events/{event.id}/register",
                "/my/baseline", f"/reports/schools/{demo['school'].id}", "/school/students/import",
                "/school/teacher-signups"):
        visit(page, base + url)
    visit(page, f"{base}/school/registrations/{registration.id}/print")
    page.evaluate("() => { window.__printed = 0; window.print = () => { window.__printed++; }; }")
    page.get_by_role("button", name="Печать").click()
    assert page.evaluate("() => window.__printed") == 1
    # The event form sent back with errors: the summary takes the focus (error_summary.js).
    visit(page, f"{base}/organizer/events/new")
    page.locator("form button[type=submit]").last.click()
    page.locator("[data-error-summary]").wait_for()
    page.wait_for_function("() => document.activeElement && "
                           "document.activeElement.hasAttribute('data-error-summary')")
    context.clear_cookies()

    login(page, live_server, "organizer@demo.local", DEMO_PASSWORD)
    for url in ("/organizer/events", f"/organizer/events/{event.id}", "/reports/organizer",
                f"/organizer/events/{event.id}/board"):
        visit(page, base + url)
