"""The e-mails of the parents area, all in Russian: sign-up confirmation (QR inline + .ics),
waiting-list promotion, event cancellation, an event moved (date, time or venue), the
reminder the day before, and the teacher self-sign-up messages. Each function queues through
``webapp.mail.queue_mail``.
"""

from __future__ import annotations

from urllib.parse import urlparse

from flask import current_app
from icalendar import Calendar
from icalendar import Event as IcsEvent

from checkin.seats.capacity import begin_write_transaction
from checkin.seats.tickets import qr_png, ticket_url
from formats.timefmt import format_date, format_time, tomorrow_bounds
from models import (
    Event,
    EventStatus,
    ParentSignup,
    Registration,
    RegistrationStatus,
    Role,
    SchoolNotice,
    Ticket,
    TicketKind,
    TicketStatus,
    User,
    db,
    now_utc,
)
from models.event import venue_line
from models.outbox import OutboxMessage
from models.teacher_signup import TeacherSignup, TeacherSignupStatus
from webapp.mail import Attachment, queue_mail, render_mail
from webapp.parents.links import manage_url
from webapp.parents.recipients import people_to_tell


def base_url() -> str:
    return current_app.config["PROFROUTE_BASE_URL"].rstrip("/")


def event_url(event: Event) -> str:
    return f"{base_url()}/events/{event.id}"


