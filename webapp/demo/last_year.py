"""The previous academic year, so the dashboards' «было», the month trend of last year and the
справка's change column compare with something real.

Runs after the check-in step. Most of this year's published student and preschool events are
repeated 52 weeks earlier (same weekday, so they fall in the previous academic year), the same
schools send groups from their rosters, and every one of those events is held: its check-ins are
written by the demo check-in step, with the same noise as this year's. A few are cancelled, as in
a real year. Uses ``ctx``: ``student_events``, ``rosters``, ``teachers``, ``demo_school``,
``coordinator``, ``organizer``, ``admin``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from models import Event, EventStatus, Organization, db
from webapp.demo import checkins
from webapp.demo.rosters import register_past_groups

SHIFT = timedelta(weeks=52)
#: Share of this year's events that took place last year too, and of those cancelled.
REPEATED = 0.8
CANCELLED = 0.04


def _copy_a_year_earlier(event: Event) -> Event:
    values = {}
    for attr in Event.__mapper__.column_attrs:
        if attr.key == "id":
            continue
        value = getattr(event, attr.key)
        values[attr.key] = value - SHIFT if isinstance(value, datetime) else value
    return Event(**values)


def load(rng, size: str, ctx: dict) -> None:
    if size == "city":  # the city-scale data set has its own three past years
        return
    rosters, staff = ctx.get("rosters"), ctx.get("teachers")
    demo_school = ctx.get("demo_school")
    if not rosters or demo_school is None:
        return
    sources = sorted(ctx.get("student_events") or [], key=lambda e: e.starts_at)
    copies = [_copy_a_year_earlier(e) for e in sources if rng.random() < REPEATED]
    for event in copies:
        if rng.random() < CANCELLED:
            event.status = EventStatus.CANCELLED
            event.cancel_reason = "Перенос по решению организатора."
            event.cancelled_at = event.starts_at - timedelta(days=2)
    db.session.add_all(copies)
    db.session.flush()

    held = [e for e in copies if e.status == EventStatus.PUBLISHED]
    orgs = {o.id: o for o in Organization.query.filter(Organization.id.in_(list(rosters)))}
    with_people = [org_id for org_id, roster in rosters.items() if roster]
    for event in held:
        if event.school_internal:
            candidates = [event.organizer_id] if event.organizer_id in rosters else []
        else:
            candidates = rng.sample(with_people, k=min(len(with_people), rng.randint(2, 4)))
        register_past_groups(rng, event, candidates, orgs, rosters, staff, demo_school,
                             ctx.get("coordinator"))
    db.session.flush()
    checkins.load(rng, size, {"past_events": held, "organizer": ctx.get("organizer"),
                              "admin": ctx.get("admin")})
    ctx.update(last_year_events=copies)
