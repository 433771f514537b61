"""The section «Загрузить список присутствовавших» on the organizer's event page and, for a
school's coordinator, on the page of an event that is over."""

from __future__ import annotations

from flask_login import current_user

from models import Role, now_utc
from webapp.attendance.class_lists import class_list_events
from webapp.attendance.routes import section_context


def event_manage_section(event) -> list[tuple[str, dict]]:
    if now_utc() < event.starts_at:
        return []
    return [("attendance/_section.html", section_context(event))]


def event_page_section(event, user) -> list[tuple[str, dict]]:
    if (not getattr(user, "is_authenticated", False) or user.role != Role.COORDINATOR
            or not event.is_finished()):
        return []
    return [("attendance/_section.html", section_context(event))]



def dashboard_section() -> list[tuple[str, dict]]:
    """«Отметка по спискам классов» on a school coordinator's dashboard: the way in, and the
    latest lessons ticked by class list."""
    if not current_user.is_authenticated or current_user.role != Role.COORDINATOR \
            or current_user.organization_id is None:
        return []
    return [("attendance/_dashboard.html",
             {"class_events": class_list_events(current_user.organization_id, limit=5)})]
