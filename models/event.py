"""Career-guidance events, their categories, roadmap items and running staff."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from formats.text import fold
from models.base import TitledEnum, UTCDateTime, db, enum_column, now_utc
from models.profminimum import default_academic_hours

#: docs/api.md «Defaults»: check-in opens 2 hours before the start and closes at the end.
DEFAULT_CHECKIN_LEAD = timedelta(hours=2)

#: Where a moment falls in an event's registration window (``Event.registration_phase``).
REGISTRATION_NOT_YET, REGISTRATION_OPEN, REGISTRATION_CLOSED = "not_yet", "open", "closed"


def effective_registration_closes(starts_at, closes_at=None):
    """When registration closes: as set, else at the start of the event."""
    return closes_at or starts_at


def effective_checkin_opens(starts_at, opens_at=None):
    """When check-in opens: as set, else ``DEFAULT_CHECKIN_LEAD`` before the start."""
    return opens_at or starts_at - DEFAULT_CHECKIN_LEAD


def effective_checkin_closes(ends_at, closes_at=None):
    """When check-in closes: as set, else at the end of the event."""
    return closes_at or ends_at


def venue_line(name: str | None, address: str | None, room: str | None) -> str:
    """«Главный корпус ТГУ, пр. Ленина, 36, ауд. 101»: the venue's parts that are given."""
    return ", ".join(p for p in (name, address, room) if p)


def in_checkin_window(at, opens_at, closes_at) -> bool:
    return opens_at <= at < closes_at


class Audience(TitledEnum):
    STUDENTS = ("students", "Обучающиеся")
    PRESCHOOL = ("preschool", "Дошкольники")
    PARENTS = ("parents", "Родители")
    TEACHERS = ("teachers", "Педагоги")


class EventStatus(TitledEnum):
    DRAFT = ("draft", "Черновик")
    PUBLISHED = ("published", "Опубликовано")
    CANCELLED = ("cancelled", "Отменено")


class Category(db.Model):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable code used by the API (``professionals``, ``abilympics``, ...).
    code: Mapped[str] = mapped_column(sa.String(40), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    sort_order: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=100)


class RoadmapItem(db.Model):
    """A numbered row (1.1 … 7.4) of the order's «Дорожная карта»."""

    __tablename__ = "roadmap_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(10), nullable=False, unique=True)
    #: Section 1–7: organizational, colleges, universities, partners, ЦПК, monitoring,
    #: coordinators.
    section: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    title: Mapped[str] = mapped_column(sa.Text, nullable=False)
    sort_order: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)


