"""The nine monitoring indicators (domain.md, «Методика расчета показателей»), in aggregate SQL.

``compute_indicators(period, ...)`` answers for every school, every kindergarten (their own
section) and the city in five small queries, whatever the number of check-ins: nothing loops
over check-ins in Python. The rules, decided once here and documented in docs/reports.md:

- A check-in is a scan with outcome ``ok``, not undone (always of a ticket of the scanned
  event: the check-in service answers ``wrong_event`` otherwise). Failed, undone, repeat and
  wrong-event scans never count (the unique index keeps one check-in per
  ticket; ``COUNT(DISTINCT ...)`` keeps one per person).
- A check-in belongs to the period of its event's start (Asia/Tomsk dates, both ends included).
- People whose names were removed (anonymized) still count: only ids are used.
- Students (indicators 1–3) and teachers (6–7) are counted by the organization they belong to;
  the city section sums schools, the preschool section sums kindergartens (a person belongs to one
  organization, so distinct counts add up).
- Teachers: those checked in on a teacher ticket, plus those named as running staff of a
  published (not cancelled) event of the period that has already started.
- Events (8–9): B is the plan figure when one is set and the report covers a whole academic year
  without narrowing (the school's ``Baseline.planned_events`` / the city's ``CityPlan``), else the
  number of events of the period published in the system, cancelled ones included, whose audience
  is the section's children (``students`` for schools, ``preschool`` for kindergartens) and that
  are open to the organization (public ones, and its own school-internal ones; the city counts all).
  A = those of them, not cancelled, with at least one student of the organization (of the section,
  for the city) checked in.
- Per organization, indicators 4 and 5 are 0 or 1 out of 1.
- Narrowing by categories, organizer or roadmap section narrows the events everything is
  counted from; the baselines (B of 1–3, 6–7) stay.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa

from models import (
    Baseline,
    Category,
    CityPlan,
    Event,
    EventStaff,
    Organization,
    OrgKind,
    RoadmapItem,
    Scan,
    Student,
    Teacher,
    Ticket,
    db,
    now_utc,
)
from models.academic_year import Period, academic_year_of, academic_year_period

INDICATOR_KEYS = (
    "students", "students_early", "students_ovz", "schools", "schools_early",
    "teachers", "teachers_early", "events", "events_early",
)

#: Russian titles, in the order of the city's methodology.
INDICATOR_TITLES = {
    "students": "Обучающиеся, вовлечённые в профориентационные мероприятия",
    "students_early": "Обучающиеся, вовлечённые в раннюю профориентацию",
    "students_ovz": "Обучающиеся с ОВЗ и инвалидностью, вовлечённые в мероприятия",
    "schools": "Общеобразовательные организации, принявшие участие",
    "schools_early": "Общеобразовательные организации в ранней профориентации",
    "teachers": "Педагоги, участвовавшие в мероприятиях или проводившие их",
    "teachers_early": "Педагоги в ранней профориентации",
    "events": "Проведённые мероприятия от запланированных",
    "events_early": "Проведённые мероприятия ранней профориентации от запланированных",
}
#: Short column headers for tables and charts.
INDICATOR_SHORT = {
    "students": "Обучающиеся",
    "students_early": "Ранняя профориентация",
    "students_ovz": "Обучающиеся с ОВЗ",
    "schools": "Школы",
    "schools_early": "Школы (ранняя)",
    "teachers": "Педагоги",
    "teachers_early": "Педагоги (ранняя)",
    "events": "Мероприятия",
    "events_early": "Мероприятия (ранние)",
}
#: In the preschool section the same indicators speak of kindergartens and their children.
PRESCHOOL_SHORT = {**INDICATOR_SHORT, "students": "Воспитанники",
                   "students_early": "Воспитанники (ранняя)",
                   "students_ovz": "Воспитанники с ОВЗ", "schools": "ДОО",
                   "schools_early": "ДОО (ранняя)"}

SECTION_AUDIENCE = {OrgKind.SCHOOL: "students", OrgKind.PRESCHOOL: "preschool"}
_HUNDRED = Decimal(100)
_TENTH = Decimal("0.1")


def name_key(name: str) -> tuple:
    """«СОШ № 2» before «СОШ № 10»: numbers inside names compare as numbers."""
    return tuple(int(part) if part.isdigit() else part
                 for part in re.split(r"(\d+)", name.lower().replace("ё", "е")) if part)


def percent_of(a: int, b: int) -> Decimal | None:
    """A × 100 / B rounded half up to one decimal; None when B = 0."""
    if not b:
        return None
    return (Decimal(a) * _HUNDRED / Decimal(b)).quantize(_TENTH, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Figure:
    a: int
    b: int

    @property
    def percent(self) -> Decimal | None:
        return percent_of(self.a, self.b)

    def to_json(self) -> dict:
        value = self.percent
        return {"a": self.a, "b": self.b, "percent": None if value is None else float(value)}


@dataclass
class OrgIndicators:
    id: int
    name: str
    short_name: str | None
    kind: OrgKind
    indicators: dict[str, Figure]

    @property
    def display_name(self) -> str:
        return self.short_name or self.name

    def to_json(self) -> dict:
        return {"id": self.id, "name": self.name, "kind": self.kind.value,
                "indicators": {k: self.indicators[k].to_json() for k in INDICATOR_KEYS}}


@dataclass(frozen=True)
class ReportFilters:
    """What narrows the events counted: categories, an organizer, a roadmap section."""

    category_codes: tuple[str, ...] = ()
    organizer_id: int | None = None
    roadmap_section: int | None = None

    @property
    def narrowed(self) -> bool:
        return bool(self.category_codes) or self.organizer_id is not None \
            or self.roadmap_section is not None


@dataclass
class IndicatorReport:
    period: Period
    #: The academic year whose baselines are used (that of the period's first day).
    baseline_year: int
    #: True when the period is exactly that academic year (plan figures may apply).
    whole_year: bool
    filters: ReportFilters
    city: dict[str, Figure]
    preschools: dict[str, Figure]
    organizations: list[OrgIndicators] = field(default_factory=list)

    @property
    def schools(self) -> list[OrgIndicators]:
        return [o for o in self.organizations if o.kind == OrgKind.SCHOOL]

    @property
    def kindergartens(self) -> list[OrgIndicators]:
        return [o for o in self.organizations if o.kind == OrgKind.PRESCHOOL]

    def row_for(self, organization_id: int) -> OrgIndicators | None:
        return next((o for o in self.organizations if o.id == organization_id), None)

    def section_for(self, kind: OrgKind) -> dict[str, Figure]:
        return self.city if kind == OrgKind.SCHOOL else self.preschools

    def to_json(self) -> dict:
        return {
            "period": {"from": self.period.first_day.isoformat(),
                       "to": self.period.last_day.isoformat()},
            "city": {k: self.city[k].to_json() for k in INDICATOR_KEYS},
            "preschools": {k: self.preschools[k].to_json() for k in INDICATOR_KEYS},
            "organizations": [o.to_json() for o in self.organizations],
        }


# --- the SQL building blocks -----------------------------------------------------------------

scans = Scan.__table__
tickets = Ticket.__table__
events = Event.__table__
students = Student.__table__
teachers = Teacher.__table__
orgs = Organization.__table__
staff = EventStaff.__table__


def as_period(period: Period | int) -> Period:
    return academic_year_period(period) if isinstance(period, int) else period


def event_conditions(period: Period, filters: ReportFilters, ev=events) -> list:
    """Where-clauses choosing the events of the period, narrowed by the filters."""
    conditions = [ev.c.starts_at >= period.starts_at, ev.c.starts_at < period.ends_before]
    if filters.category_codes:
        conditions.append(ev.c.category_id.in_(
            sa.select(Category.__table__.c.id)
            .where(Category.__table__.c.code.in_(list(filters.category_codes)))
        ))
    if filters.organizer_id is not None:
        conditions.append(ev.c.organizer_id == filters.organizer_id)
    if filters.roadmap_section is not None:
        conditions.append(ev.c.roadmap_item_id.in_(
            sa.select(RoadmapItem.__table__.c.id)
            .where(RoadmapItem.__table__.c.section == filters.roadmap_section)
        ))
    return conditions


def scans_in_period(period: Period, filters: ReportFilters, sc=scans):
    """``scans.event_id IN (events of the period)``: lets the planner start from the period's
    events and walk ``ix_scans_event_outcome`` instead of every check-in ever made (SQLite picks
    the latter without statistics)."""
    chosen = events.alias("chosen_events")
    return sc.c.event_id.in_(sa.select(chosen.c.id).where(*event_conditions(period, filters,
                                                                            chosen)))


def tickets_in_period(period: Period, filters: ReportFilters, tk=tickets):
    """The same restriction on ``tickets.event_id`` (equal to ``scans.event_id`` for a
    check-in). PostgreSQL then reads only the period's tickets through ``ix_tickets_event_status``
    instead of hashing every ticket of every year (half the time at city scale); SQLite is
    faster without it (it would walk every ticket of the period, no-shows included)."""
    chosen = events.alias("chosen_ticket_events")
    return tk.c.event_id.in_(sa.select(chosen.c.id).where(*event_conditions(period, filters,
                                                                            chosen)))


def period_restriction(period: Period, filters: ReportFilters) -> list:
    """Where-clauses restricting check-ins to the period, the best form for the database."""
    conditions = [scans_in_period(period, filters)]
    if db.session.get_bind().dialect.name == "postgresql":
        conditions.append(tickets_in_period(period, filters))
    return conditions


def checkins_join(sc=scans, tk=tickets, ev=events):
    """scans ⋈ tickets ⋈ events, with the conditions that make a scan a check-in."""
    return (
        sc.join(tk, tk.c.id == sc.c.ticket_id)
        .join(ev, ev.c.id == tk.c.event_id)
    )


def checkin_conditions(sc=scans, tk=tickets) -> list:
    """A scan that is a check-in. An ``ok`` scan is always of a ticket of the scanned event (the
    check-in service answers ``wrong_event`` otherwise), so the event of a check-in is its
    ticket's event; no extra ``scans.event_id = tickets.event_id`` here: that second equality
    on the join makes PostgreSQL underestimate the rows a thousandfold and pick nested loops."""
    return [sc.c.outcome == "ok", sc.c.undone_at.is_(None)]


def _section_audience(kind_column):
    return sa.case((kind_column == OrgKind.SCHOOL.value, "students"), else_="preschool")


def _edu_kinds() -> list[str]:
    return [OrgKind.SCHOOL.value, OrgKind.PRESCHOOL.value]


def people_query(period: Period, filters: ReportFilters):
    """One pass over the period's check-ins, grouped by the holder's organization: distinct
    students, early, ОВЗ; events held by its students (audience ``students``: all, early;
    audience ``preschool``: all, early — the caller keeps the pair matching the organization's
    kind); distinct teachers checked in (all, early). Parents have no organization: their group
    (NULL) is ignored.

    Grouping by the holder's organization id, not joining ``organizations``: a join on the
    ``COALESCE`` makes PostgreSQL fall back to a nested loop over every organization."""
    holder_org = sa.func.coalesce(students.c.organization_id,
                                  teachers.c.organization_id).label("org_id")
    early = events.c.early.is_(True)

    def held(audience: str):
        return sa.and_(
            students.c.id.is_not(None),
            events.c.status == "published",
            events.c.audience == audience,
            sa.or_(events.c.school_internal.is_(False),
                   events.c.organizer_id == students.c.organization_id),
        )

    return (
        sa.select(
            holder_org,
            sa.func.count(sa.distinct(students.c.id)),
            sa.func.count(sa.distinct(sa.case((early, students.c.id)))),
            sa.func.count(sa.distinct(sa.case((students.c.ovz.is_(True), students.c.id)))),
            sa.func.count(sa.distinct(sa.case((held("students"), events.c.id)))),
            sa.func.count(sa.distinct(sa.case((sa.and_(held("students"), early),
                                               events.c.id)))),
            sa.func.count(sa.distinct(sa.case((held("preschool"), events.c.id)))),
            sa.func.count(sa.distinct(sa.case((sa.and_(held("preschool"), early),
                                               events.c.id)))),
            sa.func.count(sa.distinct(teachers.c.id)),
            sa.func.count(sa.distinct(sa.case((early, teachers.c.id)))),
        )
        .select_from(
            checkins_join()
            .outerjoin(students, students.c.id == tickets.c.student_id)
            .outerjoin(teachers, teachers.c.id == tickets.c.teacher_id)
        )
        .where(*checkin_conditions(), *period_restriction(period, filters))
        .group_by(holder_org)
    )


def city_events_held_query(period: Period, filters: ReportFilters):
    """Per section: events (all, early) of the section's audience with ≥ 1 of its children."""
    sc, tk, st, og = scans.alias("s2"), tickets.alias("t2"), students.alias("st2"), \
        orgs.alias("o2")

    def attended_by(kind: OrgKind):
        return sa.exists(
            sa.select(sa.literal(1))
            .select_from(sc.join(tk, tk.c.id == sc.c.ticket_id)
                         .join(st, st.c.id == tk.c.student_id)
                         .join(og, og.c.id == st.c.organization_id))
            .where(tk.c.event_id == events.c.id, tk.c.kind == "student",
                   *checkin_conditions(sc, tk), og.c.kind == kind.value)
        )

    school_held = sa.and_(events.c.audience == "students", attended_by(OrgKind.SCHOOL))
    preschool_held = sa.and_(events.c.audience == "preschool", attended_by(OrgKind.PRESCHOOL))

    def total(condition):
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    return (
        sa.select(
            total(school_held),
            total(sa.and_(school_held, events.c.early.is_(True))),
            total(preschool_held),
            total(sa.and_(preschool_held, events.c.early.is_(True))),
        )
        .where(*event_conditions(period, filters), events.c.status == "published",
               events.c.audience.in_(["students", "preschool"]))
    )


