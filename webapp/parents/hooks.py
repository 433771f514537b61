"""What the parents area adds to other areas' pages (listed in ``webapp/page_sections.py``)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import url_for

from checkin.seats.registration import confirmed_count
from models import Audience, EventStatus, ParentSignup, Ticket, TicketKind, TicketStatus, db
from models.teacher_signup import TeacherSignup, TeacherSignupStatus


def event_page_actions(event, user) -> list[tuple[str, dict]]:
    """«Записаться (родителям)» on the public event page."""
    if event.status != EventStatus.PUBLISHED or event.school_internal:
        return []
    if event.audience == Audience.PARENTS:
        full = confirmed_count(event.id) >= event.capacity
        return [("parents/_event_action.html", {
            "event": event, "action_url": url_for("parents.signup", event_id=event.id),
            "action_label": ("Записаться в лист ожидания (родителям)" if full
                             else "Записаться (родителям)"),
            "open": event.registration_open(),
            "hint": ("Мест нет, запись в лист ожидания: если место освободится, запись "
                     "подтвердится сама." if full else
                     "Без регистрации на сайте: билет с QR-кодом придёт на экран и на почту."),
        })]
    return []


def event_manage_sections(event) -> list[tuple[str, dict]]:
    """Parents' and teachers' sign-ups with a link to contacts and the XLSX export."""
    counts = dict(db.session.execute(
        sa.select(Ticket.kind, sa.func.count(Ticket.id))
        .where(Ticket.event_id == event.id, Ticket.status != TicketStatus.CANCELLED,
               Ticket.kind.in_([TicketKind.PARENT, TicketKind.TEACHER]))
        .group_by(Ticket.kind)).all())
    pending = db.session.execute(
        sa.select(sa.func.count(TeacherSignup.id)).where(
            TeacherSignup.event_id == event.id,
            TeacherSignup.status == TeacherSignupStatus.PENDING)).scalar_one()
    withdrawn = db.session.execute(
        sa.select(sa.func.count(ParentSignup.id)).where(
            ParentSignup.event_id == event.id, ParentSignup.withdrawn_at.is_not(None))
    ).scalar_one()
    if not counts and not pending and event.audience not in (Audience.PARENTS,
                                                             Audience.TEACHERS):
        return []
    return [("parents/_manage_section.html", {
        "event": event, "parents": counts.get(TicketKind.PARENT, 0),
        "teachers": counts.get(TicketKind.TEACHER, 0), "pending_teachers": pending,
        "withdrawn": withdrawn,
    })]
