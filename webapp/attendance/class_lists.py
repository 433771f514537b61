"""Class lists: a coordinator records that whole classes attended a lesson (issue #13 item 3)
and, for participation with no event in the system yet (item 2), first creates the school's
own (school-internal) event in one form.

Who: only a school's coordinator, for the school's own active students. The event is the
school's own school-internal event, or an event the school has an active registration for;
anything else is refused (403). Admins and organizers do not tick class lists: an organizer
has the group lists at the door and the attendance upload (``webapp.attendance.imports``).

The event must be published and have started. Every student of the chosen classes is checked
in except the absent ones, through the door's one writer (``checkin.door.scans.perform_scan``)
with ``force``, the event's start as the time and source ``class_list``. People already
checked in are skipped, so saving the same list again checks nobody twice. Students without a
live ticket get a confirmed one (a list records what happened: capacity does not apply).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from checkin.door.scans import perform_scan
from checkin.seats.capacity import lock_event
from errors import ConflictError, PermissionDenied, ServiceError
from formats.class_names import ClassNameError, normalize_class
from formats.text import natural_key
from models import (
    Audience,
    Event,
    EventStatus,
    Registration,
    RegistrationStatus,
    Role,
    Scan,
    ScanOutcome,
    ScanSource,
    Student,
    Ticket,
    TicketKind,
    TicketStatus,
    User,
    db,
    now_utc,
    record_audit,
)
from webapp.events.services import create_event, publish_event

#: The most classes one list may name, and absent ids one request may carry.
MAX_CLASSES = 40
MAX_ABSENT = 2000
#: «Повторить для следующего урока»: the next lesson of a weekly course.
NEXT_LESSON = timedelta(days=7)


def check_may_mark(user: User, event: Event, at=None) -> None:
    """Raise unless ``user`` may tick class lists for ``event`` now (module docstring)."""
    if user.role != Role.COORDINATOR or user.organization_id is None:
        raise PermissionDenied("forbidden", "Отмечать по спискам классов может только "
                                            "координатор школы.")
    own = event.school_internal and event.organizer_id == user.organization_id
    if not own and not db.session.execute(sa.select(sa.exists().where(
            Registration.event_id == event.id,
            Registration.organization_id == user.organization_id,
            Registration.status == RegistrationStatus.ACTIVE))).scalar():
        raise PermissionDenied("forbidden", "Отметить классы можно только на внутришкольном "
                                            "мероприятии своей школы или на мероприятии, куда "
                                            "школа записала группу.")
    if event.status != EventStatus.PUBLISHED:
        raise ConflictError("event_not_published", "Мероприятие не опубликовано или отменено: "
                                                   "отметить присутствовавших нельзя.")
    if (at or now_utc()) < event.starts_at:
        raise ConflictError("event_not_started", "Мероприятие ещё не началось: отмечать "
                                                 "присутствовавших рано.")


def school_classes(organization_id: int) -> list[tuple[str, int]]:
    """(class, active students) of the school, in natural order («2А» before «10А»)."""
    rows = db.session.execute(
        sa.select(Student.class_name, sa.func.count(Student.id))
        .where(Student.organization_id == organization_id, Student.active.is_(True),
               Student.anonymized_at.is_(None))
        .group_by(Student.class_name)).all()
    return sorted(((r[0], r[1]) for r in rows), key=lambda r: natural_key(r[0]))


def resolve_classes(organization_id: int, classes) -> list[str]:
    """The school's classes named by ``classes`` («7 б» → «7Б»); unknown ones are an error
    naming them (field ``classes``)."""
    if not isinstance(classes, (list, tuple)) or not classes:
        raise ServiceError("validation_error", "Выберите хотя бы один класс.", field="classes")
    if len(classes) > MAX_CLASSES:
        raise ServiceError("validation_error", f"Не больше {MAX_CLASSES} классов за раз.",
                           field="classes")
    known = {name for name, _ in school_classes(organization_id)}
    result, unknown = [], []
    for value in classes:
        text = " ".join(value.split()) if isinstance(value, str) else ""
        try:  # as stored (a kindergarten's group), else normalized («7 б» → «7Б»)
            name = text if text in known else normalize_class(text)[0]
        except ClassNameError:
            name = None
        if name is None or name not in known:
            unknown.append(f"«{value}»")
        elif name not in result:
            result.append(name)
    if unknown:
        raise ServiceError("unknown_class", "В школе нет таких классов (или в них нет "
                           "учеников): " + ", ".join(unknown) + ".", field="classes")
    return result


def class_students(organization_id: int, classes: list[str]) -> list[Student]:
    """The school's active students of ``classes``, by class then name."""
    students = db.session.execute(sa.select(Student).where(
        Student.organization_id == organization_id, Student.active.is_(True),
        Student.anonymized_at.is_(None), Student.class_name.in_(classes))).scalars().all()
    return sorted(students, key=lambda s: (natural_key(s.class_name), natural_key(
        " ".join(filter(None, (s.last_name, s.first_name, s.middle_name))))))


@dataclass
class ClassListOutcome:
    classes: list[str]
    present: int = 0
    absent: int = 0
    checked_in: int = 0
    already: int = 0

    def summary(self) -> str:
        return (f"Классы: {', '.join(self.classes)}. Присутствовали: {self.present}, "
                f"отсутствовали: {self.absent}. Отмечено сейчас: {self.checked_in}, "
                f"уже были отмечены: {self.already}.")


