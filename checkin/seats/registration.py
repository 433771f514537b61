"""Seat allocation: group registrations, single tickets, cancellations and the waiting list.

Rules (docs/domain.md, «Registration, tickets and the waiting list»):

- Seats taken = confirmed tickets of the event (all kinds). The event's capacity is never
  exceeded; nor is the per-school quota (confirmed tickets of one school; parents excluded).
- Beyond them people are waitlisted, ordered by ``queued_at`` then id, and promoted in that
  order when seats free up; the school gets a notice (and the e-mails that
  ``checkin.notifications``' signals trigger).
- Every function here that changes tickets takes the event's allocation lock first
  (:func:`checkin.seats.capacity.lock_event`), so capacity and quota hold under parallel requests.
  :func:`allocate_ticket` and :func:`promote_waitlist` expect the caller to hold it.

Services flush but never commit; they raise :class:`errors.ServiceError` with a code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from checkin.notifications import ticket_promoted, waitlist_promoted
from checkin.seats.capacity import lock_event
from errors import ConflictError, FieldErrors, NotFoundError, ServiceError
from formats.timefmt import format_datetime
from models import (
    LIVE_TICKET_STATUSES,
    Audience,
    Event,
    EventStatus,
    Organization,
    Registration,
    RegistrationStatus,
    Role,
    Student,
    Teacher,
    Ticket,
    TicketKind,
    TicketStatus,
    db,
    now_utc,
    record_audit,
)
from models.event import REGISTRATION_CLOSED, REGISTRATION_NOT_YET, fits_grade
from models.notice import SchoolNotice
from models.organization import EDUCATIONAL_KINDS

# ---------------------------------------------------------------------------------------------
# Counting


def _school_tickets_query(event_id: int, organization_id: int, status: TicketStatus):
    return (
        Ticket.join_school(sa.select(sa.func.count(Ticket.id)).select_from(Ticket))
        .where(Ticket.event_id == event_id, Ticket.status == status,
               Ticket.kind != TicketKind.PARENT, Ticket.school_id_sql() == organization_id)
    )


def confirmed_count(event_id: int) -> int:
    """Seats taken at an event (``Ticket.seats_taken_sql``)."""
    return db.session.execute(Ticket.seats_taken_sql(event_id)).scalar_one()


def waitlisted_count(event_id: int) -> int:
    return db.session.execute(
        sa.select(sa.func.count(Ticket.id)).where(
            Ticket.event_id == event_id, Ticket.status == TicketStatus.WAITLISTED)
    ).scalar_one()


def school_confirmed_count(event_id: int, organization_id: int) -> int:
    return db.session.execute(
        _school_tickets_query(event_id, organization_id, TicketStatus.CONFIRMED)).scalar_one()


@dataclass(frozen=True)
class Availability:
    """What a coordinator sees before submitting (not locked: may change a moment later)."""

    capacity: int
    confirmed: int
    waitlisted: int
    quota: int | None
    school_confirmed: int

    @property
    def seats_left(self) -> int:
        return max(0, self.capacity - self.confirmed)

    @property
    def quota_left(self) -> int | None:
        if self.quota is None:
            return None
        return max(0, self.quota - self.school_confirmed)

    @property
    def can_confirm(self) -> int:
        """How many more people of this school would be confirmed right now."""
        if self.quota_left is None:
            return self.seats_left
        return min(self.seats_left, self.quota_left)


def availability(event: Event, organization_id: int | None) -> Availability:
    return Availability(
        capacity=event.capacity,
        confirmed=confirmed_count(event.id),
        waitlisted=waitlisted_count(event.id),
        quota=event.per_school_quota,
        school_confirmed=(school_confirmed_count(event.id, organization_id)
                          if organization_id else 0),
    )


class _Seats:
    """Counts read once under the lock, then kept up to date as tickets are written."""

    def __init__(self, event: Event):
        self.event = event
        self.confirmed = confirmed_count(event.id)
        self._by_school: dict[int, int] = {}

    def school(self, organization_id: int) -> int:
        if organization_id not in self._by_school:
            self._by_school[organization_id] = school_confirmed_count(self.event.id,
                                                                      organization_id)
        return self._by_school[organization_id]

    def fits(self, kind: TicketKind, organization_id: int | None) -> bool:
        if self.confirmed >= self.event.capacity:
            return False
        quota = self.event.per_school_quota
        if quota is not None and kind != TicketKind.PARENT and organization_id is not None:
            return self.school(organization_id) < quota
        return True

    def take(self, kind: TicketKind, organization_id: int | None) -> None:
        self.confirmed += 1
        if kind != TicketKind.PARENT and organization_id is not None:
            self._by_school[organization_id] = self.school(organization_id) + 1


# ---------------------------------------------------------------------------------------------
# Single tickets


def _holder_live_ticket(event_id: int, *, student=None, teacher=None,
                        parent_signup=None) -> Ticket | None:
    query = Ticket.query.filter(Ticket.event_id == event_id,
                                Ticket.status.in_(LIVE_TICKET_STATUSES))
    if student is not None:
        query = query.filter(Ticket.student_id == student.id)
    elif teacher is not None:
        query = query.filter(Ticket.teacher_id == teacher.id)
    else:
        query = query.filter(Ticket.parent_signup_id == parent_signup.id)
    return query.first()


def _allocate(seats: _Seats, event: Event, kind: TicketKind, *, student=None, teacher=None,
              parent_signup=None, organization_id=None, registration=None,
              checked: bool = False, flush: bool = True) -> Ticket:
    """``checked``: the caller already refused people holding live tickets (one query for a
    whole group); ``flush=False``: the caller flushes once after the group."""
    holders = {TicketKind.STUDENT: student, TicketKind.TEACHER: teacher,
               TicketKind.PARENT: parent_signup}
    if holders.get(kind) is None or sum(h is not None for h in holders.values()) != 1:
        raise ValueError("exactly the holder matching the ticket kind must be given")
    if not checked and _holder_live_ticket(event.id, student=student, teacher=teacher,
                                           parent_signup=parent_signup) is not None:
        raise ConflictError("duplicate_ticket",
                            f"{_person_label(student or teacher or parent_signup)} уже записан(а) "
                            "на это мероприятие.")
    if organization_id is None:
        if registration is not None:
            organization_id = registration.organization_id
        elif student is not None:
            organization_id = student.organization_id
        elif teacher is not None:
            organization_id = teacher.organization_id
    confirmed = seats.fits(kind, organization_id)
    if confirmed:
        seats.take(kind, organization_id)
    now = now_utc()
    ticket = Ticket(
        event_id=event.id, kind=kind, registration=registration, student=student, teacher=teacher,
        parent_signup=parent_signup,
        status=TicketStatus.CONFIRMED if confirmed else TicketStatus.WAITLISTED,
        queued_at=now, created_at=now,
    )
    db.session.add(ticket)
    if flush:
        db.session.flush()
    return ticket


def allocate_ticket(event: Event, kind: TicketKind | str, *, student: Student | None = None,
                    teacher: Teacher | None = None, parent_signup=None,
                    organization_id: int | None = None,
                    registration: Registration | None = None) -> Ticket:
    """Create one ticket: confirmed if capacity and the school's quota allow, else waitlisted.

    The caller must hold the event's lock (``lock_event(event.id)`` first in the transaction).
    Raises ``duplicate_ticket`` (409) when the person already holds a live ticket.
    """
    kind = TicketKind(kind)
    return _allocate(_Seats(event), event, kind, student=student, teacher=teacher,
                     parent_signup=parent_signup, organization_id=organization_id,
                     registration=registration)


# ---------------------------------------------------------------------------------------------
# Checks shared by group registration and adding people


def _person_label(person) -> str:
    if person is None:
        return ""
    if isinstance(person, Student):
        return f"{person.full_name} ({person.class_name})"
    if isinstance(person, Teacher):
        return person.full_name
    return getattr(person, "name", None) or "Участник"


def grades_text(event: Event) -> str:
    """«для 7–11 классов» / «для 9 класса» / «для дошкольников» / «для педагогов»."""
    if event.audience == Audience.PRESCHOOL:
        return "для дошкольников"
    if event.audience == Audience.TEACHERS:
        return "для педагогов"
    if event.audience == Audience.PARENTS:
        return "для родителей"
    low, high = event.grades_min or 1, event.grades_max or 11
    if low == high:
        return f"для {low} класса"
    return f"для {low}–{high} классов"


def student_grade_problem(event: Event, student: Student) -> str | None:
    """Why this student may not go to this event, or None."""
    if not fits_grade(event, student.grade):
        return f"мероприятие {grades_text(event)}"
    return None


def registration_window_problem(event: Event, at=None) -> str | None:
    if event.status == EventStatus.CANCELLED:
        return "Мероприятие отменено: запись невозможна."
    if event.status != EventStatus.PUBLISHED:
        return "Мероприятие ещё не опубликовано: запись невозможна."
    phase = event.registration_phase(at)
    if phase == REGISTRATION_NOT_YET:
        return f"Запись откроется {format_datetime(event.registration_opens_at)}."
    if phase == REGISTRATION_CLOSED:
        return (f"Запись закрыта {format_datetime(event.effective_registration_closes_at)}: "
                "изменить состав группы уже нельзя.")
    return None


def _check_window(event: Event) -> None:
    problem = registration_window_problem(event)
    if problem:
        raise ConflictError("registration_closed", problem)


def _own_people(ids: list, by_id: dict, organization: Organization, problems: FieldErrors,
                field: str, plural: str, singular: str, problem_of) -> list:
    """The people of ``ids`` who may be registered by ``organization``: its own (others are
    refused as unknown), still on its lists, and fitting the event (``problem_of`` gives the
    reason when not)."""
    foreign = [i for i in ids
               if i not in by_id or by_id[i].organization_id != organization.id]
    if foreign:
        problems.add(field, f"В списке {plural} вашей школы нет {plural} с номерами: "
                     + ", ".join(str(i) for i in foreign) + ".",
                     code="unknown_student" if field == "student_ids" else "unknown_teacher")
    people = []
    for i in ids:
        person = by_id.get(i)
        if person is None or person.organization_id != organization.id:
            continue
        if not person.active or person.anonymized_at is not None:
            problems.add(field, f"{_person_label(person)}: {singular} выбыл из списка школы.",
                         code="inactive_person")
            continue
        reason = problem_of(person)
        if reason:
            problems.add(field, f"{_person_label(person)}: {reason}.", code="grade_not_allowed")
            continue
        people.append(person)
    return people


def _load_people(event: Event, organization: Organization, student_ids: Iterable,
                 teacher_ids: Iterable, problems: FieldErrors) -> tuple[list, list]:
    student_ids = list(student_ids or [])
    teacher_ids = list(teacher_ids or [])
    for field, ids in (("student_ids", student_ids), ("teacher_ids", teacher_ids)):
        bad = [i for i in ids if isinstance(i, bool) or not isinstance(i, int)]
        if bad:
            problems.add(field, "Идентификаторы должны быть целыми числами.")
        seen, repeated = set(), set()
        for i in ids:
            if i in seen:
                repeated.add(i)
            seen.add(i)
        if repeated:
            problems.add(field, "Один и тот же человек указан дважды: "
                         + ", ".join(str(i) for i in sorted(repeated, key=str)) + ".",
                         code="duplicate_person")
    problems.raise_if_any()

    students_by_id = {s.id: s for s in Student.query.filter(Student.id.in_(student_ids))} \
        if student_ids else {}
    teachers_by_id = {t.id: t for t in Teacher.query.filter(Teacher.id.in_(teacher_ids))} \
        if teacher_ids else {}
    students = _own_people(student_ids, students_by_id, organization, problems,
                           "student_ids", "учеников", "ученик",
                           lambda student: student_grade_problem(event, student))
    teachers = _own_people(teacher_ids, teachers_by_id, organization, problems,
                           "teacher_ids", "педагогов", "педагог", lambda _teacher: None)

    # The same person cannot hold two live tickets for one event.
    taken_students = set()
    if students:
        taken_students = set(db.session.execute(
            sa.select(Ticket.student_id).where(
                Ticket.event_id == event.id, Ticket.status.in_(LIVE_TICKET_STATUSES),
                Ticket.student_id.in_([s.id for s in students]))).scalars())
    taken_teachers = set()
    if teachers:
        taken_teachers = set(db.session.execute(
            sa.select(Ticket.teacher_id).where(
                Ticket.event_id == event.id, Ticket.status.in_(LIVE_TICKET_STATUSES),
                Ticket.teacher_id.in_([t.id for t in teachers]))).scalars())
    dup = [s for s in students if s.id in taken_students]
    dup_t = [t for t in teachers if t.id in taken_teachers]
    if dup:
        problems.add("student_ids", "Уже записаны на это мероприятие: "
                     + ", ".join(_person_label(s) for s in dup) + ".",
                     code="duplicate_ticket", status=409)
    if dup_t:
        problems.add("teacher_ids", "Уже записаны на это мероприятие: "
                     + ", ".join(_person_label(t) for t in dup_t) + ".",
                     code="duplicate_ticket", status=409)
    return students, teachers


def _allocate_people(event: Event, registration: Registration, students: list,
                     teachers: list) -> list[Ticket]:
    """Teachers first (a group cannot go without its accompanying teacher), then students."""
    seats = _Seats(event)
    tickets = []
    for teacher in teachers:
        tickets.append(_allocate(seats, event, TicketKind.TEACHER, teacher=teacher,
                                 registration=registration,
                                 organization_id=registration.organization_id,
                                 checked=True, flush=False))
    for student in students:
        tickets.append(_allocate(seats, event, TicketKind.STUDENT, student=student,
                                 registration=registration,
                                 organization_id=registration.organization_id,
                                 checked=True, flush=False))
    db.session.flush()
    return tickets


# ---------------------------------------------------------------------------------------------
# Group registration


def register_group(actor, event: Event, organization: Organization, student_ids: Iterable,
                   teacher_ids: Iterable) -> Registration:
    """Register a school's group: one ticket per person, confirmed or waitlisted."""
    organization_id = organization.id
    event = lock_event(event.id)
    if event is None:
        raise NotFoundError("not_found", "Мероприятие не найдено.")
    organization = db.session.get(Organization, organization_id)
    problems = FieldErrors()
    if organization.kind not in EDUCATIONAL_KINDS:
        raise ServiceError("not_a_school", "Группы записывают школы и детские сады.",
                           field="organization_id")
    if event.audience == Audience.PARENTS:
        raise ServiceError("wrong_audience", "На встречи для родителей родители записываются "
                           "сами: группу записать нельзя.")
    _check_window(event)
    student_ids = list(student_ids or [])
    teacher_ids = list(teacher_ids or [])
    if not student_ids and not teacher_ids:
        raise ServiceError("empty_group", "Выберите хотя бы одного ученика или педагога.",
                           field="student_ids")
    students, teachers = _load_people(event, organization, student_ids, teacher_ids, problems)
    problems.raise_if_any()

    registration = Registration(event_id=event.id, organization_id=organization.id,
                                created_by_id=getattr(actor, "id", None),
                                status=RegistrationStatus.ACTIVE)
    db.session.add(registration)
    db.session.flush()
    tickets = _allocate_people(event, registration, students, teachers)
    record_audit(actor, "registration.create", registration, event_id=event.id,
                 students=len(students), teachers=len(teachers),
                 confirmed=sum(t.status == TicketStatus.CONFIRMED for t in tickets),
                 waitlisted=sum(t.status == TicketStatus.WAITLISTED for t in tickets))
    return registration


