"""Where the academic year is heading: each school's and the city's nine indicators at the end
of the year, with a low–high range, against the targets (docs/reports.md «Цели и прогноз»).

As of a moment ``T`` (now, or the 1st of a past month for the backtest), for every school and
indicator, in counts (A) over the year's B:

- **known**: A of the events started before ``T`` (``compute_indicators``);
- **booked**: people of the school with a confirmed ticket, made before ``T``, for an event of
  the rest of the year who are not already counted for that indicator (someone already counted
  adds nothing); for the events indicators, the upcoming events its students are booked for;
- **show rate**: of the school's confirmed tickets for its past events of this year and last,
  the share checked in (walk-ins and uploaded lists left out: they were never a booking). A
  school without such tickets has the city's; a city without any, 1;
- **expected from bookings** ``E = booked × rate`` (an event: ``1 − (1 − rate)^n`` with ``n``
  students booked, the chance that at least one comes);
- **pace** ``G``: last year, of the people (events) the school had not reached by the same date,
  the share it reached by the year's end; that share of those not yet reached this year. A school
  without last year's check-ins has the city's share; when the city has no last year either, the
  pace of this year so far carried over the teaching months left (1 September – 31 May).

Then ``low = A + E`` (only the bookings, at the school's show rate), ``point = A + max(E, G)``
(the bookings are the part of the year's pace already visible; when they promise more, they are
trusted), ``high = A + booked + G`` (everyone booked comes and the pace goes on besides), each
at most B. Indicators 4–5 of a school are 1 when its students (early students) reach 1 person
at that level. The city sums its schools for people and schools; its events are counted per
event, as the indicators do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from flask import current_app, has_app_context

from models import (
    Baseline,
    Event,
    Organization,
    OrgKind,
    Scan,
    ScanSource,
    Student,
    Teacher,
    Ticket,
    TicketKind,
    TicketStatus,
    db,
    now_utc,
)
from models.academic_year import TOMSK, Period, academic_year_period
from models.target import effective_target, targets_of_year
from reports.indicators import (
    INDICATOR_KEYS,
    Figure,
    IndicatorReport,
    checkin_conditions,
    compute_indicators,
    tune_for_reports,
)

PEOPLE_KEYS = ("students", "students_early", "students_ovz", "teachers", "teachers_early")
SCHOOL_KEYS = ("schools", "schools_early")
EVENT_KEYS = ("events", "events_early")

REACHED, REACHABLE, AT_RISK = "reached", "reachable", "at_risk"
STATUS_TITLES = {REACHED: "цель достигнута", REACHABLE: "достижима", AT_RISK: "под угрозой"}
#: The months events are held in: the own-year pace is carried over these only.
TEACHING_LAST_MONTH_DAY = (5, 31)

_HUNDRED = Decimal(100)
_TENTH = Decimal("0.1")

scans = Scan.__table__
tickets = Ticket.__table__
events = Event.__table__
students = Student.__table__
teachers = Teacher.__table__
orgs = Organization.__table__


def percent_of_expected(a: float, b: int) -> Decimal | None:
    """An expected count (possibly fractional) as a percent of B, one decimal, half up."""
    if not b:
        return None
    return (Decimal(repr(float(a))) * _HUNDRED / Decimal(b)).quantize(_TENTH,
                                                                      rounding=ROUND_HALF_UP)


def status_of(current: Decimal | None, high: Decimal | None,
              target: Decimal | None) -> str | None:
    """reached: current ≥ target; at_risk: forecast high < target; reachable otherwise;
    None without a target (or without a B to count a percent of)."""
    if target is None or current is None or high is None:
        return None
    if current >= target:
        return REACHED
    if high < target:
        return AT_RISK
    return REACHABLE


@dataclass(frozen=True)
class IndicatorForecast:
    key: str
    current: Figure
    #: Expected A at the end of the year: low, point, high (counts, possibly fractional).
    low_a: float
    point_a: float
    high_a: float
    target: Decimal | None = None

    @property
    def b(self) -> int:
        return self.current.b

    @property
    def low(self) -> Decimal | None:
        return percent_of_expected(self.low_a, self.b)

    @property
    def forecast(self) -> Decimal | None:
        return percent_of_expected(self.point_a, self.b)

    @property
    def high(self) -> Decimal | None:
        return percent_of_expected(self.high_a, self.b)

    @property
    def status(self) -> str | None:
        return status_of(self.current.percent, self.high, self.target)

    @property
    def status_title(self) -> str | None:
        return STATUS_TITLES.get(self.status)

    def people_needed(self) -> int:
        """More people (events) needed so that the forecast point reaches the target."""
        if self.target is None or not self.b:
            return 0
        needed = math.ceil(float(self.target) * self.b / 100 - self.point_a - 1e-9)
        return max(0, needed)

    def to_json(self) -> dict:
        def num(value):
            return None if value is None else float(value)
        return {
            "current": self.current.to_json(),
            "forecast": {"percent": num(self.forecast), "low": num(self.low),
                         "high": num(self.high),
                         "a": round(self.point_a, 1), "a_low": round(self.low_a, 1),
                         "a_high": round(self.high_a, 1)},
            "target": num(self.target),
            "status": self.status,
        }


@dataclass
class OrgForecast:
    #: None: the city (its schools).
    organization_id: int | None
    name: str
    indicators: dict[str, IndicatorForecast]
    show_rate: float
    #: False when the school has no past bookings and the city's show rate is used.
    own_show_rate: bool = True
    #: "last_year" (own), "city_last_year" (the city's share), "this_year" (no last year).
    pace_source: str = "last_year"

    def statuses(self) -> dict[str, str | None]:
        return {k: f.status for k, f in self.indicators.items()}

    def to_json(self) -> dict:
        return {**{k: self.indicators[k].to_json() for k in INDICATOR_KEYS},
                "show_rate": round(self.show_rate, 3), "own_show_rate": self.own_show_rate,
                "pace_source": self.pace_source}


@dataclass
class Forecast:
    year: int
    as_of: datetime
    #: True once the year is over: the forecast is the year's result.
    finished: bool
    city: OrgForecast
    schools: list[OrgForecast] = field(default_factory=list)

    def school(self, organization_id: int) -> OrgForecast | None:
        return next((s for s in self.schools if s.organization_id == organization_id), None)


@dataclass(frozen=True)
class TargetGap:
    organization_id: int
    indicator: str          # one of reports.indicators.INDICATOR_KEYS
    target: Decimal         # percent
    forecast_low: Decimal
    forecast: Decimal       # point
    forecast_high: Decimal
    #: More distinct people (or events for the events indicators) the school needs so that its
    #: forecast point reaches the target.
    people_needed: int


# --- the pieces, each one grouped query ------------------------------------------------------

def _tomsk_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, TOMSK).astimezone(UTC)


def _one_if(condition):
    return sa.case((condition, 1), else_=0)


def _sum_if(condition):
    return sa.func.coalesce(sa.func.sum(_one_if(condition)), 0)


def _school_ids(organization_id: int | None):
    if organization_id is not None:
        return [organization_id]
    return sa.select(orgs.c.id).where(orgs.c.kind == OrgKind.SCHOOL.value)


def _event_ids(*conditions) -> list[int]:
    """The ids of the events chosen, as a list: a few hundred or thousand values, which lets
    the planner walk ``ix_tickets_event_status`` per event instead of reading every ticket."""
    return list(db.session.execute(sa.select(events.c.id).where(*conditions)).scalars())


def _holder_org():
    """The organization of a ticket's holder (a student's or a teacher's): the organization a
    check-in counts for (``reports.indicators``)."""
    return sa.func.coalesce(students.c.organization_id, teachers.c.organization_id)


def _holder_joins(source):
    return (source.outerjoin(students, students.c.id == tickets.c.student_id)
            .outerjoin(teachers, teachers.c.id == tickets.c.teacher_id))


def show_rates(as_of: datetime, year: int, organization_id: int | None) -> dict[int, tuple]:
    """Per school: (confirmed tickets, check-ins of them) of its people at its events of this
    academic year and the last that started before ``as_of``. Walk-ins and uploaded lists are
    left out on both sides (never a booking); the check-ins are read from ``scans`` alone."""
    past = _event_ids(events.c.starts_at >= academic_year_period(year - 1).starts_at,
                      events.c.starts_at < as_of, events.c.status == "published")
    if not past:
        return {}
    org = _holder_org()
    scope = _school_ids(organization_id)
    confirmed = dict(db.session.execute(
        sa.select(org, sa.func.count())
        .select_from(_holder_joins(tickets))
        .where(tickets.c.event_id.in_(past), tickets.c.status == TicketStatus.CONFIRMED.value,
               tickets.c.kind != TicketKind.PARENT.value, tickets.c.walk_in.is_(False),
               tickets.c.attendance_import_id.is_(None), org.in_(scope))
        .group_by(org)).all())
    came = dict(db.session.execute(
        sa.select(scans.c.organization_id, sa.func.count())
        .where(scans.c.event_id.in_(past), *checkin_conditions(scans),
               scans.c.source.not_in([ScanSource.WALK_IN.value, ScanSource.IMPORT.value]),
               sa.or_(scans.c.student_id.is_not(None), scans.c.teacher_id.is_not(None)),
               scans.c.organization_id.in_(scope))
        .group_by(scans.c.organization_id)).all())
    return {org_id: (int(n), min(int(n), int(came.get(org_id, 0))))
            for org_id, n in confirmed.items() if org_id is not None}


def _booked_tickets(as_of: datetime, year_end: datetime, **event_filters) -> list:
    """Tickets that were confirmed at ``as_of`` for an event starting in [as_of, year_end) that
    was published then."""
    was_published = sa.or_(events.c.status == "published",
                           sa.and_(events.c.status == "cancelled",
                                   events.c.cancelled_at >= as_of))
    upcoming = _event_ids(events.c.starts_at >= as_of, events.c.starts_at < year_end,
                          was_published, *(getattr(events.c, k) == v
                                           for k, v in event_filters.items()))
    was_confirmed = sa.or_(
        tickets.c.status == TicketStatus.CONFIRMED.value,
        sa.and_(tickets.c.status == TicketStatus.CANCELLED.value,
                tickets.c.cancelled_at >= as_of))
    return [tickets.c.event_id.in_(upcoming or [-1]), tickets.c.created_at < as_of,
            was_confirmed]


def booked_people(as_of: datetime, year: int, organization_id: int | None) -> dict[int, list]:
    """Per school: people booked for the rest of the year who are not already counted, per
    people indicator: [students, students_early, students_ovz, teachers, teachers_early]."""
    period = academic_year_period(year)
    booked_where = _booked_tickets(as_of, period.ends_before)
    so_far = _event_ids(events.c.starts_at >= period.starts_at, events.c.starts_at < as_of)
    scope = _school_ids(organization_id)
    out: dict[int, list] = {}
    for who, people, person, sc_person in (
            ("student", students, tickets.c.student_id, scans.c.student_id),
            ("teacher", teachers, tickets.c.teacher_id, scans.c.teacher_id)):
        ev_early = sa.func.max(_one_if(events.c.early.is_(True)))
        # One school: only its people (``ix_students_org_class``, ``scans`` by organization).
        own = [] if organization_id is None else [person.in_(
            sa.select(people.c.id).where(people.c.organization_id == organization_id))]
        own_scans = [] if organization_id is None else [
            scans.c.organization_id == organization_id]
        booked = (
            sa.select(person.label("person_id"), ev_early.label("early"))
            .select_from(tickets.join(events, events.c.id == tickets.c.event_id))
            .where(*booked_where, person.is_not(None), *own)
            .group_by(person)
            .subquery("booked")
        )
        seen = (
            sa.select(sc_person.label("person_id"), ev_early.label("early"))
            .select_from(scans.join(events, events.c.id == scans.c.event_id))
            .where(*checkin_conditions(scans), scans.c.event_id.in_(so_far or [-1]),
                   sc_person.is_not(None), *own_scans)
            .group_by(sc_person)
            .subquery("seen")
        )
        new_any = seen.c.person_id.is_(None)
        new_early = sa.and_(booked.c.early == 1, sa.func.coalesce(seen.c.early, 0) == 0)
        columns = [people.c.organization_id, _sum_if(new_any), _sum_if(new_early)]
        if who == "student":
            columns.append(_sum_if(sa.and_(new_any, students.c.ovz.is_(True))))
        query = (sa.select(*columns)
                 .select_from(booked.join(people, people.c.id == booked.c.person_id)
                              .outerjoin(seen, seen.c.person_id == booked.c.person_id))
                 .where(people.c.organization_id.in_(scope))
                 .group_by(people.c.organization_id))
        for row in db.session.execute(query):
            counts = out.setdefault(row[0], [0] * 5)
            if who == "student":
                counts[0], counts[1], counts[2] = int(row[1]), int(row[2]), int(row[3])
            else:
                counts[3], counts[4] = int(row[1]), int(row[2])
    return out


def booked_events(as_of: datetime, year: int, organization_id: int | None) -> list[tuple]:
    """(event, school, early, students booked) for the students' events of the rest of the
    year: the events indicators' bookings. Tickets are counted per (event, the student's
    organization) in SQL; which of those are schools the event is open to is decided here (in
    SQL the schools' filter made SQLite walk every student's tickets)."""
    period = academic_year_period(year)
    # One school: its students first (``ix_students_org_class``), then their tickets.
    own = [] if organization_id is None else [students.c.organization_id == organization_id]
    counts = db.session.execute(
        sa.select(tickets.c.event_id, students.c.organization_id, sa.func.count())
        .select_from(tickets.join(students, students.c.id == tickets.c.student_id))
        .where(*_booked_tickets(as_of, period.ends_before, audience="students"), *own)
        .group_by(tickets.c.event_id, students.c.organization_id)).all()
    if not counts:
        return []
    scope = set(db.session.execute(_school_ids(None) if organization_id is None
                                   else sa.select(orgs.c.id).where(
                                       orgs.c.id == organization_id,
                                       orgs.c.kind == OrgKind.SCHOOL.value)).scalars())
    info = {row.id: row for row in db.session.execute(
        sa.select(events.c.id, events.c.early, events.c.school_internal, events.c.organizer_id)
        .where(events.c.id.in_({event_id for event_id, _org, _n in counts})))}
    out = []
    for event_id, org_id, n in counts:
        event = info[event_id]
        if org_id not in scope or (event.school_internal and event.organizer_id != org_id):
            continue
        out.append((event_id, org_id, bool(event.early), int(n)))
    return out


@dataclass
class LastYear:
    """Last year's reach per school by the same date and by the year's end."""

    #: org → [before, total] per people indicator (PEOPLE_KEYS order) and events (all, early).
    by_org: dict[int, dict[str, tuple[int, int]]]
    baselines: dict[int, tuple[int, int, int]]
    city_events: dict[str, tuple[int, int]]

    @property
    def empty(self) -> bool:
        return not self.by_org


def last_year_pace(as_of: datetime, year: int, organization_id: int | None) -> LastYear:
    """Last year's people and events per school: reached before the same date a year earlier,
    and by the end of that year."""
    period = academic_year_period(year - 1)
    cutoff = _a_year_before(as_of)
    scope = _school_ids(organization_id)
    chosen = events.alias("ly_events")
    in_year = scans.c.event_id.in_(
        sa.select(chosen.c.id).where(chosen.c.starts_at >= period.starts_at,
                                     chosen.c.starts_at < period.ends_before))
    early_start = sa.case((events.c.early.is_(True), events.c.starts_at))
    persons = (
        sa.select(scans.c.organization_id.label("org_id"), scans.c.student_id,
                  scans.c.teacher_id, sa.func.min(events.c.starts_at).label("first"),
                  sa.func.min(early_start).label("first_early"))
        .select_from(scans.join(events, events.c.id == scans.c.event_id))
        .where(*checkin_conditions(scans), in_year, scans.c.organization_id.in_(scope))
        .group_by(scans.c.organization_id, scans.c.student_id, scans.c.teacher_id)
        .subquery("ly_persons")
    )
    st = persons.c.student_id.is_not(None)
    te = persons.c.teacher_id.is_not(None)
    early = persons.c.first_early.is_not(None)
    before = persons.c.first < cutoff
    before_early = persons.c.first_early < cutoff
    ovz = students.c.ovz.is_(True)
    query = (
        sa.select(persons.c.org_id,
                  _sum_if(sa.and_(st, before)), _sum_if(st),
                  _sum_if(sa.and_(st, before_early)), _sum_if(sa.and_(st, early)),
                  _sum_if(sa.and_(st, ovz, before)), _sum_if(sa.and_(st, ovz)),
                  _sum_if(sa.and_(te, before)), _sum_if(te),
                  _sum_if(sa.and_(te, before_early)), _sum_if(sa.and_(te, early)))
        .select_from(persons.outerjoin(students, students.c.id == persons.c.student_id))
        .group_by(persons.c.org_id)
    )
    by_org: dict[int, dict[str, tuple[int, int]]] = {}
    for row in db.session.execute(query):
        values = [int(v or 0) for v in row[1:]]
        by_org[row[0]] = {key: (values[2 * i], values[2 * i + 1])
                          for i, key in enumerate(PEOPLE_KEYS)}
    pairs = (
        sa.select(scans.c.event_id, scans.c.organization_id.label("org_id"))
        .where(*checkin_conditions(scans), in_year, scans.c.student_id.is_not(None),
               scans.c.organization_id.in_(_school_ids(None)))
        .group_by(scans.c.event_id, scans.c.organization_id)
        .subquery("ly_pairs")
    )
    open_to = sa.and_(events.c.status == "published", events.c.audience == "students",
                      sa.or_(events.c.school_internal.is_(False),
                             events.c.organizer_id == pairs.c.org_id))
    held = (
        sa.select(pairs.c.event_id, pairs.c.org_id, events.c.early,
                  (events.c.starts_at < cutoff).label("before"))
        .select_from(pairs.join(events, events.c.id == pairs.c.event_id)).where(open_to)
    )
    city_seen: dict[int, tuple[bool, bool]] = {}
    wanted = None if organization_id is None else {organization_id}
    for event_id, org_id, is_early, is_before in db.session.execute(held):
        city_seen[event_id] = (bool(is_early), bool(is_before))
        if wanted is not None and org_id not in wanted:
            continue
        figures = by_org.setdefault(org_id, {k: (0, 0) for k in PEOPLE_KEYS})
        for key, applies in (("events", True), ("events_early", bool(is_early))):
            if applies:
                b, t = figures.get(key, (0, 0))
                figures[key] = (b + (1 if is_before else 0), t + 1)
    for figures in by_org.values():
        figures.setdefault("events", (0, 0))
        figures.setdefault("events_early", (0, 0))
    city_events = {
        "events": (sum(1 for e, b in city_seen.values() if b), len(city_seen)),
        "events_early": (sum(1 for e, b in city_seen.values() if e and b),
                         sum(1 for e, b in city_seen.values() if e)),
    }
    bl = Baseline.__table__
    baselines = {row[0]: (int(row[1] or 0), int(row[2] or 0), int(row[3] or 0))
                 for row in db.session.execute(
                     sa.select(bl.c.organization_id, bl.c.students_total, bl.c.students_ovz,
                               bl.c.teachers_total)
                     .where(bl.c.year == year - 1, bl.c.organization_id.in_(scope)))}
    return LastYear(by_org, baselines, city_events)


def _a_year_before(moment: datetime) -> datetime:
    day = moment.astimezone(TOMSK)
    try:
        shifted = day.replace(year=day.year - 1)
    except ValueError:
        shifted = day.replace(year=day.year - 1, day=28)
    return shifted.astimezone(UTC)


def teaching_share_elapsed(year: int, as_of: datetime) -> float:
    """The share of the year's teaching months (1 September – 31 May) gone by ``as_of``."""
    start = _tomsk_midnight(date(year, 9, 1))
    end = _tomsk_midnight(date(year + 1, *TEACHING_LAST_MONTH_DAY) + timedelta(days=1))
    if as_of <= start:
        return 0.0
    return min(1.0, (as_of - start) / (end - start))


