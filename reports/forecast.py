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
from models.base import UTCDateTime
from models.target import effective_target, targets_of_year
from reports.cache import kept
from reports.indicators import (
    INDICATOR_KEYS,
    Figure,
    IndicatorReport,
    checkin_conditions,
    compute_indicators,
    organization_indicators,
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
    #: None in one school's forecast (the city's line needs every school).
    city: OrgForecast | None
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


def _show_counts(organization_id: int | None, *event_conditions) -> dict[int, tuple[int, int]]:
    """Per school (or the one school): (confirmed tickets, check-ins) of its people at the
    published events chosen by ``event_conditions``, grouped statements. Walk-ins and uploaded
    lists are left out on both sides (never a booking); the check-ins are read from ``scans``
    alone."""
    published = [events.c.status == "published", *event_conditions]
    chosen = _event_ids(*published)
    if not chosen:
        return {}
    scope = _school_ids(organization_id)
    conditions = [tickets.c.status == TicketStatus.CONFIRMED.value,
                  tickets.c.kind != TicketKind.PARENT.value, tickets.c.walk_in.is_(False),
                  tickets.c.attendance_import_id.is_(None)]
    if organization_id is None:
        # The events' tickets (``ix_tickets_event_status``, the ids listed); the holder's
        # school is not indexable, so SQLite does not start from every school's people.
        org = _holder_org()
        confirmed = dict(db.session.execute(
            sa.select(org, sa.func.count()).select_from(_holder_joins(tickets))
            .where(tickets.c.event_id.in_(chosen), *conditions, org.in_(scope))
            .group_by(org)).all())
    else:
        # One school: its people's tickets (students' and teachers', a ticket has one holder).
        # SQLite: joined to the events, one walk of the events' tickets for both (faster than
        # the list there); PostgreSQL: the events listed, each kind of holder apart (a join
        # there is misestimated into reading every ticket).
        holders = [person.in_(sa.select(people.c.id).where(
                       people.c.organization_id == organization_id))
                   for people, person in ((students, tickets.c.student_id),
                                          (teachers, tickets.c.teacher_id))]
        if db.engine.dialect.name == "sqlite":
            statements = [sa.select(sa.func.count())
                          .select_from(tickets.join(events, events.c.id == tickets.c.event_id))
                          .where(*published, *conditions, sa.or_(*holders))]
        else:
            statements = [sa.select(sa.func.count()).select_from(tickets)
                          .where(tickets.c.event_id.in_(chosen), *conditions, holder)
                          for holder in holders]
        n = sum(db.session.execute(statement).scalar_one() for statement in statements)
        confirmed = {organization_id: int(n)} if n else {}
    came = dict(db.session.execute(
        sa.select(scans.c.organization_id, sa.func.count())
        .where(scans.c.event_id.in_(chosen), *checkin_conditions(scans),
               scans.c.source.not_in([ScanSource.WALK_IN.value, ScanSource.IMPORT.value]),
               sa.or_(scans.c.student_id.is_not(None), scans.c.teacher_id.is_not(None)),
               scans.c.organization_id.in_(scope))
        .group_by(scans.c.organization_id)).all())
    return {org_id: (confirmed.get(org_id, 0), int(came.get(org_id, 0)))
            for org_id in confirmed.keys() | came.keys() if org_id is not None}


def closed_year_show_counts(year: int, now: datetime | None = None) -> dict[int, tuple]:
    """Every school's (confirmed, checked in) at the events of the academic year ``year``,
    kept while the year is closed and nothing it counts changes (``reports.cache``: tickets'
    holder, status, kind, walk-in and list, check-ins and events bump the year's counter)."""
    period = academic_year_period(year)
    return kept(("forecast_show_counts", year), period,
                lambda: _show_counts(None, events.c.starts_at >= period.starts_at,
                                     events.c.starts_at < period.ends_before), now)


def show_rates(as_of: datetime, year: int, organization_id: int | None,
               now: datetime | None = None) -> dict[int, tuple]:
    """Per school: (confirmed tickets, check-ins of them, at most the tickets) of its people at
    its events of this academic year and the last that started before ``as_of``. Last year
    whole (once ``as_of`` is in this year) is the kept closed year's; this year's part is read
    fresh, as of ``as_of``."""
    this_year = academic_year_period(year)
    last_start = academic_year_period(year - 1).starts_at
    parts = []
    if as_of >= this_year.starts_at:
        last = closed_year_show_counts(year - 1, now)
        parts.append(last if organization_id is None
                     else {k: v for k, v in last.items() if k == organization_id})
        parts.append(_show_counts(organization_id, events.c.starts_at >= this_year.starts_at,
                                  events.c.starts_at < as_of))
    else:
        parts.append(_show_counts(organization_id, events.c.starts_at >= last_start,
                                  events.c.starts_at < as_of))
    totals: dict[int, list[int]] = {}
    for part in parts:
        for org_id, (confirmed, came) in part.items():
            pair = totals.setdefault(org_id, [0, 0])
            pair[0] += confirmed
            pair[1] += came
    return {org_id: (n, min(n, came)) for org_id, (n, came) in totals.items() if n}


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


@dataclass
class BookedEvents:
    """The events indicators' bookings as histograms: per school, per "early only" (False: every
    event, True: the early ones), {students booked for an event: events with that many}; the
    city's the same with an event's students of every school added up (an event counts once)."""

    by_org: dict[int, dict[bool, dict[int, int]]]
    city: dict[bool, dict[int, int]]


def booked_events(as_of: datetime, year: int, organization_id: int | None) -> BookedEvents:
    """The students' events of the rest of the year with students booked, in aggregate: tickets
    counted per (event, the student's school) first, the event open to that school (not another
    school's internal one), then the events counted per (school, early, students booked) and,
    for the city, per (early, students booked of every school)."""
    period = academic_year_period(year)
    # One school: its students first (``ix_students_org_class``), then their tickets.
    own = [] if organization_id is None else [students.c.organization_id == organization_id]
    pairs = (
        sa.select(tickets.c.event_id, students.c.organization_id.label("org_id"),
                  sa.func.count().label("n"))
        .select_from(tickets.join(students, students.c.id == tickets.c.student_id))
        .where(*_booked_tickets(as_of, period.ends_before, audience="students"), *own)
        .group_by(tickets.c.event_id, students.c.organization_id)
        .cte("booked_pairs")
    )
    school = orgs.alias("booked_school")
    eligible = (
        sa.select(pairs.c.event_id, pairs.c.org_id, pairs.c.n, events.c.early)
        .select_from(pairs.join(events, events.c.id == pairs.c.event_id)
                     .join(school, school.c.id == pairs.c.org_id))
        .where(school.c.kind == OrgKind.SCHOOL.value,
               sa.or_(events.c.school_internal.is_(False),
                      events.c.organizer_id == pairs.c.org_id))
        .subquery("eligible")
    )
    early = sa.func.coalesce(_one_if(eligible.c.early.is_(True)), 0)
    per_org = (sa.select(eligible.c.org_id, early.label("early"), eligible.c.n.label("n"),
                         sa.func.count().label("m"))
               .group_by(eligible.c.org_id, early, eligible.c.n))
    out = BookedEvents({}, {False: {}, True: {}})
    rows = list(db.session.execute(per_org))
    for org_id, is_early, n, m in rows:
        histograms = out.by_org.setdefault(org_id, {False: {}, True: {}})
        for early_only in (False, True) if is_early else (False,):
            histograms[early_only][int(n)] = histograms[early_only].get(int(n), 0) + int(m)
    if organization_id is None and rows:
        per_event = (sa.select(eligible.c.event_id, sa.func.max(early).label("early"),
                               sa.func.sum(eligible.c.n).label("n"))
                     .group_by(eligible.c.event_id).subquery("per_event"))
        city = (sa.select(per_event.c.early, per_event.c.n, sa.func.count())
                .group_by(per_event.c.early, per_event.c.n))
        for is_early, n, m in db.session.execute(city):
            for early_only in (False, True) if is_early else (False,):
                out.city[early_only][int(n)] = out.city[early_only].get(int(n), 0) + int(m)
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


@dataclass
class YearReach:
    """A closed year's reach, whatever the date it is cut at: per school, the people counted
    grouped by when they first came (any event, an early one) and who they are, and the
    (event, school) pairs of its students' check-ins with the event's start."""

    #: org → [(first, first early or None, student, teacher, ОВЗ, people)]; the moments as
    #: POSIX timestamps (a compact copy to keep).
    persons: dict[int, list[tuple]]
    #: (event, org, early, starts_at timestamp) for the events open to the school its students
    #: came to.
    held: list[tuple]
    #: org → (students_total, students_ovz, teachers_total) of the year's baseline.
    baselines: dict[int, tuple[int, int, int]]


def _year_reach(year: int) -> YearReach:
    """The grouped statements behind :class:`YearReach`, every school."""
    period = academic_year_period(year)
    scope = _school_ids(None)
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
    st = _one_if(persons.c.student_id.is_not(None))
    te = _one_if(persons.c.teacher_id.is_not(None))
    ovz = _one_if(students.c.ovz.is_(True))
    first = sa.type_coerce(persons.c.first, UTCDateTime)
    first_early = sa.type_coerce(persons.c.first_early, UTCDateTime)
    grouped = (
        sa.select(persons.c.org_id, first, first_early, st, te, ovz, sa.func.count())
        .select_from(persons.outerjoin(students, students.c.id == persons.c.student_id))
        .group_by(persons.c.org_id, first, first_early, st, te, ovz)
    )
    by_org: dict[int, list[tuple]] = {}
    for org_id, first_at, early_at, is_st, is_te, is_ovz, n in db.session.execute(grouped):
        by_org.setdefault(org_id, []).append(
            (first_at.timestamp(), None if early_at is None else early_at.timestamp(),
             bool(is_st), bool(is_te), bool(is_ovz), int(n)))
    pairs = (
        sa.select(scans.c.event_id, scans.c.organization_id.label("org_id"))
        .where(*checkin_conditions(scans), in_year, scans.c.student_id.is_not(None),
               scans.c.organization_id.in_(scope))
        .group_by(scans.c.event_id, scans.c.organization_id)
        .subquery("ly_pairs")
    )
    open_to = sa.and_(events.c.status == "published", events.c.audience == "students",
                      sa.or_(events.c.school_internal.is_(False),
                             events.c.organizer_id == pairs.c.org_id))
    held = [(event_id, org_id, bool(early), starts_at.timestamp())
            for event_id, org_id, early, starts_at in db.session.execute(
                sa.select(pairs.c.event_id, pairs.c.org_id, events.c.early, events.c.starts_at)
                .select_from(pairs.join(events, events.c.id == pairs.c.event_id))
                .where(open_to))]
    bl = Baseline.__table__
    baselines = {row[0]: (int(row[1] or 0), int(row[2] or 0), int(row[3] or 0))
                 for row in db.session.execute(
                     sa.select(bl.c.organization_id, bl.c.students_total, bl.c.students_ovz,
                               bl.c.teachers_total)
                     .where(bl.c.year == year, bl.c.organization_id.in_(scope)))}
    return YearReach(by_org, held, baselines)


def closed_year_reach(year: int, now: datetime | None = None) -> YearReach:
    """:class:`YearReach` of ``year``, kept while the year is closed and nothing it counts
    changes (``reports.cache``)."""
    return kept(("forecast_year_reach", year), academic_year_period(year),
                lambda: _year_reach(year), now)


def last_year_pace(as_of: datetime, year: int, organization_id: int | None,
                   now: datetime | None = None) -> LastYear:
    """Last year's people and events per school: reached before the same date a year earlier,
    and by the end of that year (cut from the kept :class:`YearReach`)."""
    cutoff = _a_year_before(as_of).timestamp()
    reach = closed_year_reach(year - 1, now)
    by_org: dict[int, dict[str, tuple[int, int]]] = {}
    for org_id, groups in reach.persons.items():
        if organization_id is not None and org_id != organization_id:
            continue
        v = [0] * 10
        for first, first_early, is_st, is_te, is_ovz, n in groups:
            before = first < cutoff
            early = first_early is not None
            before_early = early and first_early < cutoff
            for base, applies in ((0, is_st), (6, is_te)):
                if applies:
                    v[base] += n if before else 0
                    v[base + 1] += n
                    v[base + 2] += n if before_early else 0
                    v[base + 3] += n if early else 0
            if is_st and is_ovz:
                v[4] += n if before else 0
                v[5] += n
        # PEOPLE_KEYS order: students, students_early, students_ovz, teachers, teachers_early.
        by_org[org_id] = {key: (v[2 * i], v[2 * i + 1]) for i, key in enumerate(PEOPLE_KEYS)}
    city_seen: dict[int, tuple[bool, bool]] = {}
    for event_id, org_id, is_early, starts_at in reach.held:
        is_before = starts_at < cutoff
        city_seen[event_id] = (is_early, is_before)
        if organization_id is not None and org_id != organization_id:
            continue
        figures = by_org.setdefault(org_id, {k: (0, 0) for k in PEOPLE_KEYS})
        for key, applies in (("events", True), ("events_early", is_early)):
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
    baselines = {k: v for k, v in reach.baselines.items()
                 if organization_id is None or k == organization_id}
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
    """The year-end forecast of the city's schools (or one school: ``organization_id``, read
    from its own row alone; the forecast's city line is then None).

    ``as_of``: the moment the forecast is made as if (the backtest); only what was known then is
    used. Without it, ``now``. ``whole_year``: the year's own report when the caller has it (the
    backtest reuses it for every month)."""
    now = now or now_utc()
    as_of = as_of or now
    period = academic_year_period(year)
    tune_for_reports()
    finished = as_of >= period.ends_before
    known_period = None
    if not (as_of >= now or finished) and as_of > period.starts_at:
        known_period = Period(period.first_day, as_of.astimezone(TOMSK).date() - timedelta(days=1))
    if organization_id is None:
        if whole_year is None:
            whole_year = compute_indicators(year, now=now)
        school_rows = [r for r in whole_year.organizations if r.kind == OrgKind.SCHOOL]
        city_figures: dict[str, Figure] | None = whole_year.city
    else:
        row = (whole_year.row_for(organization_id) if whole_year is not None
               else organization_indicators(year, organization_id, now=now))
        school_rows = [row] if row is not None and row.kind == OrgKind.SCHOOL else []
        city_figures = None
    if as_of >= now or finished:
        known = whole_year if organization_id is None else None
        known_rows = {r.id: r for r in school_rows}
    elif known_period is None:
        known, known_rows = None, {}
    elif organization_id is None:
        known = compute_indicators(known_period, now=as_of)
        known_rows = {r.id: r for r in known.organizations}
    else:
        known = None
        own_row = organization_indicators(known_period, organization_id, now=as_of)
        known_rows = {} if own_row is None else {organization_id: own_row}
    city_targets, own_targets = targets_of_year(year)

    def known_a(org_id: int, key: str) -> int:
        row = known_rows.get(org_id)
        return row.indicators[key].a if row is not None else 0

    if finished:
        def final(org_id, figures):
            return {k: IndicatorForecast(k, figures[k], figures[k].a, figures[k].a,
                                         figures[k].a,
                                         effective_target(city_targets, own_targets, org_id, k))
                    for k in INDICATOR_KEYS}
        city_final = None if city_figures is None else OrgForecast(
            None, "Город", final(None, city_figures), 1.0)
        return Forecast(year, as_of, True, city_final,
                        [OrgForecast(r.id, r.display_name, final(r.id, r.indicators), 1.0)
                         for r in school_rows])

    rates = show_rates(as_of, year, organization_id, now)
    city_rate_cache: list[float] = []

    def city_rate() -> float:
        """The city's show rate: read for one school only when it has none of its own."""
        if not city_rate_cache:
            every = rates if organization_id is None else show_rates(as_of, year, None, now)
            confirmed_all = sum(c for c, _ in every.values())
            city_rate_cache.append((sum(k for _, k in every.values()) / confirmed_all)
                                   if confirmed_all else 1.0)
        return city_rate_cache[0]

    people = booked_people(as_of, year, organization_id)
    event_bookings = booked_events(as_of, year, organization_id)
    last = last_year_pace(as_of, year, organization_id, now)
    share_elapsed = teaching_share_elapsed(year, as_of)
    city_last_cache: list[_CityLast] = []

    def city_last_year() -> _CityLast:
        """Read only when needed: one school's forecast reads every school's last year only
        when that school has none of its own."""
        if not city_last_cache:
            city_last_cache.append(_city_last_year(last, organization_id, as_of, year, now))
        return city_last_cache[0]

    def rate_of(org_id: int) -> tuple[float, bool]:
        confirmed, came = rates.get(org_id, (0, 0))
        if confirmed:
            return came / confirmed, True
        return city_rate(), False

    schools: list[OrgForecast] = []
    for row in school_rows:
        rate, own_rate = rate_of(row.id)
        booked = people.get(row.id, [0] * 5)
        own_events = event_bookings.by_org.get(row.id, {})
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
                # (students booked → events) histograms: all events, early ones.
                histogram = own_events.get(key == "events_early", {})
                n_booked = float(sum(histogram.values()))
                expected = sum(m * (1 - (1 - rate) ** n) for n, m in histogram.items())
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

    if organization_id is not None:
        return Forecast(year, as_of, False, None, schools)
    city = _city_forecast(whole_year, known, schools, event_bookings, city_rate(),
                          last.city_events, share_elapsed, city_targets)
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
                    year: int, now: datetime | None) -> _CityLast:
    """The city's share of the not-yet-reached reached later last year, per people indicator
    (the schools' sums); read for a school without a history of its own."""
    if organization_id is not None:
        # One school's cut holds only its own rows (none: this school has no history); the
        # city's shares need every school.
        last = last_year_pace(as_of, year, None, now)
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
                   schools: list[OrgForecast], event_bookings: BookedEvents, city_rate: float,
                   city_events: dict, share_elapsed: float, city_targets: dict) -> OrgForecast:
    result: dict[str, IndicatorForecast] = {}
    for key in INDICATOR_KEYS:
        figure = whole_year.city[key]
        a = known.city[key].a if known is not None else 0
        b = figure.b
        if key in EVENT_KEYS:
            histogram = event_bookings.city[key == "events_early"]
            n_booked = float(sum(histogram.values()))
            expected = sum(m * (1 - (1 - city_rate) ** n) for n, m in histogram.items())
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
