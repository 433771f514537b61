"""Scanner links: a volunteer scans one event through ``/s/<token>`` without an account.

Only the SHA-256 of the token is stored (as for API tokens), so the database never holds a
usable link: the organizer sees the link and its QR once, right after creating it. A lost link
is revoked and a new one made. The same token is the Bearer token of that event's scan
endpoints (``webapp.api.auth.resolve_caller`` finds it by its hash).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from errors import ConflictError, ServiceError
from models import Event, EventStatus, ScannerLink, db, now_utc, record_audit
from models.user import hash_token

#: A link works until this long after the event's end unless the organizer sets an expiry.
DEFAULT_VALIDITY_AFTER_END = timedelta(hours=2)
#: No link lives longer than this after the event's end.
MAX_VALIDITY_AFTER_END = timedelta(days=7)


#: How a scanner link's token begins: told from an API token (``models.user.API_TOKEN_PREFIX``)
#: without a lookup.
LINK_TOKEN_PREFIX = "sl_"


def new_link_token() -> str:
    """An opaque 256-bit token, distinguishable from API tokens by its prefix."""
    return LINK_TOKEN_PREFIX + secrets.token_urlsafe(32)


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


def links_of_event(event: Event) -> list[ScannerLink]:
    return list(db.session.execute(
        sa.select(ScannerLink).where(ScannerLink.event_id == event.id)
        .order_by(ScannerLink.created_at.desc(), ScannerLink.id.desc())
    ).scalars())
