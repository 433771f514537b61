"""Sections other areas add to shared pages, listed in one place in display order.

Each entry is a function returning ``[(template, context), ...]`` (empty when it has nothing
for this event or user); the contracts are in ``webapp/events/hooks.py``. Filled by
``create_app``; assigning whole lists keeps it idempotent when the app is built again.
"""

from __future__ import annotations

from webapp.attendance import hooks as attendance
from webapp.checkin_admin import hooks as door
from webapp.events import routes as events
from webapp.events.hooks import EVENT_MANAGE_SECTIONS, EVENT_PAGE_ACTIONS, EVENT_PAGE_SECTIONS
from webapp.main.routes import DASHBOARD_SECTIONS
from webapp.parents import hooks as parents
from webapp.schools import hooks as schools
from webapp.schools import invitations
from webapp.teacher_signups import hooks as teacher_signups


def install_page_sections() -> None:
    # The public event page: calls to action («Записаться …», «Записать группу»).
    EVENT_PAGE_ACTIONS[:] = [
        parents.event_page_actions,
        teacher_signups.event_page_actions,
        schools.event_page_actions,
    ]
    # The public event page: sections after the description.
    EVENT_PAGE_SECTIONS[:] = [
        attendance.event_page_section,
    ]
    # The organizer's page of one event.
    EVENT_MANAGE_SECTIONS[:] = [
        parents.event_manage_sections,
        schools.event_manage_sections,
        invitations.event_manage_section,
        door.event_manage_section,
        attendance.event_manage_section,
    ]
    # The dashboard.
    DASHBOARD_SECTIONS[:] = [
        events.dashboard_section,
        teacher_signups.dashboard_section,
        schools.dashboard_sections,
        attendance.dashboard_section,
    ]
