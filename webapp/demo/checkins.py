"""Demo check-ins for past events: who came, through which entrance and phone, plus the usual
noise of a real door (a repeated scan, an unknown code, one check-in undone with a reason).

Runs after the registration and parent steps. Uses ``ctx``: ``past_events``, ``organizer``,
``admin``. Rows follow the scan service's semantics (one ``ok`` per ticket, the answer stored
without the attendee: scans refer to their ticket), written directly so the demo loads quickly.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from checkin.door.scans import MESSAGES, iso, stored_response
from models import Scan, ScanOutcome, Ticket, TicketStatus, db

GATES = ["Главный вход", "Вход со двора"]
DEVICES = ["Телефон волонтёра 1", "Телефон волонтёра 2", "Планшет у гардероба"]


def _response(scan: Scan, outcome: ScanOutcome, ticket: Ticket, **extra) -> dict:
    body = {"status": outcome.value, "message": MESSAGES[outcome], "checkin": None,
            "attendee": None, "scan_id": scan.id, "flag": None, "forced": False, **extra}
    if outcome == ScanOutcome.OK:
        body["checkin"] = {"id": scan.id, "at": iso(scan.scanned_at)}
    return stored_response(body)


def load(rng, size: str, ctx: dict) -> None:
    past = sorted(ctx.get("past_events") or [], key=lambda e: e.starts_at)
    if not past:
        return
    organizer, admin = ctx.get("organizer"), ctx.get("admin")
    undone_one = False
    for event in past:
        tickets = db.session.execute(
            sa.select(Ticket).where(Ticket.event_id == event.id,
                                    Ticket.status == TicketStatus.CONFIRMED)
            .options(joinedload(Ticket.student), joinedload(Ticket.teacher),
                     joinedload(Ticket.parent_signup))
            .order_by(Ticket.id)
        ).unique().scalars().all()
        if not tickets:
            continue
        show_rate = rng.uniform(0.7, 0.95)
        opens = event.effective_checkin_opens_at
        arrivals = max(opens, event.starts_at - timedelta(minutes=40))
        # The demo organizer scans at its own events; the city operator elsewhere.
        staff = organizer if organizer is not None and \
            organizer.organization_id == event.organizer_id else admin
        user_id = staff.id if staff is not None else None
        came = []
        for ticket in tickets:
            if rng.random() > show_rate:
                continue
            at = arrivals + timedelta(seconds=rng.randint(0, 55 * 60))
            gate = rng.choice(GATES)
            scan = Scan(event_id=event.id, ticket=ticket, raw_code=ticket.token,
                        outcome=ScanOutcome.OK, user_id=user_id, device_label=rng.choice(DEVICES),
                        gate=gate, scanned_at=at, received_at=at + timedelta(seconds=1))
            db.session.add(scan)
            came.append((ticket, scan))
        db.session.flush()
        for ticket, scan in came:
            scan.response = _response(scan, ScanOutcome.OK, ticket)
        if came:
            # Someone shows the same ticket twice.
            ticket, first = rng.choice(came)
            again_at = first.scanned_at + timedelta(minutes=rng.randint(2, 20))
            repeat = Scan(event_id=event.id, ticket=ticket, raw_code=ticket.token,
                          outcome=ScanOutcome.ALREADY_CHECKED_IN, user_id=user_id,
                          device_label=first.device_label, gate=first.gate,
                          scanned_at=again_at, received_at=again_at)
            db.session.add(repeat)
            db.session.flush()
            repeat.response = _response(
                repeat, ScanOutcome.ALREADY_CHECKED_IN, ticket,
                first_checkin={"id": first.id, "at": iso(first.scanned_at), "by": "волонтёр"})
        # A photo of something else held up to the camera.
        stray_at = arrivals + timedelta(minutes=rng.randint(0, 50))
        stray = Scan(event_id=event.id, ticket_id=None, raw_code="https://vk.com/profgid_tomsk",
                     outcome=ScanOutcome.INVALID, user_id=user_id, device_label=DEVICES[0],
                     gate=GATES[0], scanned_at=stray_at, received_at=stray_at)
        db.session.add(stray)
        db.session.flush()
        stray.response = {"status": "invalid", "message": MESSAGES[ScanOutcome.INVALID],
                          "checkin": None, "scan_id": stray.id, "flag": None,
                          "forced": False}
        if not undone_one and len(came) > 3 and staff is not None:
            ticket, scan = came[-1]
            scan.undone_at = scan.scanned_at + timedelta(minutes=5)
            scan.undone_by_id = staff.id
            scan.undo_reason = "Отсканировали билет брата; сам ученик не пришёл."
            undone_one = True
    db.session.flush()
