"""«Профминимум» (issue #14): each student's academic hours of a year against the level of the
grade, per class, per school and for the city (docs/reports.md «Профминимум»).

The rules, decided once here:

- **Hours.** A student's hours of an academic year are the sum of ``events.academic_hours``
  over the distinct events of the year (by the event's start, as the indicators) at which the
  student has a check-in (``reports.indicators.checkin_conditions``: any source — the door, a
  group's list, a walk-in, a class list, an uploaded list; undone check-ins and withdrawn
  uploads, whose check-ins are undone, do not count). Each event once per person, however many
  tickets or scans. Only published events for students give hours: an event for parents or
  teachers gives none, a cancelled one none.
- **Who.** Active students of schools in grades 6–11, ОВЗ included, by their class today.
- **Target.** The level of the student's grade (``models.profminimum.effective_levels``: the
  school's, else the city's default, else 40).
- **Pace.** The share of the school year passed: linear over 1 September – 31 May (Tomsk
  dates), day by day, the day itself counted; 0 before 1 September, 1 from 31 May on.
- **Status.** ``done`` (выполнено) when hours ≥ target; else ``on_pace`` (в графике) when
  hours ≥ target × share; else ``behind`` (отстаёт).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction

import sqlalchemy as sa

from formats.text import natural_key
from formats.timefmt import TOMSK
from models import (
    Audience,
    Event,
    EventStatus,
    Organization,
    OrgKind,
    ProfminimumFormat,
    ProfminimumLevels,
    Ticket,
    TicketStatus,
    db,
    now_utc,
)
from models.academic_year import academic_year_period
from models.profminimum import PROFMINIMUM_GRADES, TRIAL_FORMAT, effective_levels
from models.roster import person_full_name, person_sort_key
from reports.indicators import ReportFilters, checkin_facts_conditions, events, scans, students

STATUSES = ("done", "on_pace", "behind")
STATUS_TITLES = {"done": "выполнено", "on_pace": "в графике", "behind": "отстаёт"}


# --- the pace ----------------------------------------------------------------------------------

def pace_bounds(year: int) -> tuple[date, date]:
    """The days the year's hours are spread over: 1 September – 31 May."""
    return date(year, 9, 1), date(year + 1, 5, 31)


def pace_share(year: int, on: date) -> Fraction:
    """The share of the school year passed on a Tomsk date (both the first day and ``on``
    counted): 0 before 1 September, 1 from 31 May on."""
    first, last = pace_bounds(year)
    if on < first:
        return Fraction(0)
    if on >= last:
        return Fraction(1)
    return Fraction((on - first).days + 1, (last - first).days + 1)


def today_in_tomsk(now: datetime | None = None) -> date:
    return (now or now_utc()).astimezone(TOMSK).date()


def status_of(hours: Decimal, target: int, share: Fraction) -> str:
    """«выполнено», «в графике» or «отстаёт» (the module's rule)."""
    value = Fraction(str(hours))
    if value >= target:
        return "done"
    if value >= target * share:
        return "on_pace"
    return "behind"


