"""Property test: the профминимум ledger (SQL) agrees with a literal Python reading of the rules
(docs/reports.md «Профминимум») on random small schools. Each example is built inside one
transaction (flushed, never committed) and rolled back."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from formats.timefmt import TOMSK
from models import (
    Audience,
    Category,
    Event,
    EventStatus,
    Organization,
    OrgKind,
    ProfminimumLevels,
    Scan,
    ScanOutcome,
    ScanSource,
    Student,
    Ticket,
    TicketKind,
    TicketStatus,
    db,
)
from reports.profminimum import city_ledger, school_ledger

YEAR = 2024

event_st = st.fixed_dictionaries({
    "day": st.integers(-20, 380),           # days after 01.09.2024 (some outside the year)
    "minutes": st.integers(10, 300),
    "explicit": st.one_of(st.none(), st.integers(0, 50)),
    "audience": st.sampled_from(["students", "students", "students", "parents", "teachers"]),
    "status": st.sampled_from(["published", "published", "published", "cancelled"]),
})
#: Per ticket: its scans in order: a check-in, an undone check-in, a repeat.
scan_st = st.sampled_from(["ok", "ok", "undone", "repeat"])
school_st = st.fixed_dictionaries({
    "events": st.lists(event_st, min_size=2, max_size=6),
    "students": st.lists(st.tuples(st.integers(0, 1), st.integers(4, 11), st.booleans(),
                                   st.booleans()), min_size=3, max_size=8),
    "tickets": st.lists(st.tuples(st.integers(0, 7), st.integers(0, 5),
                                  st.lists(scan_st, min_size=1, max_size=3),
                                  st.sampled_from(list(ScanSource))), min_size=4, max_size=16),
    "city_levels": st.one_of(st.none(), st.dictionaries(st.integers(6, 11),
                                                        st.sampled_from([40, 60, 80]))),
    "school_levels": st.lists(st.one_of(st.none(), st.dictionaries(
        st.integers(6, 11), st.sampled_from([40, 60, 80]))), min_size=2, max_size=2),
    "today": st.dates(date(2024, 8, 1), date(2025, 7, 31)),
})


def reference_hours(minutes: int) -> Decimal:
    """One Tomsk day: minutes / 45, half up to a whole academic hour (written out here)."""
    return (Decimal(minutes) / Decimal(45)).quantize(Decimal(1), rounding=ROUND_HALF_UP)


def build(data):
    category = Category.query.filter_by(code="university").one()
    organizer = Organization(name="Вуз (свойство)", kind=OrgKind.UNIVERSITY)
    schools = [Organization(name=f"Школа {i} (свойство)", kind=OrgKind.SCHOOL) for i in range(2)]
    db.session.add_all([organizer, *schools])
    db.session.flush()
    events = []
    for spec in data["events"]:
        day = date(2024, 9, 1) + timedelta(days=spec["day"])
        start = datetime(day.year, day.month, day.day, 9, tzinfo=TOMSK)
        event = Event(organizer_id=organizer.id, title="С", category_id=category.id,
                      audience=Audience(spec["audience"]), starts_at=start,
                      ends_at=start + timedelta(minutes=spec["minutes"]), venue_name="В",
                      capacity=100, status=EventStatus(spec["status"]),
                      cancel_reason="нет" if spec["status"] == "cancelled" else None,
                      academic_hours_override=None if spec["explicit"] is None
                      else Decimal(spec["explicit"]))
        db.session.add(event)
        events.append(event)
    students = []
    for school_index, grade, ovz, active in data["students"]:
        student = Student(organization_id=schools[school_index].id, last_name="Ф",
                          first_name="И", class_name=f"{grade}А", grade=grade, ovz=ovz,
                          active=active)
        db.session.add(student)
        students.append(student)
    if data["city_levels"] is not None:
        row = ProfminimumLevels(organization_id=None, year=YEAR)
        row.set_hours(data["city_levels"])
        db.session.add(row)
    for school, levels in zip(schools, data["school_levels"], strict=True):
        if levels is not None:
            row = ProfminimumLevels(organization_id=school.id, year=YEAR)
            row.set_hours(levels)
            db.session.add(row)
    db.session.flush()
    checked: dict[int, set[int]] = {}  # student id → event ids with a live check-in
    seen = set()
    for student_index, event_index, scans, source in data["tickets"]:
        student = students[student_index % len(students)]
        event = events[event_index % len(events)]
        if (student.id, event.id) in seen:
            continue
        seen.add((student.id, event.id))
        ticket = Ticket(event_id=event.id, kind=TicketKind.STUDENT, student_id=student.id,
                        status=TicketStatus.CONFIRMED)
        db.session.add(ticket)
        db.session.flush()
        live = False
        for kind in scans:
            if kind == "repeat" or (kind == "ok" and live):
                outcome, undone = ScanOutcome.ALREADY_CHECKED_IN, None
            else:
                outcome = ScanOutcome.OK
                undone = event.starts_at if kind == "undone" else None
                live = live or undone is None
            db.session.add(Scan(ticket=ticket, event_id=event.id, raw_code=ticket.token,
                                outcome=outcome, scanned_at=event.starts_at,
                                received_at=event.starts_at, source=source,
                                undone_at=undone, undo_reason="x" if undone else None))
        if live:
            checked.setdefault(student.id, set()).add(event.id)
    db.session.flush()
    return schools, events, students, checked


def reference(data, schools, events, students, checked):
    """Status per student id, straight from the rules."""
    first, last = date(YEAR, 9, 1), date(YEAR + 1, 5, 31)
    today = data["today"]
    share = Fraction(0) if today < first else Fraction(1) if today >= last else \
        Fraction((today - first).days + 1, (last - first).days + 1)
    by_id = {e.id: (e, spec) for e, spec in zip(events, data["events"], strict=True)}
    result = {}
    for student in students:
        if not student.active or not 6 <= student.grade <= 11:
            continue
        hours = Decimal(0)
        for event_id in checked.get(student.id, ()):
            event, spec = by_id[event_id]
            in_year = date(YEAR, 9, 1) <= event.starts_at.astimezone(TOMSK).date() \
                <= date(YEAR + 1, 8, 31)
            if in_year and spec["audience"] == "students" and spec["status"] == "published":
                hours += Decimal(spec["explicit"]) if spec["explicit"] is not None \
                    else reference_hours(spec["minutes"])
        own = data["school_levels"][schools.index(
            next(s for s in schools if s.id == student.organization_id))] or {}
        target = own.get(student.grade) or (data["city_levels"] or {}).get(student.grade) or 40
        status = "done" if hours >= target else \
            "on_pace" if Fraction(str(hours)) >= target * share else "behind"
        result[student.id] = (hours, target, status, student.organization_id, student.ovz)
    return result


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=school_st)
def test_ledger_matches_the_python_reference(db, data):
    try:
        schools, events, students, checked = build(data)
        expected = reference(data, schools, events, students, checked)
        got = {}
        for school in schools:
            ledger = school_ledger(school, YEAR, today=data["today"])
            for line in ledger.students:
                got[line.id] = (line.hours, line.target, line.status, school.id, line.ovz)
        assert got == expected
        city = city_ledger(YEAR, today=data["today"])
        for school in city.schools:
            if school.organization.id not in {s.id for s in schools}:
                continue
            mine = [v for v in expected.values() if v[3] == school.organization.id]
            assert school.counts.students == len(mine)
            for status in ("done", "on_pace", "behind"):
                assert getattr(school.counts, status) == sum(v[2] == status for v in mine)
                assert getattr(school.ovz, status) == sum(v[2] == status and v[4]
                                                          for v in mine)
    finally:
        db.session.rollback()
