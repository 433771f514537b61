"""Property test: the aggregate SQL agrees with a literal reading of docs/domain.md on random data.

Each example builds a small random city inside one transaction (flushed, never committed),
computes the indicators, compares them with ``reference_indicators`` and rolls back. Scans
come from every source (``ScanSource``): the figures of all check-ins and those verified at a
door (``verified_only``) are both compared.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import (
    Audience,
    Baseline,
    Category,
    CityPlan,
    Event,
    EventStaff,
    EventStatus,
    Organization,
    OrgKind,
    Scan,
    ScanOutcome,
    ScanSource,
    Student,
    Teacher,
    Ticket,
    TicketKind,
    TicketStatus,
    db,
)
from models.academic_year import Period, academic_year_period
from reports.indicators import INDICATOR_KEYS, Figure, compute_indicators

YEAR = 2024
PERIOD = academic_year_period(YEAR)
NOW = datetime(2025, 3, 1, tzinfo=UTC)
SEP1 = datetime(2024, 9, 1, 5, tzinfo=UTC)

ORG_KINDS = [OrgKind.SCHOOL, OrgKind.SCHOOL, OrgKind.SCHOOL, OrgKind.PRESCHOOL,
             OrgKind.PRESCHOOL]
baselines = st.one_of(st.none(), st.tuples(
    st.integers(0, 6), st.integers(0, 3), st.integers(0, 4),
    st.one_of(st.none(), st.integers(0, 4)), st.one_of(st.none(), st.integers(0, 3)),
))
event_st = st.fixed_dictionaries({
    "day": st.integers(-40, 400),
    "status": st.sampled_from(["published", "published", "cancelled", "draft"]),
    "audience": st.sampled_from(["students", "students", "preschool", "teachers"]),
    "early": st.booleans(),
    "internal_of": st.one_of(st.none(), st.integers(0, 4)),
    "category": st.sampled_from(["university", "cpc_program"]),
})
SCAN_KINDS = ["ok", "ok_undone", "repeat", "wrong_event", "not_open"]
#: docs/domain.md, «подтверждено на входе»: scans at a door (online, offline), a group's list
#: ticked at the entrance, people who came without a ticket — written out here, not imported.
DOOR_VERIFIED = {ScanSource.DOOR, ScanSource.OFFLINE, ScanSource.GROUP, ScanSource.WALK_IN}
#: Mostly check-ins (a list with none would compare nothing), each from any source.
scan_st = st.tuples(st.sampled_from(["ok", "ok", "ok", *SCAN_KINDS]),
                    st.sampled_from(list(ScanSource)))
city_st = st.fixed_dictionaries({
    "baselines": st.lists(baselines, min_size=5, max_size=5),
    "events": st.lists(event_st, min_size=1, max_size=6),
    "students": st.lists(st.tuples(st.integers(0, 4), st.booleans()), min_size=1, max_size=8),
    "teachers": st.lists(st.integers(0, 4), max_size=5),
    "student_tickets": st.lists(st.tuples(st.integers(0, 7), st.integers(0, 5),
                                          st.lists(scan_st, min_size=1, max_size=3)),
                                min_size=1, max_size=14),
    "teacher_tickets": st.lists(st.tuples(st.integers(0, 4), st.integers(0, 5),
                                          st.lists(scan_st, max_size=2)),
                                max_size=6),
    "staff": st.lists(st.tuples(st.integers(0, 4), st.integers(0, 5)), max_size=4),
    "city_plan": st.one_of(st.none(), st.tuples(st.one_of(st.none(), st.integers(0, 5)),
                                                st.one_of(st.none(), st.integers(0, 5)))),
    "narrow": st.sampled_from([None, "cpc_program"]),
    "range": st.booleans(),
})


def build(city):
    categories = {c.code: c for c in Category.query.all()}
    orgs = [Organization(name=f"Организация {i}", kind=kind, active=True)
            for i, kind in enumerate(ORG_KINDS)]
    organizer = Organization(name="Организатор", kind=OrgKind.PARTNER, active=True)
    db.session.add_all([*orgs, organizer])
    db.session.flush()
    for org, figures in zip(orgs, city["baselines"], strict=True):
        if figures is not None:
            total, ovz, teachers_total, plan, plan_early = figures
            db.session.add(Baseline(organization_id=org.id, year=YEAR, students_total=total,
                                    students_ovz=min(ovz, total), teachers_total=teachers_total,
                                    planned_events=plan, planned_early_events=plan_early))
    if city["city_plan"] is not None:
        db.session.add(CityPlan(year=YEAR, planned_events=city["city_plan"][0],
                                planned_early_events=city["city_plan"][1]))
    events = []
    for spec in city["events"]:
        start = SEP1 + timedelta(days=spec["day"])
        internal = spec["internal_of"] is not None
        event = Event(
            organizer_id=orgs[spec["internal_of"]].id if internal else organizer.id,
            title="Событие", category_id=categories[spec["category"]].id,
            audience=Audience(spec["audience"]), starts_at=start,
            ends_at=start + timedelta(hours=2), capacity=100, early=spec["early"],
            status=EventStatus(spec["status"]), school_internal=internal,
            cancel_reason="Отменено" if spec["status"] == "cancelled" else None)
        events.append(event)
    db.session.add_all(events)
    students = [Student(organization_id=orgs[o].id, last_name="Иванов", first_name="Иван",
                        class_name="5А", grade=5, ovz=ovz) for o, ovz in city["students"]]
    teachers = [Teacher(organization_id=orgs[o].id, last_name="Петрова", first_name="Анна")
                for o in city["teachers"]]
    db.session.add_all(students + teachers)
    db.session.flush()

    def add_tickets(specs, people, kind):
        seen = set()
        for person_index, event_index, scan_kinds in specs:
            if person_index >= len(people) or event_index >= len(events):
                continue
            if (person_index, event_index) in seen:
                continue
            seen.add((person_index, event_index))
            event = events[event_index]
            holder = {"student": people[person_index]} if kind == TicketKind.STUDENT \
                else {"teacher": people[person_index]}
            ticket = Ticket(event=event, kind=kind, status=TicketStatus.CONFIRMED, **holder)
            db.session.add(ticket)
            db.session.flush()
            has_checkin = False
            for scan_kind, source in scan_kinds:
                scan_event, outcome, undone = event, ScanOutcome(
                    {"repeat": "already_checked_in"}.get(scan_kind, scan_kind.replace(
                        "ok_undone", "ok"))), None
                if scan_kind == "ok_undone" or (scan_kind == "ok" and has_checkin):
                    undone = NOW
                elif scan_kind == "ok":
                    has_checkin = True
                if scan_kind == "wrong_event":
                    others = [e for e in events if e is not event]
                    if not others:
                        continue
                    scan_event = others[0]
                db.session.add(Scan(event_id=scan_event.id, ticket=ticket, raw_code="x",
                                    outcome=outcome, scanned_at=NOW, received_at=NOW,
                                    undone_at=undone, source=source))
            db.session.flush()

    add_tickets(city["student_tickets"], students, TicketKind.STUDENT)
    add_tickets(city["teacher_tickets"], teachers, TicketKind.TEACHER)
    pairs = {(t, e) for t, e in city["staff"] if t < len(teachers) and e < len(events)}
    db.session.add_all(EventStaff(teacher_id=teachers[t].id, event_id=events[e].id)
                       for t, e in pairs)
    db.session.flush()
    return orgs


def reference_indicators(period: Period, narrow: str | None, orgs,
                         verified_only: bool = False) -> dict:
    """docs/domain.md read literally, over Python objects (the rules: reports/indicators.py);
    with ``verified_only``, only check-ins whose source is ``DOOR_VERIFIED`` count."""
    whole_year = period == PERIOD
    use_plans = whole_year and narrow is None

    def in_scope(event):
        return period.contains(event.starts_at) and (narrow is None or
                                                     event.category.code == narrow)

    checkins = [s.ticket for s in Scan.query.all()
                if s.outcome == ScanOutcome.OK and s.undone_at is None
                and s.event_id == s.ticket.event_id and in_scope(s.ticket.event)
                and (not verified_only or s.source in DOOR_VERIFIED)]
    staff = [(row.teacher, row.event) for row in EventStaff.query.all()
             if in_scope(row.event) and row.event.status == EventStatus.PUBLISHED
             and row.event.starts_at <= NOW]
    planned = [e for e in Event.query.all() if in_scope(e)
               and e.status in (EventStatus.PUBLISHED, EventStatus.CANCELLED)]
    audience_of = {OrgKind.SCHOOL: Audience.STUDENTS, OrgKind.PRESCHOOL: Audience.PRESCHOOL}
    result = {}
    sections = {kind: {"students": set(), "early": set(), "ovz": set(), "schools": set(),
                       "schools_early": set(), "teachers": set(), "teachers_early": set(),
                       "b": [0, 0, 0], "count": 0} for kind in audience_of}
    for org in orgs:
        baseline = Baseline.query.filter_by(organization_id=org.id, year=YEAR).first()
        b_students = baseline.students_total if baseline else 0
        b_ovz = baseline.students_ovz if baseline else 0
        b_teachers = baseline.teachers_total if baseline else 0
        mine = [t for t in checkins if t.student and t.student.organization_id == org.id]
        people = {t.student_id for t in mine}
        early = {t.student_id for t in mine if t.event.early}
        ovz = {t.student_id for t in mine if t.student.ovz}
        teacher_pairs = [(t.teacher, t.event) for t in checkins if t.teacher] + staff
        teachers = {te.id for te, _e in teacher_pairs if te.organization_id == org.id}
        teachers_early = {te.id for te, e in teacher_pairs if te.organization_id == org.id
                          and e.early}

        def open_to(event, org=org):
            return event.audience == audience_of[org.kind] and (
                not event.school_internal or event.organizer_id == org.id)

        held = {t.event_id for t in mine if open_to(t.event)
                and t.event.status == EventStatus.PUBLISHED}
        held_early = {t.event_id for t in mine if open_to(t.event) and t.event.early
                      and t.event.status == EventStatus.PUBLISHED}
        b_events = sum(1 for e in planned if open_to(e))
        b_early = sum(1 for e in planned if open_to(e) and e.early)
        if use_plans and baseline and baseline.planned_events is not None:
            b_events = baseline.planned_events
        if use_plans and baseline and baseline.planned_early_events is not None:
            b_early = baseline.planned_early_events
        result[org.id] = {
            "students": Figure(len(people), b_students),
            "students_early": Figure(len(early), b_students),
            "students_ovz": Figure(len(ovz), b_ovz),
            "schools": Figure(1 if people else 0, 1),
            "schools_early": Figure(1 if early else 0, 1),
            "teachers": Figure(len(teachers), b_teachers),
            "teachers_early": Figure(len(teachers_early), b_teachers),
            "events": Figure(len(held), b_events),
            "events_early": Figure(len(held_early), b_early),
        }
        s = sections[org.kind]
        s["students"] |= people
        s["early"] |= early
        s["ovz"] |= ovz
        s["schools"] |= {org.id} if people else set()
        s["schools_early"] |= {org.id} if early else set()
        s["teachers"] |= teachers
        s["teachers_early"] |= teachers_early
        s["b"] = [s["b"][0] + b_students, s["b"][1] + b_ovz, s["b"][2] + b_teachers]
        s["count"] += 1

    plan = db.session.get(CityPlan, YEAR) if use_plans else None
    for kind, s in sections.items():
        audience = audience_of[kind]
        held = {t.event_id for t in checkins if t.student and t.student.organization.kind == kind
                and t.event.audience == audience and t.event.status == EventStatus.PUBLISHED}
        held_early = {e for e in held if db.session.get(Event, e).early}
        b_events = sum(1 for e in planned if e.audience == audience)
        b_early = sum(1 for e in planned if e.audience == audience and e.early)
        if kind == OrgKind.SCHOOL and plan is not None:
            b_events = plan.planned_events if plan.planned_events is not None else b_events
            b_early = plan.planned_early_events if plan.planned_early_events is not None \
                else b_early
        result[kind] = {
            "students": Figure(len(s["students"]), s["b"][0]),
            "students_early": Figure(len(s["early"]), s["b"][0]),
            "students_ovz": Figure(len(s["ovz"]), s["b"][1]),
            "schools": Figure(len(s["schools"]), s["count"]),
            "schools_early": Figure(len(s["schools_early"]), s["count"]),
            "teachers": Figure(len(s["teachers"]), s["b"][2]),
            "teachers_early": Figure(len(s["teachers_early"]), s["b"][2]),
            "events": Figure(len(held), b_events),
            "events_early": Figure(len(held_early), b_early),
        }
    return result


@settings(max_examples=80, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(city=city_st)
def test_sql_matches_the_python_reference(db, city):
    try:
        orgs = build(city)
        period = Period(date(2024, 10, 1), date(2025, 2, 28)) if city["range"] else PERIOD
        narrow = [city["narrow"]] if city["narrow"] else None
        for verified_only in (False, True):
            report = compute_indicators(period, category_codes=narrow, now=NOW,
                                        verified_only=verified_only)
            expected = reference_indicators(period, city["narrow"], orgs, verified_only)
            for org in orgs:
                got = report.row_for(org.id).indicators
                for key in INDICATOR_KEYS:
                    assert got[key] == expected[org.id][key], (org.name, key, verified_only)
            for kind, block in ((OrgKind.SCHOOL, report.city), (OrgKind.PRESCHOOL,
                                                                 report.preschools)):
                for key in INDICATOR_KEYS:
                    assert block[key] == expected[kind][key], (kind, key, verified_only)
    finally:
        db.session.rollback()
