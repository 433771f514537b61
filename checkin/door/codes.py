"""Reading a scanned code: what a scanner read (a ticket URL, a token, a short code typed by
hand, a ``#hash`` ticked offline, a group URL) and how to find the ticket it names."""

from __future__ import annotations

import hashlib
import re

import sqlalchemy as sa

from models import Ticket, db
from models.registration import SHORT_CODE_ALPHABET, SHORT_CODE_LENGTH

T = Ticket.__table__

_TICKET_PATH = re.compile(r"/t/([^/?#\s]+)")
_GROUP_PATH = re.compile(r"/g/([^/?#\s]+)")
_SHORT_CODE = re.compile(rf"^[{SHORT_CODE_ALPHABET}]{{{SHORT_CODE_LENGTH}}}$")
#: ``#`` + the 16-hex token hash of scanner-data: a person ticked offline in a list.
HASH_CODE = re.compile(r"^#([0-9a-f]{16})$")


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
    if HASH_CODE.match(text.lower()):
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


def ticket_id_by_hash(event_id: int, digest: str, conn=None) -> int | None:
    """Among this event's tickets only, the one whose token hashes to ``digest``."""
    for ticket_id, token in (conn or db.session).execute(
            sa.select(T.c.id, T.c.token).where(T.c.event_id == event_id)):
        if hashlib.sha256(token.encode()).hexdigest()[:16] == digest:
            return ticket_id
    return None


def code_lookup(code: str, event_id: int | None, conn=None) -> tuple[str, object] | None:
    """(column, value) that finds the ticket of a parsed code, or None."""
    if not code or len(code) > 64:
        return None
    hashed = HASH_CODE.match(code)
    if hashed:
        ticket_id = ticket_id_by_hash(event_id, hashed.group(1), conn) if event_id else None
        return None if ticket_id is None else ("id", ticket_id)
    if _SHORT_CODE.match(code):
        return "short_code", code
    return "token", code
