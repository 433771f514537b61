"""The personal-data lifecycle: anonymizing a student, a teacher or a whole past academic year,
and removing the copies of a person's data that other tables keep (the stored answers of scans,
the mail outbox, school notices, free-text reasons).

Anonymization keeps every row and every id the indicators count from (tickets, scans and who
they count for, the organization, the grade and the ОВЗ flag), so the indicators of any period
stay exactly the same; it removes names, contacts and external ids. The rules are written out
for operators in ``docs/security.md``.

Services take plain arguments, flush but never commit, and raise ``ServiceError``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from email import message_from_bytes
from email import policy as email_policy

import sqlalchemy as sa

from errors import ConflictError, ServiceError
from models import (
    AuditLog,
    Event,
    EventStaff,
    OutboxMessage,
    ParentSignup,
    Scan,
    ScannerLink,
    SchoolNotice,
    Student,
    Teacher,
    TeacherSignup,
    Ticket,
    TicketStatus,
    WalkIn,
    db,
    now_utc,
    record_audit,
)
from models.academic_year import academic_year_period, academic_year_title, current_academic_year
from models.outbox import OutboxStatus

#: What a removed name reads as wherever a text is kept (notices, placeholders).
REMOVED = "(данные удалены)"
#: Teacher self-sign-ups keep NOT NULL name columns: this placeholder takes the surname.
PLACEHOLDER_SURNAME = "Обезличено"
#: Keys of a stored answer's ``attendee`` block that stay: what kind of ticket it was.
KEPT_ATTENDEE_KEYS = frozenset({"kind"})
#: Why an undelivered message was given up by the lifecycle rules.
OUTBOX_REMOVED_ERROR = "Письмо удалено: срок хранения истёк или данные обезличены."

S = Scan.__table__
O = OutboxMessage.__table__  # noqa: E741 - the outbox table, as S is the scans table


# ---------------------------------------------------------------------------------------------
# Copies of personal data in other tables


def scrubbed_answer(response):
    """A scan's stored answer without the personal fields of its ``attendee`` block.

    Works whatever the block holds: every text or flag in it (name, school, class, «нужна
    помощь») becomes null; ``kind`` and plain ids (references) stay. Answers without an
    ``attendee`` block come back unchanged.
    """
    if not isinstance(response, dict):
        return response
    attendee = response.get("attendee")
    if not isinstance(attendee, dict):
        return response
    clean = {key: (value if key in KEPT_ATTENDEE_KEYS or value is None
                   or (isinstance(value, int) and not isinstance(value, bool)) else None)
             for key, value in attendee.items()}
    if clean == attendee:
        return response
    return {**response, "attendee": clean}


def scrub_scans(condition, *, chunk: int = 2000) -> int:
    """Remove personal fields from the stored answers (and the free-text undo reason) of the
    scans matching ``condition`` (a Core condition on the scans table). Returns how many rows
    changed. Never touches who a scan counts for, its outcome or its times."""
    changed = 0
    last_id = 0
    while True:
        rows = db.session.execute(
            sa.select(S.c.id, S.c.response, S.c.undo_reason)
            .where(condition, S.c.id > last_id).order_by(S.c.id).limit(chunk)).all()
        if not rows:
            return changed
        last_id = rows[-1].id
        updates = []
        for row in rows:
            response = scrubbed_answer(row.response)
            reason = REMOVED if row.undo_reason not in (None, REMOVED) else row.undo_reason
            if response is not row.response or reason != row.undo_reason:
                updates.append({"scan_id": row.id, "clean_response": response,
                                "clean_reason": reason})
        if updates:
            db.session.execute(
                sa.update(S).where(S.c.id == sa.bindparam("scan_id"))
                .values(response=sa.bindparam("clean_response", type_=S.c.response.type),
                        undo_reason=sa.bindparam("clean_reason", type_=S.c.undo_reason.type)),
                updates, execution_options={"synchronize_session": False})
            changed += len(updates)


def message_text(data: bytes | None) -> str:
    """The decoded text of a stored message: headers and every text part (quoted-printable
    and base64 undone), so a search finds what the reader would see."""
    if not data:
        return ""
    message = message_from_bytes(bytes(data), policy=email_policy.default)
    parts = [f"{key}: {value}" for key, value in message.items()]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            try:
                parts.append(part.get_content())
            except (LookupError, ValueError):
                parts.append(part.get_payload(decode=True).decode("utf-8", "replace"))
    return "\n".join(parts)


def _removed_dedupe_key(key: str | None, message_id: int) -> str | None:
    """Dedupe keys may hold an address (``cancelled:event:5:x@y``): keep its purpose, not it."""
    if key is None or "@" not in key:
        return key
    prefix = key.rsplit(":", 1)[0]
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return f"{prefix}:{digest}"[:120] if len(prefix) < 100 else f"removed:{message_id}"


def scrub_outbox_rows(ids) -> int:
    """Remove the body, the address and any error text of the outbox rows ``ids``; a message
    not sent yet is given up (``failed``), so it can never go out without its body."""
    ids = sorted(set(ids))
    if not ids:
        return 0
    rows = db.session.execute(sa.select(O.c.id, O.c.dedupe_key, O.c.status)
                              .where(O.c.id.in_(ids))).all()
    for row in rows:
        values = {"message": b"", "to_address": "", "last_error": None, "claimed_at": None,
                  "dedupe_key": _removed_dedupe_key(row.dedupe_key, row.id)}
        if row.status != OutboxStatus.SENT.value:
            values.update(status=OutboxStatus.FAILED.value, last_error=OUTBOX_REMOVED_ERROR)
        db.session.execute(sa.update(O).where(O.c.id == row.id).values(**values),
                           execution_options={"synchronize_session": False})
    return len(rows)


def outbox_ids_mentioning(*, addresses=(), texts=(), patterns=(), among=None) -> list[int]:
    """Outbox rows sent to one of ``addresses``, or whose message (decoded) contains one of
    ``texts`` or matches one of ``patterns`` (compiled regular expressions); only rows
    ``among`` these ids when given. Rows already emptied are found by address only."""
    addresses = {a.lower() for a in addresses if a}
    texts = [t for t in texts if t]
    found = set()
    if addresses:
        found |= set(db.session.execute(
            sa.select(O.c.id).where(sa.func.lower(O.c.to_address).in_(addresses))).scalars())
    if texts or patterns:
        last_id = 0
        while True:
            query = (sa.select(O.c.id, O.c.message)
                     .where(O.c.id > last_id, sa.func.length(O.c.message) > 0)
                     .order_by(O.c.id).limit(200))
            if among is not None:
                query = query.where(O.c.id.in_(list(among)))
            rows = db.session.execute(query).all()
            if not rows:
                break
            last_id = rows[-1].id
            for row in rows:
                text = message_text(row.message)
                if any(t in text for t in texts) or any(p.search(text) for p in patterns):
                    found.add(row.id)
    return sorted(found)


def event_url_pattern(event_id: int) -> re.Pattern:
    """Matches a link to the event (``…/events/12``, not ``…/events/123``)."""
    return re.compile(rf"/events/{event_id}(?![0-9])")


def _redact_notices(condition, names: list[str]) -> int:
    """Replace ``names`` by «(данные удалены)» in the school notices matching ``condition``."""
    names = sorted({n for n in names if n}, key=len, reverse=True)
    if not names:
        return 0
    changed = 0
    for notice in SchoolNotice.query.filter(condition).all():
        text = notice.message
        for name in names:
            text = text.replace(name, REMOVED)
        if text != notice.message:
            notice.message = text
            changed += 1
    return changed


# ---------------------------------------------------------------------------------------------
# Exports


def record_personal_export(actor, what: str, obj=None, *, object_type: str | None = None,
                           object_id=None, **details):
    """Personal data with ОВЗ information (the flag, or «нужна помощь» derived from it) left
    the system: record who took it, when, what and how much, never the data itself. One
    action per kind of export: ``export.<what>``. ``actor`` is None for a scanner link
    (``scanner_link_id`` in the details says which)."""
    return record_audit(actor, f"export.{what}", obj, object_type=object_type,
                        object_id=object_id, ovz=True, **details)


# ---------------------------------------------------------------------------------------------
# Parents (retention and consent withdrawal)


def erase_parent_signup(signup: ParentSignup, *, at=None) -> None:
    """Erase a parent's name and contacts and every copy of them: the stored answers of their
    ticket's scans and the outbox messages to them about this event (with the private link).
    The ticket and its check-in stay, nameless."""
    address = signup.email
    tickets = [t.id for t in Ticket.query.filter_by(parent_signup_id=signup.id)]
    if tickets:
        scrub_scans(S.c.ticket_id.in_(tickets))
    if address:
        # Messages to this address about this sign-up's event or ticket (the same parent may
        # have other sign-ups); a row already emptied keeps only the address: cleared too.
        tokens = [t.token for t in Ticket.query.filter(Ticket.id.in_(tickets))] if tickets else []
        to_them = outbox_ids_mentioning(addresses=[address])
        about = outbox_ids_mentioning(texts=tokens, patterns=[event_url_pattern(
            signup.event_id)], among=to_them)
        emptied = select_ids(O.c.id, sa.and_(O.c.id.in_(to_them),
                                              sa.func.length(O.c.message) == 0))
        scrub_outbox_rows([*about, *emptied])
    signup.name = signup.phone = signup.email = signup.consent_ip = None
    signup.withdrawn_at = at or now_utc()


# ---------------------------------------------------------------------------------------------
# One person


def _ticket_column(person):
    return Ticket.student_id if isinstance(person, Student) else Ticket.teacher_id


def _refuse_upcoming_tickets(person) -> None:
    upcoming = db.session.execute(
        sa.select(sa.func.count(Ticket.id)).join(Event, Ticket.event_id == Event.id)
        .where(_ticket_column(person) == person.id, Ticket.status != TicketStatus.CANCELLED,
               Event.ends_at > now_utc())).scalar_one()
    if upcoming:
        raise ConflictError(
            "has_upcoming_tickets", f"У человека есть билеты на предстоящие мероприятия "
            f"({upcoming}). Сначала уберите его из групп этих мероприятий, затем обезличьте.")


def grade_only_class(grade: int) -> str:
    """What is left of a class after anonymization: the grade (parallel), not the letter."""
    return str(grade) if grade else "дошкольная группа"


def _strip_person(person: Student | Teacher, at) -> dict:
    """Remove the person's own fields; returns the texts to look for in copies."""
    names = [person.full_name, f"{person.last_name} {person.first_name}"] \
        if person.anonymized_at is None else []
    addresses = []
    person.last_name = person.first_name = person.middle_name = None
    person.active = False
    person.anonymized_at = at
    if isinstance(person, Student):
        names = [f"{n} ({person.class_name})" for n in names[:1]] + names
        person.external_id = None
        person.class_name = grade_only_class(person.grade)
    else:
        addresses.append(person.email)
        person.email = None
    return {"names": [n for n in names if n and n.strip(" .")], "addresses": addresses}