class StatusRule:
    """:func:`status_of` for many students at one share of the year: hours are sums of
    one-decimal figures, so ``hours ≥ target × share`` is compared in tenths of an hour
    against a threshold rounded up once per target (exactly the same answer)."""

    def __init__(self, share: Fraction):
        self.share = share
        self._thresholds: dict[int, int] = {}

    def __call__(self, hours: Decimal, target: int) -> str:
        tenths = int(hours * 10)
        if tenths != hours * 10:  # more decimals than the columns hold: the plain rule
            return status_of(hours, target, self.share)
        if tenths >= target * 10:
            return "done"
        threshold = self._thresholds.get(target)
        if threshold is None:
            due = target * 10 * self.share
            threshold = self._thresholds[target] = -((-due.numerator) // due.denominator)
        return "on_pace" if tenths >= threshold else "behind"


def hours_due(target: int, share: Fraction) -> Decimal:
    """The hours the pace asks for by now, to one decimal (for people to read)."""
    return (Decimal(target * share.numerator) / Decimal(share.denominator)).quantize(
        Decimal("0.1"))


# --- levels ------------------------------------------------------------------------------------

def levels_row(organization_id: int | None, year: int) -> ProfminimumLevels | None:
    query = ProfminimumLevels.query.filter_by(year=year)
    if organization_id is None:
        return query.filter(ProfminimumLevels.organization_id.is_(None)).one_or_none()
    return query.filter_by(organization_id=organization_id).one_or_none()


def targets_by_school(year: int, organization_ids=None) -> tuple[dict[int, dict[int, int]],
                                                                 dict[int, int]]:
    """Per school the target hours of grades 6–11, and the city's (for schools without a row)."""
    rows = ProfminimumLevels.query.filter_by(year=year).all()
    city = next((r for r in rows if r.organization_id is None), None)
    default = effective_levels(None, city)
    own = {r.organization_id: effective_levels(r, city) for r in rows
           if r.organization_id is not None
           and (organization_ids is None or r.organization_id in organization_ids)}
    return own, default


# --- the ledger --------------------------------------------------------------------------------

@dataclass
class Counts:
    students: int = 0
    done: int = 0
    on_pace: int = 0
    behind: int = 0

    def add(self, status: str, count: int = 1) -> None:
        self.students += count
        setattr(self, status, getattr(self, status) + count)

    def share(self, status: str) -> float | None:
        """Percent of the students with that status (None without students)."""
        if not self.students:
            return None
        return getattr(self, status) * 100 / self.students

    @property
    def reached_or_on_pace(self) -> float | None:
        if not self.students:
            return None
        return (self.done + self.on_pace) * 100 / self.students

    def to_json(self) -> dict:
        return {"students": self.students, "done": self.done, "on_pace": self.on_pace,
                "behind": self.behind}


@dataclass
class StudentLine:
    id: int
    class_name: str
    grade: int
    ovz: bool
    name: str
    sort_key: tuple
    hours: Decimal
    events: int
    target: int
    status: str

    @property
    def status_title(self) -> str:
        return STATUS_TITLES[self.status]


@dataclass
class ClassLine:
    class_name: str
    grade: int
    target: int
    counts: Counts = field(default_factory=Counts)
    students: list[StudentLine] = field(default_factory=list)

    @property
    def behind(self) -> list[StudentLine]:
        return [s for s in self.students if s.status == "behind"]


@dataclass
class SchoolLedger:
    organization: Organization
    year: int
    as_of: date
    share: Fraction
    targets: dict[int, int]
    levels: ProfminimumLevels | None
    classes: list[ClassLine]
    counts: Counts
    ovz: Counts

    @property
    def students(self) -> list[StudentLine]:
        return [s for c in self.classes for s in c.students]

    def class_named(self, class_name: str) -> ClassLine | None:
        return next((c for c in self.classes if c.class_name == class_name), None)

    def due(self, target: int) -> Decimal:
        return hours_due(target, self.share)

    def to_json(self) -> dict:
        return {
            "organization_id": self.organization.id, "year": self.year,
            "as_of": self.as_of.isoformat(), "pace_share": round(float(self.share), 4),
            "locked": bool(self.levels and self.levels.locked),
            "levels": {str(g): self.targets[g] for g in PROFMINIMUM_GRADES},
            "classes": [{"class_name": c.class_name, "grade": c.grade,
                         "target_hours": c.target, **c.counts.to_json()} for c in self.classes],
            "students": [{"id": s.id, "name": s.name, "class_name": s.class_name,
                          "grade": s.grade, "hours": float(s.hours), "events": s.events,
                          "target_hours": s.target, "status": s.status}
                         for s in self.students],
        }


def _as_of(year: int, today: date | None) -> tuple[date, Fraction]:
    on = today or today_in_tomsk()
    return on, pace_share(year, on)


def hours_statement(year: int, organization_id: int | None = None,
                    student_ids: list[int] | None = None):
    """Per student: the academic hours of the year and the number of events (the module's
    rule). One row per (student, event) first, so an event counts once per person."""
    period = academic_year_period(year)
    conditions = [*checkin_facts_conditions(period, ReportFilters()),
                  scans.c.student_id.is_not(None)]
    if organization_id is not None:
        conditions.append(scans.c.organization_id == organization_id)
    if student_ids is not None:
        conditions.append(scans.c.student_id.in_(student_ids))
    elif organization_id is None:
        # The city: only the students the ledger lists (active, grades 6–11), so the younger
        # ones' many check-ins are never grouped (city scale: 2.9 s → 1.1 s on PostgreSQL).
        # Not for one school: with the organization fixed, SQLite would probe the index for
        # every event × student of the list instead of reading the school's range.
        conditions.append(scans.c.student_id.in_(sa.select(students.c.id).where(
            students.c.active.is_(True),
            students.c.grade.between(PROFMINIMUM_GRADES[0], PROFMINIMUM_GRADES[-1]))))
    pairs = (sa.select(scans.c.student_id, scans.c.event_id).where(*conditions)
             .group_by(scans.c.student_id, scans.c.event_id).subquery("pairs"))
    return (sa.select(pairs.c.student_id, sa.func.sum(events.c.academic_hours).label("hours"),
                      sa.func.count().label("events"))
            .select_from(pairs.join(events, events.c.id == pairs.c.event_id))
            .where(*_giving_hours())
            .group_by(pairs.c.student_id))


def _giving_hours(ev=events) -> list:
    """Events that give students hours: published, for students."""
    return [ev.c.audience == "students", ev.c.status == EventStatus.PUBLISHED.value]


def _student_rows(organization_ids: list[int] | None, *, names: bool = True):
    conditions = [students.c.active.is_(True),
                  students.c.grade.between(PROFMINIMUM_GRADES[0], PROFMINIMUM_GRADES[-1])]
    if organization_ids is not None:
        conditions.append(students.c.organization_id.in_(organization_ids))
    else:
        conditions.append(students.c.organization_id.in_(
            sa.select(Organization.__table__.c.id).where(
                Organization.__table__.c.kind == OrgKind.SCHOOL.value)))
    columns = [students.c.id, students.c.organization_id, students.c.grade, students.c.ovz]
    if names:
        columns += [students.c.class_name, students.c.last_name, students.c.first_name,
                    students.c.middle_name, students.c.anonymized_at]
    return db.session.execute(sa.select(*columns).where(*conditions)).all()


def _hours_by_student(year: int, organization_id: int | None) -> dict[int, tuple[Decimal, int]]:
    return {row.student_id: (Decimal(row.hours or 0), row.events)
            for row in db.session.execute(hours_statement(year, organization_id))}


def school_ledger(organization: Organization, year: int, today: date | None = None
                  ) -> SchoolLedger:
    """The school's ledger: every student of grades 6–11 with hours, target and status, by
    class (classes in natural order: 6А … 11Б)."""
    as_of, share = _as_of(year, today)
    levels = levels_row(organization.id, year)
    targets = effective_levels(levels, levels_row(None, year))
    hours = _hours_by_student(year, organization.id)
    classes: dict[str, ClassLine] = {}
    counts, ovz = Counts(), Counts()
    rule = StatusRule(share)
    for row in _student_rows([organization.id]):
        got, n_events = hours.get(row.id, (Decimal(0), 0))
        target = targets[row.grade]
        status = rule(got, target)
        line = StudentLine(
            id=row.id, class_name=row.class_name, grade=row.grade, ovz=row.ovz,
            name=person_full_name(row.last_name, row.first_name, row.middle_name,
                                  row.anonymized_at is not None),
            sort_key=person_sort_key(row.last_name, row.first_name, row.middle_name),
            hours=got, events=n_events, target=target, status=status)
        klass = classes.setdefault(row.class_name, ClassLine(row.class_name, row.grade, target))
        klass.students.append(line)
        klass.counts.add(status)
        counts.add(status)
        if row.ovz:
            ovz.add(status)
    ordered = sorted(classes.values(), key=lambda c: natural_key(c.class_name))
    for klass in ordered:
        klass.students.sort(key=lambda s: (s.sort_key, s.id))
    return SchoolLedger(organization, year, as_of, share, targets, levels, ordered, counts, ovz)


@dataclass
class CitySchool:
    organization: Organization
    counts: Counts
    ovz: Counts
    by_grade: dict[int, Counts]

    @property
    def display_name(self) -> str:
        return self.organization.display_name


@dataclass
class CityLedger:
    year: int
    as_of: date
    share: Fraction
    city: Counts
    ovz: Counts
    by_grade: dict[int, Counts]
    schools: list[CitySchool]

    def is_behind(self, school: CitySchool) -> bool:
        """A school below the city in the share of students done or on pace."""
        own, city = school.counts.reached_or_on_pace, self.city.reached_or_on_pace
        return own is not None and city is not None and own < city

    def to_json(self) -> dict:
        return {
            "year": self.year, "as_of": self.as_of.isoformat(),
            "pace_share": round(float(self.share), 4),
            "city": {**self.city.to_json(), "ovz": self.ovz.to_json(),
                     "grades": {str(g): c.to_json() for g, c in self.by_grade.items()}},
            "schools": [{"organization_id": s.organization.id, "name": s.organization.name,
                         **s.counts.to_json(), "ovz": s.ovz.to_json(),
                         "grades": {str(g): c.to_json() for g, c in s.by_grade.items()}}
                        for s in self.schools],
        }


def city_ledger(year: int, today: date | None = None) -> CityLedger:
    """Per school and per grade, how many students are done, on pace, behind (ОВЗ apart).
    Two statements: the students of grades 6–11 and the hours of the year per student."""
    as_of, share = _as_of(year, today)
    schools = {o.id: o for o in Organization.query.filter_by(kind=OrgKind.SCHOOL).all()}
    own, default = targets_by_school(year)
    hours = _hours_by_student(year, None)
    rule = StatusRule(share)
    zero = (Decimal(0), 0)
    # Tally first (one counter per school, grade, ОВЗ and status), then fold the tallies into
    # the page's counts: 33,000 students cost one dictionary update each, not five.
    tally: Counter[tuple[int, int, bool, str]] = Counter()
    for row in _student_rows(None, names=False):
        if row.organization_id not in schools:
            continue
        status = rule(hours.get(row.id, zero)[0], own.get(row.organization_id, default)[row.grade])
        tally[(row.organization_id, row.grade, bool(row.ovz), status)] += 1
    per_school: dict[int, CitySchool] = {}
    city, ovz = Counts(), Counts()
    by_grade = {g: Counts() for g in PROFMINIMUM_GRADES}
    for (org_id, grade, is_ovz, status), count in tally.items():
        school = per_school.get(org_id)
        if school is None:
            school = per_school[org_id] = CitySchool(
                schools[org_id], Counts(), Counts(), {g: Counts() for g in PROFMINIMUM_GRADES})
        school.counts.add(status, count)
        school.by_grade[grade].add(status, count)
        city.add(status, count)
        by_grade[grade].add(status, count)
        if is_ovz:
            school.ovz.add(status, count)
            ovz.add(status, count)
    ordered = sorted(per_school.values(), key=lambda s: (natural_key(s.display_name),
                                                         s.organization.id))
    return CityLedger(year, as_of, share, city, ovz, by_grade, ordered)


# --- drill-down and what helps -----------------------------------------------------------------

@dataclass
class EventLine:
    id: int
    title: str
    starts_at: datetime
    hours: Decimal
    format_name: str | None


def events_of_students(year: int, organization_id: int, student_ids: list[int]
                       ) -> dict[int, list[EventLine]]:
    """Each student's events of the year that gave hours (each once), soonest first."""
    if not student_ids:
        return {}
    period = academic_year_period(year)
    formats = ProfminimumFormat.__table__
    pairs = (sa.select(scans.c.student_id, scans.c.event_id)
             .where(*checkin_facts_conditions(period, ReportFilters()),
                    scans.c.organization_id == organization_id,
                    scans.c.student_id.in_(student_ids))
             .group_by(scans.c.student_id, scans.c.event_id).subquery("pairs"))
    rows = db.session.execute(
        sa.select(pairs.c.student_id, events.c.id, events.c.title, events.c.starts_at,
                  events.c.academic_hours, formats.c.name)
        .select_from(pairs.join(events, events.c.id == pairs.c.event_id)
                     .outerjoin(formats, formats.c.id == events.c.profminimum_format_id))
        .where(*_giving_hours())
        .order_by(events.c.starts_at, events.c.id)).all()
    result: dict[int, list[EventLine]] = defaultdict(list)
    for row in rows:
        result[row.student_id].append(EventLine(row.id, row.title, row.starts_at,
                                                Decimal(row.academic_hours), row.name))
    return result


def events_for_grades(organization_id: int, grades, limit: int = 3,
                      now: datetime | None = None) -> dict[int, list[Event]]:
    """Per grade, upcoming events a school can still register a group of that grade for:
    published, for students of a span covering the grade, giving hours, open to the school
    (public or its own internal), registration open, a seat left; профпробы first, then the
    soonest. Two statements whatever the number of grades: the candidates, then the seats
    taken of those alone."""
    grades = sorted(set(grades))
    if not grades:
        return {}
    now = now or now_utc()
    is_trial = sa.case((Event.profminimum_format_id.in_(
        sa.select(ProfminimumFormat.id).where(ProfminimumFormat.code == TRIAL_FORMAT)), 0),
        else_=1)
    candidates = (Event.query.filter(
        Event.status == EventStatus.PUBLISHED, Event.starts_at > now,
        Event.audience == Audience.STUDENTS, Event.academic_hours > 0,
        sa.or_(Event.grades_min.is_(None), Event.grades_min <= grades[-1]),
        sa.or_(Event.grades_max.is_(None), Event.grades_max >= grades[0]),
        sa.or_(Event.school_internal.is_(False), Event.organizer_id == organization_id))
        .order_by(is_trial, Event.starts_at, Event.id).limit(300).all())
    candidates = [e for e in candidates if e.registration_open(now)]
    taken = dict(db.session.execute(
        sa.select(Ticket.event_id, sa.func.count()).where(
            Ticket.event_id.in_([e.id for e in candidates]),
            Ticket.status == TicketStatus.CONFIRMED).group_by(Ticket.event_id)).all()) \
        if candidates else {}
    free = [e for e in candidates if taken.get(e.id, 0) < e.capacity]
    return {g: [e for e in free if (e.grades_min is None or e.grades_min <= g)
                and (e.grades_max is None or e.grades_max >= g)][:limit] for g in grades}


def events_for_grade(organization_id: int, grade: int, limit: int = 3,
                     now: datetime | None = None) -> list[Event]:
    """:func:`events_for_grades` for one grade."""
    return events_for_grades(organization_id, [grade], limit, now)[grade]


# --- the справка -------------------------------------------------------------------------------

def _share_text(part: int, whole: int) -> str:
    value = part * 100 / whole if whole else None
    return "нет данных" if value is None else f"{value:.1f}".replace(".", ",") + "\u00a0%"


def spravka_lines(ledger: CityLedger, limit: int = 5) -> list[str]:
    """The «Профминимум» section of the справка: the city, ОВЗ apart, the weakest grades and
    schools behind the city — sentences for the HTML and the PDF alike."""
    city, ovz = ledger.city, ledger.ovz
    if not city.students:
        return ["В списках школ нет обучающихся 6–11 классов: профминимум не посчитан."]
    lines = [
        f"Обучающихся 6–11 классов: {city.students}; выполнили уровень своей параллели "
        f"{_share_text(city.done, city.students)}, идут в графике "
        f"{_share_text(city.on_pace, city.students)}, отстают "
        f"{_share_text(city.behind, city.students)} (на {ledger.as_of:%d.%m.%Y}, доля года "
        f"{_share_text(ledger.share.numerator, ledger.share.denominator)}).",
    ]
    if ovz.students:
        lines.append(f"Из них с ОВЗ: {ovz.students}; выполнили "
                     f"{_share_text(ovz.done, ovz.students)}, в графике "
                     f"{_share_text(ovz.on_pace, ovz.students)}, отстают "
                     f"{_share_text(ovz.behind, ovz.students)}.")
    grades = ", ".join(f"{g} кл. — {_share_text(c.done + c.on_pace, c.students)}"
                       for g, c in ledger.by_grade.items() if c.students)
    lines.append(f"Выполнили или в графике по параллелям: {grades}.")
    behind = sorted((s for s in ledger.schools if ledger.is_behind(s)),
                    key=lambda s: (s.counts.reached_or_on_pace, natural_key(s.display_name)))
    if behind:
        names = ", ".join(
            "{} ({})".format(s.display_name, _share_text(s.counts.done + s.counts.on_pace,
                                                          s.counts.students))
            for s in behind[:limit])
        more = f" и ещё {len(behind) - limit}" if len(behind) > limit else ""
        lines.append(f"Ниже города (выполнили или в графике — "
                     f"{_share_text(city.done + city.on_pace, city.students)}): "
                     f"{len(behind)} школ; дальше всех — {names}{more}.")
    return lines
