"""What closes the gap to a target (issue #15, item 4) and which schools at risk an event could
serve (item 6). Read only.

The gaps come from ``reports.forecast`` (``TargetGap``: a school whose forecast, even at its
high end, stays below its target in one indicator, and how many more people — events for
indicators 8–9 — its forecast point needs). Here, for such a gap:

- **which upcoming events fit**: published, registration open now, a seat left and the school's
  quota not used up; students' events whose grades take some of the school's students (the
  school's own internal events, nobody else's); early ones for the early indicators,
  ОВЗ-adapted ones for ОВЗ coverage; for teachers, events for teachers first; for the events
  indicators, events the school has not registered for yet;
- **whom to send**: the school's students not yet involved this year (in early guidance, for the
  early indicators; with ОВЗ, for indicator 3), who hold no confirmed ticket for an upcoming
  event either (the forecast already counts those), by class; for the events indicators any
  student will do, those not yet involved first. Never one already registered for the event,
  never more than the event's free seats, the school's quota, what the gap needs or
  ``MAX_SELECTION`` (the selection travels in a link to the group registration page).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from formats.class_names import class_sort_key
from models import (
    LIVE_TICKET_STATUSES,
    Audience,
    Event,
    EventStatus,
    Organization,
    Registration,
    RegistrationStatus,
    Student,
    Ticket,
    TicketKind,
    TicketStatus,
    db,
    now_utc,
)
from models.academic_year import Period, academic_year_of, academic_year_period
from models.event import fits_grade
from models.roster import person_sort_key
from reports.indicators import (
    INDICATOR_SHORT,
    ReportFilters,
    checkin_facts_conditions,
    scans,
    tune_for_reports,
)
from reports.recommendations import need_text as recommendation_need_text

#: Most students proposed at once: the selection is a link (``?student=ID&…``) and a request
#: line longer than 4 KB is refused by gunicorn.
MAX_SELECTION = 150
#: For the events indicators (one more event with the school's students) one group is enough.
GROUP_SIZE = 25
#: Events offered per gap on the school's page, per school in the city's list.
EVENTS_PER_GAP = 5
EVENTS_PER_SCHOOL = 3
#: Upcoming events looked at (soonest first).
MAX_EVENTS = 300

PEOPLE, EVENT_COUNT, TEACHERS = "people", "events", "teachers"

#: Every grade a school may have: a school without a roster in the system is taken to have them
#: all (as the weekly digest does), so organizers still see it and it sees the events.
ALL_GRADES = frozenset(range(1, 12))


def gap_kind(indicator: str) -> str:
    """How a gap is closed: more people (students), more events, or more teachers."""
    if indicator.startswith("teachers"):
        return TEACHERS
    if indicator.startswith("events"):
        return EVENT_COUNT
    return PEOPLE


def need_text(indicator: str, needed: int) -> str:
    """«вовлечь ещё 12 обучающихся с ОВЗ» (the recommendations' words; a school's indicators 4–5
    are reached through its students)."""
    key = {"schools": "students", "schools_early": "students_early"}.get(indicator, indicator)
    return recommendation_need_text(key, needed)


# ---------------------------------------------------------------------------------------------
# Events


@dataclass(frozen=True)
class OpenEvent:
    """An upcoming event taking registrations, with the seats left at the moment of reading."""

    event: Event
    seats_left: int


def open_events(now: datetime | None = None, limit: int = MAX_EVENTS) -> list[OpenEvent]:
    """Published events for students or teachers, not started, registration open now, a seat
    left; soonest first."""
    now = now or now_utc()
    tune_for_reports()
    taken = Ticket.seats_taken_sql(Event.id).correlate(Event).scalar_subquery()
    rows = db.session.execute(
        sa.select(Event, taken)
        .where(Event.status == EventStatus.PUBLISHED, Event.starts_at > now,
               Event.audience.in_([Audience.STUDENTS, Audience.TEACHERS]),
               sa.or_(Event.registration_opens_at.is_(None), Event.registration_opens_at <= now),
               sa.func.coalesce(Event.registration_closes_at, Event.starts_at) > now,
               taken < Event.capacity)
        .order_by(Event.starts_at, Event.id).limit(limit)).all()
    return [OpenEvent(event, event.capacity - seats) for event, seats in rows
            if event.registration_open(now)]


def _school_confirmed(event_ids: list[int], organization_ids: Iterable[int] | None = None
                      ) -> dict[tuple[int, int], int]:
    """(event, school) → the school's confirmed tickets (what its quota counts)."""
    if not event_ids:
        return {}
    school = Ticket.school_id_sql()
    query = (Ticket.join_school(sa.select(Ticket.event_id, school, sa.func.count(Ticket.id))
                                .select_from(Ticket))
             .where(Ticket.event_id.in_(event_ids), Ticket.status == TicketStatus.CONFIRMED,
                    Ticket.kind != TicketKind.PARENT)
             .group_by(Ticket.event_id, school))
    if organization_ids is not None:
        query = query.where(school.in_(list(organization_ids)))
    return {(event_id, org_id): n for event_id, org_id, n in db.session.execute(query)
            if org_id is not None}