def _strip_teacher_signups(condition) -> tuple[list[str], list[str]]:
    """Replace names and contacts of teacher self-sign-ups matching ``condition``."""
    names, addresses = [], []
    for signup in TeacherSignup.query.filter(condition).all():
        if signup.last_name == PLACEHOLDER_SURNAME:
            continue
        names.append(signup.full_name)
        addresses.append(signup.email)
        signup.last_name = PLACEHOLDER_SURNAME
        signup.first_name = str(signup.id)
        signup.middle_name = None
        # Reserved, never deliverable (RFC 2606); unique per sign-up for the open-sign-up index.
        signup.email = f"anonymized-{signup.id}@example.invalid"
        signup.phone = None
        signup.consent_ip = None
        signup.reject_reason = None
    return names, addresses


def anonymize_person(actor, person: Student | Teacher, *, via: str = "web") -> None:
    """Remove a student's or teacher's name, external id and e-mail, and every copy of them;
    the row, its school, grade, ОВЗ flag, tickets and scans stay, so every indicator stays.
    The person leaves the roster. Refused while they hold a ticket for an event not over."""
    if person.anonymized_at is not None:
        raise ConflictError("already_anonymized", "Данные этого человека уже обезличены.")
    _refuse_upcoming_tickets(person)
    kind = "student" if isinstance(person, Student) else "teacher"
    tickets = select_ids(Ticket.id, _ticket_column(person) == person.id)
    found = _strip_person(person, now_utc())
    names, addresses = found["names"], found["addresses"]
    if kind == "teacher":
        more_names, more_addresses = _strip_teacher_signups(TeacherSignup.teacher_id == person.id)
        names += more_names
        addresses += more_addresses
    db.session.flush()
    if tickets:
        scrub_scans(S.c.ticket_id.in_(tickets))
    _redact_notices(SchoolNotice.organization_id == person.organization_id, names)
    scrub_outbox_rows(outbox_ids_mentioning(addresses=addresses, texts=names))
    record_audit(actor, f"{kind}.anonymize", person, via=via)
    db.session.flush()