# --- what reads only the past, once a day ----------------------------------------------------

#: (database, part, year, day, scope) → value: the show rates and last year's pace read only
#: days before today (events started before the day's midnight, last year), so they are
#: computed once a day per process. Off under TESTING (``FORECAST_CACHE`` turns it on or off).
_PAST: dict[tuple, object] = {}
_PAST_LIMIT = 256


def _past_cache_on() -> bool:
    return has_app_context() and bool(current_app.config.get("FORECAST_CACHE",
                                                             not current_app.testing))


def clear_past_cache() -> None:
    _PAST.clear()


def _day_start(moment: datetime) -> datetime:
    return _tomsk_midnight(moment.astimezone(TOMSK).date())


def _past_part(part: str, compute, as_of: datetime, year: int, organization_id: int | None):
    """``compute(day_start, year, organization_id)``, cached for the day when the cache is on;
    one school's part is taken from the city's when that is already known."""
    day = _day_start(as_of)
    if not _past_cache_on():
        return compute(day, year, organization_id)
    base = (str(db.engine.url), part, year, day)
    if (*base, organization_id) in _PAST:
        return _PAST[(*base, organization_id)]
    if organization_id is not None and (*base, None) in _PAST:
        return _PAST[(*base, None)]
    value = compute(day, year, organization_id)
    if len(_PAST) >= _PAST_LIMIT:
        _PAST.clear()
    _PAST[(*base, organization_id)] = value
    return value


