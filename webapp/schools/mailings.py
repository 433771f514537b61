"""Letters to school coordinators sent by cron (``flask --app wsgi send-digest`` and
``send-reminders``, docs/api.md): the weekly digest of new events that fit the school, and
the reminder the day before an event the school has a group registered for.

Both are idempotent through the outbox's ``dedupe_key``: a coordinator's digest is queued at
most once per week (``digest:<ISO week>:user:<id>``), a reminder once per event
(``reminder:event:<id>:user:<id>``), however often the command runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from checkin.seats.capacity import begin_write_transaction
from checkin.seats.registration import fits_grade, grades_text
from formats.timefmt import to_local, tomorrow_bounds
from models import (
    Audience,
    Event,
    EventStatus,
    Organization,
    OrgKind,
    Registration,
    RegistrationStatus,
    Role,
    Student,
    Ticket,
    TicketStatus,
    User,
    db,
    now_utc,
)
from models.event import REGISTRATION_CLOSED
from models.organization import EDUCATIONAL_KINDS
from models.outbox import OutboxMessage
from webapp.mail import queue_mail, render_mail

#: The digest looks this far back for events published since the coordinator's last one.
DIGEST_PERIOD = timedelta(days=7)
#: Events a school's coordinator registers people for (parents sign up on their own).
DIGEST_AUDIENCES = (Audience.STUDENTS, Audience.PRESCHOOL, Audience.TEACHERS)
DIGEST_MAX_EVENTS = 30


def _base_url() -> str:
    return current_app.config["PROFROUTE_BASE_URL"].rstrip("/")


def _send(to: str, subject: str, template: str, dedupe_key: str, **ctx) -> None:
    ctx.setdefault("base_url", _base_url())
    text = render_mail(f"schools/email/{template}.txt", **ctx)
    html = render_mail(f"schools/email/{template}.html", subject=subject, **ctx)
    queue_mail(to, subject, text, html, dedupe_key=dedupe_key)


# ---------------------------------------------------------------------------------------------
# The weekly digest


def digest_week(at) -> str:
    """«2026-W49»: the ISO week (Asia/Tomsk) a digest belongs to."""
    year, week, _ = to_local(at).isocalendar()
    return f"{year}-W{week:02d}"


def digest_key(user_id: int, at) -> str:
    return f"digest:{digest_week(at)}:user:{user_id}"


def school_grades(organization_ids) -> dict[int, set[int]]:
    """The grades of each school's active students (0: preschool groups)."""
    grades: dict[int, set[int]] = {}
    for org_id, grade in db.session.execute(
            sa.select(Student.organization_id, Student.grade).distinct()
            .where(Student.organization_id.in_(list(organization_ids)),
                   Student.active.is_(True), Student.anonymized_at.is_(None))):
        grades.setdefault(org_id, set()).add(grade)
    return grades


def fits_school(event: Event, school: Organization, grades: set[int]) -> bool:
    """An event fits a school when its people may go: teachers' events fit every school;
    children's events fit when a grade of the school's roster fits the event (a school with
    no roster yet: any school grade 1–11, a kindergarten: preschool)."""
    if event.audience == Audience.TEACHERS:
        return True
    if not grades:
        grades = {0} if school.kind == OrgKind.PRESCHOOL else set(range(1, 12))
    return any(fits_grade(event, grade) for grade in grades)


def _last_digest_at(user_id: int):
    return db.session.execute(
        sa.select(sa.func.max(OutboxMessage.created_at))
        .where(OutboxMessage.dedupe_key.like("digest:%"),
               OutboxMessage.dedupe_key.like(f"%:user:{user_id}"))).scalar()


@dataclass
class DigestReport:
    queued: int = 0
    #: Coordinators whose digest of this week was queued already.
    already: int = 0
    #: Coordinators who switched the digest off.
    switched_off: int = 0


