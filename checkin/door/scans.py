"""The scan service: every rule of a scan at the door, used by the API, the pages and the sync.

A scan is judged by reading (:func:`prepare_scan`: one query finds the ticket, what the door
shows and its current check-in) and then written by one INSERT (:func:`record_scan`). Every
scan is recorded, failed ones included.

- Idempotent: ``client_scan_id`` is unique; a repeated id makes the INSERT fail and the first
  answer is returned (:func:`replay_scan`), recording nothing new.
- One path for every caller: :func:`scan` judges and records, whoever scans (a volunteer's
  link, an organizer's token or session, an offline batch, a walk-in) and whichever door it
  runs on: a single scan on its own ``checkin.door.connection.DoorConnection`` (autocommit: no
  transaction round trips, on SQLite the write lock held only by the INSERT), several in the
  request's transaction (``checkin.door.connection.SessionDoor``, each in a SAVEPOINT; on
  SQLite in BEGIN IMMEDIATE, so a writer never fails with "database is locked" after reading).
- Safe under concurrency: the check-in is an INSERT guarded by the partial unique index
  ``uq_scans_ticket_checkin`` (one ``ok``, not undone scan per ticket). When a parallel scan
  won, the IntegrityError is caught and the scan is judged again: ``already_checked_in``. No
  read-then-write race decides who is first.
- Phone clocks are checked: a ``scanned_at`` in the future or long before the event is replaced
  by the server time and the scan is flagged ``clock_skew``.
- The earliest scan wins: when a scan made offline arrives whose (believable) ``scanned_at`` is
  earlier than the existing check-in's, it becomes the check-in and the other one is turned
  into a repeat (a conditional UPDATE in the same write). Online scans are judged in arrival
  order, so two scans at the same moment give one ``ok`` and one ``already_checked_in``.

Reading what a scanner read is ``checkin.door.codes``; who scans is read with the ticket by
``checkin.door.callers``; the connection a scan runs on is ``checkin.door.connection``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.exc import IntegrityError

from checkin.door.codes import code_lookup, parse_group_code, parse_scanned_code
from checkin.door.connection import SessionDoor
from checkin.door.statements import DoorStatement, run_door_statement
from checkin.seats.capacity import lock_event
from checkin.seats.registration import release_ticket
from errors import ConflictError, NotFoundError, PermissionDenied, ServiceError
from models import (
    Event,
    EventStatus,
    Organization,
    ParentSignup,
    Registration,
    RegistrationStatus,
    Scan,
    ScannerLink,
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
from models.event import in_checkin_window
from models.report_changes import note_report_change
from models.roster import parent_display_name, person_full_name
from models.scan import holder_facts

#: A phone clock ahead of the server by more than this is not believed.
FUTURE_TOLERANCE = timedelta(minutes=5)
#: A scan time this long before the check-in window opens is not believed.
PAST_TOLERANCE = timedelta(hours=12)
#: A scan reaching the server this much later than it was made counts as made offline.
OFFLINE_DELAY = timedelta(minutes=1)

FLAG_CLOCK_SKEW = "clock_skew"
FLAG_CANCELLED_OFFLINE = "cancelled_offline"
#: Made inside the window, received after check-in closed but within the grace period: counts,
#: and the organizer sees it in the late-sync list.
FLAG_LATE_SYNC = "late_sync"
#: Received after the grace period: recorded with outcome ``not_open``, counts for nothing.
FLAG_LATE_REFUSED = "late_sync_refused"
FLAG_TITLES = {
    FLAG_CLOCK_SKEW: "Время телефона неверно: записано время сервера",
    FLAG_CANCELLED_OFFLINE: "Отсканирован офлайн, а билет к тому времени отменён",
    FLAG_LATE_SYNC: "Поздняя синхронизация: получено после закрытия входа",
    FLAG_LATE_REFUSED: "Получено позже допустимого срока после закрытия входа: не засчитано",
}
#: When ``SCAN_LATE_SYNC_GRACE_HOURS`` is not configured.
DEFAULT_LATE_SYNC_GRACE = timedelta(hours=24)


def late_sync_grace() -> timedelta:
    """How long after check-in closes a scan made inside the window is still accepted."""
    if not has_app_context():
        return DEFAULT_LATE_SYNC_GRACE
    hours = current_app.config.get("SCAN_LATE_SYNC_GRACE_HOURS")
    return DEFAULT_LATE_SYNC_GRACE if hours is None else timedelta(hours=float(hours))

#: Tables for the hot path: Core statements, no ORM objects (a scan is one lookup and one
#: INSERT; see bench/scan_bench.py).
T = Ticket.__table__
S = Scan.__table__

MAX_RAW_CODE = 500
MAX_CLIENT_SCAN_ID = 64
MAX_LABEL = 100

MESSAGES = {
    ScanOutcome.OK: "Отмечен(а). Проходите!",
    ScanOutcome.ALREADY_CHECKED_IN: "Уже отмечен(а) раньше.",
    ScanOutcome.WRONG_EVENT: "Билет на другое мероприятие.",
    ScanOutcome.CANCELLED: "Регистрация отменена.",
    ScanOutcome.WAITLISTED: "Билет в листе ожидания, место не подтверждено.",
    ScanOutcome.NOT_OPEN: "Отметка сейчас закрыта: вне времени входа на мероприятие.",
    ScanOutcome.INVALID: "Неизвестный код.",
}

# --------------------------------------------------------------------------- display

def _who(user_name, user_email, link_label, link_gate, *, has_link, gate, device) -> str:
    if user_name or user_email:
        who = user_name or user_email
    elif has_link:
        label = link_label or link_gate
        who = f"сканер «{label}»" if label else "сканер по ссылке"
    else:
        who = "система"
    extras = [x for x in (gate and f"вход «{gate}»", device and f"устройство «{device}»") if x]
    return who + (" (" + ", ".join(extras) + ")" if extras else "")


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# --------------------------------------------------------------------------- events

@dataclass(frozen=True, slots=True)
class EventInfo:
    """What judging a scan needs of an event (one Core query on the hot path)."""

    id: int
    title: str
    organizer_id: int
    status: EventStatus
    starts_at: datetime
    effective_checkin_opens_at: datetime
    effective_checkin_closes_at: datetime

    def checkin_open(self, at: datetime) -> bool:
        return in_checkin_window(at, self.effective_checkin_opens_at,
                                 self.effective_checkin_closes_at)


def event_info(event) -> EventInfo:
    if isinstance(event, EventInfo):
        return event
    return EventInfo(event.id, event.title, event.organizer_id, event.status, event.starts_at,
                     event.effective_checkin_opens_at, event.effective_checkin_closes_at)


def check_scan_time(event, scanned_at: datetime | None,
                    received_at: datetime) -> tuple[datetime, bool]:
    """The time to record and whether the phone's time was rejected."""
    if scanned_at is None:
        return received_at, False
    if scanned_at.tzinfo is None:
        raise ServiceError("invalid_time", "Время сканирования должно быть со смещением.",
                           field="scanned_at")
    if scanned_at > received_at + FUTURE_TOLERANCE:
        return received_at, True
    # Long before the window is unbelievable only when the server itself is not: a phone
    # whose clock agrees with the server's, or a scan received long before the window too,
    # is simply early (``not_open``), not a wrong clock.
    earliest = event.effective_checkin_opens_at - PAST_TOLERANCE
    agrees = received_at - scanned_at <= FUTURE_TOLERANCE
    if scanned_at < earliest and not agrees and received_at >= earliest:
        return received_at, True
    return scanned_at, False