def _registered(event_ids: list[int], organization_ids: Iterable[int] | None = None
                ) -> set[tuple[int, int]]:
    """(event, school) pairs with an active group registration."""
    if not event_ids:
        return set()
    query = (sa.select(Registration.event_id, Registration.organization_id).distinct()
             .where(Registration.event_id.in_(event_ids),
                    Registration.status == RegistrationStatus.ACTIVE))
    if organization_ids is not None:
        query = query.where(Registration.organization_id.in_(list(organization_ids)))
    return {(e, o) for e, o in db.session.execute(query)}


def quota_left(event: Event, school_confirmed: int) -> int | None:
    if event.per_school_quota is None:
        return None
    return max(0, event.per_school_quota - school_confirmed)


def event_fits(event: Event, indicator: str, organization_id: int,
               grades: Iterable[int]) -> bool:
    """Whether the event can serve the school's gap in ``indicator`` at all (seats aside):
    visible to the school, the right audience, early for the early indicators, ОВЗ-adapted for
    ОВЗ coverage, and for students' events some of ``grades`` (the grades of the school's
    students who would go) allowed."""
    if event.school_internal and event.organizer_id != organization_id:
        return False
    if indicator.endswith("_early") and not event.early:
        return False
    if indicator == "students_ovz" and not event.ovz_adapted:
        return False
    if gap_kind(indicator) == TEACHERS:
        return event.audience in (Audience.TEACHERS, Audience.STUDENTS)
    return event.audience == Audience.STUDENTS and any(fits_grade(event, g) for g in grades)


def _teacher_rank(event: Event) -> int:
    return 0 if event.audience == Audience.TEACHERS else 1


# ---------------------------------------------------------------------------------------------
# Students


@dataclass(frozen=True)
class Candidate:
    """One of the school's students who could be sent (no name here: pages that may show names
    read them themselves)."""

    id: int
    class_name: str
    grade: int
    ovz: bool
    #: Checked in this year (at an early event, for the early indicators).
    involved: bool
    #: Holds a confirmed ticket for an event of the year not yet over (early, for the early
    #: ones): the forecast already expects them (a waitlisted ticket it does not count).
    booked: bool

    @property
    def helps(self) -> bool:
        """Sending them raises a people indicator: not counted yet, not expected either."""
        return not self.involved and not self.booked


def _involved(organization_id: int, period: Period, early: bool) -> set[int]:
    query = (sa.select(scans.c.student_id)
             .where(*checkin_facts_conditions(period, ReportFilters()),
                    scans.c.organization_id == organization_id,
                    scans.c.student_id.is_not(None)))
    if early:
        query = query.where(scans.c.event_id.in_(sa.select(Event.id).where(Event.early.is_(True))))
    return set(db.session.execute(query).scalars())


def _booked(student_ids: list[int], period: Period, now: datetime, early: bool) -> set[int]:
    """Of ``student_ids``, those with a confirmed ticket for an event of the period not over yet.
    The ids are given, not a join to the roster: PostgreSQL then reads their tickets by
    ``ix_tickets_student_id`` (25 ms for a school of 1,600 at city scale) instead of scanning
    every ticket (0.7 s)."""
    if not student_ids:
        return set()
    query = (sa.select(Ticket.student_id)
             .join(Event, Event.id == Ticket.event_id)
             .where(Ticket.student_id.in_(student_ids),
                    Ticket.status == TicketStatus.CONFIRMED,
                    Event.status == EventStatus.PUBLISHED, Event.ends_at > now,
                    Event.starts_at >= period.starts_at, Event.starts_at < period.ends_before))
    if early:
        query = query.where(Event.early.is_(True))
    return set(db.session.execute(query).scalars())