def staff_only_query(period: Period, filters: ReportFilters, now):
    """Per organization: teachers running a published, already started event of the period who
    are not already counted by a check-in (all events; early events) — added to
    ``people_query``'s teachers. Small: only staff rows are looked at."""
    sc, tk, ev = scans.alias("s3"), tickets.alias("t3"), events.alias("e3")

    def checked_in(early_only: bool):
        conditions = [tk.c.teacher_id == staff.c.teacher_id, *checkin_conditions(sc, tk),
                      *event_conditions(period, filters, ev)]
        if early_only:
            conditions.append(ev.c.early.is_(True))
        return sa.exists(sa.select(sa.literal(1))
                         .select_from(tk.join(sc, sc.c.ticket_id == tk.c.id)
                                      .join(ev, ev.c.id == tk.c.event_id))
                         .where(*conditions))

    return (
        sa.select(
            teachers.c.organization_id,
            sa.func.count(sa.distinct(sa.case((~checked_in(False), staff.c.teacher_id)))),
            sa.func.count(sa.distinct(sa.case((sa.and_(events.c.early.is_(True),
                                                        ~checked_in(True)),
                                               staff.c.teacher_id)))),
        )
        .select_from(staff.join(events, events.c.id == staff.c.event_id)
                     .join(teachers, teachers.c.id == staff.c.teacher_id))
        .where(*event_conditions(period, filters), events.c.status == "published",
               events.c.starts_at <= now)
        .group_by(teachers.c.organization_id)
    )


