"""The city's goals for the nine indicators: one row per academic year for the city and,
optionally, one per school (docs/reports.md «Цели и прогноз»).

A value is a percent (0–100, one decimal); NULL means "no goal for this indicator here". A school
without a value of its own has the city's (:func:`models.target.effective_target`).
"""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import UTCDateTime, db, now_utc

#: The nine indicator keys a target row has a column for (the order of
#: ``reports.indicators.INDICATOR_KEYS``; models cannot import reports).
TARGET_KEYS = (
    "students", "students_early", "students_ovz", "schools", "schools_early",
    "teachers", "teachers_early", "events", "events_early",
)

_PERCENT = sa.Numeric(4, 1)


class Target(db.Model):
    """The goals (percent) of the city (``organization_id`` NULL) or of one school for a year."""

    __tablename__ = "targets"
    __table_args__ = (
        sa.UniqueConstraint("organization_id", "year", name="uq_targets_organization_year"),
        # NULLs are distinct in a unique constraint: the city's row is kept single by its own
        # partial index.
        sa.Index("uq_targets_city_year", "year", unique=True,
                 sqlite_where=sa.text("organization_id IS NULL"),
                 postgresql_where=sa.text("organization_id IS NULL")),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name="year_plausible"),
        *(sa.CheckConstraint(f"{key} IS NULL OR ({key} >= 0 AND {key} <= 100)",
                             name=f"{key}_is_percent") for key in TARGET_KEYS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: NULL: the city's goals.
    organization_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    #: Academic year, named by the year it starts in.
    year: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    students: Mapped[Decimal | None] = mapped_column(_PERCENT)
    students_early: Mapped[Decimal | None] = mapped_column(_PERCENT)
    students_ovz: Mapped[Decimal | None] = mapped_column(_PERCENT)
    schools: Mapped[Decimal | None] = mapped_column(_PERCENT)
    schools_early: Mapped[Decimal | None] = mapped_column(_PERCENT)
    teachers: Mapped[Decimal | None] = mapped_column(_PERCENT)
    teachers_early: Mapped[Decimal | None] = mapped_column(_PERCENT)
    events: Mapped[Decimal | None] = mapped_column(_PERCENT)
    events_early: Mapped[Decimal | None] = mapped_column(_PERCENT)
    #: A locked row cannot be changed (unlock first).
    locked: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    updated_at: Mapped[object] = mapped_column(
        UTCDateTime, nullable=False, default=now_utc, onupdate=now_utc
    )

    organization = relationship("Organization")

    def values(self) -> dict[str, Decimal | None]:
        return {key: getattr(self, key) for key in TARGET_KEYS}

    def is_empty(self) -> bool:
        return all(value is None for value in self.values().values())


def targets_of_year(year: int) -> tuple[dict[str, Decimal | None], dict[int, dict]]:
    """The city's goals and each school's own ones (only the keys it sets) for a year."""
    city: dict[str, Decimal | None] = dict.fromkeys(TARGET_KEYS)
    own: dict[int, dict] = {}
    for row in db.session.execute(sa.select(Target).where(Target.year == year)).scalars():
        if row.organization_id is None:
            city = row.values()
        else:
            own[row.organization_id] = {k: v for k, v in row.values().items() if v is not None}
    return city, own


def effective_target(city: dict, own: dict, organization_id: int | None,
                     key: str) -> Decimal | None:
    """A school's goal for an indicator: its own when set, else the city's."""
    if organization_id is not None:
        value = own.get(organization_id, {}).get(key)
        if value is not None:
            return value
    return city.get(key)