# --- putting it together ----------------------------------------------------------------------

def _share_reached_later(before: int, total: int, b_last: int) -> float | None:
    """Of those not reached by the date last year (B − before), the share reached later."""
    pool = b_last - before
    if pool <= 0:
        return None
    return max(0.0, min(1.0, (total - before) / pool))


def _combine(a: int, b: int, booked: float, expected: float, pace: float) -> tuple:
    cap = b if b else None

    def capped(x: float) -> float:
        return min(float(cap), x) if cap is not None else x
    return (capped(a + expected), capped(a + max(expected, pace)), capped(a + booked + pace))


def compute_forecast(year: int, *, organization_id: int | None = None, now=None,
                     as_of: datetime | None = None,
                     whole_year: IndicatorReport | None = None) -> Forecast:
    """The year-end forecast of the city's schools (or one school: ``organization_id``; the
    city's line then carries only its known A and B, without forecasting every other school).

    ``as_of``: the moment the forecast is made as if (the backtest); only what was known then is
    used. Without it, ``now``. ``whole_year``: the year's own report when the caller has it (the
    backtest reuses it for every month)."""
    now = now or now_utc()
    as_of = as_of or now
    period = academic_year_period(year)
    tune_for_reports()
    if whole_year is None:
        whole_year = compute_indicators(year, organization_id=organization_id, now=now)
    finished = as_of >= period.ends_before
    if as_of >= now or finished:
        known = whole_year
    elif as_of <= period.starts_at:
        known = None
    else:
        last_known = as_of.astimezone(TOMSK).date() - timedelta(days=1)
        known = compute_indicators(Period(period.first_day, last_known),
                                   organization_id=organization_id, now=as_of)
    city_targets, own_targets = targets_of_year(year)
    school_rows = [r for r in whole_year.organizations if r.kind == OrgKind.SCHOOL
                   and (organization_id is None or r.id == organization_id)]

    def known_a(org_id: int | None, key: str) -> int:
        if known is None:
            return 0
        if org_id is None:
            return known.city[key].a
        row = known.row_for(org_id)
        return row.indicators[key].a if row is not None else 0

    if finished:
        def final(org_id, figures):
            return {k: IndicatorForecast(k, figures[k], figures[k].a, figures[k].a,
                                         figures[k].a,
                                         effective_target(city_targets, own_targets, org_id, k))
                    for k in INDICATOR_KEYS}
        return Forecast(year, as_of, True,
                        OrgForecast(None, "Город", final(None, whole_year.city), 1.0),
                        [OrgForecast(r.id, r.display_name, final(r.id, r.indicators), 1.0)
                         for r in school_rows])

    rates = _past_part("show_rates", show_rates, as_of, year, None)
    confirmed_all = sum(c for c, _ in rates.values())
    city_rate = (sum(k for _, k in rates.values()) / confirmed_all) if confirmed_all else 1.0
    people = booked_people(as_of, year, organization_id)
    event_bookings = booked_events(as_of, year, organization_id)
    last = _past_part("last_year", last_year_pace, as_of, year, organization_id)
    share_elapsed = teaching_share_elapsed(year, as_of)
    city_last_cache: list[_CityLast] = []

    def city_last_year() -> _CityLast:
        """Read only when needed: one school's forecast reads every school's last year only
        when that school has none of its own."""
        if not city_last_cache:
            city_last_cache.append(_city_last_year(last, organization_id, as_of, year))
        return city_last_cache[0]

    def rate_of(org_id: int) -> tuple[float, bool]:
        confirmed, came = rates.get(org_id, (0, 0))
        if confirmed:
            return came / confirmed, True
        return city_rate, False

    schools: list[OrgForecast] = []
    for row in school_rows:
        rate, own_rate = rate_of(row.id)
        booked = people.get(row.id, [0] * 5)
        own_events = [(e, early, n) for e, org, early, n in event_bookings if org == row.id]
        history = last.by_org.get(row.id)
        b_last = last.baselines.get(row.id)
        city_last = None if history else city_last_year()
        pace_source = "last_year" if history else (
            "city_last_year" if city_last.shares else "this_year")
        result: dict[str, IndicatorForecast] = {}
        for key in (*PEOPLE_KEYS, *EVENT_KEYS):
            figure = row.indicators[key]
            a = known_a(row.id, key)
            b = figure.b
            if key in PEOPLE_KEYS:
                n_booked = float(booked[PEOPLE_KEYS.index(key)])
                expected = n_booked * rate
            else:
                chosen = [n for _e, early, n in own_events if key == "events" or early]
                n_booked = float(len(chosen))
                expected = sum(1 - (1 - rate) ** n for n in chosen)
            if history:
                before, total = history.get(key, (0, 0))
                share = _share_reached_later(before, total, _b_last(key, b_last, b, before,
                                                                    total))
                # No pool to take a share of (events; no baseline): last year's count.
                pace = (float(max(0, total - before)) if share is None
                        else share * max(0, b - a))
            elif city_last.shares and key in PEOPLE_KEYS:
                pace = city_last.shares.get(key, 0.0) * max(0, b - a)
            else:
                pace = _own_year_pace(a, b, share_elapsed)
            low, point, high = _combine(a, b, n_booked, expected, pace)
            result[key] = IndicatorForecast(key, Figure(a, b), low, point, high,
                                            effective_target(city_targets, own_targets, row.id,
                                                             key))
        for key, source in (("schools", "students"), ("schools_early", "students_early")):
            people_forecast = result[source]
            a = known_a(row.id, key)
            values = [1.0 if a or v >= 1 - 1e-9 else 0.0
                      for v in (people_forecast.low_a, people_forecast.point_a,
                                people_forecast.high_a)]
            result[key] = IndicatorForecast(key, Figure(a, 1), *values,
                                            effective_target(city_targets, own_targets, row.id,
                                                             key))
        schools.append(OrgForecast(row.id, row.display_name,
                                   {k: result[k] for k in INDICATOR_KEYS}, rate, own_rate,
                                   pace_source))

    city_events = last.city_events if organization_id is None else {}
    city = _city_forecast(whole_year, known, schools, event_bookings, city_rate, city_events,
                          share_elapsed, city_targets, organization_id)
    return Forecast(year, as_of, False, city, schools)


