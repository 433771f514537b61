"""What teachers' sign-up adds to other areas' pages (listed in ``webapp/page_sections.py``)."""

from __future__ import annotations

from flask import url_for
from flask_login import current_user

from models import Audience, EventStatus, Role
from webapp.teacher_signups.services import pending_teacher_signups


def event_page_actions(event, user) -> list[tuple[str, dict]]:
    """«Записаться (педагогам)» on the public page of an event for teachers."""
    if event.status != EventStatus.PUBLISHED or event.school_internal:
        return []
    if event.audience != Audience.TEACHERS:
        return []
    return [("parents/_event_action.html", {
        "event": event, "action_url": url_for("teacher_signups.signup", event_id=event.id),
        "action_label": "Записаться (педагогам)",
        "open": event.registration_open(),
        "hint": "Заявку подтвердит профкоординатор вашей школы. Координаторы могут "
                "записывать педагогов вместе с группой.",
    })]


def dashboard_section():
    """Coordinators see how many teachers wait for confirmation."""
    if not current_user.is_authenticated or current_user.role != Role.COORDINATOR:
        return []
    pending = len(pending_teacher_signups(current_user.organization_id))
    if not pending:
        return []
    return [("teacher_signups/_dashboard_pending.html", {"pending": pending})]
