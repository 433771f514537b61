"""Demo events: a living catalogue whatever the date the demo is loaded."""

from __future__ import annotations

import random
from datetime import timedelta

import time_machine

from models import Audience, Event, EventStatus, now_utc
from webapp.demo import directory
from webapp.demo import events as demo_events


def _load(db):
    ctx: dict = {}
    rng = random.Random(20251)
    directory.load(rng, "small", ctx)
    demo_events.load(rng, "small", ctx)
    db.session.commit()
    return ctx


def test_demo_year_of_events(db, client):
    ctx = _load(db)
    events = Event.query.all()
    now = now_utc()
    published = [e for e in events if e.status == EventStatus.PUBLISHED]
    assert len(published) >= 60
    assert len({e.category.code for e in published}) >= 14
    assert len({e.organizer_id for e in published if not e.school_internal}) >= 10
    assert any(e.ends_at < now for e in published) and any(e.starts_at > now for e in published)
    assert sum(1 for e in published if now < e.starts_at < now + timedelta(days=21)) >= 5
    assert any(e.early for e in published) and any(e.ovz_adapted for e in published)
    assert any(e.audience == Audience.PARENTS for e in published)
    assert any(e.audience == Audience.TEACHERS for e in published)
    assert any(e.audience == Audience.PRESCHOOL for e in published)
    school = ctx["demo_school"]
    internal = [e for e in events if e.school_internal]
    assert internal and all(e.organizer_id == school.id for e in internal)
    assert any(e.starts_at > now for e in internal) and any(e.ends_at < now for e in internal)
    cpc = ctx["organizers"]["ЦПК"]
    own = [e for e in events if e.organizer_id == cpc.id]
    assert {e.status for e in own} == {EventStatus.DRAFT, EventStatus.PUBLISHED,
                                       EventStatus.CANCELLED}
    assert ctx["today_event"].checkin_open(now)
    assert all(e.roadmap_item is not None for e in published if not e.school_internal)
    for key in ("events", "past_events", "upcoming_events", "parent_events", "teacher_events",
                "student_events", "school_internal_events", "categories"):
        assert ctx[key], key
    body = client.get("/events").get_data(as_text=True)
    assert "Найдено мероприятий" in body
    assert ctx["school_internal_events"][0].title not in body  # anonymous: not the school's


def test_demo_loaded_in_spring_still_has_past_and_upcoming(db):
    with time_machine.travel("2027-04-20 05:00:00+00:00", tick=False):
        _load(db)
        now = now_utc()
        published = Event.query.filter_by(status=EventStatus.PUBLISHED).all()
        assert sum(1 for e in published if e.ends_at < now) >= 40
        assert sum(1 for e in published if e.starts_at > now) >= 10
