"""Scanner links: a volunteer scans one event through ``/s/<token>`` without an account.

Only the SHA-256 of the token is stored (as for API tokens), so the database never holds a
usable link: the organizer sees the link and its QR once, right after creating it. A lost link
is revoked and a new one made. The same token is the Bearer token of that event's scan
endpoints (``webapp.api.auth.resolve_caller`` finds it by its hash).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from checkin.door.scans import NOT_READ, EventInfo, door_statement
from checkin.door.statements import DoorStatement, run_door_statement
from errors import ConflictError, ServiceError
from models import Event, EventStatus, ScannerLink, db, now_utc, record_audit
from models.event import effective_checkin_closes, effective_checkin_opens
from models.user import hash_token

#: A link works until this long after the event's end unless the organizer sets an expiry.
DEFAULT_VALIDITY_AFTER_END = timedelta(hours=2)
#: No link lives longer than this after the event's end.
MAX_VALIDITY_AFTER_END = timedelta(days=7)


def new_link_token() -> str:
    """An opaque 256-bit token, distinguishable from API tokens (``pr_…``) by its prefix."""
    return "sl_" + secrets.token_urlsafe(32)


def default_expiry(event: Event) -> datetime:
    return event.effective_checkin_closes_at + DEFAULT_VALIDITY_AFTER_END


def link_url(token: str) -> str:
    return current_app.config["PROFROUTE_BASE_URL"] + "/s/" + token


def create_scanner_link(actor, event: Event, *, label: str | None = None,
                        gate: str | None = None,
                        expires_at: datetime | None = None) -> tuple[ScannerLink, str]:
    """Create a link; returns the row and the plain token (shown once, never stored)."""
    if event.status == EventStatus.CANCELLED:
        raise ConflictError("event_cancelled", "Мероприятие отменено: ссылки для сканирования "
                                               "не нужны.")
    now = now_utc()
    label = " ".join((label or "").split()) or None
    gate = (gate or "").strip() or None
    # Who holds the link: the log and the board name the scanner by it. (Links made before it
    # was required keep working without one.)
    if not label:
        raise ServiceError("label_required", "Укажите, кому выдана ссылка: например, "
                                             "«Волонтёр Маша».", field="label")
    if len(label) > 100:
        raise ServiceError("label_too_long", "Название — не длиннее 100 символов.",
                           field="label")
    if gate and len(gate) > 100:
        raise ServiceError("gate_too_long", "Вход — не длиннее 100 символов.", field="gate")
    if expires_at is None:
        expires_at = default_expiry(event)
    if expires_at.tzinfo is None:
        raise ServiceError("invalid_time", "Срок действия указан без часового пояса.",
                           field="expires_at")
    if expires_at <= now:
        raise ServiceError("expiry_in_past", "Срок действия должен быть в будущем.",
                           field="expires_at")
    if expires_at > event.effective_checkin_closes_at + MAX_VALIDITY_AFTER_END:
        raise ServiceError("expiry_too_late", "Срок действия — не позже чем через 7 дней после "
                                              "окончания мероприятия.", field="expires_at")
    token = new_link_token()
    link = ScannerLink(event_id=event.id, token_hash=hash_token(token), label=label, gate=gate,
                       expires_at=expires_at, created_by_id=getattr(actor, "id", None),
                       created_at=now)
    db.session.add(link)
    db.session.flush()
    record_audit(actor, "scanner_link.create", link, event_id=event.id, label=label, gate=gate,
                 expires_at=expires_at.isoformat())
    return link, token


def revoke_scanner_link(actor, link: ScannerLink) -> ScannerLink:
    if link.revoked_at is not None:
        raise ConflictError("already_revoked", "Ссылка уже отозвана.")
    link.revoked_at = now_utc()
    db.session.flush()
    record_audit(actor, "scanner_link.revoke", link, event_id=link.event_id)
    return link


def find_link(token: str | None) -> ScannerLink | None:
    """The link for a plain token (usable or not), or None."""
    if not token or len(token) > 200:
        return None
    return db.session.execute(
        sa.select(ScannerLink).where(ScannerLink.token_hash == hash_token(token))
    ).scalar_one_or_none()


def resolve_usable_link(token: str | None) -> ScannerLink | None:
    """The link for a token if it is neither expired nor revoked (for ``/s/<token>``)."""
    link = find_link(token)
    if link is None or not link.usable():
        return None
    return link


@dataclass(frozen=True, slots=True)
class LinkInfo:
    """A usable scanner link as the scan endpoint needs it (read with one Core query)."""

    id: int
    event_id: int
    label: str | None
    gate: str | None
    expires_at: datetime


_L = ScannerLink.__table__
_E = Event.__table__
_LINK_COLUMNS = (
    _L.c.id.label("link_id"), _L.c.event_id.label("link_event_id"),
    _L.c.label.label("link_label"), _L.c.gate.label("link_gate"),
    _L.c.expires_at.label("link_expires_at"), _L.c.revoked_at.label("link_revoked_at"),
    _E.c.title.label("ev_title"), _E.c.organizer_id.label("ev_organizer_id"),
    _E.c.status.label("ev_status"), _E.c.starts_at.label("ev_starts_at"),
    _E.c.ends_at.label("ev_ends_at"), _E.c.checkin_opens_at.label("ev_opens_at"),
    _E.c.checkin_closes_at.label("ev_closes_at"),
)
_LINK_AND_EVENT = _L.join(_E, _E.c.id == _L.c.event_id)
#: The link and its event in one round trip (the scan endpoint's hot path).
_LINK_QUERY = DoorStatement(sa.select(*_LINK_COLUMNS).select_from(_LINK_AND_EVENT)
                            .where(_L.c.token_hash == sa.bindparam("hash")))
_LINK_AND_TICKET_QUERIES: dict[str, DoorStatement] = {}


def _link_and_ticket_query(column: str) -> DoorStatement:
    """The link, its event and the ticket the door reads (by ``column`` = :code) in one
    statement; built once per column (compiled once)."""
    if column not in _LINK_AND_TICKET_QUERIES:
        _LINK_AND_TICKET_QUERIES[column] = door_statement(
            column, source=_LINK_AND_EVENT, columns=_LINK_COLUMNS,
            where=_L.c.token_hash == sa.bindparam("hash"))
    return _LINK_AND_TICKET_QUERIES[column]


def find_link_info(token: str, conn=None, *, ticket_lookup: tuple[str, object] | None = None):
    """(link, usable, event, ticket) for a plain token, the event as
    ``checkin.door.scans.EventInfo``; (None, False, None, None) when unknown. Read on ``conn``
    when given, else the session.

    With ``ticket_lookup`` (``checkin.door.scans.prefetch_lookup``), the ticket row the door
    judges is read in the same statement: ``ticket`` is that row, or None when no ticket has
    that code. Without it, ``ticket`` is ``checkin.door.scans.NOT_READ``."""
    if not token or len(token) > 200:
        return None, False, None, None
    params = {"hash": hash_token(token)}
    if ticket_lookup is None:
        query = _LINK_QUERY
    else:
        query = _link_and_ticket_query(ticket_lookup[0])
        params["code"] = ticket_lookup[1]
    row = run_door_statement(conn or db.session, query, params).first()
    if row is None:
        return None, False, None, None
    usable = row.link_revoked_at is None and now_utc() < row.link_expires_at
    event = EventInfo(row.link_event_id, row.ev_title, row.ev_organizer_id, row.ev_status,
                      row.ev_starts_at, effective_checkin_opens(row.ev_starts_at, row.ev_opens_at),
                      effective_checkin_closes(row.ev_ends_at, row.ev_closes_at))
    link = LinkInfo(row.link_id, row.link_event_id, row.link_label, row.link_gate,
                    row.link_expires_at)
    if ticket_lookup is None:
        return link, usable, event, NOT_READ
    return link, usable, event, (row if row.id is not None else None)


def links_of_event(event: Event) -> list[ScannerLink]:
    return list(db.session.execute(
        sa.select(ScannerLink).where(ScannerLink.event_id == event.id)
        .order_by(ScannerLink.created_at.desc(), ScannerLink.id.desc())
    ).scalars())
