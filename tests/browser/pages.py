"""What browser tests do on pages over and over: sign in, read the event's check-ins."""

from __future__ import annotations

import sqlalchemy as sa

from models import Scan, ScanOutcome, db
from tests.factories import PASSWORD


def login(page, live_server, email: str, password: str = PASSWORD) -> None:
    """Sign in through the login form and wait until it has let the browser in."""
    page.goto(f"{live_server.url}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def checkins(event_id: int) -> list[Scan]:
    """The event's live check-ins as the database has them now."""
    db.session.rollback()
    return list(db.session.execute(
        sa.select(Scan).where(Scan.event_id == event_id, Scan.outcome == ScanOutcome.OK,
                              Scan.undone_at.is_(None)).order_by(Scan.id)).scalars())