_DOOR_QUERIES: dict[str, DoorStatement] = {}


def _door_query(column: str) -> DoorStatement:
    """The ticket (by ``column`` = :code) with what the door shows, and its current check-in
    with who made it. Built once per column (compiled once)."""
    if column not in _DOOR_QUERIES:
        _DOOR_QUERIES[column] = door_statement(column)
    return _DOOR_QUERIES[column]


def door_statement(column: str, *, source=None, columns=(), where=None) -> DoorStatement:
    """The door's read of the ticket by ``column`` = :code, as a :class:`DoorStatement` with
    its PostgreSQL form (see :func:`_build_door_query`).

    With ``source``, read together with its ``columns`` (the caller and the event,
    ``checkin.door.callers.identify_at_door``) and filtered by ``where``: the ticket is
    outer-joined to ``source``, so the row comes even when no ticket has that code. One flat
    join, no subquery for the database to materialize (on PostgreSQL the current check-in is
    a LATERAL lookup)."""
    def build(lateral: bool) -> sa.Select:
        query = _build_door_query(column, source=source, columns=columns, lateral=lateral)
        return query if where is None else query.where(where)

    return DoorStatement(build(False), dialects={"postgresql": build(True)})


def ticket_lookup(code: str, event_id: int, conn=None) -> tuple[str, object]:
    """(column, value) that reads the ticket of a scanned ``code`` at ``event_id`` (the value
    None finds no ticket: a code that cannot be one, or a ``#hash`` of no ticket of this
    event)."""
    lookup = code_lookup(parse_scanned_code((code or "")[:MAX_RAW_CODE]), event_id, conn)
    return lookup if lookup is not None else ("id", None)