class Event(db.Model):
    __tablename__ = "events"
    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.CheckConstraint("capacity >= 1", name="capacity_positive"),
        sa.CheckConstraint(
            "per_school_quota IS NULL OR per_school_quota >= 1", name="quota_positive"
        ),
        sa.CheckConstraint(
            "grades_min IS NULL OR (grades_min BETWEEN 0 AND 11)", name="grades_min_range"
        ),
        sa.CheckConstraint(
            "grades_max IS NULL OR (grades_max BETWEEN 0 AND 11)", name="grades_max_range"
        ),
        sa.CheckConstraint(
            "grades_min IS NULL OR grades_max IS NULL OR grades_min <= grades_max",
            name="grades_ordered",
        ),
        sa.CheckConstraint(
            "registration_closes_at IS NULL OR registration_opens_at IS NULL "
            "OR registration_closes_at > registration_opens_at",
            name="registration_window_ordered",
        ),
        sa.CheckConstraint(
            "checkin_closes_at IS NULL OR checkin_opens_at IS NULL "
            "OR checkin_closes_at > checkin_opens_at",
            name="checkin_window_ordered",
        ),
        sa.CheckConstraint(
            "status <> 'cancelled' OR cancel_reason IS NOT NULL", name="cancelled_has_reason"
        ),
        sa.Index("ix_events_status_starts_at", "status", "starts_at"),
        sa.CheckConstraint(
            "academic_hours_override IS NULL OR "
            "(academic_hours_override >= 0 AND academic_hours_override <= 999)",
            name="academic_hours_override_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    title: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    #: Plain text with light Markdown; rendered with raw HTML disabled.
    description: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    category_id: Mapped[int] = mapped_column(
        sa.ForeignKey("categories.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    audience: Mapped[Audience] = mapped_column(enum_column(Audience), nullable=False)
    grades_min: Mapped[int | None] = mapped_column(sa.Integer)
    grades_max: Mapped[int | None] = mapped_column(sa.Integer)
    starts_at: Mapped[object] = mapped_column(UTCDateTime, nullable=False)
    ends_at: Mapped[object] = mapped_column(UTCDateTime, nullable=False)
    venue_name: Mapped[str] = mapped_column(sa.String(300), nullable=False, default="")
    venue_address: Mapped[str] = mapped_column(sa.String(300), nullable=False, default="")
    venue_room: Mapped[str | None] = mapped_column(sa.String(100))
    capacity: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    #: Most confirmed tickets one school may hold; NULL for no quota.
    per_school_quota: Mapped[int | None] = mapped_column(sa.Integer)
    #: NULL: registration is open from publication until the start.
    registration_opens_at: Mapped[object | None] = mapped_column(UTCDateTime)
    registration_closes_at: Mapped[object | None] = mapped_column(UTCDateTime)
    #: NULL: check-in opens 2 hours before the start and closes at the end.
    checkin_opens_at: Mapped[object | None] = mapped_column(UTCDateTime)
    checkin_closes_at: Mapped[object | None] = mapped_column(UTCDateTime)
    #: «ранняя профориентация»
    early: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    #: «адаптировано для ОВЗ»
    ovz_adapted: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    roadmap_item_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("roadmap_items.id", ondelete="SET NULL")
    )
    status: Mapped[EventStatus] = mapped_column(
        enum_column(EventStatus, name="event_status"), nullable=False, default=EventStatus.DRAFT
    )
    cancel_reason: Mapped[str | None] = mapped_column(sa.Text)
    cancelled_at: Mapped[object | None] = mapped_column(UTCDateTime)
    published_at: Mapped[object | None] = mapped_column(UTCDateTime)
    #: Lower-cased title, description and venue (ё→е) for the catalogue's text search;
    #: kept by the events services (SQLite's lower() does not fold Cyrillic).
    search_key: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    #: A school's internal event: visible only to the organizing school.
    school_internal: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[object] = mapped_column(UTCDateTime, nullable=False, default=now_utc)
    updated_at: Mapped[object] = mapped_column(
        UTCDateTime, nullable=False, default=now_utc, onupdate=now_utc
    )
    #: «Профминимум» (issue #14): the academic hours the organizer set, NULL for the default
    #: (``models.profminimum.default_academic_hours``); ``academic_hours`` is the effective
    #: value, kept by the hook below, which the reports sum.
    academic_hours_override: Mapped[object | None] = mapped_column(sa.Numeric(5, 1))
    academic_hours: Mapped[object] = mapped_column(sa.Numeric(5, 1), nullable=False,
                                                   default=0, server_default="0")
    profminimum_format_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("profminimum_formats.id", ondelete="SET NULL"))

    organizer = relationship("Organization")
    profminimum_format = relationship("ProfminimumFormat")
    category = relationship("Category")
    roadmap_item = relationship("RoadmapItem")
    staff = relationship("EventStaff", back_populates="event", cascade="all, delete-orphan")

    @property
    def effective_academic_hours(self):
        """The hours the event gives (``academic_hours``, also before the hook has run)."""
        if self.academic_hours_override is not None:
            return self.academic_hours_override
        return default_academic_hours(self.starts_at, self.ends_at)

    @property
    def venue_text(self) -> str:
        return venue_line(self.venue_name, self.venue_address, self.venue_room)

    @property
    def effective_registration_closes_at(self):
        return effective_registration_closes(self.starts_at, self.registration_closes_at)

    @property
    def effective_checkin_opens_at(self):
        return effective_checkin_opens(self.starts_at, self.checkin_opens_at)

    @property
    def effective_checkin_closes_at(self):
        return effective_checkin_closes(self.ends_at, self.checkin_closes_at)

    def registration_phase(self, at=None) -> str:
        """Where ``at`` (default now) falls in the registration window, whatever the status:
        ``REGISTRATION_NOT_YET``, ``REGISTRATION_OPEN`` or ``REGISTRATION_CLOSED``."""
        at = at or now_utc()
        if self.registration_opens_at and at < self.registration_opens_at:
            return REGISTRATION_NOT_YET
        if at >= self.effective_registration_closes_at:
            return REGISTRATION_CLOSED
        return REGISTRATION_OPEN

    def registration_open(self, at=None) -> bool:
        return (self.status == EventStatus.PUBLISHED
                and self.registration_phase(at) == REGISTRATION_OPEN)

    def checkin_open(self, at=None) -> bool:
        return in_checkin_window(at or now_utc(), self.effective_checkin_opens_at,
                                 self.effective_checkin_closes_at)

    def is_finished(self, at=None) -> bool:
        return self.status == EventStatus.PUBLISHED and (at or now_utc()) >= self.ends_at


def fits_grade(event: Event, grade: int) -> bool:
    """Whether a child of ``grade`` (0: preschool) may go to ``event`` as a student (the one home
    of the rule: group registration and the reports' suggestions both ask it)."""
    if event.audience == Audience.PRESCHOOL:
        return grade == 0
    if event.audience != Audience.STUDENTS:
        return False
    low, high = event.grades_min or 1, event.grades_max or 11
    return low <= grade <= high


class EventStaff(db.Model):
    """A teacher who runs an event (counts in indicators 6 and 7)."""

    __tablename__ = "event_staff"
    __table_args__ = (sa.UniqueConstraint("event_id", "teacher_id", name="uq_event_staff_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False
    )
    teacher_id: Mapped[int] = mapped_column(
        sa.ForeignKey("teachers.id", ondelete="CASCADE"), nullable=False, index=True
    )

    event = relationship("Event", back_populates="staff")
    teacher = relationship("Teacher")


def event_search_key(*parts: str | None) -> str:
    """The parts folded (:func:`formats.text.fold`) and joined, for the catalogue's search."""
    return " ".join(fold(p) for p in parts if p)


@sa.event.listens_for(Event, "before_insert")
@sa.event.listens_for(Event, "before_update")
def _refresh_search_key(_mapper, _connection, target: Event) -> None:
    target.search_key = event_search_key(target.title, target.description, target.venue_name,
                                         target.venue_address, target.venue_room)


@sa.event.listens_for(Event, "before_insert")
@sa.event.listens_for(Event, "before_update")
def _refresh_academic_hours(_mapper, _connection, target: Event) -> None:
    """``academic_hours``: the organizer's figure, else the default from the times."""
    if target.academic_hours_override is not None:
        target.academic_hours = target.academic_hours_override
    elif target.starts_at is not None and target.ends_at is not None:
        target.academic_hours = default_academic_hours(target.starts_at, target.ends_at)
