"""Organizers see demand (issue #15, item 6): on the organizer's page of an upcoming event, the
schools at risk of missing a target that the event fits and that have not registered, and an
invitation to each — a notice on the school's pages and a letter to its coordinators through
the outbox, at most once per event and school (``models.SchoolInvitation``).

Organizers see school names and counts only, never students.
"""

from __future__ import annotations

from flask import current_app, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from checkin.seats.registration import grades_text
from errors import ConflictError
from formats.timefmt import format_datetime
from models import (
    Event,
    Organization,
    Role,
    SchoolInvitation,
    SchoolNotice,
    User,
    db,
    record_audit,
)
from reports.closing import SchoolDemand
from webapp.access import can_manage_event
from webapp.mail import queue_mail
from webapp.reports.gap_sections import event_demand


def invitations_of(event: Event) -> dict[int, SchoolInvitation]:
    """school → its invitation to the event."""
    return {i.organization_id: i for i in SchoolInvitation.query.filter_by(event_id=event.id)}


def event_manage_section(event: Event) -> list[tuple[str, dict]]:
    """«Школы, которым это мероприятие поможет» on the organizer's page of the event (organizers
    and admins; a coordinator's internal event serves no other school)."""
    if not current_user.is_authenticated or current_user.role not in (Role.ORGANIZER,
                                                                      Role.ADMIN):
        return []
    if event.school_internal or not event.registration_open():
        return []
    demand = event_demand(event)
    return [("schools/_event_demand.html", {
        "demand_event": event, "demand": demand, "demand_invited": invitations_of(event),
    })]


def _letter(event: Event, school: Organization, demand: SchoolDemand) -> str:
    base = current_app.config["PROFROUTE_BASE_URL"].rstrip("/")
    needs = "\n".join(f"— {title}: нужно {text}" for title, text in demand.needs)
    return (
        f"Здравствуйте!\n\n{event.organizer.display_name} приглашает {school.display_name} на "
        f"мероприятие «{event.title}» ({format_datetime(event.starts_at)}, "
        f"{grades_text(event)}). Для школы есть места: {demand.can_take}.\n\n"
        f"По прогнозу на конец учебного года школа не достигает цели:\n{needs}\n\n"
        f"Мероприятие: {base}{url_for('events.detail', event_id=event.id)}\n"
        f"Кого записать — на странице показателей школы: "
        f"{base}{url_for('reports.school', org_id=school.id)}#closing\n\nПрофмаршрут"
    )


def invite_school(actor: User, event: Event, school: Organization,
                  demand: SchoolDemand) -> tuple[SchoolInvitation, int]:
    """Record the invitation, the school's notice and a letter to each active coordinator;
    returns the invitation and the number of letters. Raises ``already_invited`` (409) when the
    school was invited to this event before (also when a parallel request did it a moment
    ago)."""
    existing = SchoolInvitation.query.filter_by(event_id=event.id,
                                                organization_id=school.id).first()
    if existing is not None:
        raise _already(existing)
    invitation = SchoolInvitation(event_id=event.id, organization_id=school.id,
                                  invited_by_id=actor.id)
    try:
        with db.session.begin_nested():
            db.session.add(invitation)
    except IntegrityError:
        raise _already(SchoolInvitation.query.filter_by(
            event_id=event.id, organization_id=school.id).one()) from None
    needs = "; ".join(f"«{title}» — нужно {text}" for title, text in demand.needs)
    db.session.add(SchoolNotice(
        organization_id=school.id, event_id=event.id,
        message=(f"{event.organizer.display_name} приглашает школу на «{event.title}» "
                 f"({format_datetime(event.starts_at)}): мест для школы — {demand.can_take}. "
                 f"По прогнозу школа не достигает цели ({needs}); кого записать — на странице "
                 "показателей школы, «Что поможет достичь цели».")))
    text = _letter(event, school, demand)
    coordinators = User.query.filter_by(organization_id=school.id, role=Role.COORDINATOR,
                                        active=True).order_by(User.id).all()
    for user in coordinators:
        queue_mail(user.email, f"Приглашение на мероприятие: {event.title}", text,
                   dedupe_key=f"invitation:{event.id}:{school.id}:{user.id}")
    record_audit(actor, "invitation.send", invitation, event_id=event.id,
                 organization_id=school.id, letters=len(coordinators))
    db.session.flush()
    return invitation, len(coordinators)


def _already(invitation: SchoolInvitation) -> ConflictError:
    return ConflictError("already_invited",
                         f"Приглашение этой школе уже отправлено "
                         f"{format_datetime(invitation.created_at)}.")


def may_invite(user, event: Event) -> bool:
    return (getattr(user, "role", None) in (Role.ORGANIZER, Role.ADMIN)
            and can_manage_event(user, event))
