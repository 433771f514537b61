"""The scan service: every rule of a scan at the door, used by the API, the pages and the sync.

One call judges one scanned code for one event and records the scan, failed ones included.

- Idempotent: a repeated ``client_scan_id`` returns the first answer and records nothing.
- Safe under concurrency: the check-in itself is an INSERT guarded by the partial unique index
  ``uq_scans_ticket_checkin`` (one ``ok``, not undone scan per ticket). The INSERT runs in a
  SAVEPOINT; when a parallel scan won, the IntegrityError is caught and the answer becomes
  ``already_checked_in``. No read-then-write race decides who is first.
- On SQLite the caller starts the transaction with :func:`start_scan_transaction` (BEGIN
  IMMEDIATE), so a writer never fails with "database is locked" after reading.
- Phone clocks are checked: a ``scanned_at`` in the future or long before the event is replaced
  by the server time and the scan is flagged ``clock_skew``.
- The earliest scan wins: when a scan made offline arrives whose (believable) ``scanned_at`` is
  earlier than the existing check-in's, it becomes the check-in and the other one is turned
  into a repeat. Online scans are judged in arrival order.

Services flush, never commit; the route commits once.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from checkin.capacity import begin_write_transaction
from models import (
    Event,
    EventStatus,
    ParentSignup,
    RegistrationStatus,
    Scan,
    ScanOutcome,
    Student,
    Teacher,
    Ticket,
    TicketKind,
    TicketStatus,
    db,
    now_utc,
)
from models.errors import ConflictError, PermissionDenied, ServiceError
from models.registration import SHORT_CODE_ALPHABET, SHORT_CODE_LENGTH

#: A phone clock ahead of the server by more than this is not believed.
FUTURE_TOLERANCE = timedelta(minutes=5)
#: A scan time this long before the check-in window opens is not believed.
PAST_TOLERANCE = timedelta(hours=12)
#: A scan reaching the server this much later than it was made counts as made offline.
OFFLINE_DELAY = timedelta(minutes=1)

FLAG_CLOCK_SKEW = "clock_skew"
FLAG_CANCELLED_OFFLINE = "cancelled_offline"
FLAG_TITLES = {
    FLAG_CLOCK_SKEW: "Время телефона неверно: записано время сервера",
    FLAG_CANCELLED_OFFLINE: "Отсканирован офлайн, а билет к тому времени отменён",
}

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

_TICKET_PATH = re.compile(r"/t/([^/?#\s]+)")
_GROUP_PATH = re.compile(r"/g/([^/?#\s]+)")
_SHORT_CODE = re.compile(rf"^[{SHORT_CODE_ALPHABET}]{{{SHORT_CODE_LENGTH}}}$")
#: ``#`` + the 16-hex token hash of scanner-data: a person ticked offline in a list.
_HASH_CODE = re.compile(r"^#([0-9a-f]{16})$")


# --------------------------------------------------------------------------- parsing codes

def normalize_short_code(text: str) -> str:
    return re.sub(r"[\s\-]", "", text).upper()


def parse_scanned_code(raw: str) -> str:
    """The ticket token or short code inside what a scanner read.

    Accepts the raw token, the ticket URL (anything ending in ``/t/<token>``, with or without
    a query or a trailing slash), the 8-character short code typed by hand (spaces, dashes
    and case ignored), or ``#<token hash>`` (a person ticked in a list while offline; valid for
    the scanned event's tickets only). Returns the token, the upper-case short code or the
    lower-case ``#hash``.
    """
    text = (raw or "").strip()
    if _HASH_CODE.match(text.lower()):
        return text.lower()
    match = _TICKET_PATH.search(text)
    if match:
        return match.group(1)
    short = normalize_short_code(text)
    if _SHORT_CODE.match(short):
        return short
    return text


def parse_group_code(raw: str) -> str | None:
    """The group code in a group QR (``…/g/<group_code>``), or None."""
    match = _GROUP_PATH.search((raw or "").strip())
    return match.group(1) if match else None


def _ticket_id_by_hash(event_id: int, digest: str) -> int | None:
    """Among this event's tickets only, the one whose token hashes to ``digest``."""
    for ticket_id, token in db.session.execute(
            sa.select(Ticket.id, Ticket.token).where(Ticket.event_id == event_id)):
        if hashlib.sha256(token.encode()).hexdigest()[:16] == digest:
            return ticket_id
    return None