def read_ticket(conn, event_id: int, code: str):
    """The door's row of the ticket a scanned ``code`` names (None when no ticket)."""
    column, value = ticket_lookup(code, event_id, conn)
    if value is None:
        return None
    return run_door_statement(conn, _door_query(column), {"code": value}).first()


#: ``'ok'`` written into the door query's SQL: the check-in is found through the partial index
#: ``uq_scans_ticket_checkin`` (``WHERE outcome = 'ok' …``), which a bound parameter there
#: would not prove usable. (SQLite then prepared the statement again on every scan to see
#: whether the index applies: 190 µs a read against 25 µs.)
_CHECKIN_OUTCOME = sa.literal_column(f"'{ScanOutcome.OK.value}'", type_=S.c.outcome.type)


def _build_door_query(column: str, *, source=None, columns=(), lateral=False) -> sa.Select:
    """The door query; ``lateral``: its PostgreSQL form.

    The ticket's current check-in: on PostgreSQL a LATERAL subquery with LIMIT 1 (which keeps
    it from being merged into the join), so it is always an index lookup by the ticket's id.
    As a plain join, a cached generic plan made while the scans table looked empty (a fresh
    database, statistics not yet gathered) read the whole partial index and filtered it by
    ticket: a scan then cost more with every check-in (0.24 against 0.14 ms of database time
    after 1,000 of them). SQLite looks each row up by index either way."""
    condition = T.c[column] == sa.bindparam("code")
    r = Registration.__table__
    st, te, ps = Student.__table__, Teacher.__table__, ParentSignup.__table__
    so, to, po = (Organization.__table__.alias(n) for n in ("so", "to_", "po"))
    if lateral:
        c = (sa.select(S.c.id, S.c.scanned_at, S.c.gate, S.c.device_label, S.c.scanner_link_id,
                       S.c.user_id)
             .where(S.c.ticket_id == T.c.id, S.c.outcome == _CHECKIN_OUTCOME,
                    S.c.undone_at.is_(None))
             .limit(sa.literal_column("1")).lateral("c"))
        checkin_on = sa.true()
    else:
        c = S.alias("c")
        checkin_on = sa.and_(c.c.ticket_id == T.c.id, c.c.outcome == _CHECKIN_OUTCOME,
                             c.c.undone_at.is_(None))
    u, lk = User.__table__, ScannerLink.__table__.alias("clk")
    tickets = T if source is None else source.outerjoin(T, condition)
    query = (
        sa.select(
            *columns, T.c.id, T.c.event_id, T.c.status, T.c.kind, r.c.status.label("reg_status"),
            T.c.student_id.label("h_student"), T.c.teacher_id.label("h_teacher"),
            st.c.organization_id.label("h_student_org"),
            te.c.organization_id.label("h_teacher_org"),
            st.c.last_name.label("s_last"), st.c.first_name.label("s_first"),
            st.c.middle_name.label("s_middle"), st.c.class_name, st.c.ovz,
            st.c.anonymized_at.label("s_anon"), so.c.short_name.label("so_short"),
            so.c.name.label("so_name"),
            te.c.last_name.label("t_last"), te.c.first_name.label("t_first"),
            te.c.middle_name.label("t_middle"), te.c.anonymized_at.label("t_anon"),
            to.c.short_name.label("to_short"), to.c.name.label("to_name"),
            ps.c.name.label("p_name"), po.c.short_name.label("po_short"),
            po.c.name.label("po_name"),
            c.c.id.label("c_id"), c.c.scanned_at.label("c_at"), c.c.gate.label("c_gate"),
            c.c.device_label.label("c_device"), c.c.scanner_link_id.label("c_link"),
            u.c.full_name.label("c_user_name"), u.c.email.label("c_user_email"),
            lk.c.label.label("c_link_label"), lk.c.gate.label("c_link_gate"),
        )
        .select_from(
            tickets.outerjoin(r, r.c.id == T.c.registration_id)
            .outerjoin(st, st.c.id == T.c.student_id)
            .outerjoin(so, so.c.id == st.c.organization_id)
            .outerjoin(te, te.c.id == T.c.teacher_id)
            .outerjoin(to, to.c.id == te.c.organization_id)
            .outerjoin(ps, ps.c.id == T.c.parent_signup_id)
            .outerjoin(po, po.c.id == ps.c.child_organization_id)
            .outerjoin(c, checkin_on)
            .outerjoin(u, u.c.id == c.c.user_id)
            .outerjoin(lk, lk.c.id == c.c.scanner_link_id)
        )
    )
    return query.where(condition) if source is None else query