def event_ics(event: Event, *, cancelled: bool = False) -> bytes:
    """One VEVENT for calendar apps; a cancelled event is sent as METHOD:CANCEL."""
    cal = Calendar()
    cal.add("prodid", "-//Профмаршрут//profroute//RU")
    cal.add("version", "2.0")
    cal.add("method", "CANCEL" if cancelled else "PUBLISH")
    vevent = IcsEvent()
    host = urlparse(base_url()).hostname or "profroute.local"
    vevent.add("uid", f"event-{event.id}@{host}")
    vevent.add("dtstamp", now_utc())
    vevent.add("dtstart", event.starts_at)
    vevent.add("dtend", event.ends_at)
    vevent.add("summary", event.title)
    vevent.add("location", venue_text(event))
    vevent.add("url", event_url(event))
    vevent.add("description", f"Подробнее: {event_url(event)}")
    vevent.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    # Calendar apps replace an event they hold only by a higher SEQUENCE: minutes of the
    # event's last change grow with every move and with the cancellation.
    vevent.add("sequence", int(event.updated_at.timestamp()) // 60 if event.updated_at else 0)
    cal.add_component(vevent)
    return cal.to_ical()


def venue_text(event: Event) -> str:
    return event.venue_text


def _ics_attachment(event: Event, cancelled: bool = False) -> Attachment:
    return Attachment("meropriyatie.ics", "text/calendar",
                      event_ics(event, cancelled=cancelled),
                      params={"method": "CANCEL" if cancelled else "PUBLISH",
                              "charset": "utf-8"})


def _qr_attachment(ticket: Ticket) -> Attachment:
    return Attachment("bilet-qr.png", "image/png", qr_png(ticket_url(ticket.token), box_size=8),
                      content_id="ticket-qr")


def send_mail(to: str, subject: str, template: str, *, attachments=None, dedupe_key=None,
              **ctx):
    """``template``: a name in ``parents/email/``, or a path with its folder (another area's
    letters in the same layout)."""
    ctx.setdefault("base_url", base_url())
    path = template if "/" in template else f"parents/email/{template}"
    text = render_mail(f"{path}.txt", **ctx)
    html = render_mail(f"{path}.html", subject=subject, **ctx)
    return queue_mail(to, subject, text, html, attachments, dedupe_key=dedupe_key)


def ticket_mail(to: str, subject: str, template: str, ticket: Ticket, *, manage_url=None,
                dedupe_key=None, **ctx):
    event = ticket.event
    attachments = [_ics_attachment(event)]
    if ticket.status == TicketStatus.CONFIRMED:
        attachments.insert(0, _qr_attachment(ticket))
    return send_mail(to, subject, template, attachments=attachments, dedupe_key=dedupe_key,
                     event=event, ticket=ticket, ticket_url=ticket_url(ticket.token),
                     event_url=event_url(event), venue=venue_text(event), manage_url=manage_url,
                     confirmed=ticket.status == TicketStatus.CONFIRMED, **ctx)


# ---------------------------------------------------------------------------------------------
# Parents


def parent_confirmation(signup: ParentSignup, ticket: Ticket, secret: str) -> None:
    if not signup.email:
        return

    subject = (f"Вы записаны: {ticket.event.title}" if ticket.status == TicketStatus.CONFIRMED
               else f"Лист ожидания: {ticket.event.title}")
    ticket_mail(signup.email, subject, "parent_confirmation", ticket,
                manage_url=manage_url(secret), name=signup.name)


def ticket_promoted(ticket: Ticket) -> None:
    """On `ticket_promoted`: a parent or a self-signed-up teacher moved up from the list."""
    to, name = _ticket_contact(ticket)
    if not to:
        return
    ticket_mail(to, f"Место подтверждено: {ticket.event.title}", "promoted", ticket,
                name=name, dedupe_key=f"promoted:ticket:{ticket.id}")


def _ticket_contact(ticket: Ticket) -> tuple[str | None, str | None]:
    if ticket.kind == TicketKind.PARENT:
        signup = ticket.parent_signup
        if signup is None or signup.withdrawn_at is not None:
            return None, None
        return signup.email, signup.name
    if ticket.kind == TicketKind.TEACHER:
        self_signup = TeacherSignup.query.filter_by(ticket_id=ticket.id).first()
        if self_signup is not None and self_signup.status == TeacherSignupStatus.CONFIRMED:
            return self_signup.email, self_signup.full_name
    return None, None


def send_reminder(ticket: Ticket) -> bool:
    """The day-before reminder; queued at most once per ticket (dedupe key)."""
    to, name = _ticket_contact(ticket)
    if not to:
        return False

    key = f"reminder:ticket:{ticket.id}"
    if OutboxMessage.query.filter_by(dedupe_key=key).first() is not None:
        return False
    ticket_mail(to, f"Напоминание: завтра «{ticket.event.title}»", "reminder", ticket,
                name=name, dedupe_key=key)
    return True


def event_cancelled(event: Event) -> None:
    """On `event_cancelled`: tell parents, teachers with an e-mail (self-signed-up, or in a
    school's group with the roster's address), the coordinators of registered schools, and
    the schools on their pages (a notice, once)."""
    if event.status != EventStatus.CANCELLED:
        return
    tickets = Ticket.query.filter(Ticket.event_id == event.id,
                                  Ticket.status.in_([TicketStatus.CONFIRMED,
                                                     TicketStatus.WAITLISTED])).all()
    # The hook may run after the tickets were cancelled too: include those cancelled with it.
    if event.cancelled_at is not None:
        tickets += Ticket.query.filter(Ticket.event_id == event.id,
                                       Ticket.status == TicketStatus.CANCELLED,
                                       Ticket.cancelled_at >= event.cancelled_at).all()
    seen: set[str] = set()
    common = {"event": event, "reason": event.cancel_reason, "venue": venue_text(event),
              "event_url": event_url(event)}
    for ticket in tickets:
        to, name = _ticket_contact(ticket)
        if to is None and ticket.kind == TicketKind.TEACHER and ticket.teacher is not None \
                and ticket.teacher.anonymized_at is None:
            to, name = ticket.teacher.email, ticket.teacher.full_name
        if to and to not in seen:
            seen.add(to)
            send_mail(to, f"Мероприятие отменено: {event.title}", "cancelled",
                      attachments=[_ics_attachment(event, cancelled=True)],
                      dedupe_key=f"cancelled:event:{event.id}:{to}", name=name, **common)
    pending = TeacherSignup.query.filter_by(event_id=event.id,
                                            status=TeacherSignupStatus.PENDING).all()
    for signup in pending:
        if signup.email not in seen:
            seen.add(signup.email)
            send_mail(signup.email, f"Мероприятие отменено: {event.title}", "cancelled",
                      dedupe_key=f"cancelled:event:{event.id}:{signup.email}",
                      name=signup.full_name, **common)
    org_ids = {r.organization_id for r in Registration.query.filter(
        Registration.event_id == event.id,
        Registration.status == RegistrationStatus.ACTIVE).all()}
    org_ids |= {t.registration.organization_id for t in tickets if t.registration is not None}
    if not org_ids:
        return
    notice = f"Отменено мероприятие: {event.title}. Причина: {event.cancel_reason}."
    for org_id in sorted(org_ids):
        if SchoolNotice.query.filter_by(organization_id=org_id, event_id=event.id,
                                        message=notice).first() is None:
            db.session.add(SchoolNotice(organization_id=org_id, event_id=event.id,
                                        message=notice))
    db.session.flush()
    coordinators = User.query.filter(User.role == Role.COORDINATOR, User.active.is_(True),
                                     User.organization_id.in_(org_ids)).all()
    for user in coordinators:
        if user.email in seen:
            continue
        seen.add(user.email)
        send_mail(user.email, f"Мероприятие отменено: {event.title}", "cancelled_coordinator",
                  dedupe_key=f"cancelled:event:{event.id}:{user.email}", name=user.full_name,
                  organization=user.organization, **common)


def when_text(starts_at, ends_at) -> str:
    """«12.12.2026, 10:00–12:00» (Asia/Tomsk)."""
    return f"{format_date(starts_at)}, {format_time(starts_at)}–{format_time(ends_at)}"


def move_changes(event: Event, before: dict) -> list[tuple[str, str, str]]:
    """``(what, was, now)`` for the time and the venue, whichever changed."""
    changes = []
    was, now = (when_text(before["starts_at"], before["ends_at"]),
                when_text(event.starts_at, event.ends_at))
    if was != now:
        changes.append(("Дата и время", was, now))
    was = venue_line(before["venue_name"], before["venue_address"], before["venue_room"])
    now = event.venue_text
    if was != now:
        changes.append(("Место", was or "—", now or "—"))
    return changes


def event_moved(event: Event, *, before: dict) -> None:
    """On `event_moved`: tell everyone registered (``webapp.parents.recipients``) what
    changed — the schools on their pages, coordinators, parents and teachers by e-mail with
    the updated calendar entry. Sent once per change: the signal fires only for a real one."""
    changes = move_changes(event, before)
    if not changes:  # e.g. a start moved by seconds: nothing a person would see
        return
    people = people_to_tell(event)
    summary = "; ".join(f"{what}: было {was}, стало {now}" for what, was, now in changes)
    for org_id in people.school_ids:
        db.session.add(SchoolNotice(organization_id=org_id, event_id=event.id,
                                    message=f"Изменено мероприятие: {event.title}. {summary}."))
    common = {"event": event, "changes": changes, "venue": venue_text(event),
              "event_url": event_url(event)}
    subject = f"Изменение: {event.title}"
    for contact in people.parents + people.teachers:
        send_mail(contact.email, subject, "moved", attachments=[_ics_attachment(event)],
                  name=contact.name, **common)
    told = {c.email for c in people.parents + people.teachers}
    for user in people.coordinators:
        if user.email in told:
            continue
        told.add(user.email)
        send_mail(user.email, subject, "moved_coordinator", attachments=[_ics_attachment(event)],
                  name=user.full_name, organization=user.organization, **common)
    db.session.flush()


# ---------------------------------------------------------------------------------------------
# Reminders


def queue_reminders(at=None) -> int:
    """Queue the reminder for every confirmed ticket with an e-mail whose event starts tomorrow
    (Asia/Tomsk). Safe to run repeatedly: a ticket's reminder is queued at most once."""
    # SQLite: take the write lock first, so parallel runs wait instead of failing.
    begin_write_transaction()
    start, end = tomorrow_bounds(at or now_utc())
    tickets = (Ticket.query.join(Event, Ticket.event_id == Event.id)
               .filter(Event.status == EventStatus.PUBLISHED, Event.starts_at >= start,
                       Event.starts_at < end,
                       Ticket.status == TicketStatus.CONFIRMED,
                       Ticket.kind.in_([TicketKind.PARENT, TicketKind.TEACHER]))
               .order_by(Ticket.id).all())
    queued = 0
    for ticket in tickets:
        if send_reminder(ticket):
            queued += 1
    db.session.flush()
    return queued
