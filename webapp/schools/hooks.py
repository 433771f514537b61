"""What the schools area adds to other pages (the event page, the organizer's event page, the
dashboard; listed in ``webapp/page_sections.py``) and the e-mail to coordinators when their
people move up from the waiting list (connected in ``webapp/notifications.py``).
"""

from __future__ import annotations

from flask import current_app
from flask_login import current_user

from checkin.seats.registration import availability, grades_text, registration_window_problem
from formats.timefmt import format_datetime
from models import (
    Audience,
    Event,
    Registration,
    RegistrationStatus,
    Role,
    SchoolNotice,
    User,
    db,
    now_utc,
)
from models.organization import EDUCATIONAL_KINDS
from webapp.mail import queue_mail
from webapp.schools.school_counts import registrations_by_school


def event_page_actions(event: Event, user) -> list[tuple[str, dict]]:
    """«Записать группу» for coordinators of schools (and a link to their existing groups)."""
    if not getattr(user, "is_authenticated", False) or user.role != Role.COORDINATOR:
        return []
    school = user.organization
    if school is None or school.kind not in EDUCATIONAL_KINDS:
        return []
    if event.audience not in (Audience.STUDENTS, Audience.PRESCHOOL, Audience.TEACHERS):
        return []
    existing = Registration.query.filter_by(event_id=event.id, organization_id=school.id,
                                            status=RegistrationStatus.ACTIVE).all()
    return [("schools/_event_action.html", {
        "reg_event": event, "reg_seats": availability(event, school.id),
        "reg_closed": registration_window_problem(event), "reg_existing": existing,
        "reg_grades": grades_text(event),
    })]


def event_manage_sections(event: Event) -> list[tuple[str, dict]]:
    rows = registrations_by_school(event)
    return [("schools/_event_manage.html", {
        "reg_event": event, "reg_rows": rows, "reg_seats": availability(event, None),
    })]


def dashboard_sections() -> list[tuple[str, dict]]:
    if not current_user.is_authenticated or current_user.role != Role.COORDINATOR:
        return []
    school = current_user.organization
    if school is None or school.kind not in EDUCATIONAL_KINDS:
        return []
    notices = (SchoolNotice.query.filter_by(organization_id=school.id, dismissed_at=None)
               .order_by(SchoolNotice.created_at.desc()).limit(5).all())
    upcoming = (Registration.query.join(Event, Event.id == Registration.event_id)
                .filter(Registration.organization_id == school.id,
                        Registration.status == RegistrationStatus.ACTIVE,
                        Event.ends_at >= now_utc())
                .order_by(Event.starts_at).limit(5).all())
    return [("schools/_dashboard.html", {"school_notices": notices,
                                         "school_upcoming": upcoming})]


def email_coordinators_on_promotion(event: Event, *, tickets) -> None:
    """One message per school: who was moved up from the waiting list."""
    by_school: dict[int, list] = {}
    for ticket in tickets:
        org_id = ticket.school_id
        if org_id is not None:
            by_school.setdefault(org_id, []).append(ticket)
    for org_id, school_tickets in by_school.items():
        coordinators = User.query.filter_by(organization_id=org_id, role=Role.COORDINATOR,
                                            active=True).all()
        names = "\n".join(f"— {t.holder_name}" for t in school_tickets)
        link = current_app.config["PROFROUTE_BASE_URL"].rstrip("/") + "/school/registrations"

        text = (f"Здравствуйте!\n\nНа мероприятие «{event.title}» "
                f"({format_datetime(event.starts_at)}) освободились места, и из листа ожидания "
                f"подтверждены:\n{names}\n\nРаспечатайте для них билеты: {link}\n\n"
                "Профмаршрут")
        for user in coordinators:
            queue_mail(user.email, f"Подтверждены места: {event.title}", text)
    db.session.flush()
