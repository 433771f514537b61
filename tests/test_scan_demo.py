"""The demo check-in step: past events get check-ins with the scan service's invariants."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

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
            assert s.response["status"] == "ok" and "attendee" not in s.response
        assert Scan.query.filter_by(event_id=event.id, outcome=ScanOutcome.INVALID).count() == 1
        assert Scan.query.filter_by(event_id=event.id,
                                    outcome=ScanOutcome.ALREADY_CHECKED_IN).count() == 1
    assert {s.user_id for s in Scan.query.filter_by(event_id=past[0].id)} == {organizer.id}
    assert {s.user_id for s in Scan.query.filter_by(event_id=other.id)} == {admin.id}
    assert Scan.query.filter(Scan.undone_at.isnot(None)).count() == 1
    assert Scan.query.filter_by(ticket_id=cancelled.id).count() == 0
    assert len(tickets) == 3


@pytest.mark.demo
def test_demo_previous_year_is_held_and_counted(db):
    """The demo repeats this year's events a year earlier, with groups and check-ins, so the
    dashboards' comparison with the previous year shows real figures."""
    from models import Event, EventStatus
    from models.academic_year import academic_year_of, current_academic_year
    from reports.indicators import compute_indicators
    from webapp.demo import directory, events, last_year, rosters

    rng, ctx = random.Random(20251), {}
    for step in (directory, events, rosters, checkins, last_year):
        step.load(rng, "small", ctx)
        db.session.commit()
    previous = current_academic_year() - 1
    copies = ctx["last_year_events"]
    assert len(copies) >= 30
    assert {academic_year_of(e.starts_at.date()) for e in copies} == {previous}
    held = [e for e in copies if e.status == EventStatus.PUBLISHED]
    assert len(held) > 0.8 * len(copies)
    report = compute_indicators(previous)
    city = report.city
    assert city["students"].a > 100 and city["schools"].a >= 5
    assert 0 < city["events"].a <= city["events"].b
    # Every check-in of last year counts for its holder's school (copied onto the scan).
    oks = Scan.query.join(Event, Event.id == Scan.event_id).filter(
        Event.id.in_([e.id for e in held]), Scan.outcome == ScanOutcome.OK).all()
    assert oks and all(s.student_id or s.teacher_id for s in oks)
    assert all(s.organization_id == (s.ticket.student or s.ticket.teacher).organization_id
               for s in oks)