@dataclass
class _CityLast:
    #: Per indicator: the share of the not-yet-reached the city's schools reached later.
    shares: dict[str, float]
    events: dict[str, tuple[int, int]]


def _b_last(key: str, b_last: tuple | None, b_now: int, before: int, total: int) -> int:
    """Last year's B for a people indicator (its baseline; this year's when none was set); for
    the events indicators last year's held events stand in (no plan is read for last year)."""
    if key in EVENT_KEYS:
        return 0
    if b_last is None:
        return b_now
    index = {"students": 0, "students_early": 0, "students_ovz": 1, "teachers": 2,
             "teachers_early": 2}[key]
    return b_last[index] or b_now


def _city_last_year(last: LastYear, organization_id: int | None, as_of: datetime,
                    year: int) -> _CityLast:
    """The city's share of the not-yet-reached reached later last year, per people indicator
    (the schools' sums); read for a school without a history of its own."""
    if last.empty:
        return _CityLast({}, last.city_events)
    if organization_id is not None:
        # One school's query read only its own rows; the city's shares need every school.
        last = _past_part("last_year", last_year_pace, as_of, year, None)
        if last.empty:
            return _CityLast({}, last.city_events)
    shares: dict[str, float] = {}
    for key in PEOPLE_KEYS:
        before = sum(f.get(key, (0, 0))[0] for f in last.by_org.values())
        total = sum(f.get(key, (0, 0))[1] for f in last.by_org.values())
        b_last = sum(_b_last(key, last.baselines[org_id], 0, 0, 0)
                     for org_id in last.by_org if org_id in last.baselines)
        share = _share_reached_later(before, total, b_last)
        shares[key] = share if share is not None else 0.0
    return _CityLast(shares, last.city_events)


