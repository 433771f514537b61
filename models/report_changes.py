"""What the indicators of a closed academic year are computed from, and when it changes.

A year that is over (its last day, Asia/Tomsk, before today) rarely changes, so a report may keep
its figures (``reports.cache``) — but only as long as nothing they are counted from has changed.
``report_changes`` holds one counter per academic year, bumped in the same transaction as the
change, and the row ``EVERY_YEAR`` for changes that touch every year (an organization's name or
kind, a student's ОВЗ flag, a parent's contacts). Several workers and app instances share the
database, so a cache checks these counters (one read of a handful of rows) instead of trusting
its own memory.

This module is the one home of "bump the counter":

- :func:`note_report_change` — called by code that writes with Core statements the ORM does not
  see: a check-in recorded at a door, by a batch, a list or an import
  (``checkin.door.scans.record_scan``) and an uploaded list withdrawn
  (``webapp.attendance.imports``).
- :func:`_note_orm_changes` — every ORM flush: new, changed or deleted check-ins (an undo), events
  (dates, status, audience, category, early flag, organizer, roadmap item, internal), running
  staff, tickets (their holder, status, kind, walk-in, list, when made and cancelled: the
  forecast's show rates and backtest), baselines, city plans, early rules, organizations,
  students' ОВЗ flag, teachers' organization, parents' contacts and named school, categories'
  codes, roadmap sections.

``kept_reports`` (:class:`KeptReport`) holds the kept reports themselves, shared by every worker
and app instance (``reports.cache`` reads and writes them through :func:`read_kept` and
:func:`write_kept`).

Years still running, and those to come, are not counted: their reports are never kept, and a
door's check-ins would otherwise all queue on one row. A year counts from the day before its last
day (:func:`counted_year`), so a change made as the year closes is never missed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from formats.timefmt import TOMSK
from models.academic_year import academic_year_of, academic_year_period
from models.base import SQLITE_BUSY_TIMEOUT_MS, UTCDateTime, db, now_utc
from models.early_rule import EarlyRule
from models.event import Category, Event, EventStaff, RoadmapItem
from models.organization import Baseline, CityPlan, Organization
from models.registration import ParentSignup, Ticket
from models.roster import Student, Teacher
from models.scan import Scan

#: The row for changes that touch every academic year.
EVERY_YEAR = 0


class ReportChange(db.Model):
    """A counter per academic year of the changes to what its indicators are counted from."""

    __tablename__ = "report_changes"
    __table_args__ = (sa.CheckConstraint("version >= 0", name="version_nonnegative"),)

    #: The academic year (named by the year it starts in); ``EVERY_YEAR`` (0): all of them.
    academic_year: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)


def today_in_tomsk(now: datetime | None = None) -> date:
    return (now or now_utc()).astimezone(TOMSK).date()


def year_is_closed(year: int, now: datetime | None = None) -> bool:
    """The academic year is over: its last day is before today (Asia/Tomsk)."""
    return academic_year_period(year).last_day < today_in_tomsk(now)


def counted_year(year: int, now: datetime | None = None) -> bool:
    """Changes to this year are counted: it is over or ends tomorrow at the latest (the day of
    margin covers a transaction that started before midnight and commits after it)."""
    return academic_year_period(year).last_day <= today_in_tomsk(now) + timedelta(days=1)


def note_report_change(years: Iterable[int | None], connection=None) -> None:
    """Bump the counters of ``years`` (``EVERY_YEAR`` for all) on ``connection`` (anything with
    ``execute``: the session, a door; by default the session), in the caller's transaction or
    after the change it follows; years still running are left alone. ``None`` in ``years`` (no
    date known) counts as every year."""
    now = now_utc()
    chosen = sorted({EVERY_YEAR if y is None else y for y in years
                     if y is None or y == EVERY_YEAR or counted_year(y, now)})
    if not chosen:
        return
    target = connection if connection is not None else db.session
    insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
    table = ReportChange.__table__
    statement = insert(table).values([{"academic_year": y, "version": 1} for y in chosen])
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.academic_year],
        set_={"version": table.c.version + 1})
    target.execute(statement)


#: Copies kept in ``kept_reports`` (each some tens of kilobytes); the oldest go first.
MAX_KEPT_REPORTS = 500


class KeptReport(db.Model):
    """A closed period's report as computed under the counters ``stamp``, shared by every worker
    and app instance (``reports.cache``): a worker that has just started finds it here."""

    __tablename__ = "kept_reports"

    #: What was computed (a digest of the report's kind, period and filters).
    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    #: The counters it was computed under and the code that computed it.
    stamp: Mapped[str] = mapped_column(sa.String(400), nullable=False)
    body: Mapped[bytes] = mapped_column(sa.LargeBinary, nullable=False)
    kept_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=now_utc)


def read_kept(key: str, stamp: str) -> bytes | None:
    table = KeptReport.__table__
    return db.session.execute(sa.select(table.c.body).where(
        table.c.key == key, table.c.stamp == stamp)).scalar()


def write_kept(key: str, stamp: str, body: bytes) -> bool:
    """Store a report on a connection of its own, committed at once and apart from the
    request (which only reads); False, and nothing stored, when the database is busy: a
    report is never made to wait for, or fail on, its copy."""
    table = KeptReport.__table__
    engine = db.engine
    sqlite_db = engine.dialect.name == "sqlite"
    insert = sqlite.insert if sqlite_db else postgresql.insert
    values = {"key": key, "stamp": stamp, "body": body, "kept_at": now_utc()}
    statement = insert(table).values(values).on_conflict_do_update(
        index_elements=[table.c.key], set_={k: v for k, v in values.items() if k != "key"})
    try:
        with engine.connect() as connection:
            raw = connection.connection.dbapi_connection  # a setting, outside any transaction
            if sqlite_db:  # another writer: give up at once rather than wait for it
                raw.execute("PRAGMA busy_timeout=50")
            try:
                with connection.begin():
                    connection.execute(statement)
                    # The newest copies only: date ranges are many, and an older release's
                    # copies are never read again.
                    stale = (sa.select(table.c.key).order_by(table.c.kept_at.desc())
                             .offset(MAX_KEPT_REPORTS).subquery())
                    connection.execute(sa.delete(table).where(
                        table.c.key.in_(sa.select(stale.c.key))))
            finally:
                if sqlite_db:
                    raw.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    except sa.exc.OperationalError:
        return False
    return True


def report_versions(connection=None) -> dict[int, int]:
    """Every counter (a handful of rows)."""
    target = connection if connection is not None else db.session
    table = ReportChange.__table__
    return dict(target.execute(sa.select(table.c.academic_year, table.c.version)).all())


def year_of_moment(moment: datetime | None) -> int | None:
    return None if moment is None else academic_year_of(moment)


# --- the ORM side: what a flush changes ------------------------------------------------------

#: Per model, the columns whose change changes a report (any change of a new or deleted row).
_EVENT_COLUMNS = ("starts_at", "status", "audience", "early", "school_internal", "organizer_id",
                  "category_id", "roadmap_item_id")
_EVERY_YEAR_COLUMNS = {
    Organization: ("name", "short_name", "kind", "active"),
    Student: ("ovz", "organization_id"),
    Teacher: ("organization_id",),
    ParentSignup: ("phone", "email", "child_organization_id"),
    Category: ("code",),
    RoadmapItem: ("section",),
}
#: A ticket: its holder, and what the forecast's show rates and bookings read (status, kind,
#: walk-in, uploaded list, when made and cancelled).
_BY_EVENT = {Scan: None, EventStaff: None,
             Ticket: ("event_id", "teacher_id", "student_id", "parent_signup_id", "status",
                      "kind", "walk_in", "attendance_import_id", "created_at", "cancelled_at")}
_BY_YEAR = (Baseline, CityPlan, EarlyRule)


def _changed(state, columns: Iterable[str]) -> bool:
    return any(state.attrs[name].load_history().has_changes() for name in columns)


def _is_educational(session: Session, state) -> bool:
    return bool({getattr(k, "value", k) for k in _values(session, state, "kind")}
                & {"school", "preschool"})


def _values(session: Session, state, column: str) -> set:
    """The column's values in this flush: the new one and, for a row already stored, the one in
    the database (read before the flush writes; an attribute set while expired has no history
    of its old value)."""
    history = state.attrs[column].load_history()
    values = {*history.added, *history.unchanged, *history.deleted}
    if state.persistent or state.deleted:
        mapper = state.mapper
        table = mapper.local_table
        keys = [table.c[c.key] == v for c, v in zip(mapper.primary_key, state.identity,
                                                    strict=True)]
        values |= set(session.execute(sa.select(table.c[column]).where(*keys)).scalars())
    return values - {None}


def _event_years(session: Session, event_id: int | None) -> set[int | None]:
    if event_id is None:
        return set()
    with session.no_autoflush:
        event = session.get(Event, event_id)
    return {year_of_moment(event.starts_at) if event is not None else None}


def _years_of(session: Session, obj, *, changed_row: bool) -> set[int | None]:
    """The academic years a new, changed or deleted object touches (empty: none)."""
    state = sa.inspect(obj)
    kind = type(obj)
    if kind is Event:
        if changed_row and not _changed(state, _EVENT_COLUMNS):
            return set()
        return {year_of_moment(m) for m in _values(session, state, "starts_at")}
    if kind in _EVERY_YEAR_COLUMNS:
        if changed_row and not _changed(state, _EVERY_YEAR_COLUMNS[kind]):
            return set()
        if kind is Organization and not _is_educational(session, state):
            return set()  # organizers, universities: never a row of the report
        if kind in (Student, Teacher, ParentSignup) and not changed_row \
                and state.pending:
            return set()  # a new person has no check-ins yet
        return {EVERY_YEAR}
    if kind in _BY_EVENT:
        columns = _BY_EVENT[kind]
        if changed_row and columns is not None and not _changed(state, columns):
            return set()
        ids = _values(session, state, "event_id")
        return set().union(*(_event_years(session, i) for i in ids)) if ids else set()
    if kind in _BY_YEAR:
        return _values(session, state, "year")
    return set()


_WATCHED = (Event, Scan, EventStaff, Ticket, *_BY_YEAR, *_EVERY_YEAR_COLUMNS)


@sa_event.listens_for(Session, "before_flush")
def _note_orm_changes(session: Session, _flush_context, _instances) -> None:
    with session.no_autoflush:  # reading an expired value must not flush again
        years = _changed_years(session)
    if years:
        note_report_change(years, session.connection())


def _changed_years(session: Session) -> set[int | None]:
    years: set[int | None] = set()
    for obj in session.new:
        if isinstance(obj, _WATCHED):
            years |= _years_of(session, obj, changed_row=False)
    for obj in session.deleted:
        if isinstance(obj, _WATCHED):
            years |= _years_of(session, obj, changed_row=False)
    for obj in session.dirty:
        if isinstance(obj, _WATCHED) and session.is_modified(obj):
            years |= _years_of(session, obj, changed_row=True)
    return years
