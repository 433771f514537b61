"""The nine indicators on a hand-built scenario whose every answer is worked out by hand.

Year 2024 (1 Sep 2024 – 31 Aug 2025). See ``scenario`` for who did what; the expected numbers
are derived in the comments next to each assertion.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from formats.text import natural_key
from models import (
    CityPlan,
    EventStaff,
    EventStatus,
    OrgKind,
    RoadmapItem,
    Role,
    Scan,
    ScanOutcome,
    db,
    now_utc,
)
from models.academic_year import Period
from reports.indicators import (
    INDICATOR_KEYS,
    compute_indicators,
    monthly_trend,
    percent_of,
)

YEAR = 2024


def at(month: int, day: int, year: int | None = None) -> datetime:
    """Noon in Tomsk (05:00 UTC) on a day of the 2024/25 academic year."""
    year = year or (YEAR if month >= 9 else YEAR + 1)
    return datetime(year, month, day, 5, 0, tzinfo=UTC)


def scan(ticket, outcome: ScanOutcome, *, event=None, **extra) -> Scan:
    event = event or ticket.event
    row = Scan(event_id=event.id, ticket=ticket, raw_code=ticket.token, outcome=outcome,
               scanned_at=event.starts_at, received_at=event.starts_at, **extra)
    db.session.add(row)
    db.session.flush()
    return row


@pytest.fixture
def scenario(db, factory):
    f = factory
    s1 = f.create_org(name="СОШ № 1 (сценарий)")
    s2 = f.create_org(name="СОШ № 2 (сценарий)")
    s3 = f.create_org(name="СОШ № 3 (сценарий, B = 0)")
    k1 = f.create_org(name="ДОО № 1 (сценарий)", kind=OrgKind.PRESCHOOL)
    uni = f.create_org(name="Университет (сценарий)", kind=OrgKind.UNIVERSITY)
    f.create_baseline(s1, YEAR, students_total=10, students_ovz=2, teachers_total=5)
    f.create_baseline(s2, YEAR, students_total=20, students_ovz=4, teachers_total=8,
                      planned_events=5, planned_early_events=2)
    f.create_baseline(s3, YEAR, students_total=0, students_ovz=0, teachers_total=0)
    f.create_baseline(k1, YEAR, students_total=5, students_ovz=1, teachers_total=2)

    e1 = f.create_event(uni, starts_at=at(10, 1), title="E1 открытый, не ранний")
    e2 = f.create_event(uni, starts_at=at(11, 5), early=True, title="E2 ранний",
                        category_code="cpc_program")
    e3 = f.create_event(uni, starts_at=at(12, 5), early=True, status=EventStatus.CANCELLED,
                        cancel_reason="Болезнь лектора", title="E3 отменённый ранний")
    e4 = f.create_event(s1, starts_at=at(2, 10), school_internal=True, title="E4 внутренний S1",
                        category_code="school_internal")
    e5 = f.create_event(uni, starts_at=at(3, 3), early=True, audience=_aud("preschool"),
                        grades_min=0, grades_max=0, title="E5 для дошкольников")
    f.create_event(uni, starts_at=at(4, 4), status=EventStatus.DRAFT, published_at=None,
                   title="E6 черновик")
    e7 = f.create_event(uni, starts_at=datetime(2024, 5, 20, 5, tzinfo=UTC), title="E7 прошлый год")
    e8 = f.create_event(uni, starts_at=at(1, 15), audience=_aud("teachers"), grades_min=None,
                        grades_max=None, category_code="teacher_training", title="E8 КПК")

    a = f.create_student(s1)
    b = f.create_student(s1, ovz=True)
    c = f.create_student(s1)
    d = f.create_student(s1)
    e = f.create_student(s2)
    ovz2 = f.create_student(s2, ovz=True)
    kid = f.create_student(k1, class_name="Старшая группа", grade=0)

    # a: checked in at E1 (and scanned again: a repeat), and at the early E2.
    ta1 = f.create_ticket(e1, a)
    f.create_checkin(ta1)
    scan(ta1, ScanOutcome.ALREADY_CHECKED_IN)
    f.create_checkin(f.create_ticket(e2, a))
    # b (ОВЗ): checked in at E1 by mistake and undone; checked in at S1's internal E4.
    f.create_checkin(f.create_ticket(e1, b), undone_at=now_utc(), undo_reason="Ошибка")
    f.create_checkin(f.create_ticket(e4, b))
    # c: checked in at the early E2, then the name was removed: still counts.
    f.create_checkin(f.create_ticket(e2, c))
    c.last_name = c.first_name = None
    c.anonymized_at = now_utc()
    # d: holds an E2 ticket, scanned at the E1 door (wrong event) and outside the window.
    td = f.create_ticket(e2, d)
    scan(td, ScanOutcome.WRONG_EVENT, event=e1)
    scan(td, ScanOutcome.NOT_OPEN)
    # e: checked in at E1.
    f.create_checkin(f.create_ticket(e1, e))
    # ovz2: came to an event of the previous year; registered for the cancelled E3.
    f.create_checkin(f.create_ticket(e7, ovz2))
    scan(f.create_ticket(e3, ovz2), ScanOutcome.CANCELLED)
    # kid: at the preschool E5.
    f.create_checkin(f.create_ticket(e5, kid))

    t1 = f.create_teacher(s1)  # accompanies a group at E1
    t2 = f.create_teacher(s1)  # runs the early E2
    t3 = f.create_teacher(s2)  # staff of the cancelled E3; checked in at the КПК E8
    t4 = f.create_teacher(s2)  # checked in at E2 (twice scanned) and runs E2
    tk = f.create_teacher(k1)  # runs E5
    f.create_teacher(s1)       # never took part
    f.create_checkin(f.create_ticket(e1, t1))
    f.create_checkin(f.create_ticket(e8, t3))
    t4_ticket = f.create_ticket(e2, t4)
    f.create_checkin(t4_ticket)
    scan(t4_ticket, ScanOutcome.ALREADY_CHECKED_IN)
    for event, teacher in ((e2, t2), (e3, t3), (e2, t4), (e5, tk)):
        db.session.add(EventStaff(event_id=event.id, teacher_id=teacher.id))
    db.session.commit()
    return {"s1": s1, "s2": s2, "s3": s3, "k1": k1, "uni": uni, "e1": e1, "e2": e2, "e4": e4,
            "t2": t2}


def _aud(value):
    from models import Audience

    return Audience(value)


def figures(block) -> dict:
    return {k: (v.a, v.b, v.percent) for k, v in block.items()}


def D(text):  # noqa: N802 - reads like the number it is
    return None if text is None else Decimal(text)


def test_school_with_every_kind_of_scan(scenario):
    report = compute_indicators(YEAR)
    s1 = figures(report.row_for(scenario["s1"].id).indicators)
    assert s1 == {
        "students": (3, 10, D("30.0")),        # a, b (E4), c (anonymized); d never checked in
        "students_early": (2, 10, D("20.0")),  # a and c at E2
        "students_ovz": (1, 2, D("50.0")),     # b, whose E1 check-in was undone, came to E4
        "schools": (1, 1, D("100.0")),
        "schools_early": (1, 1, D("100.0")),
        "teachers": (2, 5, D("40.0")),         # t1 accompanying, t2 running E2
        "teachers_early": (1, 5, D("20.0")),   # t2
        "events": (3, 4, D("75.0")),           # held E1, E2, E4 of E1, E2, E3 (cancelled), E4
        "events_early": (1, 2, D("50.0")),     # held E2 of E2, E3
    }


def test_school_with_its_own_plan(scenario):
    s2 = figures(compute_indicators(YEAR).row_for(scenario["s2"].id).indicators)
    assert s2 == {
        "students": (1, 20, D("5.0")),         # e; ovz2's check-in was the year before
        "students_early": (0, 20, D("0.0")),
        "students_ovz": (0, 4, D("0.0")),
        "schools": (1, 1, D("100.0")),
        "schools_early": (0, 1, D("0.0")),
        "teachers": (2, 8, D("25.0")),         # t3 at E8 (not for running the cancelled E3), t4
        "teachers_early": (1, 8, D("12.5")),   # t4, counted once though checked in and running
        "events": (1, 5, D("20.0")),           # the school's plan figure 5
        "events_early": (0, 2, D("0.0")),      # plan 2
    }


def test_school_with_zero_baseline_has_no_data_not_an_error(scenario):
    s3 = figures(compute_indicators(YEAR).row_for(scenario["s3"].id).indicators)
    assert s3["students"] == (0, 0, None)
    assert s3["students_ovz"] == (0, 0, None)
    assert s3["teachers"] == (0, 0, None)
    assert s3["schools"] == (0, 1, D("0.0"))
    assert s3["events"] == (0, 3, D("0.0"))    # public E1, E2, E3; not S1's internal E4


def test_city_and_preschool_sections(scenario):
    report = compute_indicators(YEAR)
    assert figures(report.city) == {
        "students": (4, 30, D("13.3")),
        "students_early": (2, 30, D("6.7")),
        "students_ovz": (1, 6, D("16.7")),
        "schools": (2, 3, D("66.7")),
        "schools_early": (1, 3, D("33.3")),
        "teachers": (4, 13, D("30.8")),
        "teachers_early": (2, 13, D("15.4")),
        "events": (3, 4, D("75.0")),           # E1, E2, E4 of E1–E4 (draft E6, КПК E8 not)
        "events_early": (1, 2, D("50.0")),
    }
    assert figures(report.preschools) == {
        "students": (1, 5, D("20.0")),
        "students_early": (1, 5, D("20.0")),
        "students_ovz": (0, 1, D("0.0")),
        "schools": (1, 1, D("100.0")),
        "schools_early": (1, 1, D("100.0")),
        "teachers": (1, 2, D("50.0")),
        "teachers_early": (1, 2, D("50.0")),
        "events": (1, 1, D("100.0")),
        "events_early": (1, 1, D("100.0")),
    }
    assert [o.name for o in report.kindergartens] == ["ДОО № 1 (сценарий)"]
    assert {o.name for o in report.schools} == {"СОШ № 1 (сценарий)", "СОШ № 2 (сценарий)",
                                                "СОШ № 3 (сценарий, B = 0)"}


def test_city_plan_replaces_the_published_count(scenario, db):
    db.session.add(CityPlan(year=YEAR, planned_events=10))
    db.session.commit()
    city = compute_indicators(YEAR).city
    assert (city["events"].a, city["events"].b, city["events"].percent) == (3, 10, D("30.0"))
    assert (city["events_early"].a, city["events_early"].b) == (1, 2)  # no early plan: counted


def test_date_range_counts_published_events_not_the_yearly_plan(scenario):
    period = Period(date(2024, 9, 1), date(2024, 12, 31))
    report = compute_indicators(period)
    s2 = report.row_for(scenario["s2"].id).indicators
    assert (s2["events"].a, s2["events"].b) == (1, 3)        # E1 held of E1, E2, E3
    assert (report.city["students"].a, report.city["students"].b) == (3, 30)  # a, c, e; not b
    assert report.to_json()["period"] == {"from": "2024-09-01", "to": "2024-12-31"}


def test_narrowed_by_category_organizer_and_roadmap_section(scenario, db):
    only_cpc = compute_indicators(YEAR, category_codes=["cpc_program"])
    assert (only_cpc.city["students"].a, only_cpc.city["events"].a,
            only_cpc.city["events"].b) == (2, 1, 1)          # a, c at E2
    assert only_cpc.city["teachers"].a == 2                  # t2 runs E2, t4 checked in
    by_school = compute_indicators(YEAR, organizer_id=scenario["s1"].id)
    assert (by_school.city["students"].a, by_school.city["events"].b) == (1, 1)  # b at E4
    item = RoadmapItem.query.filter_by(section=3).first()
    scenario["e1"].roadmap_item_id = item.id
    db.session.commit()
    section3 = compute_indicators(YEAR, roadmap_section=3)
    assert (section3.city["students"].a, section3.city["events"].a) == (2, 1)  # a, e at E1
    assert compute_indicators(YEAR, roadmap_section=5).city["students"].a == 0


def test_staff_of_an_event_not_yet_started_do_not_count(scenario):
    before_e2 = scenario["e2"].starts_at - timedelta(days=1)
    s1 = compute_indicators(YEAR, now=before_e2).row_for(scenario["s1"].id).indicators
    assert s1["teachers"].a == 1  # only t1; t2 has not run E2 yet


def test_one_organization_only_keeps_full_city_totals(scenario):
    report = compute_indicators(YEAR, organization_id=scenario["s1"].id)
    assert [o.id for o in report.organizations] == [scenario["s1"].id]
    assert report.city["students"].a == 4


def test_json_shape_matches_the_api_contract(scenario):
    body = compute_indicators(YEAR).to_json()
    assert body["period"] == {"from": "2024-09-01", "to": "2025-08-31"}
    assert list(body["city"]) == [*INDICATOR_KEYS, "parents"]
    assert body["city"]["students"] == {"a": 4, "b": 30, "percent": 13.3}
    s3 = next(o for o in body["organizations"] if o["id"] == scenario["s3"].id)
    assert s3["kind"] == "school"
    assert s3["indicators"]["students"] == {"a": 0, "b": 0, "percent": None}
    assert body["preschools"]["events"] == {"a": 1, "b": 1, "percent": 100.0}


def test_percent_rounds_half_up():
    assert percent_of(1, 16) == Decimal("6.3")    # 6.25
    assert percent_of(1, 400) == Decimal("0.3")   # 0.25
    assert percent_of(1, 3) == Decimal("33.3")
    assert percent_of(2, 3) == Decimal("66.7")
    assert percent_of(5, 0) is None


def test_monthly_trend_counts_first_involvement_once(scenario):
    points = monthly_trend(YEAR)
    assert len(points) == 12 and points[0].first_day == date(2024, 9, 1)
    by_month = {p.first_day.month: p for p in points}
    assert (by_month[10].checkins, by_month[10].cumulative) == (2, 2)
    assert (by_month[11].checkins, by_month[11].cumulative) == (2, 3)  # a again, c new
    assert by_month[2].cumulative == 4 and by_month[8].cumulative == 4
    assert monthly_trend(YEAR, kind=OrgKind.PRESCHOOL)[6].cumulative == 1  # March


def test_monthly_trend_of_a_year_under_way_ends_with_the_current_month(scenario):
    # 30.11 20:00 UTC is already 1 December in Tomsk.
    for now, months in ((datetime(2024, 11, 15, 5, tzinfo=UTC), [9, 10, 11]),
                        (datetime(2024, 11, 30, 20, tzinfo=UTC), [9, 10, 11, 12])):
        points = monthly_trend(YEAR, now=now)
        assert [p.first_day.month for p in points] == months
        assert points[2].cumulative == 3
    before = monthly_trend(YEAR, now=datetime(2024, 6, 1, tzinfo=UTC))
    assert [p.first_day for p in before] == [date(2024, 9, 1)]


def test_names_sort_by_their_numbers_whatever_they_start_with():
    """A name that starts with a digit once made sorting the report fail (int < str)."""
    names = ["СОШ № 10", "2-я гимназия", "СОШ № 2", "Ёлочка", "10 лицей", "Елка", ""]
    assert sorted(names, key=natural_key) == [
        "", "2-я гимназия", "10 лицей", "Елка", "Ёлочка", "СОШ № 2", "СОШ № 10"]


def test_indicators_of_a_city_with_a_school_named_from_a_digit(factory, db, client, auth):
    factory.create_org(name="1-я гимназия")
    factory.create_org(name="МАОУ СОШ № 7")
    admin = factory.create_user(Role.ADMIN)
    db.session.commit()
    auth.login(admin.email)
    response = client.get("/api/v1/reports/indicators?year=2025")
    assert response.status_code == 200
    names = [o["name"] for o in response.get_json()["organizations"]]
    assert names.index("1-я гимназия") < names.index("МАОУ СОШ № 7")