def _attendee_from_row(r) -> dict:
    organization = class_name = None
    needs_assistance = False
    if r.kind == TicketKind.STUDENT:
        name = person_full_name(r.s_last, r.s_first, r.s_middle, bool(r.s_anon))
        organization = r.so_short or r.so_name
        class_name = r.class_name
        needs_assistance = bool(r.ovz)
    elif r.kind == TicketKind.TEACHER:
        name = person_full_name(r.t_last, r.t_first, r.t_middle, bool(r.t_anon))
        organization = r.to_short or r.to_name
    else:
        name = parent_display_name(r.p_name)
        organization = r.po_short or r.po_name
    return {"name": name, "kind": r.kind.value, "organization": organization,
            "class_name": class_name, "needs_assistance": needs_assistance}


# --------------------------------------------------------------------------- the service

class StaleCheckin(Exception):
    """The check-in a decision was based on changed meanwhile: judge again."""


@dataclass(slots=True)
class ScanDecision:
    """A judged scan, ready to be written by :func:`record_scan`."""

    row: dict
    outcome: ScanOutcome
    body: dict
    flags: list
    #: The check-in this scan takes over from (an earlier offline scan arriving late).
    demote_id: int | None = None


def scanner_fields(event, *, actor_user=None, scanner_link=None, client_scan_id=None,
                   force=False) -> dict:
    """Check who scans and the request's own fields; the scanner part of the scan row."""
    if actor_user is None and scanner_link is None:
        raise PermissionDenied("forbidden", "Сканировать может организатор или сканер по "
                                            "ссылке.")
    if force and actor_user is None:
        raise PermissionDenied("force_not_allowed", "Отметить вне времени входа может только "
                                                    "организатор.", field="force")
    if scanner_link is not None and scanner_link.event_id != event.id:
        raise PermissionDenied("forbidden", "Ссылка сканера выдана для другого мероприятия.")
    if client_scan_id is not None and (not isinstance(client_scan_id, str)
                                       or not 0 < len(client_scan_id) <= MAX_CLIENT_SCAN_ID):
        raise ServiceError("invalid_client_scan_id", "Идентификатор сканирования: строка "
                           f"до {MAX_CLIENT_SCAN_ID} символов.", field="client_scan_id")
    return {"user_id": actor_user.id if actor_user is not None else None,
            "scanner_link_id": scanner_link.id if scanner_link is not None else None,
            "link_gate": scanner_link.gate if scanner_link is not None else None}


