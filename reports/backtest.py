"""The forecast's backtest: the forecast made as it would have been on the 1st of each month of
a past academic year, only from what was known by then, against that year's actual end
(docs/reports.md «Цели и прогноз», «Проверка на прошлом годе»)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from models import now_utc
from models.academic_year import Period, academic_year_period
from reports.cache import kept
from reports.forecast import _tomsk_midnight, compute_forecast
from reports.indicators import INDICATOR_KEYS, Figure, compute_indicators, percent_of

#: Indicators 4–5 of the city are a count of schools; per school they are 0/1, whose error in
#: points says little: the school columns leave them out.
SCHOOL_ERROR_KEYS = tuple(k for k in INDICATOR_KEYS if k not in ("schools", "schools_early"))


@dataclass(frozen=True)
class CityPoint:
    low: Decimal | None
    point: Decimal | None
    high: Decimal | None
    actual: Decimal | None

    @property
    def error(self) -> Decimal | None:
        """Forecast point − actual, percentage points."""
        if self.point is None or self.actual is None:
            return None
        return self.point - self.actual

    @property
    def inside(self) -> bool:
        return None not in (self.low, self.high, self.actual) \
            and self.low <= self.actual <= self.high


@dataclass(frozen=True)
class BacktestMonth:
    as_of: date
    city: dict[str, CityPoint]
    #: Per indicator: the schools' mean |forecast − actual| in points (schools with B > 0).
    school_error: dict[str, Decimal | None]
    #: Per indicator: the share of schools whose actual end fell inside their range, percent.
    school_inside: dict[str, Decimal | None]


@dataclass(frozen=True)
class Backtest:
    year: int
    actual: dict[str, Figure]
    months: list[BacktestMonth]
    #: False when the year is not over yet (nothing to compare with).
    complete: bool


def _month_starts(year: int) -> list[date]:
    return [date(year + (m < 9), m, 1) for m in (9, 10, 11, 12, 1, 2, 3, 4, 5, 6, 7, 8)]


def run_backtest(year: int, now=None) -> Backtest:
    """The backtest of academic year ``year``, kept while the year is closed and nothing it
    counts changes (``reports.cache``)."""
    now = now or now_utc()
    # The year and the one before it (its show rates and pace): both their counters.
    years = Period(academic_year_period(year - 1).first_day, academic_year_period(year).last_day)
    return kept(("forecast_backtest", year), years, lambda: _run(year, now), now)


def _run(year: int, now) -> Backtest:
    period = academic_year_period(year)
    complete = now >= period.ends_before
    whole = compute_indicators(year, now=now)
    months = []
    if complete:
        for first in _month_starts(year):
            as_of = _tomsk_midnight(first)
            forecast = compute_forecast(year, now=now, as_of=as_of, whole_year=whole)
            city = {k: CityPoint(forecast.city.indicators[k].low,
                                 forecast.city.indicators[k].forecast,
                                 forecast.city.indicators[k].high, whole.city[k].percent)
                    for k in INDICATOR_KEYS}
            errors: dict[str, Decimal | None] = {}
            inside: dict[str, Decimal | None] = {}
            for key in SCHOOL_ERROR_KEYS:
                diffs, hits = [], 0
                for school in forecast.schools:
                    row = whole.row_for(school.organization_id)
                    actual = row.indicators[key].percent if row is not None else None
                    f = school.indicators[key]
                    if actual is None or f.forecast is None:
                        continue
                    diffs.append(abs(f.forecast - actual))
                    hits += 1 if f.low <= actual <= f.high else 0
                errors[key] = (sum(diffs) / len(diffs)).quantize(Decimal("0.1")) \
                    if diffs else None
                inside[key] = percent_of(hits, len(diffs))
            months.append(BacktestMonth(first, city, errors, inside))
    return Backtest(year, whole.city, months, complete)
