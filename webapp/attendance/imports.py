"""Attendance imports: an uploaded list of who attended an event becomes check-ins.

Who may upload, and whom a row may name:
- the event's organizer (or an admin): the holders of the event's live tickets, from any school;
- a school's coordinator: the school's own students and teachers, once the event is over.

Rows are matched as the roster import matches (``webapp.schools.roster.name_key``): by the
student's external id, else by surname + name (+ patronymic when given) + class (an empty class
names a teacher), names folded (``formats.text.fold``); «Школа» narrows the search when two
schools have a namesake. All or nothing: every unknown or ambiguous row is a problem with its
row number (one per cell), and then nothing is written.

The check-ins are written by the door's one writer, ``checkin.door.scans.perform_scan``, with
``force`` (a past event's window is closed), the event's start as the time, source ``import``
and the upload's id: the unique check-in index, the holder facts and the answer stay the
door's. People already checked in are skipped and counted. Matched people without a live
ticket get a confirmed one: an import records what happened, so it may exceed the capacity.
Withdrawing an upload undoes its check-ins (as an undo, with the reason) and cancels the
tickets it created.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from checkin.door.scans import perform_scan
from checkin.seats.capacity import lock_event
from checkin.seats.registration import release_ticket
from errors import ConflictError, NotFoundError, PermissionDenied, ServiceError
from formats.class_names import ClassNameError, normalize_class, normalize_group
from formats.spreadsheets import Column, ProblemCollector, read_table, xlsx_template
from formats.text import fold
from models import (
    AttendanceImport,
    Event,
    EventStatus,
    Organization,
    OrgKind,
    Role,
    Scan,
    ScanOutcome,
    ScanSource,
    Student,
    Teacher,
    Ticket,
    TicketKind,
    TicketStatus,
    User,
    db,
    now_utc,
    record_audit,
)
from models.academic_year import academic_year_of
from models.report_changes import note_report_change
from models.user import manages_event
from webapp.schools.roster import name_key

COLUMNS = [
    Column("last_name", "Фамилия"),
    Column("first_name", "Имя"),
    Column("middle_name", "Отчество", required=False),
    Column("class_name", "Класс", required=False),
    Column("external_id", "Идентификатор", required=False),
    Column("school", "Школа", required=False),
]
TITLES = {c.key: c.header for c in COLUMNS}
TEMPLATE_EXAMPLES = [
    ["Иванов", "Пётр", "Сергеевич", "7Б", "12345", "МАОУ СОШ № 2"],
    ["Петрова", "Анна", "Сергеевна", "", "", "МАОУ СОШ № 2"],
]
#: The JSON twin's limit on items (the file's is ``formats.spreadsheets.MAX_ROWS``).
MAX_ITEMS = 5000
MAX_REASON = 500
MAX_FILE_NAME = 255
WITHDRAWN_PREFIX = "Загрузка списка отозвана: "


def template_xlsx() -> bytes:
    return xlsx_template(COLUMNS, TEMPLATE_EXAMPLES, sheet_title="Присутствовавшие")


# --------------------------------------------------------------------------- who may

def _is_school_upload(user: User) -> bool:
    return user.role == Role.COORDINATOR


def check_may_import(user: User, event: Event, at=None) -> None:
    """Raise unless ``user`` may upload a list for ``event`` now (module docstring)."""
    at = at or now_utc()
    if user.role in (Role.ADMIN, Role.ORGANIZER):
        if not manages_event(user.role, user.organization_id, event.organizer_id):
            raise PermissionDenied("forbidden", "Загрузить список присутствовавших может только "
                                                "организатор этого мероприятия.")
    elif user.role != Role.COORDINATOR or user.organization_id is None:
        raise PermissionDenied("forbidden", "Загружать списки присутствовавших могут "
                                            "организаторы и координаторы школ.")
    if event.status != EventStatus.PUBLISHED:
        raise ConflictError("event_not_published", "Мероприятие не опубликовано или отменено: "
                                                   "отметить присутствовавших нельзя.")
    if _is_school_upload(user) and at < event.ends_at:
        raise ConflictError("event_not_over", "Мероприятие ещё не закончилось. Школа загружает "
                                              "список присутствовавших после его окончания.")
    if at < event.starts_at:
        raise ConflictError("event_not_started", "Мероприятие ещё не началось: отмечать "
                                                 "присутствовавших рано.")


def may_withdraw(user: User, upload: AttendanceImport) -> bool:
    """Admins and the event's organizers any upload; a coordinator the school's own."""
    if user.role == Role.COORDINATOR:
        uploader = upload.uploaded_by
        return uploader is not None and uploader.organization_id == user.organization_id
    return manages_event(user.role, user.organization_id, upload.event.organizer_id)


# --------------------------------------------------------------------------- matching

@dataclass(frozen=True, slots=True)
class Person:
    kind: TicketKind
    id: int
    organization_id: int
    key: tuple  #: name_key of the full name
    class_key: str  #: folded class, '' for a teacher
    external_id: str | None
    school_keys: frozenset  #: folded name and short name of the organization
    preschool: bool  #: of a kindergarten: its «class» is a group


def _people_query(kind: TicketKind, model, event: Event, organization_id: int | None):
    o = Organization
    columns = [model.id, model.organization_id, model.last_name, model.first_name,
               model.middle_name, o.name.label("org_name"), o.short_name.label("org_short"),
               o.kind.label("org_kind")]
    if kind == TicketKind.STUDENT:
        columns += [model.class_name, model.external_id]
    query = sa.select(*columns).join(o, o.id == model.organization_id).where(
        model.anonymized_at.is_(None))
    if organization_id is not None:
        return query.where(model.organization_id == organization_id, model.active.is_(True))
    holder = Ticket.student_id if kind == TicketKind.STUDENT else Ticket.teacher_id
    return query.where(model.id.in_(sa.select(holder).where(
        Ticket.event_id == event.id, Ticket.status != TicketStatus.CANCELLED)))


def candidates(event: Event, organization_id: int | None) -> list[Person]:
    """Whom rows may name: a school's active roster, or the event's live ticket holders."""
    people = []
    for kind, model in ((TicketKind.STUDENT, Student), (TicketKind.TEACHER, Teacher)):
        for r in db.session.execute(_people_query(kind, model, event, organization_id)):
            student = kind == TicketKind.STUDENT
            people.append(Person(
                kind, r.id, r.organization_id, name_key(r.last_name, r.first_name, r.middle_name),
                fold(r.class_name) if student else "", r.external_id if student else None,
                frozenset(fold(n) for n in (r.org_name, r.org_short) if n),
                r.org_kind == OrgKind.PRESCHOOL))
    return people


def _class_key(value: str, groups: bool) -> str:
    """The folded class as the roster stores it («7 б» → «7б»), or a kindergarten's group
    when ``groups`` (the pool holds preschoolers); raises ClassNameError."""
    try:
        return fold(normalize_class(value)[0])
    except ClassNameError as err:
        if not groups:
            raise
        try:
            return fold(normalize_group(value)[0])
        except ClassNameError:
            raise err from None


@dataclass
class Plan:
    """The people an upload names, in row order (each once)."""
    rows: int = 0
    people: list[Person] = field(default_factory=list)


def match_rows(event: Event, items: list[tuple[object, dict]], organization_id: int | None,
               collector: ProblemCollector, refused: dict | None = None,
               who: str = "") -> Plan:
    """Match ``(row_label, values)`` to :func:`candidates`; every problem into ``collector``,
    raised at the end (nothing written before)."""
    refused = refused or {}
    pool = candidates(event, organization_id)
    by_external: dict[str, list[Person]] = {}
    by_name: dict[tuple, list[Person]] = {}
    for p in pool:
        if p.external_id:
            by_external.setdefault(p.external_id, []).append(p)
        by_name.setdefault(p.key[:2], []).append(p)
    groups = any(p.preschool for p in pool)
    where = who or ("в списке школы" if organization_id is not None
                    else "среди записанных на мероприятие")
    plan = Plan(rows=len(items))
    seen: dict[tuple, object] = {}
    for label, values in items:
        taken = refused.get(label, frozenset())
        cells = {k: " ".join(str(values.get(k) or "").split()) for k in TITLES}
        problems = False
        for key, value in cells.items():
            if key in taken:
                problems = True
            elif value.startswith("="):
                collector.add(label, "формулы не принимаются: впишите в ячейку само значение.",
                              column=TITLES[key])
                problems = True
        for key in ("last_name", "first_name"):  # an external id alone names a student
            if key not in taken and not cells[key] and not cells["external_id"]:
                collector.add(label, "не заполнено.", column=TITLES[key])
                problems = True
        class_key = ""
        if cells["class_name"] and "class_name" not in taken and \
                not cells["class_name"].startswith("="):
            try:
                class_key = _class_key(cells["class_name"], groups)
            except ClassNameError as err:
                collector.add(label, str(err), column=TITLES["class_name"])
                problems = True
        if problems:
            continue
        school = fold(cells["school"])
        # The API's rows may also say who (``kind``) and the organization's id.
        kind, org_id = values.get("kind"), values.get("organization_id")
        found: list[Person]
        if cells["external_id"]:
            found = [p for p in by_external.get(cells["external_id"], [])
                     if not school or school in p.school_keys]
        else:
            key = name_key(cells["last_name"], cells["first_name"], cells["middle_name"])
            found = [p for p in by_name.get(key[:2], [])
                     if (not key[2] or p.key[2] == key[2]) and p.class_key == class_key
                     and (not school or school in p.school_keys)]
        full = " ".join(v for v in (cells["last_name"], cells["first_name"],
                                    cells["middle_name"]) if v) or cells["external_id"]
        described = f"«{full}»" + (f" ({cells['class_name']})" if cells["class_name"]
                                   else " (педагог: класс не указан)")
        found = [p for p in found if (kind is None or p.kind.value == kind)
                 and (org_id is None or p.organization_id == org_id)]
        if not found:
            if cells["external_id"]:
                collector.add(label, f"ученика с идентификатором «{cells['external_id']}» нет "
                              f"{where}.", column=TITLES["external_id"])
            else:
                collector.add(label, f"{described} нет {where}. Проверьте фамилию, имя и класс.")
            continue
        if len(found) > 1:
            collector.add(label, f"{described}: {where} таких несколько. Укажите отчество, "
                          "идентификатор или школу.")
            continue
        person = found[0]
        marker = (person.kind, person.id)
        if marker in seen:
            collector.add(label, f"{described} уже есть в строке {seen[marker]}.")
            continue
        seen[marker] = label
        plan.people.append(person)
    collector.raise_if_any()
    return plan


# --------------------------------------------------------------------------- writing

@dataclass
class ImportOutcome:
    upload: AttendanceImport | None
    rows: int
    checked_in: int = 0
    already: int = 0
    new_tickets: int = 0

    def summary(self) -> str:
        return (f"Отмечено: {self.checked_in}, уже были отмечены: {self.already}, "
                f"новых билетов: {self.new_tickets}.")

    def as_json(self) -> dict:
        return {"id": self.upload.id if self.upload else None, "rows": self.rows,
                "checked_in": self.checked_in, "already_checked_in": self.already,
                "new_tickets": self.new_tickets}


def _live_tickets(event_id: int, people: list[Person]) -> dict[tuple, tuple]:
    """(kind, person id) → (ticket, whether it has a current check-in)."""
    students = [p.id for p in people if p.kind == TicketKind.STUDENT]
    teachers = [p.id for p in people if p.kind == TicketKind.TEACHER]
    if not students and not teachers:
        return {}
    checked = sa.exists().where(Scan.ticket_id == Ticket.id, Scan.outcome == ScanOutcome.OK,
                                Scan.undone_at.is_(None))
    rows = db.session.execute(
        sa.select(Ticket, checked.label("checked")).where(
            Ticket.event_id == event_id, Ticket.status != TicketStatus.CANCELLED,
            sa.or_(Ticket.student_id.in_(students), Ticket.teacher_id.in_(teachers)))).all()
    result = {}
    for r in rows:
        ticket = r.Ticket
        marker = ((TicketKind.STUDENT, ticket.student_id) if ticket.student_id is not None
                  else (TicketKind.TEACHER, ticket.teacher_id))
        result[marker] = (ticket, bool(r.checked))
    return result


def import_attendance(actor: User, event: Event, file_name: str,
                      items: list[tuple[object, dict]], collector: ProblemCollector | None = None,
                      refused: dict | None = None) -> ImportOutcome:
    """Check in everyone the rows name (module docstring); all or nothing. Flushes only."""
    check_may_import(actor, event)
    collector = collector if collector is not None else ProblemCollector()
    organization_id = actor.organization_id if _is_school_upload(actor) else None
    plan = match_rows(event, items, organization_id, collector, refused)

    # Tickets may be created below: the event's lock comes first in the transaction.
    event = lock_event(event.id)
    live = _live_tickets(event.id, plan.people)
    outcome = ImportOutcome(None, plan.rows)
    to_mark = []
    for person in plan.people:
        ticket, checked = live.get((person.kind, person.id), (None, False))
        if checked:
            outcome.already += 1
        else:
            to_mark.append((person, ticket))
    if not to_mark:
        return outcome  # the same list again: nothing to change

    upload = AttendanceImport(event_id=event.id, file_name=(file_name or "список")[:MAX_FILE_NAME],
                              uploaded_by_id=actor.id, rows=plan.rows)
    db.session.add(upload)
    db.session.flush()
    outcome.upload = upload
    tickets = []
    for person, ticket in to_mark:
        if ticket is None:
            ticket = Ticket(event_id=event.id, kind=person.kind, status=TicketStatus.CONFIRMED,
                            attendance_import_id=upload.id,
                            student_id=person.id if person.kind == TicketKind.STUDENT else None,
                            teacher_id=person.id if person.kind == TicketKind.TEACHER else None)
            db.session.add(ticket)
            outcome.new_tickets += 1
        elif ticket.status != TicketStatus.CONFIRMED:
            # On the waiting list, yet came: the list records what happened.
            ticket.status = TicketStatus.CONFIRMED
        tickets.append(ticket)
    db.session.flush()  # the new tickets in one batch
    for ticket in tickets:
        result = perform_scan(event, ticket.token, actor_user=actor, force=True,
                              scanned_at=event.starts_at, source=ScanSource.IMPORT,
                              attendance_import_id=upload.id)
        if result["status"] == ScanOutcome.ALREADY_CHECKED_IN.value:
            outcome.already += 1  # checked in at the door meanwhile
            continue
        if result["status"] != ScanOutcome.OK.value:
            raise ConflictError("import_scan_refused", "Не удалось отметить: "
                                + result.get("message", ""))
        outcome.checked_in += 1
    record_audit(actor, "attendance.import", upload, event_id=event.id, file_name=file_name,
                 rows=plan.rows, checked_in=outcome.checked_in, already=outcome.already,
                 new_tickets=outcome.new_tickets)
    return outcome


def import_attendance_file(actor: User, event: Event, file_name: str,
                           data: bytes) -> ImportOutcome:
    check_may_import(actor, event)  # before reading: a coordinator's too-early upload
    problems = ProblemCollector()
    rows = read_table(file_name, data, COLUMNS, problems)
    return import_attendance(actor, event, file_name, [(row.number, row.values) for row in rows],
                             problems, {row.number: row.refused for row in rows if row.refused})


def withdraw_import(actor: User, upload_id: int, reason: str,
                    event: Event | None = None) -> AttendanceImport:
    """Withdraw a whole upload: its check-ins are undone (with the reason) and the tickets it
    created cancelled; the upload stays listed as withdrawn."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise ServiceError("reason_required", "Укажите причину, по которой список отзывается.",
                           field="reason")
    if len(reason) > MAX_REASON:
        raise ServiceError("reason_too_long", f"Причина — не длиннее {MAX_REASON} символов.",
                           field="reason")
    upload = db.session.get(AttendanceImport, upload_id)
    if upload is None or (event is not None and upload.event_id != event.id):
        raise NotFoundError("not_found", "Такой загрузки списка нет.")
    if not may_withdraw(actor, upload):
        raise PermissionDenied("forbidden", "Отозвать можно только свою загрузку (или загрузку "
                                            "на своём мероприятии).")
    locked_event = lock_event(upload.event_id)
    upload = db.session.get(AttendanceImport, upload_id, populate_existing=True)
    if upload.withdrawn_at is not None:
        raise ConflictError("already_withdrawn", "Этот список уже отозван.")
    now = now_utc()
    upload.withdrawn_at, upload.withdrawn_by_id, upload.withdraw_reason = now, actor.id, reason
    undone = db.session.execute(
        sa.update(Scan).where(Scan.attendance_import_id == upload.id,
                              Scan.outcome == ScanOutcome.OK, Scan.undone_at.is_(None))
        .values(undone_at=now, undone_by_id=actor.id, undo_reason=WITHDRAWN_PREFIX + reason)
        .execution_options(synchronize_session=False)).rowcount
    if undone:
        note_report_change([academic_year_of(locked_event.starts_at)])
    tickets = db.session.execute(sa.select(Ticket).where(
        Ticket.attendance_import_id == upload.id,
        Ticket.status != TicketStatus.CANCELLED)).scalars().all()
    for ticket in tickets:
        release_ticket(actor, locked_event, ticket, attendance_import_id=upload.id)
    db.session.flush()
    record_audit(actor, "attendance.withdraw", upload, event_id=upload.event_id, reason=reason,
                 undone=undone, tickets_cancelled=len(tickets))
    return upload


def imports_of(event_id: int, user: User) -> list[AttendanceImport]:
    """The uploads ``user`` sees on the event's page: all for its organizers and admins, the
    school's own for a coordinator who does not organize the event."""
    query = sa.select(AttendanceImport).where(AttendanceImport.event_id == event_id)
    event = db.session.get(Event, event_id)
    if user.role == Role.COORDINATOR and not manages_event(user.role, user.organization_id,
                                                           event.organizer_id):
        query = query.join(User, User.id == AttendanceImport.uploaded_by_id).where(
            User.organization_id == user.organization_id)
    return db.session.execute(query.order_by(AttendanceImport.uploaded_at.desc(),
                                              AttendanceImport.id.desc())).scalars().all()


def counts_of(upload_ids: list[int]) -> dict[int, int]:
    """Check-ins each upload made (undone ones included: what it marked)."""
    if not upload_ids:
        return {}
    rows = db.session.execute(
        sa.select(Scan.attendance_import_id, sa.func.count(Scan.id).label("n"))
        .where(Scan.attendance_import_id.in_(upload_ids), Scan.outcome == ScanOutcome.OK)
        .group_by(Scan.attendance_import_id)).all()
    return {r.attendance_import_id: r.n for r in rows}
