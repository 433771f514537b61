"""The door's section on the organizer's page of an event (``events.manage``)."""

from __future__ import annotations

import sqlalchemy as sa

from checkin.door.lookups import live_summary
from models import Scan, ScannerLink, db, now_utc


def event_manage_section(event) -> list[tuple[str, dict]]:
    live = live_summary(event)
    flagged = db.session.scalar(sa.select(sa.func.count()).where(
        Scan.event_id == event.id, Scan.flag.isnot(None)))
    now = now_utc()
    active_links = db.session.scalar(sa.select(sa.func.count()).where(
        ScannerLink.event_id == event.id, ScannerLink.revoked_at.is_(None),
        ScannerLink.expires_at > now))
    return [("checkin_admin/_manage_section.html",
             {"event": event, "registered": live["registered"],
              "checked_in": live["checked_in"], "flagged": flagged,
              "active_links": active_links, "checkin_open": event.checkin_open(now)})]