def _own_year_pace(a: int, b: int, share_elapsed: float) -> float:
    """No last year anywhere: this year's reach so far carried over the teaching months left."""
    if share_elapsed <= 0 or share_elapsed >= 1:
        return 0.0
    pace = a * (1 - share_elapsed) / share_elapsed
    return min(pace, float(max(0, b - a))) if b else pace


def _city_forecast(whole_year: IndicatorReport, known: IndicatorReport | None,
                   schools: list[OrgForecast], event_bookings: list[tuple], city_rate: float,
                   city_events: dict, share_elapsed: float, city_targets: dict,
                   organization_id: int | None) -> OrgForecast:
    result: dict[str, IndicatorForecast] = {}
    for key in INDICATOR_KEYS:
        figure = whole_year.city[key]
        a = known.city[key].a if known is not None else 0
        b = figure.b
        if organization_id is not None:
            # A school's own forecast does not compute every other school: the city's line is
            # then its known figure only.
            low = point = high = float(a)
        elif key in EVENT_KEYS:
            booked: dict[int, int] = {}
            for event_id, _org, early, n in event_bookings:
                if key == "events" or early:
                    booked[event_id] = booked.get(event_id, 0) + n
            n_booked = float(len(booked))
            expected = sum(1 - (1 - city_rate) ** n for n in booked.values())
            before, total = city_events.get(key, (0, 0))
            pace = float(max(0, total - before)) if total else _own_year_pace(a, b,
                                                                            share_elapsed)
            low, point, high = _combine(a, b, n_booked, expected, pace)
        else:
            low = sum(s.indicators[key].low_a for s in schools)
            point = sum(s.indicators[key].point_a for s in schools)
            high = sum(s.indicators[key].high_a for s in schools)
            low, point, high = (min(float(b), max(float(a), v)) if b else v
                                for v in (low, point, high))
        result[key] = IndicatorForecast(key, Figure(a, b), low, point, high,
                                        city_targets.get(key))
    return OrgForecast(None, "Город", result, city_rate, True,
                       "last_year" if city_events.get("events", (0, 0))[1] else "this_year")