def queue_digests(at=None) -> DigestReport:
    """Queue this week's digest for every active coordinator of a school or kindergarten who
    has not switched it off: the events published since their last digest (at most
    ``DIGEST_PERIOD`` back) that still take registrations, start later and fit the school.
    Nothing new, no letter. Safe to run repeatedly: one digest per coordinator per week."""
    begin_write_transaction()  # SQLite: parallel runs wait instead of failing
    now = at or now_utc()
    report = DigestReport()
    events = db.session.execute(
        sa.select(Event).where(
            Event.status == EventStatus.PUBLISHED, Event.school_internal.is_(False),
            Event.audience.in_(DIGEST_AUDIENCES), Event.published_at >= now - DIGEST_PERIOD,
            Event.published_at <= now, Event.starts_at > now)
        .order_by(Event.starts_at, Event.id)).scalars().all()
    events = [e for e in events if e.registration_phase(now) != REGISTRATION_CLOSED]
    coordinators = db.session.execute(
        sa.select(User).join(Organization, Organization.id == User.organization_id)
        .where(User.role == Role.COORDINATOR, User.active.is_(True),
               Organization.active.is_(True), Organization.kind.in_(EDUCATIONAL_KINDS))
        .order_by(User.id)).scalars().all()
    grades = school_grades({u.organization_id for u in coordinators})
    for user in coordinators:
        if not user.weekly_digest:
            report.switched_off += 1
            continue
        key = digest_key(user.id, now)
        if OutboxMessage.query.filter_by(dedupe_key=key).first() is not None:
            report.already += 1
            continue
        since = max(filter(None, (_last_digest_at(user.id), now - DIGEST_PERIOD)))
        school = user.organization
        fitting = [e for e in events if e.published_at > since
                   and fits_school(e, school, grades.get(school.id, set()))]
        if not fitting:
            continue
        _send(user.email, f"Новые мероприятия для вашей школы: {len(fitting)}", "digest", key,
              name=user.full_name, school=school, events=fitting[:DIGEST_MAX_EVENTS],
              more=max(0, len(fitting) - DIGEST_MAX_EVENTS), grades_text=grades_text,
              settings_url=f"{_base_url()}/school/mail")
        report.queued += 1
    db.session.flush()
    return report


# ---------------------------------------------------------------------------------------------
# The reminder the day before


def queue_coordinator_reminders(at=None) -> int:
    """The day before an event, every active coordinator of a school with a group registered
    (a confirmed ticket in an active registration) gets one reminder with the school's
    count. Safe to run repeatedly: one reminder per coordinator per event."""
    begin_write_transaction()
    start, end = tomorrow_bounds(at or now_utc())
    rows = db.session.execute(
        sa.select(Registration.event_id, Registration.organization_id,
                  sa.func.count(Ticket.id).label("confirmed"))
        .join(Event, Event.id == Registration.event_id)
        .join(Ticket, Ticket.registration_id == Registration.id)
        .where(Event.status == EventStatus.PUBLISHED, Event.starts_at >= start,
               Event.starts_at < end, Registration.status == RegistrationStatus.ACTIVE,
               Ticket.status == TicketStatus.CONFIRMED)
        .group_by(Registration.event_id, Registration.organization_id)
        .order_by(Registration.event_id, Registration.organization_id)).all()
    queued = 0
    for row in rows:
        event = db.session.get(Event, row.event_id)
        coordinators = User.query.filter_by(organization_id=row.organization_id,
                                            role=Role.COORDINATOR, active=True).all()
        for user in coordinators:
            key = f"reminder:event:{event.id}:user:{user.id}"
            if OutboxMessage.query.filter_by(dedupe_key=key).first() is not None:
                continue
            _send(user.email, f"Напоминание: завтра «{event.title}»", "reminder", key,
                  name=user.full_name, school=user.organization, event=event,
                  confirmed=row.confirmed, venue=event.venue_text,
                  event_url=f"{_base_url()}/events/{event.id}",
                  registrations_url=f"{_base_url()}/school/registrations")
            queued += 1
    db.session.flush()
    return queued