def planned_events_query(period: Period, filters: ReportFilters):
    """Events published for the period (cancelled included), by audience and internal owner."""
    owner = sa.case((events.c.school_internal.is_(True), events.c.organizer_id))
    return (
        sa.select(
            events.c.audience, owner.label("owner"), sa.func.count(),
            sa.func.coalesce(sa.func.sum(sa.case((events.c.early.is_(True), 1), else_=0)), 0),
        )
        .where(*event_conditions(period, filters),
               events.c.status.in_(["published", "cancelled"]),
               events.c.audience.in_(["students", "preschool"]))
        .group_by(events.c.audience, owner)
    )


def organizations_query(baseline_year: int):
    """Schools and kindergartens with their baseline for the year (active or with a baseline)."""
    bl = Baseline.__table__
    return (
        sa.select(orgs.c.id, orgs.c.name, orgs.c.short_name, orgs.c.kind,
                  bl.c.students_total, bl.c.students_ovz, bl.c.teachers_total,
                  bl.c.planned_events, bl.c.planned_early_events)
        .select_from(orgs.outerjoin(bl, sa.and_(bl.c.organization_id == orgs.c.id,
                                                bl.c.year == baseline_year)))
        .where(orgs.c.kind.in_(_edu_kinds()),
               sa.or_(orgs.c.active.is_(True), bl.c.id.is_not(None)))
        .order_by(orgs.c.kind, orgs.c.name)
    )