# --- the interface the gap pages read ---------------------------------------------------------

def _gap(org_id: int, f: IndicatorForecast) -> TargetGap:
    return TargetGap(org_id, f.key, f.target, f.low, f.forecast, f.high, f.people_needed())


def gaps_of(forecast: Forecast, organization_id: int | None = None) -> list[TargetGap]:
    """The gaps of a forecast already computed (a page that shows the forecast reuses it): one
    school's in ``INDICATOR_KEYS`` order, or every school's sorted by how far below (target −
    forecast high), the largest first."""
    if organization_id is not None:
        school = forecast.school(organization_id)
        if school is None:
            return []
        return [_gap(organization_id, school.indicators[k]) for k in INDICATOR_KEYS
                if school.indicators[k].status == AT_RISK]
    gaps = [_gap(s.organization_id, s.indicators[k]) for s in forecast.schools
            for k in INDICATOR_KEYS if s.indicators[k].status == AT_RISK]
    gaps.sort(key=lambda g: (-(g.target - g.forecast_high), g.organization_id,
                             INDICATOR_KEYS.index(g.indicator)))
    return gaps


def school_gaps(year: int, organization_id: int, now=None) -> list[TargetGap]:
    """The school's indicators whose forecast high is below the target (at risk), in
    ``INDICATOR_KEYS`` order."""
    return gaps_of(compute_forecast(year, organization_id=organization_id, now=now),
                   organization_id)


def city_gaps(year: int, now=None) -> list[TargetGap]:
    """Every school at risk on any indicator, one gap per (school, indicator), sorted by how far
    below (target − forecast high) the largest first."""
    return gaps_of(compute_forecast(year, now=now))
