"""Where the report pages and the organizer's event page learn which schools are below their
targets (``reports.forecast``) and what would close the gaps (``reports.closing``), issue #15
items 4 and 6. Only the current academic year has a future to plan: other years get nothing.
"""

from __future__ import annotations

import time

from flask import current_app

from models import Event, Organization, OrgKind, db, now_utc
from models.academic_year import current_academic_year
from reports.closing import (
    GapPlan,
    SchoolAtRisk,
    SchoolDemand,
    city_plans,
    school_plans,
    schools_for_event,
)
from reports.forecast import Forecast, city_gaps, gaps_of, school_gaps


def current_school_gaps(organization_id: int, forecast: Forecast | None = None,
                        now=None) -> list:
    """The school's indicators at risk this academic year (``TargetGap``); from ``forecast``
    when the page has computed it already."""
    if forecast is not None:
        return gaps_of(forecast, organization_id)
    return school_gaps(current_academic_year(now), organization_id, now=now)


def current_city_gaps(forecast: Forecast | None = None, now=None) -> list:
    """Every school's indicators at risk this academic year, the largest gap first."""
    if forecast is not None:
        return gaps_of(forecast)
    return city_gaps(current_academic_year(now), now=now)


def school_closing(org: Organization, year: int, forecast: Forecast | None = None,
                   now=None) -> list[GapPlan]:
    """«Что поможет достичь цели» on the school's page: for the current year only."""
    now = now or now_utc()
    if org.kind != OrgKind.SCHOOL or year != current_academic_year(now):
        return []
    return school_plans(current_school_gaps(org.id, forecast, now), org.id, year, now)


def city_at_risk(year: int, forecast: Forecast | None = None,
                 now=None) -> list[SchoolAtRisk] | None:
    """«Школы под угрозой» on the city dashboard; None for a year other than the current one."""
    now = now or now_utc()
    if year != current_academic_year(now):
        return None
    return city_plans(current_city_gaps(forecast, now), now)


#: The city's gaps as organizers' event pages see them: (database, year) → (when, gaps). The
#: forecast of every school takes 1.2–1.7 s at city scale (docs/performance.md), too long for
#: each view of an event's page (its own block takes 0.07–0.13 s); the gaps are kept per
#: process for ``GAPS_CACHE_SECONDS`` (default 300; off under TESTING). Whether a school
#: registered, the seats and the quota are read live on every view.
_CITY_GAPS: dict[tuple, tuple[float, list]] = {}


def _organizer_city_gaps(now) -> list:
    seconds = current_app.config.get("GAPS_CACHE_SECONDS", 0 if current_app.testing else 300)
    if not seconds:
        return current_city_gaps(now=now)
    key = (str(db.engine.url), current_academic_year(now))
    kept = _CITY_GAPS.get(key)
    if kept is not None and time.monotonic() - kept[0] < seconds:
        return kept[1]
    gaps = current_city_gaps(now=now)
    _CITY_GAPS[key] = (time.monotonic(), gaps)
    return gaps


def event_demand(event: Event, now=None) -> list[SchoolDemand]:
    """Schools at risk the event could serve and that have not registered for it."""
    now = now or now_utc()
    if event.school_internal or not event.registration_open(now):
        return []  # nothing to compute (the forecast of every school is not free)
    return schools_for_event(event, _organizer_city_gaps(now), now)