def select_ids(column, condition) -> list[int]:
    return [i for i in db.session.execute(sa.select(column).where(condition).distinct())
            .scalars() if i is not None]


# ---------------------------------------------------------------------------------------------
# A past academic year


@dataclass
class YearPlan:
    """What anonymizing a year will touch (counted before, for the confirmation page)."""

    year: int
    students: list[int] = field(default_factory=list)
    teachers: list[int] = field(default_factory=list)
    parent_signups: list[int] = field(default_factory=list)
    teacher_signups: list[int] = field(default_factory=list)
    events: list[int] = field(default_factory=list)

    @property
    def title(self) -> str:
        return academic_year_title(self.year)

    def counts(self) -> dict[str, int]:
        return {"students": len(self.students), "teachers": len(self.teachers),
                "parent_signups": len(self.parent_signups),
                "teacher_signups": len(self.teacher_signups), "events": len(self.events)}


def check_past_year(year) -> int:
    """The year, if it is an academic year that has ended; else ``ServiceError``."""
    if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2100:
        raise ServiceError("invalid_year", "Укажите учебный год числом, например 2024 "
                           "(это 2024/25).", field="year")
    current = current_academic_year()
    if year >= current:
        raise ConflictError("year_not_over", f"Учебный год {academic_year_title(year)} ещё не "
                            "закончился: обезличить можно только прошедший год (до "
                            f"{academic_year_title(current - 1)} включительно).", field="year")
    return year


