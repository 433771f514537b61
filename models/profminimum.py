"""The federal «профминимум» (issue #14): an event's academic hours and format, and the level
(target hours a year) each grade 6–11 of a school must reach.

The rule of an event's hours lives here (:func:`default_academic_hours`): the duration in
academic hours of 45 minutes, rounded half up to a whole hour; an event spanning several
Tomsk days counts the daily span (its start time to its end time) once per day. The organizer
may set the hours instead (``Event.academic_hours_override``); ``Event.academic_hours`` always
holds the effective value (kept by a hook in ``models.event``), so reports sum it in SQL.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from formats.timefmt import TOMSK
from models.base import UTCDateTime, db, now_utc

#: Minutes in an academic hour.
ACADEMIC_HOUR_MINUTES = 45
#: The largest number of hours an event may give (explicit or computed).
MAX_ACADEMIC_HOURS = Decimal(999)
#: Grades the профминимум covers.
PROFMINIMUM_GRADES = (6, 7, 8, 9, 10, 11)
#: The three levels: at least 40, 60 or 80 academic hours a year.
LEVEL_HOURS = (40, 60, 80)
LEVEL_TITLES = {40: "базовый (40 ч)", 60: "основной (60 ч)", 80: "продвинутый (80 ч)"}
#: The level of a grade neither the school nor the city set: the federal minimum.
DEFAULT_LEVEL_HOURS = 40


def default_academic_hours(starts_at: datetime, ends_at: datetime) -> Decimal:
    """An event's academic hours from its times (docs/reports.md «Профминимум»).

    Within one Tomsk day: the duration / 45 minutes. Over several Tomsk days: the daily span
    (the start's time of day to the end's) once for each day, when the end's time of day is
    after the start's; otherwise (an event running through the night) the whole duration.
    Rounded half up to a whole academic hour (30 min → 1, 45 min → 1, 1 h 40 min → 2), at most
    :data:`MAX_ACADEMIC_HOURS`."""
    start, end = starts_at.astimezone(TOMSK), ends_at.astimezone(TOMSK)
    total = (end - start).total_seconds() / 60
    days = (end.date() - start.date()).days + 1
    minutes = total
    if days > 1:
        daily = ((end.hour * 60 + end.minute) - (start.hour * 60 + start.minute))
        if daily > 0:
            minutes = daily * days
    hours = (Decimal(max(minutes, 0)) / ACADEMIC_HOUR_MINUTES).quantize(
        Decimal(1), rounding=ROUND_HALF_UP)
    return min(hours, MAX_ACADEMIC_HOURS)


class ProfminimumFormat(db.Model):
    """«Формат профминимума» of an event: урок «Россия — мои горизонты», профпроба … Loaded by
    migration 0011; admins may add more."""

    __tablename__ = "profminimum_formats"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    sort_order: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=100)


#: The formats migration 0011 loads (code, name), in display order.
STANDARD_FORMATS = (
    ("horizons", "Урок «Россия — мои горизонты»"),
    ("trial", "Профпроба"),
    ("excursion", "Экскурсия, посещение предприятия"),
    ("meeting", "Встреча с представителем профессии"),
    ("contest", "Конкурс, чемпионат"),
    ("diagnostics", "Диагностика"),
    ("parents", "Родительское собрание"),
    ("other", "Другое"),
)
#: The format «кто отстаёт» offers first: a профпроба.
TRIAL_FORMAT = "trial"


def _level_check(column: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(f"{column} IS NULL OR {column} IN (40, 60, 80)",
                              name=f"{column}_level")


class ProfminimumLevels(db.Model):
    """The levels of one academic year: a school's (``organization_id``) or, with
    ``organization_id`` NULL, the city's default per grade. A grade left NULL follows the city's
    default, and that the federal minimum (:data:`DEFAULT_LEVEL_HOURS`). A locked row is
    changed by admins only, as a locked baseline."""

    __tablename__ = "profminimum_levels"
    __table_args__ = (
        sa.UniqueConstraint("organization_id", "year", name="uq_profminimum_levels_org_year"),
        sa.Index("uq_profminimum_levels_city_year", "year", unique=True,
                 sqlite_where=sa.text("organization_id IS NULL"),
                 postgresql_where=sa.text("organization_id IS NULL")),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name="year_plausible"),
        *(_level_check(f"hours_{g}") for g in PROFMINIMUM_GRADES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    hours_6: Mapped[int | None] = mapped_column(sa.Integer)
    hours_7: Mapped[int | None] = mapped_column(sa.Integer)
    hours_8: Mapped[int | None] = mapped_column(sa.Integer)
    hours_9: Mapped[int | None] = mapped_column(sa.Integer)
    hours_10: Mapped[int | None] = mapped_column(sa.Integer)
    hours_11: Mapped[int | None] = mapped_column(sa.Integer)
    locked: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    updated_at: Mapped[object] = mapped_column(
        UTCDateTime, nullable=False, default=now_utc, onupdate=now_utc)

    organization = relationship("Organization")

    def hours(self) -> dict[int, int | None]:
        return {g: getattr(self, f"hours_{g}") for g in PROFMINIMUM_GRADES}

    def set_hours(self, values: dict[int, int | None]) -> None:
        for grade in PROFMINIMUM_GRADES:
            setattr(self, f"hours_{grade}", values.get(grade))


def effective_levels(school: ProfminimumLevels | None,
                     city: ProfminimumLevels | None) -> dict[int, int]:
    """Target hours per grade 6–11: the school's, else the city's default, else 40."""
    own = school.hours() if school else {}
    default = city.hours() if city else {}
    return {g: own.get(g) or default.get(g) or DEFAULT_LEVEL_HOURS for g in PROFMINIMUM_GRADES}
