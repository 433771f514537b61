"""The nine monitoring indicators (docs/domain.md «The nine indicators»), in aggregate SQL.

``compute_indicators(period, ...)`` answers for every school, every kindergarten (their own
section) and the city in six small queries, whatever the number of check-ins: nothing loops
over check-ins in Python. The rules, decided once here and documented in docs/reports.md:

- A check-in is a scan with outcome ``ok``, not undone (always of a ticket of the scanned
  event: the check-in service answers ``wrong_event`` otherwise). Failed, undone, repeat and
  wrong-event scans never count (the unique index keeps one check-in per
  ticket; grouping by person keeps one per person).
- Check-ins are read from ``scans`` alone: each scan records who its ticket is for (student or
  teacher) and their organization, copied when it was scanned (``models.scan.Scan``). So a
  check-in counts for the organization the person belonged to at the door; people do not
  change organization in this system (a move is a new roster entry), so this equals their
  organization today.
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
- Parents are not one of the nine: beside them, distinct parents checked in (a person known by
  the phone, else the e-mail, else the one sign-up) count for the school the parent named as the
  child's (``parent_signups.child_organization_id``, read through the ticket: a parent's scan
  records no organization); ``city`` counts those who named a school, ``preschools`` a
  kindergarten; a parent who named none counts in the overall total only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa

from formats.text import natural_key
from models import (
    Baseline,
    Category,
    CityPlan,
    Event,
    EventStaff,
    Organization,
    OrgKind,
    ParentSignup,
    RoadmapItem,
    Scan,
    Student,
    Teacher,
    Ticket,
    db,
    now_utc,
)
from models.academic_year import TOMSK, Period, academic_year_of, academic_year_period
from models.scan import VERIFIED_SOURCES
from reports.cache import kept

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
    #: Parents attended who named this organization as their child's (not an indicator).
    parents: int = 0

    @property
    def display_name(self) -> str:
        return self.short_name or self.name

    def to_json(self) -> dict:
        parents = {"attended": self.parents}
        return {"id": self.id, "name": self.name, "kind": self.kind.value,
                "indicators": {**{k: self.indicators[k].to_json() for k in INDICATOR_KEYS},
                               "parents": parents},
                "parents": parents}


@dataclass(frozen=True)
class ParentsAttended:
    """Parents attended in the period, beside the nine indicators."""

    #: Every parent checked in (the city's total, with or without a school named); each
    #: person once (:func:`parents_query`).
    attended: int = 0
    #: Of them, those who named a school / a kindergarten / none (a parent of two children may
    #: be in more than one).
    schools: int = 0
    preschools: int = 0
    without_organization: int = 0


@dataclass(frozen=True)
class ReportFilters:
    """What narrows the events counted: categories, an organizer, a roadmap section."""

    category_codes: tuple[str, ...] = ()
    organizer_id: int | None = None
    roadmap_section: int | None = None
    #: Only check-ins verified at a door (``models.scan.VERIFIED_SOURCES``): not class lists,
    #: not uploaded lists. Narrows the check-ins, not the events.
    verified_only: bool = False

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
    parents: ParentsAttended = field(default_factory=ParentsAttended)

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
            "city": {**{k: self.city[k].to_json() for k in INDICATOR_KEYS},
                     "parents": {"attended": self.parents.schools}},
            "preschools": {**{k: self.preschools[k].to_json() for k in INDICATOR_KEYS},
                           "parents": {"attended": self.parents.preschools}},
            "organizations": [o.to_json() for o in self.organizations],
            "parents": {
                "attended": self.parents.attended,
                "schools": self.parents.schools,
                "preschools": self.parents.preschools,
                "without_organization": self.parents.without_organization,
                "by_organization": [{"id": o.id, "name": o.name, "kind": o.kind.value,
                                     "attended": o.parents}
                                    for o in self.organizations if o.parents],
            },
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
    events and walk ``ix_scans_event_checkins`` instead of every check-in ever made (SQLite picks
    the latter without statistics)."""
    chosen = events.alias("chosen_events")
    return sc.c.event_id.in_(sa.select(chosen.c.id).where(*event_conditions(period, filters,
                                                                            chosen)))