def candidates(organization_id: int, indicator: str, year: int | None = None,
               now: datetime | None = None) -> list[Candidate]:
    """The school's active students in the order they are proposed: those who would raise the
    indicator (not involved, not booked) first, then the rest; within each, by class, then
    name. For ОВЗ coverage only students with ОВЗ."""
    now = now or now_utc()
    period = academic_year_period(year if year is not None else academic_year_of(now))
    early = indicator.endswith("_early")
    involved = _involved(organization_id, period, early)
    query = (sa.select(Student.id, Student.class_name, Student.grade, Student.ovz,
                       Student.last_name, Student.first_name, Student.middle_name)
             .where(Student.organization_id == organization_id, Student.active.is_(True),
                    Student.anonymized_at.is_(None)))
    if indicator == "students_ovz":
        query = query.where(Student.ovz.is_(True))
    rows = db.session.execute(query).all()
    booked = _booked([r.id for r in rows], period, now, early)
    people = [(Candidate(r.id, r.class_name, r.grade, r.ovz, r.id in involved, r.id in booked),
               person_sort_key(r.last_name, r.first_name, r.middle_name)) for r in rows]
    people.sort(key=lambda pair: (not pair[0].helps, class_sort_key(pair[0].class_name),
                                  pair[1], pair[0].id))
    return [c for c, _key in people]


def _holders(event_ids: list[int], student_ids: list[int]) -> dict[int, set[int]]:
    """event → those of ``student_ids`` holding a live ticket for it."""
    if not event_ids or not student_ids:
        return {}
    held: dict[int, set[int]] = {}
    for event_id, student_id in db.session.execute(
            sa.select(Ticket.event_id, Ticket.student_id)
            .where(Ticket.event_id.in_(event_ids), Ticket.status.in_(LIVE_TICKET_STATUSES),
                   Ticket.student_id.in_(student_ids))):
        held.setdefault(event_id, set()).add(student_id)
    return held


def select_students(event: Event, pool: list[Candidate], indicator: str, limit: int,
                    taken: set[int]) -> list[Candidate]:
    """Up to ``limit`` of ``pool`` (already in proposal order) whose grade the event takes and
    who hold no live ticket for it (``taken``); for a people indicator only those who help."""
    chosen = []
    for candidate in pool:
        if len(chosen) >= limit:
            break
        if candidate.id in taken or not fits_grade(event, candidate.grade):
            continue
        if gap_kind(indicator) == PEOPLE and not candidate.helps:
            continue
        chosen.append(candidate)
    return chosen


# ---------------------------------------------------------------------------------------------
# A school's page: what closes each gap


@dataclass
class EventOption:
    event: Event
    seats_left: int
    #: None: the event has no per-school quota.
    quota_left: int | None
    #: Whom to send (students' gaps); empty for teachers.
    selection: list[Candidate] = field(default_factory=list)

    @property
    def can_take(self) -> int:
        """How many more of the school's people would be confirmed now."""
        return self.seats_left if self.quota_left is None else min(self.seats_left,
                                                                   self.quota_left)

    @property
    def student_ids(self) -> list[int]:
        return [c.id for c in self.selection]

    @property
    def by_class(self) -> list[tuple[str, int]]:
        """(class, how many of the selection), in class order."""
        counts: dict[str, int] = {}
        for c in self.selection:
            counts[c.class_name] = counts.get(c.class_name, 0) + 1
        return sorted(counts.items(), key=lambda item: class_sort_key(item[0]))


@dataclass
class GapPlan:
    """One indicator of a school below its target and what would close it."""

    gap: object  # reports.forecast.TargetGap
    #: Students who would raise the indicator (not involved, not booked); None for teachers.
    helpful: int | None
    options: list[EventOption]
    #: The school has no students in the system yet: events are offered for every grade, with
    #: nobody to propose.
    no_roster: bool = False

    @property
    def indicator(self) -> str:
        return self.gap.indicator

    @property
    def kind(self) -> str:
        return gap_kind(self.gap.indicator)

    @property
    def title(self) -> str:
        return INDICATOR_SHORT[self.gap.indicator]

    @property
    def need_text(self) -> str:
        return need_text(self.gap.indicator, self.gap.people_needed)


def _limit(indicator: str, needed: int, can_take: int) -> int:
    cap = max(needed, 1) if gap_kind(indicator) == PEOPLE else GROUP_SIZE
    return max(0, min(can_take, cap, MAX_SELECTION))