def _people_of_events(condition):
    """Selects of the students and the teachers (ticket holders and staff) of the events
    matching ``condition``."""
    events = sa.select(Event.id).where(condition)
    students = sa.select(Ticket.student_id).where(Ticket.event_id.in_(events),
                                                  Ticket.student_id.is_not(None))
    teachers = sa.union(
        sa.select(Ticket.teacher_id).where(Ticket.event_id.in_(events),
                                           Ticket.teacher_id.is_not(None)),
        sa.select(EventStaff.teacher_id).where(EventStaff.event_id.in_(events)))
    return students, teachers


def plan_year(year: int) -> YearPlan:
    """Who anonymizing ``year`` concerns (the rule is in docs/security.md, «Обезличивание»):

    - every student and teacher who is no longer in a roster (excluded, graduated, left),
      who took part in the year or earlier (a ticket for such an event; or, without any
      ticket, was added before the year ended), and who holds no ticket for a later event
      (nor runs one, for teachers): their data is no longer needed for any later year;
    - every parent and teacher sign-up for the year's events;
    - every copy of a name kept for the year: the stored answers of the year's scans, the
      outbox, the school notices and the undecided walk-ins of the year's events.
    """
    year = check_past_year(year)
    period = academic_year_period(year)
    ends = period.ends_before
    plan = YearPlan(year)
    plan.events = select_ids(Event.id, sa.and_(Event.starts_at >= period.starts_at,
                                               Event.starts_at < ends))
    later_students, later_teachers = _people_of_events(Event.starts_at >= ends)
    # Tied to the year or earlier: holds a ticket for an event before the year's end, or (no
    # ticket at all) was added to the roster before it.
    until_students, until_teachers = _people_of_events(Event.starts_at < ends)
    plan.students = select_ids(Student.id, sa.and_(
        Student.active.is_(False), Student.anonymized_at.is_(None),
        sa.or_(Student.created_at < ends, Student.id.in_(until_students)),
        Student.id.not_in(later_students)))
    plan.teachers = select_ids(Teacher.id, sa.and_(
        Teacher.active.is_(False), Teacher.anonymized_at.is_(None),
        sa.or_(Teacher.created_at < ends, Teacher.id.in_(until_teachers)),
        Teacher.id.not_in(later_teachers)))
    if plan.events:
        plan.parent_signups = select_ids(ParentSignup.id, sa.and_(
            ParentSignup.event_id.in_(plan.events), ParentSignup.withdrawn_at.is_(None)))
        plan.teacher_signups = select_ids(TeacherSignup.id, sa.and_(
            TeacherSignup.event_id.in_(plan.events),
            TeacherSignup.last_name != PLACEHOLDER_SURNAME))
    return plan