def add_people(actor, registration: Registration, student_ids: Iterable,
               teacher_ids: Iterable) -> list[Ticket]:
    """Add people to an existing group while registration is open."""
    registration_id = registration.id
    event = lock_event(registration.event_id)
    registration = db.session.get(Registration, registration_id)
    if registration.status != RegistrationStatus.ACTIVE:
        raise ConflictError("registration_cancelled", "Заявка отменена: добавить людей нельзя.")
    _check_window(event)
    student_ids = list(student_ids or [])
    teacher_ids = list(teacher_ids or [])
    if not student_ids and not teacher_ids:
        raise ServiceError("empty_group", "Выберите хотя бы одного ученика или педагога.",
                           field="student_ids")
    problems = FieldErrors()
    students, teachers = _load_people(event, registration.organization, student_ids,
                                      teacher_ids, problems)
    problems.raise_if_any()
    tickets = _allocate_people(event, registration, students, teachers)
    record_audit(actor, "registration.add_people", registration,
                 tickets=[t.id for t in tickets])
    return tickets


def _is_admin(actor) -> bool:
    return getattr(actor, "role", None) == Role.ADMIN


def cancel_ticket(actor, ticket: Ticket, *, enforce_window: bool = True) -> list[Ticket]:
    """Cancel one person's ticket; frees the seat and promotes the waiting list.

    With ``enforce_window`` (the default) a school may remove people only while registration is
    open, and a parent until the event starts; admins always may. Returns promoted tickets.
    """
    ticket_id = ticket.id
    event = lock_event(ticket.event_id)
    ticket = db.session.get(Ticket, ticket_id)
    if ticket.status == TicketStatus.CANCELLED:
        raise ConflictError("already_cancelled", "Этот билет уже отменён.")
    if enforce_window and not _is_admin(actor):
        if ticket.kind == TicketKind.PARENT:
            if now_utc() >= event.starts_at:
                raise ConflictError("registration_closed",
                                    "Мероприятие уже началось: отменить запись нельзя.")
        else:
            _check_window(event)
    return release_ticket(actor, event, ticket)