def school_plans(gaps: Iterable, organization_id: int, year: int | None = None,
                 now: datetime | None = None, events: list[OpenEvent] | None = None
                 ) -> list[GapPlan]:
    """For each gap of one school (``TargetGap`` values), the events that fit and whom to send
    to each. An event with no seat for the school (capacity or quota) or nobody to send is not
    offered (a school without a roster gets the events for every grade, nobody proposed)."""
    now = now or now_utc()
    tune_for_reports()
    gaps = [g for g in gaps if g.organization_id == organization_id]
    if not gaps:
        return []
    events = open_events(now) if events is None else events
    ids = [o.event.id for o in events]
    own = _school_confirmed(ids, [organization_id])
    registered = _registered(ids, [organization_id])
    pools: dict[str, list[Candidate]] = {}
    plans = []
    no_roster = not db.session.execute(
        sa.select(sa.exists().where(Student.organization_id == organization_id,
                                    Student.active.is_(True),
                                    Student.anonymized_at.is_(None)))).scalar()
    for gap in gaps:
        kind = gap_kind(gap.indicator)
        pool: list[Candidate] = []
        if kind != TEACHERS:
            # One read per sense of "involved" (any event, early events); ОВЗ is a filter.
            sense = "students_early" if gap.indicator.endswith("_early") else "students"
            if sense not in pools:
                pools[sense] = candidates(organization_id, sense, year, now)
            pool = pools[sense]
            if gap.indicator == "students_ovz":
                pool = [c for c in pool if c.ovz]
        sendable = pool if kind == EVENT_COUNT else [c for c in pool if c.helps]
        grades = set(ALL_GRADES) if no_roster else {c.grade for c in sendable}
        fitting = []
        for item in events:
            event = item.event
            if not event_fits(event, gap.indicator, organization_id, grades):
                continue
            if kind == EVENT_COUNT and (event.id, organization_id) in registered:
                continue
            option = EventOption(event, item.seats_left,
                                 quota_left(event, own.get((event.id, organization_id), 0)))
            if option.can_take <= 0:
                continue
            fitting.append(option)
        if kind == TEACHERS:
            fitting.sort(key=lambda o: (_teacher_rank(o.event), o.event.starts_at, o.event.id))
        elif not no_roster:
            held = _holders([o.event.id for o in fitting], [c.id for c in sendable])
            for option in fitting:
                option.selection = select_students(
                    option.event, sendable, gap.indicator,
                    _limit(gap.indicator, gap.people_needed, option.can_take),
                    held.get(option.event.id, set()))
            fitting = [o for o in fitting if o.selection]
        plans.append(GapPlan(gap, None if kind == TEACHERS else sum(1 for c in pool if c.helps),
                             fitting[:EVENTS_PER_GAP], no_roster=no_roster and kind != TEACHERS))
    return plans


# ---------------------------------------------------------------------------------------------
# The city: schools at risk and the events that could serve them


def _school_grades(organization_ids: list[int]) -> dict[int, dict[str, set[int]]]:
    """school → {"all": grades of its active students, "ovz": grades of those with ОВЗ}."""
    result: dict[int, dict[str, set[int]]] = {o: {"all": set(), "ovz": set()}
                                              for o in organization_ids}
    if not organization_ids:
        return result
    for org_id, grade, ovz in db.session.execute(
            sa.select(Student.organization_id, Student.grade, Student.ovz).distinct()
            .where(Student.organization_id.in_(organization_ids), Student.active.is_(True),
                   Student.anonymized_at.is_(None))):
        result[org_id]["all"].add(grade)
        if ovz:
            result[org_id]["ovz"].add(grade)
    for grades in result.values():
        if not grades["all"]:  # no roster yet
            grades["all"] = grades["ovz"] = set(ALL_GRADES)
    return result


def _grades_for(grades: dict[str, set[int]], indicator: str) -> set[int]:
    return grades["ovz"] if indicator == "students_ovz" else grades["all"]


@dataclass
class SchoolAtRisk:
    organization: Organization
    gaps: list  # TargetGap, the largest first
    #: Upcoming events with a seat for the school that fit at least one of its gaps, each with
    #: the short titles of the indicators it helps.
    events: list[tuple[EventOption, list[str]]]


class _FitCache:
    """``event_fits`` remembered per (event, indicator, grades): the city's list asks it for
    every school, gap and event (70 × 4 × 300), and schools mostly share their grades."""

    def __init__(self):
        self._known: dict[tuple, bool] = {}

    def fits(self, event: Event, indicator: str, organization_id: int,
             grades: set[int]) -> bool:
        key = (event.id, indicator, frozenset(grades),
               organization_id if event.school_internal else None)
        if key not in self._known:
            self._known[key] = event_fits(event, indicator, organization_id, grades)
        return self._known[key]