def mark_classes(actor: User, event: Event, classes, absent_student_ids) -> ClassListOutcome:
    """Check in every student of ``classes`` but the absent ones (module docstring). All or
    nothing; flushes only."""
    check_may_mark(actor, event)
    school_id = actor.organization_id
    names = resolve_classes(school_id, classes)
    absent_ids = absent_student_ids or []
    if not isinstance(absent_ids, (list, tuple)) or len(absent_ids) > MAX_ABSENT or any(
            isinstance(i, bool) or not isinstance(i, int) for i in absent_ids):
        raise ServiceError("validation_error", "Отсутствующие: ожидается список номеров "
                           "учеников.", field="absent_student_ids")
    students = class_students(school_id, names)
    ids = {s.id for s in students}
    stray = sorted(set(absent_ids) - ids)
    if stray:
        raise ServiceError("absent_not_in_classes", "Среди отсутствующих есть ученики не из "
                           f"выбранных классов ({', '.join(names)}): номера "
                           + ", ".join(str(i) for i in stray) + ".", field="absent_student_ids")
    absent = set(absent_ids)
    present = [s for s in students if s.id not in absent]
    outcome = ClassListOutcome(names, present=len(present), absent=len(absent))

    event = lock_event(event.id)  # tickets may be created below
    checked = sa.exists().where(Scan.ticket_id == Ticket.id, Scan.outcome == ScanOutcome.OK,
                                Scan.undone_at.is_(None))
    live = {r.Ticket.student_id: (r.Ticket, bool(r.checked)) for r in db.session.execute(
        sa.select(Ticket, checked.label("checked")).where(
            Ticket.event_id == event.id, Ticket.status != TicketStatus.CANCELLED,
            Ticket.student_id.in_([s.id for s in present])))}
    tickets = []
    for student in present:
        ticket, is_checked = live.get(student.id, (None, False))
        if is_checked:
            outcome.already += 1
            continue
        if ticket is None:
            ticket = Ticket(event_id=event.id, kind=TicketKind.STUDENT,
                            status=TicketStatus.CONFIRMED, student_id=student.id)
            db.session.add(ticket)
        elif ticket.status != TicketStatus.CONFIRMED:
            ticket.status = TicketStatus.CONFIRMED  # on the waiting list, yet came
        tickets.append(ticket)
    db.session.flush()
    for ticket in tickets:
        result = perform_scan(event, ticket.token, actor_user=actor, force=True,
                              scanned_at=event.starts_at, source=ScanSource.CLASS_LIST)
        if result["status"] == ScanOutcome.ALREADY_CHECKED_IN.value:
            outcome.already += 1
        elif result["status"] != ScanOutcome.OK.value:
            raise ConflictError("class_list_scan_refused", "Не удалось отметить: "
                                + result.get("message", ""))
        else:
            outcome.checked_in += 1
    record_audit(actor, "attendance.class_list", event, classes=names, present=outcome.present,
                 absent=sorted(absent), checked_in=outcome.checked_in)
    return outcome


def create_activity(actor: User, *, title, starts_at, minutes, category, early) -> Event:
    """An outside activity (item 2): the school's own published school-internal event, for
    students, at the school. ``early`` None: the city's rule decides."""
    if actor.role != Role.COORDINATOR or actor.organization_id is None:
        raise PermissionDenied("forbidden", "Записать занятие вне системы может координатор "
                                            "школы.")
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= 24 * 60:
        raise ServiceError("validation_error", "Длительность — от 1 до 1440 минут.",
                           field="minutes")
    school = actor.organization
    from_school = school.short_name or school.name
    event = create_event(actor, title=title, category=category, starts_at=starts_at,
                         ends_at=starts_at + timedelta(minutes=minutes) if starts_at else None,
                         venue_name=from_school, capacity=10000, early=early,
                         audience=Audience.STUDENTS)
    return publish_event(actor, event)


def class_list_events(organization_id: int, limit: int = 10) -> list[tuple[Event, int]]:
    """The school's latest events with class-list check-ins, with how many each counts."""
    rows = db.session.execute(
        sa.select(Event, sa.func.count(Scan.id)).join(Scan, Scan.event_id == Event.id)
        .join(Student, Student.id == Scan.student_id)
        .where(Scan.source == ScanSource.CLASS_LIST, Scan.outcome == ScanOutcome.OK,
               Scan.undone_at.is_(None), Student.organization_id == organization_id)
        .group_by(Event.id).order_by(Event.starts_at.desc()).limit(limit)).all()
    return [(r[0], r[1]) for r in rows]


def markable_events(organization_id: int, limit: int = 30) -> list[Event]:
    """Events a coordinator may tick class lists for now, latest first: the school's own
    school-internal ones and those the school registered a group for, started, published."""
    registered = sa.select(Registration.event_id).where(
        Registration.organization_id == organization_id,
        Registration.status == RegistrationStatus.ACTIVE)
    return db.session.execute(sa.select(Event).where(
        Event.status == EventStatus.PUBLISHED, Event.starts_at <= now_utc(),
        sa.or_(sa.and_(Event.school_internal.is_(True), Event.organizer_id == organization_id),
               Event.id.in_(registered)))
        .order_by(Event.starts_at.desc()).limit(limit)).scalars().all()