def release_ticket(actor, event: Event, ticket: Ticket, **audit_details) -> list[Ticket]:
    """Cancel a live ticket the caller has already checked may go: the seat is freed, an emptied
    group is cancelled, the waiting list moves up. The caller holds the event's lock. Returns
    promoted tickets."""
    was_confirmed = ticket.status == TicketStatus.CONFIRMED
    ticket.status = TicketStatus.CANCELLED
    ticket.cancelled_at = now_utc()
    db.session.flush()
    record_audit(actor, "ticket.cancel", ticket, event_id=event.id, **audit_details)
    registration = ticket.registration
    if registration is not None and registration.status == RegistrationStatus.ACTIVE:
        live = db.session.execute(
            sa.select(sa.func.count(Ticket.id)).where(
                Ticket.registration_id == registration.id,
                Ticket.status.in_(LIVE_TICKET_STATUSES))).scalar_one()
        if live == 0:
            registration.status = RegistrationStatus.CANCELLED
            registration.cancelled_at = now_utc()
            db.session.flush()
    return promote_waitlist(event) if was_confirmed else []


def cancel_registration(actor, registration: Registration) -> list[Ticket]:
    """Cancel a whole group (until the event starts; admins any time). Returns promoted tickets."""
    registration_id = registration.id
    event = lock_event(registration.event_id)
    registration = db.session.get(Registration, registration_id)
    if registration.status == RegistrationStatus.CANCELLED:
        raise ConflictError("already_cancelled", "Эта заявка уже отменена.")
    if not _is_admin(actor) and now_utc() >= event.starts_at:
        raise ConflictError("registration_closed",
                            "Мероприятие уже началось: отменить заявку нельзя.")
    now = now_utc()
    freed = 0
    for ticket in registration.tickets:
        if ticket.status in LIVE_TICKET_STATUSES:
            freed += ticket.status == TicketStatus.CONFIRMED
            ticket.status = TicketStatus.CANCELLED
            ticket.cancelled_at = now
    registration.status = RegistrationStatus.CANCELLED
    registration.cancelled_at = now
    db.session.flush()
    record_audit(actor, "registration.cancel", registration, event_id=event.id, freed=freed)
    return promote_waitlist(event) if freed else []