def checkin_conditions(sc=scans, filters: ReportFilters | None = None) -> list:
    """A scan that is a check-in (with ``filters.verified_only``: one verified at a door). An
    ``ok`` scan is always of a ticket of the scanned event (the check-in service answers
    ``wrong_event`` otherwise), so a check-in's event is ``scans.event_id``."""
    conditions = [sc.c.outcome == "ok", sc.c.undone_at.is_(None)]
    if filters is not None and filters.verified_only:
        conditions.append(sc.c.source.in_([s.value for s in VERIFIED_SOURCES]))
    return conditions


def _edu_kinds() -> list[str]:
    return [OrgKind.SCHOOL.value, OrgKind.PRESCHOOL.value]


def checkin_facts_conditions(period: Period, filters: ReportFilters, sc=scans) -> list:
    """The check-ins of the period's events, read from ``scans`` alone: each check-in carries
    who it counts for (``student_id``/``teacher_id`` and their ``organization_id``, copied from
    the ticket when it was scanned). ``ix_scans_event_checkins`` (event, outcome, undone_at,
    organization, student, teacher) answers this from the index without touching the table."""
    return [*checkin_conditions(sc, filters), scans_in_period(period, filters, sc)]


def _one_if(condition):
    return sa.case((condition, 1), else_=0)


def _only(column, organization_id: int | None) -> list:
    """With ``organization_id``: the condition keeping that organization's rows (a school's
    own row, :func:`organization_indicators`)."""
    return [] if organization_id is None else [column == organization_id]


def persons_query(period: Period, filters: ReportFilters, organization_id: int | None = None):
    """Per organization: students involved (all, early, ОВЗ) and teachers checked in (all,
    early), each person once.

    Two levels instead of ``COUNT(DISTINCT …)`` over every check-in: first one row per person
    (grouped by organization and person, with "was at an early event"), then plain counts per
    organization. The person's ОВЗ flag is read once per person, not once per check-in.
    Parents (no organization) are left out."""
    early = sa.func.max(_one_if(events.c.early.is_(True)))
    persons = (
        sa.select(scans.c.organization_id.label("org_id"), scans.c.student_id,
                  scans.c.teacher_id, early.label("early"))
        .select_from(scans.join(events, events.c.id == scans.c.event_id))
        .where(*checkin_facts_conditions(period, filters), scans.c.organization_id.is_not(None),
               *_only(scans.c.organization_id, organization_id))
        .group_by(scans.c.organization_id, scans.c.student_id, scans.c.teacher_id)
        .subquery("persons")
    )
    is_student = persons.c.student_id.is_not(None)
    is_teacher = persons.c.teacher_id.is_not(None)
    return (
        sa.select(
            persons.c.org_id,
            sa.func.count(persons.c.student_id),
            sa.func.sum(_one_if(sa.and_(is_student, persons.c.early == 1))),
            sa.func.sum(_one_if(students.c.ovz.is_(True))),
            sa.func.count(persons.c.teacher_id),
            sa.func.sum(_one_if(sa.and_(is_teacher, persons.c.early == 1))),
        )
        .select_from(persons.outerjoin(students, students.c.id == persons.c.student_id))
        .group_by(persons.c.org_id)
    )


def _held_pairs(period: Period, filters: ReportFilters, organization_id: int | None = None):
    """(event, organization) for every event of the period with at least one student of the
    organization checked in: one index range per event, no sort."""
    return (
        sa.select(scans.c.event_id, scans.c.organization_id.label("org_id"))
        .where(*checkin_facts_conditions(period, filters), scans.c.student_id.is_not(None),
               *_only(scans.c.organization_id, organization_id))
        .group_by(scans.c.event_id, scans.c.organization_id)
        .subquery("held_pairs")
    )


