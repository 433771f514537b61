"""Organizations of the city's education system and their yearly baseline figures."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from formats.text import fold, natural_key
from models.base import TitledEnum, UTCDateTime, db, enum_column, now_utc


class OrgKind(TitledEnum):
    SCHOOL = ("school", "Общеобразовательная организация")
    PRESCHOOL = ("preschool", "Дошкольная организация (ДОО)")
    COLLEGE = ("college", "Колледж (СПО)")
    UNIVERSITY = ("university", "Вуз")
    PARTNER = ("partner", "Партнёр")
    DEPARTMENT = ("department", "Орган управления / методический центр")


#: Kinds whose people (students, teachers) are counted in the indicators.
EDUCATIONAL_KINDS = (OrgKind.SCHOOL, OrgKind.PRESCHOOL)


def organization_name_key(name: str | None) -> str:
    return fold(name)


def in_name_order(orgs, *, by_kind: bool = False, shown: str = "name") -> list:
    """Organizations as people look for them in a list: «СОШ № 2» before «СОШ № 10».

    ``by_kind`` groups by kind first (in :class:`OrgKind`'s declared order); ``shown`` is the
    attribute the list displays (``"name"`` or ``"display_name"``), which is what is sorted.
    """
    kinds = list(OrgKind)
    return sorted(orgs, key=lambda o: ((kinds.index(o.kind),) if by_kind else ())
                  + (natural_key(getattr(o, shown)), o.id))


class Organization(db.Model):
    __tablename__ = "organizations"
    __table_args__ = (sa.CheckConstraint("length(trim(name)) > 0", name="name_not_blank"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OrgKind] = mapped_column(enum_column(OrgKind, name="org_kind"), nullable=False)
    name: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    #: Lower-cased name with spaces collapsed: names are unique case-insensitively.
    name_key: Mapped[str] = mapped_column(sa.String(300), nullable=False, unique=True)
    short_name: Mapped[str | None] = mapped_column(sa.String(120))
    #: Identifier in the region's information systems, if any.
    external_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    #: Public profile (the order's «Карта ресурсов»): shown on the organizer's page.
    description: Mapped[str | None] = mapped_column(sa.Text)
    offer: Mapped[str | None] = mapped_column(sa.Text)  #: what it offers to schools
    address: Mapped[str | None] = mapped_column(sa.String(300))
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    website: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[object] = mapped_column(UTCDateTime, nullable=False, default=now_utc)

    baselines = relationship("Baseline", back_populates="organization", lazy="dynamic")

    @validates("name")
    def _set_name_key(self, _key, value):
        self.name_key = organization_name_key(value)
        return value

    @property
    def display_name(self) -> str:
        return self.short_name or self.name

    def __repr__(self) -> str:
        return f"<Organization {self.id} {self.name!r}>"


class Baseline(db.Model):
    """The B of the indicators: an organization's figures for one academic year."""

    __tablename__ = "baselines"
    __table_args__ = (
        sa.UniqueConstraint("organization_id", "year", name="uq_baselines_organization_year"),
        sa.CheckConstraint("students_total >= 0", name="students_total_nonnegative"),
        sa.CheckConstraint("students_ovz >= 0", name="students_ovz_nonnegative"),
        sa.CheckConstraint("students_ovz <= students_total", name="ovz_not_above_total"),
        sa.CheckConstraint("teachers_total >= 0", name="teachers_total_nonnegative"),
        sa.CheckConstraint(
            "planned_events IS NULL OR planned_events >= 0", name="planned_events_nonnegative"
        ),
        sa.CheckConstraint(
            "planned_early_events IS NULL OR planned_early_events >= 0",
            name="planned_early_events_nonnegative",
        ),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name="year_plausible"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False
    )
    #: Academic year, named by the year it starts in.
    year: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    students_total: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    students_ovz: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    teachers_total: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    #: The school's own plan figure; NULL means "count the events published in the system".
    planned_events: Mapped[int | None] = mapped_column(sa.Integer)
    planned_early_events: Mapped[int | None] = mapped_column(sa.Integer)
    #: A locked baseline can be changed by admins only (after unlocking).
    locked: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    updated_at: Mapped[object] = mapped_column(
        UTCDateTime, nullable=False, default=now_utc, onupdate=now_utc
    )

    organization = relationship("Organization", back_populates="baselines")


class CityPlan(db.Model):
    """The city's plan figures for a year (the B of indicators 8 and 9 for the city)."""

    __tablename__ = "city_plans"
    __table_args__ = (
        sa.CheckConstraint(
            "planned_events IS NULL OR planned_events >= 0", name="planned_events_nonnegative"
        ),
        sa.CheckConstraint(
            "planned_early_events IS NULL OR planned_early_events >= 0",
            name="planned_early_events_nonnegative",
        ),
    )

    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    planned_events: Mapped[int | None] = mapped_column(sa.Integer)
    planned_early_events: Mapped[int | None] = mapped_column(sa.Integer)
    updated_at: Mapped[object] = mapped_column(
        UTCDateTime, nullable=False, default=now_utc, onupdate=now_utc
    )