def anonymize_year(actor, year: int, *, via: str = "web") -> YearPlan:
    """Anonymize the past academic ``year`` (see :func:`plan_year`); indicators unchanged."""
    plan = plan_year(year)
    now = now_utc()
    period = academic_year_period(plan.year)
    names: list[str] = []
    addresses: list[str] = []
    for model, ids in ((Student, plan.students), (Teacher, plan.teachers)):
        for start in range(0, len(ids), 500):
            for person in model.query.filter(model.id.in_(ids[start:start + 500])).all():
                found = _strip_person(person, now)
                names += found["names"]
                addresses += found["addresses"]
    if plan.teachers:
        more_names, more_addresses = _strip_teacher_signups(
            TeacherSignup.teacher_id.in_(plan.teachers))
        names += more_names
        addresses += more_addresses
    if plan.teacher_signups:
        more_names, more_addresses = _strip_teacher_signups(
            TeacherSignup.id.in_(plan.teacher_signups))
        names += more_names
        addresses += more_addresses
    for signup in ParentSignup.query.filter(ParentSignup.id.in_(plan.parent_signups)).all():
        names.append(signup.name)
        addresses.append(signup.email)
        erase_parent_signup(signup, at=now)
    db.session.flush()

    # Copies: every stored answer of the year's scans (whoever the person), the notices and the
    # scanner-link labels of the year's events, every outbox message queued before the year
    # ended, and the messages to or about the people above; the free-text reasons of undone
    # check-ins.
    if plan.events:
        scrub_scans(S.c.event_id.in_(plan.events))
        SchoolNotice.query.filter(SchoolNotice.event_id.in_(plan.events)).delete(
            synchronize_session=False)
        # Walk-ins nobody confirmed or rejected: names typed at the door, moot once the year
        # is over (a confirmed one became a roster entry and a ticket, handled above).
        WalkIn.query.filter(WalkIn.event_id.in_(plan.events)).delete(synchronize_session=False)
        # A volunteer's scanner link is often labelled with their name («Волонтёр Маша»).
        ScannerLink.query.filter(ScannerLink.event_id.in_(plan.events),
                                 ScannerLink.label.is_not(None)).update(
            {"label": None}, synchronize_session=False)
    old_mail = select_ids(OutboxMessage.id, OutboxMessage.created_at < period.ends_before)
    scrub_outbox_rows(set(old_mail) | set(outbox_ids_mentioning(
        addresses=addresses, texts=[n for n in names if n])))
    _scrub_audit_reasons(period)
    record_audit(actor, "year.anonymize", object_type="academic_year", object_id=plan.year,
                 via=via, **plan.counts())
    db.session.flush()
    return plan


#: Audit actions whose ``reason`` is free text typed about a person.
PERSONAL_AUDIT_REASONS = ("checkin.undo",)


def _scrub_audit_reasons(period) -> int:
    rows = AuditLog.query.filter(AuditLog.action.in_(PERSONAL_AUDIT_REASONS),
                                 AuditLog.at >= period.starts_at,
                                 AuditLog.at < period.ends_before).all()
    for row in rows:
        if row.details and row.details.get("reason") not in (None, REMOVED):
            row.details = {**row.details, "reason": REMOVED}
    return len(rows)
