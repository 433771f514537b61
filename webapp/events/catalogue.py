"""The catalogue's filtering, shared by the page, the iCalendar feed and the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from formats.timefmt import TOMSK
from models import Audience, Category, Event, EventStatus, Organization, db, now_utc
from models.event import event_search_key
from webapp.events.services import search_terms
from webapp.events.visibility import catalogue_condition

PAGE_SIZE = 20
#: The feed keeps recent past events so a subscribed calendar does not lose them at once.
FEED_PAST_DAYS = 60


@dataclass
class CatalogueFilters:
    q: str | None = None
    category: str | None = None
    #: Local (Asia/Tomsk) dates, both included; or aware datetimes (API).
    date_from: date | datetime | None = None
    date_to: date | datetime | None = None
    audience: Audience | None = None
    grade: int | None = None
    early: bool = False
    ovz: bool = False
    organizer_id: int | None = None
    extra: dict = field(default_factory=dict)

    def is_empty(self) -> bool:
        return not any((self.q, self.category, self.date_from, self.date_to, self.audience,
                        self.grade is not None, self.early, self.ovz, self.organizer_id))


def _start_bound(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time.min, TOMSK)


def _end_bound(value: date | datetime) -> datetime:
    """Exclusive upper bound: the day after a date, or the datetime itself."""
    if isinstance(value, datetime):
        return value
    return datetime.combine(value + timedelta(days=1), time.min, TOMSK)


def catalogue_query(user, filters: CatalogueFilters, *, upcoming_only: bool = True,
                    include_cancelled: bool = False, past_days: int = 0):
    """A select of the events the catalogue lists for ``user`` under ``filters``."""
    condition = catalogue_condition(user)
    if include_cancelled:
        condition = sa.or_(condition, sa.and_(
            Event.status == EventStatus.CANCELLED, Event.published_at.is_not(None),
            sa.or_(Event.school_internal.is_(False),
                   Event.organizer_id == getattr(user, "organization_id", -1))))
    stmt = sa.select(Event).where(condition)
    if upcoming_only:
        stmt = stmt.where(Event.ends_at >= now_utc() - timedelta(days=past_days))
    if filters.date_from:
        stmt = stmt.where(Event.ends_at >= _start_bound(filters.date_from))
    if filters.date_to:
        stmt = stmt.where(Event.starts_at < _end_bound(filters.date_to))
    if filters.category:
        stmt = stmt.where(Event.category_id.in_(
            sa.select(Category.id).where(Category.code == filters.category)))
    if filters.audience:
        stmt = stmt.where(Event.audience == filters.audience)
    if filters.grade is not None:
        stmt = stmt.where(
            Event.audience.in_([Audience.STUDENTS, Audience.PRESCHOOL] if filters.grade == 0
                               else [Audience.STUDENTS]),
            sa.or_(Event.grades_min.is_(None), Event.grades_min <= filters.grade),
            sa.or_(Event.grades_max.is_(None), Event.grades_max >= filters.grade))
    if filters.early:
        stmt = stmt.where(Event.early.is_(True))
    if filters.ovz:
        stmt = stmt.where(Event.ovz_adapted.is_(True))
    if filters.organizer_id:
        stmt = stmt.where(Event.organizer_id == filters.organizer_id)
    terms = search_terms(filters.q)
    if terms:
        organizers = _organizer_keys()
    for term in terms:
        pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        matching_orgs = [org_id for org_id, key in organizers if term in key]
        stmt = stmt.where(sa.or_(Event.search_key.like(pattern, escape="\\"),
                                 Event.organizer_id.in_(matching_orgs)))
    return stmt


def _organizer_keys() -> list[tuple[int, str]]:
    """Organizations' names and short names, normalized in Python (a few hundred rows)."""
    rows = db.session.execute(sa.select(Organization.id, Organization.name,
                                        Organization.short_name)).all()
    return [(row.id, event_search_key(row.name, row.short_name)) for row in rows]


def run_page(stmt, page: int, page_size: int = PAGE_SIZE):
    """``(events, total)`` of one page, in start order, with organizer and category loaded."""
    total = db.session.execute(
        sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    events = db.session.execute(
        stmt.options(joinedload(Event.organizer), joinedload(Event.category))
        .order_by(Event.starts_at, Event.id)
        .offset((page - 1) * page_size).limit(page_size)
    ).unique().scalars().all()
    return events, total