def held_events_query(period: Period, filters: ReportFilters,
                      organization_id: int | None = None):
    """Per organization: published events held by its students — of audience ``students``
    (all, early) and of audience ``preschool`` (all, early); the caller keeps the pair
    matching the organization's kind. A school-internal event counts for its own school
    only."""
    pairs = _held_pairs(period, filters, organization_id)
    open_to = sa.and_(events.c.status == "published",
                      sa.or_(events.c.school_internal.is_(False),
                             events.c.organizer_id == pairs.c.org_id))
    early = events.c.early.is_(True)

    def held(audience: str, *extra):
        return sa.func.sum(_one_if(sa.and_(open_to, events.c.audience == audience, *extra)))

    return (
        sa.select(pairs.c.org_id, held("students"), held("students", early),
                  held("preschool"), held("preschool", early))
        .select_from(pairs.join(events, events.c.id == pairs.c.event_id))
        .group_by(pairs.c.org_id)
    )


def city_events_held_query(period: Period, filters: ReportFilters):
    """Per section: events (all, early) of the section's audience with ≥ 1 of its children."""
    sc, og = scans.alias("s2"), orgs.alias("o2")

    def attended_by(kind: OrgKind):
        return sa.exists(
            sa.select(sa.literal(1))
            .select_from(sc.join(og, og.c.id == sc.c.organization_id))
            .where(sc.c.event_id == events.c.id, *checkin_conditions(sc, filters),
                   sc.c.student_id.is_not(None), og.c.kind == kind.value)
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


def staff_only_query(period: Period, filters: ReportFilters, now,
                     organization_id: int | None = None):
    """Per organization: teachers running a published, already started event of the period who
    are not already counted by a check-in (all events; early events) — added to
    ``people_query``'s teachers. Small: only staff rows are looked at."""
    sc, tk, ev = scans.alias("s3"), tickets.alias("t3"), events.alias("e3")

    def checked_in(early_only: bool):
        conditions = [tk.c.teacher_id == staff.c.teacher_id, *checkin_conditions(sc, filters),
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
               events.c.starts_at <= now, *_only(teachers.c.organization_id, organization_id))
        .group_by(teachers.c.organization_id)
    )