def find_ticket(code: str, event_id: int | None = None) -> Ticket | None:
    """The ticket for a parsed code (token, short code, or ``#hash`` of ``event_id``'s ticket),
    with what the door shows."""
    if not code or len(code) > 64:
        return None
    hashed = _HASH_CODE.match(code)
    if hashed:
        ticket_id = _ticket_id_by_hash(event_id, hashed.group(1)) if event_id else None
        if ticket_id is None:
            return None
        condition = Ticket.id == ticket_id
    elif _SHORT_CODE.match(code):
        condition = Ticket.short_code == code
    else:
        condition = Ticket.token == code
    return db.session.execute(
        sa.select(Ticket).where(condition).options(
            joinedload(Ticket.student).joinedload(Student.organization),
            joinedload(Ticket.teacher).joinedload(Teacher.organization),
            joinedload(Ticket.parent_signup).joinedload(ParentSignup.child_organization),
            joinedload(Ticket.registration),
        )
    ).unique().scalar_one_or_none()


# --------------------------------------------------------------------------- display

def attendee_json(ticket: Ticket) -> dict:
    """What the door may show about a ticket's holder (no ОВЗ flag: only «нужна помощь»)."""
    holder = ticket.holder
    organization = None
    class_name = None
    needs_assistance = False
    if ticket.kind == TicketKind.STUDENT:
        name = holder.full_name
        organization = holder.organization.display_name if holder.organization else None
        class_name = holder.class_name
        needs_assistance = bool(holder.ovz)
    elif ticket.kind == TicketKind.TEACHER:
        name = holder.full_name
        organization = holder.organization.display_name if holder.organization else None
    else:
        name = holder.name or "(данные удалены)"
        if holder.child_organization is not None:
            organization = holder.child_organization.display_name
    return {"name": name, "kind": ticket.kind.value, "organization": organization,
            "class_name": class_name, "needs_assistance": needs_assistance}


def scanned_by(scan: Scan) -> str:
    """Who made a scan, for «уже отмечен … кем»."""
    if scan.user is not None:
        who = scan.user.display_name
    elif scan.scanner_link is not None:
        label = scan.scanner_link.label or scan.scanner_link.gate
        who = f"сканер «{label}»" if label else "сканер по ссылке"
    else:
        who = "система"
    extras = [x for x in (scan.gate and f"вход «{scan.gate}»",
                          scan.device_label and f"устройство «{scan.device_label}»") if x]
    return who + (" (" + ", ".join(extras) + ")" if extras else "")


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# --------------------------------------------------------------------------- helpers

def start_scan_transaction() -> None:
    """Call first in a request that scans (SQLite: BEGIN IMMEDIATE; PostgreSQL: nothing)."""
    begin_write_transaction()


def check_scan_time(event: Event, scanned_at: datetime | None,
                    received_at: datetime) -> tuple[datetime, bool]:
    """The time to record and whether the phone's time was rejected."""
    if scanned_at is None:
        return received_at, False
    if scanned_at.tzinfo is None:
        raise ServiceError("invalid_time", "Время сканирования должно быть со смещением.",
                           field="scanned_at")
    if scanned_at > received_at + FUTURE_TOLERANCE:
        return received_at, True
    if scanned_at < event.effective_checkin_opens_at - PAST_TOLERANCE:
        return received_at, True
    return scanned_at, False


def current_checkin(ticket_id: int, *, for_update: bool = False) -> Scan | None:
    query = (sa.select(Scan)
             .where(Scan.ticket_id == ticket_id, Scan.outcome == ScanOutcome.OK,
                    Scan.undone_at.is_(None))
             .options(joinedload(Scan.user), joinedload(Scan.scanner_link))
             .execution_options(populate_existing=True))
    if for_update and db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Scan)
    return db.session.execute(query).unique().scalar_one_or_none()


def _by_client_id(client_scan_id: str) -> Scan | None:
    return db.session.execute(
        sa.select(Scan).where(Scan.client_scan_id == client_scan_id)
    ).scalar_one_or_none()


def _replay(scan: Scan, event: Event) -> dict:
    if scan.event_id != event.id:
        raise ConflictError("client_scan_id_conflict",
                            "Этот идентификатор сканирования уже использован для другого "
                            "мероприятия.", field="client_scan_id")
    return dict(scan.response or {})


def _first_checkin_json(scan: Scan) -> dict:
    return {"id": scan.id, "at": iso(scan.scanned_at), "by": scanned_by(scan)}


