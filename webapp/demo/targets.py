"""The current year's targets, so the dashboards show every status: the city's goal of the
main indicators is the middle of the schools' forecasts (some schools are then at risk, others
can still reach it), and two schools have goals of their own they have already reached.

Runs last: it reads the forecast of the data the other steps wrote. Uses ``ctx``:
``demo_school``, ``admin``.
"""

from __future__ import annotations

import statistics
from decimal import ROUND_HALF_UP, Decimal

from models.academic_year import current_academic_year
from reports.forecast import compute_forecast
from webapp.services.targets import save_targets

#: Indicators with a city goal in the demo.
WITH_GOALS = ("students", "students_early", "students_ovz", "teachers", "events")
_HALF = Decimal("0.5")


def _round_half(value: Decimal) -> Decimal:
    return ((value / _HALF).quantize(Decimal(1), rounding=ROUND_HALF_UP) * _HALF) \
        .quantize(Decimal("0.1"))


def load(rng, size: str, ctx: dict) -> None:
    if size == "city":  # the city-scale data set is for benchmarks: no goals
        return
    admin = ctx.get("admin")
    year = current_academic_year()
    forecast = compute_forecast(year)
    if not forecast.schools:
        return
    city = {}
    for key in WITH_GOALS:
        points = [s.indicators[key].forecast for s in forecast.schools
                  if s.indicators[key].forecast is not None]
        if points:
            city[key] = max(_HALF, _round_half(Decimal(statistics.median(points))))
    table = {None: city}
    demo_school = ctx.get("demo_school")
    reached = [s for s in forecast.schools
               if s.indicators["students"].current.percent
               and (demo_school is None or s.organization_id != demo_school.id)]
    for school in reached[:2]:
        current = school.indicators["students"].current.percent
        table[school.organization_id] = {"students": max(Decimal("0.1"), current - _HALF)}
    save_targets(admin, year, table)
