"""Who scans at the door, read with the event and the scanned ticket in one statement.

A scan request names its caller by one credential (:class:`Credential`): a scanner link's token
(a volunteer's phone), an API token (an organizer's or admin's program) or a signed-in user's
session (the scanner page at ``/checkin/{id}``). :func:`identify_at_door` reads the credential's
holder, the event and the ticket of the scanned code in one round trip, whoever calls, and
refuses what the credential does not allow. A single scan is then one more statement, its
INSERT (``checkin.door.scans.scan``).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from checkin.door.codes import code_lookup, parse_scanned_code
from checkin.door.scans import MAX_RAW_CODE, EventInfo, door_statement
from checkin.door.statements import DoorStatement, run_door_statement
from errors import NotFoundError, PermissionDenied, ServiceError
from models import ApiToken, Event, Role, ScannerLink, User, now_utc
from models.event import effective_checkin_closes, effective_checkin_opens
from models.scan import link_usable
from models.user import login_still_valid, manages_event, token_use_due

LINK, TOKEN, USER = "link", "token", "user"


@dataclass(frozen=True, slots=True)
class Credential:
    """What a request shows: ``kind`` LINK or TOKEN with the token's SHA-256 as ``key``, or
    USER with the user's id and the login's session token and start (Unix seconds)."""

    kind: str
    key: object
    session_token: str | None = None
    started: int | None = None


@dataclass(frozen=True, slots=True)
class DoorUser:
    """A signed-in organizer, coordinator or admin, as the door needs them."""

    id: int
    role: Role
    organization_id: int | None
    full_name: str | None
    email: str
    is_authenticated = True


@dataclass(frozen=True, slots=True)
class LinkInfo:
    """A usable scanner link as the door needs it."""

    id: int
    event_id: int
    label: str | None
    gate: str | None
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class DoorCall:
    """An allowed caller at an event's door: the user or the link, the event, and the row of
    the scanned ticket when it could be read with them (None: read it with the scan)."""

    event: EventInfo
    user: DoorUser | None
    link: LinkInfo | None
    ticket: object = None


_L, _E = ScannerLink.__table__, Event.__table__
_A = ApiToken.__table__
#: The caller (the door read joins the users who made check-ins too).
_U = User.__table__.alias("caller")
_EVENT_COLUMNS = (
    _E.c.id.label("ev_id"), _E.c.title.label("ev_title"),
    _E.c.organizer_id.label("ev_organizer_id"), _E.c.status.label("ev_status"),
    _E.c.starts_at.label("ev_starts_at"), _E.c.ends_at.label("ev_ends_at"),
    _E.c.checkin_opens_at.label("ev_opens_at"), _E.c.checkin_closes_at.label("ev_closes_at"),
)
_USER_COLUMNS = (
    _U.c.id.label("u_id"), _U.c.role.label("u_role"), _U.c.organization_id.label("u_org"),
    _U.c.active.label("u_active"), _U.c.session_token.label("u_session_token"),
    _U.c.full_name.label("u_name"), _U.c.email.label("u_email"),
)
#: The event asked for, beside a user (a token or a session); a link brings its own event.
_ASKED_EVENT = _E.c.id == sa.bindparam("event_id")
#: Per credential kind: where its holder comes from, the columns read, and the filter.
_SOURCES = {
    LINK: (_L.join(_E, _E.c.id == _L.c.event_id),
           (_L.c.id.label("link_id"), _L.c.event_id.label("link_event_id"),
            _L.c.label.label("link_label"), _L.c.gate.label("link_gate"),
            _L.c.expires_at.label("link_expires_at"),
            _L.c.revoked_at.label("link_revoked_at"), *_EVENT_COLUMNS),
           _L.c.token_hash == sa.bindparam("who")),
    TOKEN: (_A.join(_U, _U.c.id == _A.c.user_id).outerjoin(_E, _ASKED_EVENT),
            (_A.c.id.label("token_id"), _A.c.revoked_at.label("token_revoked_at"),
             _A.c.last_used_at.label("token_last_used_at"), *_USER_COLUMNS, *_EVENT_COLUMNS),
            _A.c.token_hash == sa.bindparam("who")),
    USER: (_U.outerjoin(_E, _ASKED_EVENT), (*_USER_COLUMNS, *_EVENT_COLUMNS),
           _U.c.id == sa.bindparam("who")),
}
_STATEMENTS: dict[tuple[str, str | None], DoorStatement] = {}


def caller_statement(kind: str, column: str | None) -> DoorStatement:
    """The read of a ``kind`` caller (and of the ticket by ``column``); built once."""
    key = (kind, column)
    if key not in _STATEMENTS:
        source, columns, where = _SOURCES[kind]
        if column is None:
            _STATEMENTS[key] = DoorStatement(
                sa.select(*columns).select_from(source).where(where))
        else:
            _STATEMENTS[key] = door_statement(column, source=source, columns=columns,
                                              where=where)
    return _STATEMENTS[key]


def unauthorized(message: str = "Нужна авторизация: заголовок Authorization: Bearer "
                                "<токен>.", code: str = "unauthorized") -> ServiceError:
    return ServiceError(code, message, status=401)


def identify_at_door(door, credential: Credential | None, event_id: int, *,
                     code: str | None = None, login_max_age_days: float = 14) -> DoorCall:
    """The caller of ``credential`` at ``event_id``'s door, read on ``door`` with the event
    (and, given the scanned ``code``, its ticket); raises ServiceError (401, 403, 404) for a
    caller the door refuses. ``login_max_age_days``: how long a session's login lasts."""
    if credential is None:
        raise unauthorized()
    params = {"who": credential.key}
    if credential.kind != LINK:
        params["event_id"] = event_id
    column = None
    if code is not None:
        # A ``#hash`` is looked up among the event's tickets only after the caller is known.
        lookup = code_lookup(parse_scanned_code(code[:MAX_RAW_CODE]), None)
        if lookup is not None:
            column, params["code"] = lookup
    row = run_door_statement(door, caller_statement(credential.kind, column), params).first()
    user = link = None
    if credential.kind == LINK:
        if row is None:
            raise unauthorized("Неизвестный токен.")
        if not link_usable(row.link_revoked_at, row.link_expires_at):
            raise unauthorized("Ссылка сканера истекла или отозвана.", "link_expired")
        if row.link_event_id != event_id:
            raise PermissionDenied("forbidden", "Ссылка сканера выдана для другого мероприятия.")
        link = LinkInfo(row.link_id, row.link_event_id, row.link_label, row.link_gate,
                        row.link_expires_at)
    else:
        if credential.kind == TOKEN:
            if row is None:
                raise unauthorized("Неизвестный токен.")
            if row.token_revoked_at is not None or not row.u_active:
                raise unauthorized("Токен отозван или пользователь отключён.")
        elif row is None or not login_still_valid(
                row.u_active, row.u_session_token, credential.session_token,
                credential.started, login_max_age_days):
            raise unauthorized()
        if row.ev_id is None:
            raise NotFoundError("not_found", "Мероприятие не найдено.")
        if not manages_event(row.u_role, row.u_org, row.ev_organizer_id):
            raise PermissionDenied("forbidden", "Отмечать могут только организатор "
                                                "мероприятия и администратор.")
        user = DoorUser(row.u_id, row.u_role, row.u_org, row.u_name, row.u_email)
        if credential.kind == TOKEN:
            _touch_token(door, row.token_id, row.token_last_used_at)
    event = EventInfo(row.ev_id, row.ev_title, row.ev_organizer_id, row.ev_status,
                      row.ev_starts_at, effective_checkin_opens(row.ev_starts_at, row.ev_opens_at),
                      effective_checkin_closes(row.ev_ends_at, row.ev_closes_at))
    ticket = row if column is not None and row.id is not None else None
    return DoorCall(event, user, link, ticket)


def _touch_token(door, token_id: int, last_used_at) -> None:
    """Record an API token's use (at most once a minute, ``models.user.token_use_due``),
    never failing the scan: under parallel requests SQLite may refuse the write."""
    now = now_utc()
    if not token_use_due(last_used_at, now):
        return
    with contextlib.suppress(OperationalError):
        door.execute(sa.update(_A).where(_A.c.id == token_id).values(last_used_at=now))
