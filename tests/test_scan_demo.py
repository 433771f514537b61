"""The demo check-in step: past events get check-ins with the scan service's invariants."""

from __future__ import annotations

import random
from datetime import timedelta

from models import Role, Scan, ScanOutcome, TicketStatus, now_utc
from webapp.demo import checkins


def test_demo_checkins_for_past_events(factory, db):
    organizer = factory.create_user(Role.ORGANIZER)
    admin = factory.create_user(Role.ADMIN)
    school = factory.create_org()
    past = [factory.create_event(organizer.organization,
                                 starts_at=now_utc() - timedelta(days=d)) for d in (3, 10)]
    other = factory.create_event(starts_at=now_utc() - timedelta(days=5))
    tickets = {e.id: [factory.create_ticket(e, factory.create_student(school))
                      for _ in range(12)] for e in (*past, other)}
    cancelled = factory.create_ticket(past[0], factory.create_student(school),
                                      status=TicketStatus.CANCELLED)
    db.session.commit()
    checkins.load(random.Random(1), "small", {"past_events": [*past, other],
                                              "organizer": organizer, "admin": admin})
    db.session.commit()
    for event in (*past, other):
        oks = Scan.query.filter_by(event_id=event.id, outcome=ScanOutcome.OK).all()
        assert 0 < len(oks) <= 12
        assert len({s.ticket_id for s in oks}) == len(oks)
        for s in oks:
            assert event.checkin_open(s.scanned_at)
            assert s.response["status"] == "ok" and s.response["attendee"]["name"]
        assert Scan.query.filter_by(event_id=event.id, outcome=ScanOutcome.INVALID).count() == 1
        assert Scan.query.filter_by(event_id=event.id,
                                    outcome=ScanOutcome.ALREADY_CHECKED_IN).count() == 1
    assert {s.user_id for s in Scan.query.filter_by(event_id=past[0].id)} == {organizer.id}
    assert {s.user_id for s in Scan.query.filter_by(event_id=other.id)} == {admin.id}
    assert Scan.query.filter(Scan.undone_at.isnot(None)).count() == 1
    assert Scan.query.filter_by(ticket_id=cancelled.id).count() == 0
    assert len(tickets) == 3
