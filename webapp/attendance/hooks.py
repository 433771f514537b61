"""The section «Загрузить список присутствовавших» on the organizer's event page and, for a
school's coordinator, on the page of an event that is over."""

from __future__ import annotations

from models import Role, now_utc
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

