"""Academic-year arithmetic, in one place.

An academic year runs from 1 September to 31 August in Asia/Tomsk and is named by the calendar
year it starts in: ``2025`` is 1 Sep 2025 – 31 Aug 2026.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from formats.timefmt import TOMSK
from models.base import now_utc


def academic_year_of(moment: datetime | date) -> int:
    """The academic year a moment (aware datetime) or a local date belongs to."""
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            raise ValueError("naive datetime")
        moment = moment.astimezone(TOMSK).date()
    return moment.year if moment.month >= 9 else moment.year - 1


@dataclass(frozen=True)
class Period:
    """A range of local (Asia/Tomsk) dates, both ends included."""

    first_day: date
    last_day: date

    def __post_init__(self):
        if self.last_day < self.first_day:
            raise ValueError("period ends before it starts")

    @property
    def starts_at(self) -> datetime:
        """The first instant of the period, aware UTC."""
        return datetime.combine(self.first_day, time.min, TOMSK).astimezone(UTC)

    @property
    def ends_before(self) -> datetime:
        """The first instant after the period, aware UTC (exclusive bound)."""
        return datetime.combine(self.last_day + timedelta(days=1), time.min, TOMSK).astimezone(UTC)

    def contains(self, moment: datetime) -> bool:
        return self.starts_at <= moment < self.ends_before


def academic_year_period(year: int) -> Period:
    return Period(date(year, 9, 1), date(year + 1, 8, 31))


def year_so_far(year: int, now: datetime | None = None) -> Period | None:
    """While academic year ``year`` is in progress, its days up to today (Asia/Tomsk);
    None before it starts and once its last day has come."""
    today = (now or now_utc()).astimezone(TOMSK).date()
    whole = academic_year_period(year)
    if whole.first_day <= today < whole.last_day:
        return Period(whole.first_day, today)
    return None


def same_dates_a_year_before(period: Period) -> Period:
    """The same calendar dates one year earlier (29 February becomes 28 February)."""
    def back(day: date) -> date:
        try:
            return day.replace(year=day.year - 1)
        except ValueError:
            return day.replace(year=day.year - 1, day=28)
    return Period(back(period.first_day), back(period.last_day))


def academic_year_title(year: int) -> str:
    return f"{year}/{(year + 1) % 100:02d}"


def current_academic_year(now: datetime | None = None) -> int:
    return academic_year_of(now or now_utc())