# --------------------------------------------------------------------------- the service

def perform_scan(event: Event, code: str, *, actor_user=None, scanner_link=None,
                 client_scan_id: str | None = None, scanned_at: datetime | None = None,
                 device_label: str | None = None, gate: str | None = None,
                 force: bool = False, offline: bool = False) -> dict:
    """Judge and record one scan of ``code`` at ``event``; returns the API answer (a dict).

    ``force`` (organizers and admins only) checks in outside the check-in window.
    ``offline`` marks a scan synced later from a phone's queue.
    """
    if actor_user is None and scanner_link is None:
        raise PermissionDenied("forbidden", "Сканировать может организатор или сканер по "
                                            "ссылке.")
    if force and actor_user is None:
        raise PermissionDenied("force_not_allowed", "Отметить вне времени входа может только "
                                                    "организатор.", field="force")
    if scanner_link is not None and scanner_link.event_id != event.id:
        raise PermissionDenied("forbidden", "Ссылка сканера выдана для другого мероприятия.")
    if client_scan_id is not None:
        if not isinstance(client_scan_id, str) or not (0 < len(client_scan_id)
                                                       <= MAX_CLIENT_SCAN_ID):
            raise ServiceError("invalid_client_scan_id", "Идентификатор сканирования: строка "
                               f"до {MAX_CLIENT_SCAN_ID} символов.", field="client_scan_id")
        earlier = _by_client_id(client_scan_id)
        if earlier is not None:
            return _replay(earlier, event)

    received_at = now_utc()
    at, skewed = check_scan_time(event, scanned_at, received_at)
    if gate is None and scanner_link is not None:
        gate = scanner_link.gate
    raw = (code or "")[:MAX_RAW_CODE]
    ticket = find_ticket(parse_scanned_code(raw), event.id)
    offline = offline or (scanned_at is not None and not skewed
                          and received_at - at > OFFLINE_DELAY)

    row = {"event_id": event.id, "ticket_id": ticket.id if ticket else None, "raw_code": raw,
           "client_scan_id": client_scan_id,
           "user_id": actor_user.id if actor_user is not None else None,
           "scanner_link_id": scanner_link.id if scanner_link is not None else None,
           "device_label": (device_label or None) and device_label[:MAX_LABEL],
           "gate": (gate or None) and gate[:MAX_LABEL],
           "scanned_at": at, "received_at": received_at, "forced": False}
    flags = [FLAG_CLOCK_SKEW] if skewed else []
    body: dict = {"checkin": None, "attendee": None}

    outcome = _judge(event, ticket, row, body, flags, force=force, offline=offline)
    if outcome == ScanOutcome.OK:
        return _record_checkin(event, ticket, row, body, flags,
                               may_take_over=offline and not skewed)
    return _record(event, row, outcome, body, flags)


def _judge(event, ticket, row, body, flags, *, force, offline) -> ScanOutcome:
    if ticket is None:
        group = parse_group_code(row["raw_code"])
        if group is not None:
            body["group_code"] = group
        return ScanOutcome.INVALID
    if ticket.event_id != event.id:
        other = ticket.event
        body["ticket_event"] = {"id": other.id, "title": other.title,
                                "starts_at": iso(other.starts_at)}
        return ScanOutcome.WRONG_EVENT
    body["attendee"] = attendee_json(ticket)
    registration_cancelled = (ticket.registration is not None
                              and ticket.registration.status == RegistrationStatus.CANCELLED)
    if (ticket.status == TicketStatus.CANCELLED or registration_cancelled
            or event.status == EventStatus.CANCELLED):
        if offline:
            flags.append(FLAG_CANCELLED_OFFLINE)
        return ScanOutcome.CANCELLED
    if ticket.status == TicketStatus.WAITLISTED:
        return ScanOutcome.WAITLISTED
    if not event.checkin_open(row["scanned_at"]):
        if not force:
            body["checkin_window"] = {"opens_at": iso(event.effective_checkin_opens_at),
                                      "closes_at": iso(event.effective_checkin_closes_at)}
            return ScanOutcome.NOT_OPEN
        row["forced"] = True
    return ScanOutcome.OK