def prepare_scan(event: EventInfo, code: str, scanner: dict, ticket, conn, *,
                 client_scan_id: str | None = None, scanned_at: datetime | None = None,
                 device_label: str | None = None, gate: str | None = None,
                 force: bool = False, offline: bool = False, source: ScanSource | None = None,
                 attendance_import_id: int | None = None) -> ScanDecision:
    """Judge a scan by reading only: ``ticket`` is the door's row of the scanned ticket (None
    when no ticket has that code), read on ``conn`` with its current check-in. ``source``:
    how the check-in came about (by default a door scan, online or offline);
    ``attendance_import_id`` the uploaded list it came from (source ``import``)."""
    received_at = now_utc()
    at, skewed = check_scan_time(event, scanned_at, received_at)
    raw = (code or "")[:MAX_RAW_CODE]
    offline = offline or (scanned_at is not None and not skewed
                          and received_at - at > OFFLINE_DELAY)
    gate = gate or scanner["link_gate"]
    row = {"event_id": event.id, "ticket_id": ticket.id if ticket else None, "raw_code": raw,
           # Who the ticket is for, copied onto the scan (models.scan.Scan.student_id).
           **holder_facts(*((ticket.h_student, ticket.h_teacher, ticket.h_student_org,
                             ticket.h_teacher_org) if ticket else (None,) * 4)),
           "client_scan_id": client_scan_id, "user_id": scanner["user_id"],
           "scanner_link_id": scanner["scanner_link_id"],
           "device_label": (device_label or None) and device_label[:MAX_LABEL],
           "gate": (gate or None) and gate[:MAX_LABEL],
           "scanned_at": at, "received_at": received_at, "forced": False,
           "source": source or (ScanSource.OFFLINE if offline else ScanSource.DOOR),
           "attendance_import_id": attendance_import_id}
    decision = ScanDecision(row, ScanOutcome.INVALID, {"checkin": None, "attendee": None},
                            [FLAG_CLOCK_SKEW] if skewed else [])
    _judge(event, ticket, decision, conn, force=force, offline=offline,
           may_take_over=offline and not skewed)
    return decision


def _judge(event: EventInfo, ticket, d: ScanDecision, conn, *, force, offline, may_take_over):
    body, row = d.body, d.row
    if ticket is None:
        group = parse_group_code(row["raw_code"])
        if group is not None:
            body["group_code"] = group
        d.outcome = ScanOutcome.INVALID
        return
    if ticket.event_id != event.id:
        e = Event.__table__
        other = conn.execute(sa.select(e.c.id, e.c.title, e.c.starts_at)
                                   .where(e.c.id == ticket.event_id)).one()
        body["ticket_event"] = {"id": other.id, "title": other.title,
                                "starts_at": iso(other.starts_at)}
        d.outcome = ScanOutcome.WRONG_EVENT
        return
    body["attendee"] = _attendee_from_row(ticket)
    if (ticket.status == TicketStatus.CANCELLED
            or ticket.reg_status == RegistrationStatus.CANCELLED
            or event.status == EventStatus.CANCELLED):
        if offline:
            d.flags.append(FLAG_CANCELLED_OFFLINE)
        d.outcome = ScanOutcome.CANCELLED
        return
    if ticket.status == TicketStatus.WAITLISTED:
        d.outcome = ScanOutcome.WAITLISTED
        return
    if not event.checkin_open(row["scanned_at"]):
        if not force:
            body["checkin_window"] = {"opens_at": iso(event.effective_checkin_opens_at),
                                      "closes_at": iso(event.effective_checkin_closes_at)}
            d.outcome = ScanOutcome.NOT_OPEN
            return
        row["forced"] = True
    elif not force and row["received_at"] >= event.effective_checkin_closes_at:
        # Made inside the window, received after it closed (an offline phone syncing late):
        # within the grace period it counts and is flagged for the organizer; later it is
        # recorded as refused. A phone's time alone can never open a closed door for long.
        if row["received_at"] >= event.effective_checkin_closes_at + late_sync_grace():
            d.flags.append(FLAG_LATE_REFUSED)
            body["checkin_window"] = {"opens_at": iso(event.effective_checkin_opens_at),
                                      "closes_at": iso(event.effective_checkin_closes_at)}
            d.outcome = ScanOutcome.NOT_OPEN
            return
        d.flags.append(FLAG_LATE_SYNC)
    if ticket.c_id is not None:
        if not (may_take_over and row["scanned_at"] < ticket.c_at):
            row["forced"] = False
            body["first_checkin"] = {
                "id": ticket.c_id, "at": iso(ticket.c_at),
                "by": _who(ticket.c_user_name, ticket.c_user_email, ticket.c_link_label,
                           ticket.c_link_gate, has_link=ticket.c_link is not None,
                           gate=ticket.c_gate, device=ticket.c_device)}
            d.outcome = ScanOutcome.ALREADY_CHECKED_IN
            return
        # Made offline earlier than the recorded check-in: it becomes the check-in and the
        # other one a repeat (the earliest scan wins). Online scans never take over, so two
        # scans at the same moment give one ``ok`` and one ``already_checked_in``.
        d.demote_id = ticket.c_id
    d.outcome = ScanOutcome.OK