def parents_query(period: Period, filters: ReportFilters, organization_id: int | None = None):
    """Parents checked in at the period's events: per check-in, the organization the parent
    named as the child's (NULL: none) and who the parent is. A parent's scan records no
    organization (``models.scan.holder_facts``), so both are read through the ticket's sign-up;
    a parent signs up per event, so the same person is known by the phone, else the e-mail
    (both normalized when given), else the sign-up itself (:func:`count_parents`)."""
    ps = ParentSignup.__table__
    who = sa.func.coalesce(ps.c.phone, ps.c.email, sa.cast(ps.c.id, sa.String))
    return (
        sa.select(ps.c.child_organization_id, who.label("who"))
        .select_from(scans.join(tickets, tickets.c.id == scans.c.ticket_id)
                     .join(ps, ps.c.id == tickets.c.parent_signup_id))
        .where(*checkin_facts_conditions(period, filters), scans.c.student_id.is_(None),
               scans.c.teacher_id.is_(None), *_only(ps.c.child_organization_id, organization_id))
        .distinct()
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


def organizations_query(baseline_year: int, organization_id: int | None = None):
    """Schools and kindergartens with their baseline for the year (active or with a baseline)."""
    bl = Baseline.__table__
    return (
        sa.select(orgs.c.id, orgs.c.name, orgs.c.short_name, orgs.c.kind,
                  bl.c.students_total, bl.c.students_ovz, bl.c.teachers_total,
                  bl.c.planned_events, bl.c.planned_early_events)
        .select_from(orgs.outerjoin(bl, sa.and_(bl.c.organization_id == orgs.c.id,
                                                bl.c.year == baseline_year)))
        .where(orgs.c.kind.in_(_edu_kinds()),
               sa.or_(orgs.c.active.is_(True), bl.c.id.is_not(None)),
               *_only(orgs.c.id, organization_id))
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
                      roadmap_section: int | None = None,
                      verified_only: bool = False) -> ReportFilters:
    codes = tuple(sorted({c for c in (category_codes or ()) if c}))
    return ReportFilters(codes, organizer_id, roadmap_section, bool(verified_only))


def report_statements(period: Period, filters: ReportFilters, baseline_year: int,
                      now, organization_id: int | None = None) -> dict[str, sa.Select]:
    """The aggregate statements one report runs (bench/indicators_bench.py times the same);
    with ``organization_id``, only what that organization's own row needs."""
    return {
        "persons": persons_query(period, filters, organization_id),
        "held": held_events_query(period, filters, organization_id),
        "staff": staff_only_query(period, filters, now, organization_id),
        "city_held": city_events_held_query(period, filters),
        "planned": planned_events_query(period, filters),
        "parents": parents_query(period, filters, organization_id),
        "organizations": organizations_query(baseline_year, organization_id),
    }


def compute_indicators(period: Period | int, *, organization_id: int | None = None,
                       category_codes: Iterable[str] | None = None,
                       organizer_id: int | None = None, roadmap_section: int | None = None,
                       verified_only: bool = False, now=None) -> IndicatorReport:
    """All nine indicators for every school and kindergarten and both city sections.

    ``period`` is a :class:`Period` or an academic year. With ``organization_id`` only that
    organization's row is returned (the city totals are always complete). A closed period's
    report is kept while nothing it counts changes (``reports.cache``).
    """
    period = as_period(period)
    filters = normalize_filters(category_codes, organizer_id, roadmap_section, verified_only)
    report = kept(("indicators", period, filters), period,
                  lambda: _all_indicators(period, filters, now), now)
    return replace(report, organizations=[o for o in report.organizations
                                          if organization_id is None or o.id == organization_id])


def organization_indicators(period: Period | int, organization_id: int, *,
                            category_codes: Iterable[str] | None = None,
                            organizer_id: int | None = None, roadmap_section: int | None = None,
                            verified_only: bool = False, now=None) -> OrgIndicators | None:
    """One organization's row alone, the same as ``compute_indicators(...).row_for(...)``,
    reading only its own check-ins (a school page's second pass, verified at a door). None
    for an organization that is not a row of the report."""
    period = as_period(period)
    filters = normalize_filters(category_codes, organizer_id, roadmap_section, verified_only)
    return kept(("organization", period, filters, organization_id), period,
                lambda: _all_indicators(period, filters, now, organization_id), now
                ).row_for(organization_id)


def _all_indicators(period: Period, filters: ReportFilters, now,
                    only_organization: int | None = None) -> IndicatorReport:
    """Every row and both sections; with ``only_organization``, that organization's row
    alone (the sections then count it alone and are not the city's)."""
    now = now or now_utc()
    baseline_year = academic_year_of(period.first_day)
    whole_year = period == academic_year_period(baseline_year)
    use_plans = whole_year and not filters.narrowed
    session = db.session
    tune_for_reports()

    statements = report_statements(period, filters, baseline_year, now, only_organization)
    persons = {row[0]: row[1:] for row in session.execute(statements["persons"])}
    held_by = {row[0]: row[1:] for row in session.execute(statements["held"])}
    # One row per organization: students, early, ОВЗ, held (students: all, early; preschool:
    # all, early), teachers, early.
    people_rows = {}
    for org_id in persons.keys() | held_by.keys():
        p = persons.get(org_id, (0,) * 5)
        h = held_by.get(org_id, (0,) * 4)
        people_rows[org_id] = tuple(int(v or 0) for v in (*p[:3], *h, *p[3:]))
    staff_rows = {row[0]: row[1:] for row in session.execute(statements["staff"])}
    city_held = session.execute(statements["city_held"]).one() if only_organization is None \
        else (0, 0, 0, 0)
    planned_public = {"students": [0, 0], "preschool": [0, 0]}
    planned_internal: dict[tuple[str, int], list[int]] = {}
    for audience, owner, count, early in session.execute(statements["planned"]):
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
    parent_rows = session.execute(statements["parents"]).all()
    parents_of: dict[int | None, set] = {}
    for org_id, who in parent_rows:
        parents_of.setdefault(org_id, set()).add(who)
    parents_in: dict[OrgKind, set] = {kind: set() for kind in SECTION_AUDIENCE}

    rows: list[OrgIndicators] = []
    totals = {kind: dict.fromkeys(("students", "students_early", "students_ovz", "schools",
                                   "schools_early", "teachers", "teachers_early", "count",
                                   "b_students", "b_ovz", "b_teachers"), 0)
              for kind in SECTION_AUDIENCE}
    for (org_id, name, short_name, kind, b_students, b_ovz, b_teachers, plan, plan_early) \
            in session.execute(statements["organizations"]):
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
        parents = parents_of.get(org_id, set())
        parents_in[kind] |= parents
        rows.append(OrgIndicators(org_id, name, short_name, kind, figures, len(parents)))

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

    rows.sort(key=lambda row: (row.kind != OrgKind.SCHOOL, natural_key(row.name)))
    city = section(OrgKind.SCHOOL, city_held[0], city_held[1], city_plan)
    # The city's plan is a plan of the schools' programme; kindergartens count what is published.
    preschools = section(OrgKind.PRESCHOOL, city_held[2], city_held[3], None)
    parents = ParentsAttended(len({who for _org, who in parent_rows}),
                              len(parents_in[OrgKind.SCHOOL]), len(parents_in[OrgKind.PRESCHOOL]),
                              len(parents_of.get(None, set())))
    return IndicatorReport(period, baseline_year, whole_year, filters, city, preschools, rows,
                           parents)


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
                  roadmap_section=None, verified_only: bool = False,
                  now=None) -> list[MonthPoint]:
    """Student check-ins per month of the period and the cumulative reach (distinct students
    first checked in by each month's end), in two grouped queries. Months that have not begun
    yet (Asia/Tomsk) are left out: a chart of the current year ends with the current month
    instead of showing the rest of the year as months without anyone. A closed period's trend is
    kept while nothing it counts changes (``reports.cache``)."""
    period = as_period(period)
    filters = normalize_filters(category_codes, organizer_id, roadmap_section, verified_only)
    return list(kept(("trend", period, kind, organization_id, filters), period,
                     lambda: _monthly_trend(period, kind, organization_id, filters, now), now))