def _insert(row: dict, outcome: ScanOutcome, body: dict, flags: list[str],
            demote: Scan | None = None) -> dict:
    """INSERT the scan and store its answer, all inside one SAVEPOINT.

    ``demote``: the check-in that an earlier-made scan takes over from; it becomes a repeat
    in the same SAVEPOINT, so a failed INSERT leaves it untouched.
    """
    with db.session.begin_nested():
        if demote is not None:
            demote.outcome = ScanOutcome.ALREADY_CHECKED_IN
            db.session.flush()
        scan = Scan(**row, outcome=outcome, flag=",".join(dict.fromkeys(flags)) or None)
        db.session.add(scan)
        db.session.flush()
        if outcome == ScanOutcome.OK:
            body = {**body, "checkin": {"id": scan.id, "at": iso(scan.scanned_at)}}
        response = {"status": outcome.value, "message": MESSAGES[outcome], **body,
                    "scan_id": scan.id, "flag": scan.flag, "forced": scan.forced}
        scan.response = response
        db.session.flush()
    return response


def _record(event: Event, row: dict, outcome: ScanOutcome, body: dict,
            flags: list[str]) -> dict:
    try:
        return _insert(row, outcome, body, flags)
    except IntegrityError:
        # Only the client_scan_id can collide here: a parallel request with the same id won.
        return _replay_after_race(event, row)


def _replay_after_race(event: Event, row: dict) -> dict:
    if row["client_scan_id"]:
        earlier = _by_client_id(row["client_scan_id"])
        if earlier is not None:
            return _replay(earlier, event)
    raise ServiceError("scan_conflict", "Не удалось записать сканирование, повторите.")


def _already(event: Event, row: dict, existing: Scan, body: dict, flags: list[str]) -> dict:
    body = {**body, "first_checkin": _first_checkin_json(existing)}
    return _record(event, {**row, "forced": False}, ScanOutcome.ALREADY_CHECKED_IN, body, flags)


#: Rounds of "read the current check-in, then insert" when parallel scans keep winning.
CHECKIN_ATTEMPTS = 5


def _record_checkin(event: Event, ticket: Ticket, row: dict, body: dict, flags: list[str],
                    *, may_take_over: bool) -> dict:
    """Insert the check-in, or answer ``already_checked_in``.

    ``may_take_over``: a scan made offline with a believable phone time; when it was made
    earlier than the recorded check-in it takes over. Online scans never do, so two scans at
    the same moment give one ``ok`` and one ``already_checked_in``.
    """
    for _attempt in range(CHECKIN_ATTEMPTS):
        existing = current_checkin(ticket.id, for_update=True)
        if existing is not None and not (may_take_over
                                         and row["scanned_at"] < existing.scanned_at):
            return _already(event, row, existing, body, flags)
        # No check-in yet, or this scan was made earlier than the recorded one (an offline
        # phone syncing late): it becomes the check-in and the other one a repeat.
        try:
            return _insert(row, ScanOutcome.OK, body, flags, demote=existing)
        except IntegrityError:
            pass
        # A parallel scan won the INSERT (or the same client id was recorded meanwhile);
        # its row is committed and visible now: judge again against it.
        if row["client_scan_id"]:
            earlier = _by_client_id(row["client_scan_id"])
            if earlier is not None:
                return _replay(earlier, event)
    raise ServiceError("scan_conflict", "Не удалось записать сканирование, повторите.",
                       status=409)


# --------------------------------------------------------------------------- undo

def undo_checkin(actor, event: Event, scan_id: int, reason: str) -> Scan:
    """Undo a check-in with a reason: the person counts as not checked in again."""
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("reason_required", "Укажите причину отмены отметки.", field="reason")
    if len(reason) > 500:
        raise ServiceError("reason_too_long", "Причина — не длиннее 500 символов.",
                           field="reason")
    query = sa.select(Scan).where(Scan.id == scan_id, Scan.event_id == event.id)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    scan = db.session.execute(query.execution_options(populate_existing=True)).scalar_one_or_none()
    if scan is None:
        from models.errors import NotFoundError

        raise NotFoundError("not_found", "Такой отметки на этом мероприятии нет.")
    if scan.outcome != ScanOutcome.OK:
        raise ConflictError("not_a_checkin", "Это сканирование не было отметкой прихода.")
    if scan.undone_at is not None:
        raise ConflictError("already_undone", "Эта отметка уже отменена.")
    scan.undone_at = now_utc()
    scan.undone_by_id = actor.id
    scan.undo_reason = reason
    db.session.flush()
    from models import record_audit

    record_audit(actor, "checkin.undo", scan, reason=reason, ticket_id=scan.ticket_id)
    return scan