_INSERT_SCAN = DoorStatement(
    sa.insert(S).values({c.key: sa.bindparam(c.key, type_=c.type) for c in S.c if c.key != "id"})
    .returning(S.c.id))
_REPLAY_QUERY = sa.select(S.c.id, S.c.event_id, S.c.ticket_id, S.c.scanned_at,
                          S.c.response).where(
    S.c.client_scan_id == sa.bindparam("client_scan_id"))


def record_scan(d: ScanDecision, conn=None) -> dict:
    """Write a judged scan: one INSERT (and the take-over UPDATE). Raises IntegrityError when
    a parallel scan won (unique check-in, or the same ``client_scan_id``) and StaleCheckin
    when the check-in to take over from changed; the caller rolls back and judges again."""
    conn = conn or db.session
    if d.demote_id is not None:
        result = conn.execute(
            sa.update(S).where(S.c.id == d.demote_id, S.c.outcome == ScanOutcome.OK,
                               S.c.undone_at.is_(None))
            .values(outcome=ScanOutcome.ALREADY_CHECKED_IN))
        if result.rowcount != 1:
            raise StaleCheckin
    flag = ",".join(dict.fromkeys(d.flags)) or None
    response = {"status": d.outcome.value, "message": MESSAGES[d.outcome], **d.body,
                "flag": flag, "forced": d.row["forced"]}
    scan_id = run_door_statement(
        conn, _INSERT_SCAN, {**d.row, "outcome": d.outcome, "flag": flag,
                             "response": stored_response(response),
                             "undone_at": None, "undone_by_id": None, "undo_reason": None}
    ).scalar_one()
    return _with_ids(response, scan_id, d.row["scanned_at"])


#: Parts of an answer that are about the holder (personal data): never stored in the scan,
#: rebuilt from the ticket when the answer is given again (:func:`replay_scan`).
PERSONAL_KEYS = ("attendee",)


def stored_response(response: dict) -> dict:
    """What a scan row keeps of its answer: statuses, ids and times, no copy of the holder's
    name or «нужна помощь» (the scan refers to its ticket; the row's own id is added on the
    way out and on replay)."""
    return {k: v for k, v in response.items() if k not in PERSONAL_KEYS}


def _with_ids(response: dict, scan_id: int, scanned_at: datetime) -> dict:
    result = {**response, "scan_id": scan_id}
    if result.get("status") == ScanOutcome.OK.value:
        result["checkin"] = {"id": scan_id, "at": iso(scanned_at)}
    return result


def check_client_scan_event(recorded_event_id: int, event_id: int) -> None:
    """A ``client_scan_id`` already recorded (a scan or a walk-in) belongs to one event."""
    if recorded_event_id != event_id:
        raise ConflictError("client_scan_id_conflict",
                            "Этот идентификатор сканирования уже использован для другого "
                            "мероприятия.", field="client_scan_id")


def replay_scan(event_id: int, client_scan_id: str | None, conn=None) -> dict | None:
    """The first answer for a ``client_scan_id`` already recorded, or None."""
    if not client_scan_id:
        return None
    row = (conn or db.session).execute(_REPLAY_QUERY, {"client_scan_id": client_scan_id}).first()
    if row is None:
        return None
    check_client_scan_event(row.event_id, event_id)
    response = dict(row.response or {})
    response["attendee"] = replayed_attendee(row.ticket_id, response.get("status"), conn)
    return _with_ids(response, row.id, row.scanned_at)


def replayed_attendee(ticket_id: int | None, status: str | None, conn=None) -> dict | None:
    """The attendee block of a replayed answer, from the ticket's current data (the scan row
    stores no copy): None for an unknown code or another event's ticket, as first answered."""
    if ticket_id is None or status in (ScanOutcome.WRONG_EVENT.value, ScanOutcome.INVALID.value):
        return None
    ticket = run_door_statement(conn or db.session, _door_query("id"),
                                {"code": ticket_id}).first()
    return _attendee_from_row(ticket) if ticket is not None else None