def _fits_with_seats(item: OpenEvent, gap, grades, confirmed, registered,
                     cache: _FitCache) -> EventOption | None:
    event, org_id = item.event, gap.organization_id
    if not cache.fits(event, gap.indicator, org_id, _grades_for(grades, gap.indicator)):
        return None
    if gap_kind(gap.indicator) == EVENT_COUNT and (event.id, org_id) in registered:
        return None
    option = EventOption(event, item.seats_left,
                         quota_left(event, confirmed.get((event.id, org_id), 0)))
    return option if option.can_take > 0 else None


def city_plans(gaps: Iterable, now: datetime | None = None,
               events: list[OpenEvent] | None = None) -> list[SchoolAtRisk]:
    """Schools with gaps, in the order of their largest gap (``gaps`` come sorted by how far
    below the target they are), each with up to ``EVENTS_PER_SCHOOL`` upcoming events that have
    a seat for it and fit its gaps (the events helping more gaps first, then the soonest)."""
    now = now or now_utc()
    tune_for_reports()
    by_school: dict[int, list] = {}
    for gap in gaps:
        by_school.setdefault(gap.organization_id, []).append(gap)
    if not by_school:
        return []
    events = open_events(now) if events is None else events
    ids = [o.event.id for o in events]
    org_ids = list(by_school)
    confirmed = _school_confirmed(ids, org_ids)
    registered = _registered(ids, org_ids)
    grades = _school_grades(org_ids)
    orgs = {o.id: o for o in Organization.query.filter(Organization.id.in_(org_ids))}
    cache = _FitCache()
    result = []
    for org_id, school_gaps in by_school.items():
        helps: dict[int, tuple[EventOption, list[str]]] = {}
        for gap in school_gaps:
            for item in events:
                option = _fits_with_seats(item, gap, grades[org_id], confirmed, registered, cache)
                if option is not None:
                    helps.setdefault(item.event.id, (option, []))[1].append(
                        INDICATOR_SHORT[gap.indicator])
        ranked = sorted(helps.values(), key=lambda pair: (-len(pair[1]),
                                                          pair[0].event.starts_at,
                                                          pair[0].event.id))
        result.append(SchoolAtRisk(orgs[org_id], school_gaps, ranked[:EVENTS_PER_SCHOOL]))
    return result


# ---------------------------------------------------------------------------------------------
# An organizer's event: which schools at risk it could serve


@dataclass
class SchoolDemand:
    """A school at risk that fits an event and has not registered for it: its name and counts
    only (organizers never see students)."""

    organization: Organization
    #: The school's gaps this event fits (``TargetGap``), the largest first.
    gaps: list
    #: Seats the school could still take (free seats, its quota).
    can_take: int

    @property
    def needs(self) -> list[tuple[str, str]]:
        """(indicator's short title, «ещё 12 обучающихся») per gap."""
        return [(INDICATOR_SHORT[g.indicator], need_text(g.indicator, g.people_needed))
                for g in self.gaps]


def schools_for_event(event: Event, gaps: Iterable, now: datetime | None = None
                      ) -> list[SchoolDemand]:
    """Schools at risk (``gaps``) the event could serve: it takes registrations now and has a
    seat, fits one of their gaps (audience, grades of their students, early, ОВЗ-adapted), their
    quota is not used up, and they have no active registration for it. Internal events serve
    nobody else. In the order of ``gaps`` (the largest first)."""
    now = now or now_utc()
    tune_for_reports()
    if event.school_internal or event.audience not in (Audience.STUDENTS, Audience.TEACHERS):
        return []
    if not event.registration_open(now):
        return []
    seats_left = event.capacity - db.session.execute(
        Ticket.seats_taken_sql(event.id)).scalar_one()
    if seats_left <= 0:
        return []
    by_school: dict[int, list] = {}
    for gap in gaps:
        by_school.setdefault(gap.organization_id, []).append(gap)
    if not by_school:
        return []
    org_ids = list(by_school)
    registered = {o for _e, o in _registered([event.id], org_ids)}
    confirmed = _school_confirmed([event.id], org_ids)
    grades = _school_grades(org_ids)
    orgs = {o.id: o for o in Organization.query.filter(Organization.id.in_(org_ids),
                                                       Organization.active.is_(True))}
    item = OpenEvent(event, seats_left)
    cache = _FitCache()
    result = []
    for org_id, school_gaps in by_school.items():
        if org_id in registered or org_id not in orgs:
            continue
        fitting = []
        can_take = 0
        for gap in school_gaps:
            option = _fits_with_seats(item, gap, grades[org_id], confirmed, set(), cache)
            if option is not None:
                fitting.append(gap)
                can_take = option.can_take
        if fitting:
            result.append(SchoolDemand(orgs[org_id], fitting, can_take))
    return result