# ---------------------------------------------------------------------------------------------
# The waiting list


def promote_waitlist(event: Event) -> list[Ticket]:
    """Confirm waitlisted tickets in queue order while capacity and quotas allow.

    A ticket whose school is at its quota is skipped (later tickets of other schools may still
    move up). Records a notice for each school concerned and sends the promotion signals.
    The caller must hold the event's lock.
    """
    seats = _Seats(event)
    if seats.confirmed >= event.capacity:
        return []
    waiting = (
        Ticket.query.filter(Ticket.event_id == event.id, Ticket.status == TicketStatus.WAITLISTED)
        .order_by(Ticket.queued_at, Ticket.id).all()
    )
    promoted: list[Ticket] = []
    for ticket in waiting:
        if seats.confirmed >= event.capacity:
            break
        organization_id = ticket.school_id
        if not seats.fits(ticket.kind, organization_id):
            continue
        seats.take(ticket.kind, organization_id)
        ticket.status = TicketStatus.CONFIRMED
        promoted.append(ticket)
    if not promoted:
        return []
    db.session.flush()
    _record_notices(event, promoted)
    for ticket in promoted:
        ticket_promoted.send(ticket)
    waitlist_promoted.send(event, tickets=promoted)
    return promoted


def _record_notices(event: Event, promoted: list[Ticket]) -> None:
    by_registration: dict[int, list[Ticket]] = {}
    for ticket in promoted:
        if ticket.registration_id is not None:
            by_registration.setdefault(ticket.registration_id, []).append(ticket)
    for registration_id, tickets in by_registration.items():
        registration = tickets[0].registration
        names = ", ".join(_person_label(t.holder) for t in tickets)
        db.session.add(SchoolNotice(
            organization_id=registration.organization_id, event_id=event.id,
            registration_id=registration_id,
            message=(f"«{event.title}» ({format_datetime(event.starts_at)}): из листа ожидания "
                     f"подтверждены места — {names}."),
        ))
    db.session.flush()