def tune_for_reports() -> None:
    """PostgreSQL, for this transaction only: no JIT (compiling ~170 expressions costs 0.2 s,
    more than it saves on a one-second query) and room to sort and hash a year of check-ins in
    memory instead of spilling to disk. Nothing to do on SQLite."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SET LOCAL jit = off"))
        db.session.execute(sa.text("SET LOCAL work_mem = '64MB'"))


def normalize_filters(category_codes: Iterable[str] | None = None, organizer_id: int | None = None,
                      roadmap_section: int | None = None) -> ReportFilters:
    codes = tuple(sorted({c for c in (category_codes or ()) if c}))
    return ReportFilters(codes, organizer_id, roadmap_section)


def compute_indicators(period: Period | int, *, organization_id: int | None = None,
                       category_codes: Iterable[str] | None = None,
                       organizer_id: int | None = None, roadmap_section: int | None = None,
                       now=None) -> IndicatorReport:
    """All nine indicators for every school and kindergarten and both city sections.

    ``period`` is a :class:`Period` or an academic year. With ``organization_id`` only that
    organization's row is returned (the city totals are always complete).
    """
    period = as_period(period)
    filters = normalize_filters(category_codes, organizer_id, roadmap_section)
    now = now or now_utc()
    baseline_year = academic_year_of(period.first_day)
    whole_year = period == academic_year_period(baseline_year)
    use_plans = whole_year and not filters.narrowed
    session = db.session
    tune_for_reports()

    people_rows = {row[0]: row[1:] for row in session.execute(people_query(period, filters))}
    staff_rows = {row[0]: row[1:] for row in session.execute(
        staff_only_query(period, filters, now))}
    city_held = session.execute(city_events_held_query(period, filters)).one()
    planned_public = {"students": [0, 0], "preschool": [0, 0]}
    planned_internal: dict[tuple[str, int], list[int]] = {}
    for audience, owner, count, early in session.execute(planned_events_query(period, filters)):
        audience = getattr(audience, "value", audience)
        planned_public[audience][0] += count
        planned_public[audience][1] += early
        if owner is not None:
            planned_internal[(audience, owner)] = [count, early]
    # Public events are open to everyone: keep them apart from each school's own internal ones.
    internal_total = {"students": [0, 0], "preschool": [0, 0]}
    for (audience, _owner), (count, early) in planned_internal.items():
        internal_total[audience][0] += count
        internal_total[audience][1] += early
    city_plan = session.get(CityPlan, baseline_year) if use_plans else None

    rows: list[OrgIndicators] = []
    totals = {kind: dict.fromkeys(("students", "students_early", "students_ovz", "schools",
                                   "schools_early", "teachers", "teachers_early", "count",
                                   "b_students", "b_ovz", "b_teachers"), 0)
              for kind in SECTION_AUDIENCE}
    for (org_id, name, short_name, kind, b_students, b_ovz, b_teachers, plan, plan_early) \
            in session.execute(organizations_query(baseline_year)):
        kind = OrgKind(getattr(kind, "value", kind))
        audience = SECTION_AUDIENCE[kind]
        row = people_rows.get(org_id, (0,) * 9)
        held = row[3:5] if kind == OrgKind.SCHOOL else row[5:7]
        st = (row[0], row[1], row[2], held[0], held[1])
        extra = staff_rows.get(org_id, (0, 0))
        te = (row[7] + extra[0], row[8] + extra[1])
        own_internal = planned_internal.get((audience, org_id), [0, 0])
        public_count = planned_public[audience][0] - internal_total[audience][0]
        public_early = planned_public[audience][1] - internal_total[audience][1]
        b_events = plan if (use_plans and plan is not None) else public_count + own_internal[0]
        b_early = plan_early if (use_plans and plan_early is not None) \
            else public_early + own_internal[1]
        figures = {
            "students": Figure(st[0], b_students or 0),
            "students_early": Figure(st[1], b_students or 0),
            "students_ovz": Figure(st[2], b_ovz or 0),
            "schools": Figure(1 if st[0] else 0, 1),
            "schools_early": Figure(1 if st[1] else 0, 1),
            "teachers": Figure(te[0], b_teachers or 0),
            "teachers_early": Figure(te[1], b_teachers or 0),
            "events": Figure(st[3], b_events),
            "events_early": Figure(st[4], b_early),
        }
        t = totals[kind]
        t["students"] += st[0]
        t["students_early"] += st[1]
        t["students_ovz"] += st[2]
        t["schools"] += 1 if st[0] else 0
        t["schools_early"] += 1 if st[1] else 0
        t["teachers"] += te[0]
        t["teachers_early"] += te[1]
        t["count"] += 1
        t["b_students"] += b_students or 0
        t["b_ovz"] += b_ovz or 0
        t["b_teachers"] += b_teachers or 0
        if organization_id is None or org_id == organization_id:
            rows.append(OrgIndicators(org_id, name, short_name, kind, figures))

    def section(kind: OrgKind, held: int, held_early: int, plan_row) -> dict[str, Figure]:
        t = totals[kind]
        audience = SECTION_AUDIENCE[kind]
        b_events, b_early = planned_public[audience]
        if plan_row is not None and plan_row.planned_events is not None:
            b_events = plan_row.planned_events
        if plan_row is not None and plan_row.planned_early_events is not None:
            b_early = plan_row.planned_early_events
        return {
            "students": Figure(t["students"], t["b_students"]),
            "students_early": Figure(t["students_early"], t["b_students"]),
            "students_ovz": Figure(t["students_ovz"], t["b_ovz"]),
            "schools": Figure(t["schools"], t["count"]),
            "schools_early": Figure(t["schools_early"], t["count"]),
            "teachers": Figure(t["teachers"], t["b_teachers"]),
            "teachers_early": Figure(t["teachers_early"], t["b_teachers"]),
            "events": Figure(held, b_events),
            "events_early": Figure(held_early, b_early),
        }

    rows.sort(key=lambda row: (row.kind != OrgKind.SCHOOL, name_key(row.name)))
    city = section(OrgKind.SCHOOL, city_held[0], city_held[1], city_plan)
    # The city's plan is a plan of the schools' programme; kindergartens count what is published.
    preschools = section(OrgKind.PRESCHOOL, city_held[2], city_held[3], None)
    return IndicatorReport(period, baseline_year, whole_year, filters, city, preschools, rows)


# --- the trend by month ----------------------------------------------------------------------

@dataclass(frozen=True)
class MonthPoint:
    first_day: date
    #: Student check-ins at events of the month.
    checkins: int
    #: Distinct students involved from the period's start to this month's end.
    cumulative: int


MONTHS_NOMINATIVE = ["январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август",
                     "сентябрь", "октябрь", "ноябрь", "декабрь"]


def month_starts(period: Period) -> list[date]:
    starts = [period.first_day]
    current = date(period.first_day.year, period.first_day.month, 1)
    while True:
        current = date(current.year + current.month // 12, current.month % 12 + 1, 1)
        if current > period.last_day:
            return starts
        starts.append(current)


def monthly_trend(period: Period | int, *, kind: OrgKind = OrgKind.SCHOOL,
                  organization_id: int | None = None, category_codes=None, organizer_id=None,
                  roadmap_section=None) -> list[MonthPoint]:
    """Student check-ins per month of the period and the cumulative reach (distinct students
    first checked in by each month's end), in two grouped queries."""
    period = as_period(period)
    filters = normalize_filters(category_codes, organizer_id, roadmap_section)
    tune_for_reports()
    starts = month_starts(period)
    bounds = [Period(s, s).starts_at for s in starts[1:]]

    def bucket(column):
        if not bounds:
            return sa.literal(0)
        return sa.case(*[(column < bound, index) for index, bound in enumerate(bounds)],
                       else_=len(bounds))

    where = [*checkin_conditions(), *period_restriction(period, filters),
             tickets.c.kind == "student", orgs.c.kind == kind.value]
    if organization_id is not None:
        where.append(students.c.organization_id == organization_id)
    joined = (checkins_join().join(students, students.c.id == tickets.c.student_id)
              .join(orgs, orgs.c.id == students.c.organization_id))
    # Check-ins per event first (no sort: the scans come grouped by event), then by month.
    per_event = (sa.select(events.c.starts_at.label("starts_at"), sa.func.count().label("n"))
                 .select_from(joined).where(*where).group_by(events.c.id)
                 .subquery("per_event"))
    month = bucket(per_event.c.starts_at).label("month")
    per_month = dict(db.session.execute(
        sa.select(month, sa.func.sum(per_event.c.n)).group_by(month)).all())
    first = (sa.select(sa.func.min(events.c.starts_at).label("first"))
             .select_from(joined).where(*where).group_by(tickets.c.student_id)
             .subquery("firsts"))
    first_month = bucket(first.c.first).label("month")
    newcomers = dict(db.session.execute(
        sa.select(first_month, sa.func.count()).group_by(first_month)).all())
    points, running = [], 0
    for index, start in enumerate(starts):
        running += newcomers.get(index, 0)
        points.append(MonthPoint(start, int(per_month.get(index) or 0), running))
    return points
