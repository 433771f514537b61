"""Who is told when something happens (webapp/notifications.py) and which sections other
areas add to shared pages (webapp/page_sections.py): both wired once, whatever the number of
times the app is built."""

from __future__ import annotations

from checkin.notifications import (
    event_cancelled,
    event_moved,
    ticket_promoted,
    waitlist_promoted,
)
from webapp.events.hooks import EVENT_MANAGE_SECTIONS, EVENT_PAGE_ACTIONS
from webapp.main.routes import DASHBOARD_SECTIONS
from webapp.notifications import RECEIVERS, connect_receivers
from webapp.page_sections import install_page_sections
from webapp.parents import emails as parent_emails
from webapp.schools.hooks import email_coordinators_on_promotion


def _receivers(signal) -> list:
    return list(signal.receivers_for(object()))


def test_each_signal_reaches_its_receivers_once_even_if_connected_again(app):
    connect_receivers()  # as a second create_app in the same process would
    assert _receivers(ticket_promoted) == [parent_emails.ticket_promoted]
    assert _receivers(waitlist_promoted) == [email_coordinators_on_promotion]
    assert _receivers(event_cancelled) == [parent_emails.event_cancelled]
    assert _receivers(event_moved) == [parent_emails.event_moved]
    assert {signal for signal, _receiver in RECEIVERS} == {
        ticket_promoted, waitlist_promoted, event_cancelled, event_moved}


def test_page_sections_are_listed_once_in_display_order(app):
    before = (list(EVENT_PAGE_ACTIONS), list(EVENT_MANAGE_SECTIONS), list(DASHBOARD_SECTIONS))
    install_page_sections()
    assert before == (EVENT_PAGE_ACTIONS, EVENT_MANAGE_SECTIONS, DASHBOARD_SECTIONS)
    assert [f.__module__ for f in EVENT_PAGE_ACTIONS] == [
        "webapp.parents.hooks", "webapp.teacher_signups.hooks", "webapp.schools.hooks"]
    assert [f.__module__ for f in DASHBOARD_SECTIONS] == [
        "webapp.events.routes", "webapp.teacher_signups.hooks", "webapp.schools.hooks",
        "webapp.attendance.hooks"]