def _monthly_trend(period: Period, kind: OrgKind, organization_id: int | None,
                   filters: ReportFilters, now) -> list[MonthPoint]:
    tune_for_reports()
    starts = month_starts(period)
    bounds = [Period(s, s).starts_at for s in starts[1:]]

    def bucket(column):
        if not bounds:
            return sa.literal(0)
        return sa.case(*[(column < bound, index) for index, bound in enumerate(bounds)],
                       else_=len(bounds))

    where = [*checkin_facts_conditions(period, filters), scans.c.student_id.is_not(None),
             scans.c.organization_id.in_(sa.select(orgs.c.id).where(orgs.c.kind == kind.value))]
    if organization_id is not None:
        where.append(scans.c.organization_id == organization_id)
    joined = scans.join(events, events.c.id == scans.c.event_id)
    # Check-ins per event first (no sort: the scans come grouped by event), then by month.
    per_event = (sa.select(events.c.starts_at.label("starts_at"), sa.func.count().label("n"))
                 .select_from(joined).where(*where).group_by(events.c.id)
                 .subquery("per_event"))
    month = bucket(per_event.c.starts_at).label("month")
    per_month = dict(db.session.execute(
        sa.select(month, sa.func.sum(per_event.c.n)).group_by(month)).all())
    first = (sa.select(sa.func.min(events.c.starts_at).label("first"))
             .select_from(joined).where(*where).group_by(scans.c.student_id)
             .subquery("firsts"))
    first_month = bucket(first.c.first).label("month")
    newcomers = dict(db.session.execute(
        sa.select(first_month, sa.func.count()).group_by(first_month)).all())
    points, running = [], 0
    for index, start in enumerate(starts):
        running += newcomers.get(index, 0)
        points.append(MonthPoint(start, int(per_month.get(index) or 0), running))
    today = (now or now_utc()).astimezone(TOMSK).date()
    return [p for p in points if p.first_day <= today] or points[:1]