#: Rounds of "judge, then write" when parallel scans keep winning.
CHECKIN_ATTEMPTS = 5


def scan_conflict() -> ServiceError:
    return ServiceError("scan_conflict", "Не удалось записать сканирование, повторите.",
                        status=409)


def scan(door, event: EventInfo, code: str, scanner: dict, *, ticket=None,
         client_scan_id: str | None = None, **kwargs) -> dict:
    """Judge and record one scan on ``door`` (module docstring): the door's one path.

    Judge by reading, then one INSERT in ``door.attempt()`` (autocommit, or a SAVEPOINT in a
    transaction); when a parallel scan won the INSERT (unique check-in or client id), judge
    again against it. A take-over of an earlier check-in (an UPDATE with the INSERT) needs a
    transaction: an autocommit door is restarted in one. ``ticket``: the ticket's row when
    already read (``checkin.door.callers.identify_at_door``), for the first round only."""
    for _attempt in range(CHECKIN_ATTEMPTS):
        if ticket is None:
            ticket = read_ticket(door, event.id, code)
        decision = prepare_scan(event, code, scanner, ticket, door,
                                client_scan_id=client_scan_id, **kwargs)
        ticket = None
        if decision.demote_id is not None and not door.transaction:
            door.restart(transaction=True)
            continue
        try:
            with door.attempt():
                answer = record_scan(decision, door)
                if decision.outcome == ScanOutcome.OK:
                    # A check-in of a closed year (a late batch, a list, an import) changes
                    # that year's kept reports; a running year's is left alone at once.
                    note_report_change([academic_year_of(event.starts_at)], door)
                return answer
        except (IntegrityError, StaleCheckin):
            pass
        # A parallel scan won (its row is visible now), or this client id was recorded.
        replay = replay_scan(event.id, client_scan_id, door)
        if replay is not None:
            return replay
    raise scan_conflict()


def perform_scan(event, code: str, *, actor_user=None, scanner_link=None,
                 client_scan_id: str | None = None, force: bool = False, **kwargs) -> dict:
    """:func:`scan` inside the request's transaction (a batch item, a walk-in's check-in):
    flushes, never commits. ``force`` (organizers and admins only) checks in outside the
    check-in window; ``offline`` marks a scan synced later from a phone's queue."""
    event = event_info(event)
    scanner = scanner_fields(event, actor_user=actor_user, scanner_link=scanner_link,
                             client_scan_id=client_scan_id, force=force)
    return scan(SessionDoor(), event, code, scanner, client_scan_id=client_scan_id,
                force=force, **kwargs)


# --------------------------------------------------------------------------- undo

def undo_checkin(actor, event: Event, scan_id: int, reason: str) -> Scan:
    """Undo a check-in with a reason: the person counts as not checked in again. A walk-in's
    ticket (made at the door) goes too: its seat is freed and it leaves the counts; the undo
    and the cancellation stay in the log."""
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("reason_required", "Укажите причину отмены отметки.", field="reason")
    if len(reason) > 500:
        raise ServiceError("reason_too_long", "Причина — не длиннее 500 символов.",
                           field="reason")
    # A walk-in's seat may be freed below: the event's lock comes first in the transaction.
    locked_event = lock_event(event.id)
    query = sa.select(Scan).where(Scan.id == scan_id, Scan.event_id == event.id)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    scan = db.session.execute(query.execution_options(populate_existing=True)).scalar_one_or_none()
    if scan is None:
        raise NotFoundError("not_found", "Такой отметки на этом мероприятии нет.")
    if scan.outcome != ScanOutcome.OK:
        raise ConflictError("not_a_checkin", "Это сканирование не было отметкой прихода.")
    if scan.undone_at is not None:
        raise ConflictError("already_undone", "Эта отметка уже отменена.")
    scan.undone_at = now_utc()
    scan.undone_by_id = actor.id
    scan.undo_reason = reason
    db.session.flush()

    record_audit(actor, "checkin.undo", scan, reason=reason, ticket_id=scan.ticket_id)
    ticket = db.session.get(Ticket, scan.ticket_id) if scan.ticket_id is not None else None
    if ticket is not None and ticket.walk_in and ticket.status != TicketStatus.CANCELLED:
        release_ticket(actor, locked_event, ticket, walk_in_undone=True)
    return scan
