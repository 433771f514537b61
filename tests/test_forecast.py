"""The year-end forecast (reports/forecast.py) on a hand-built school whose every figure is
worked out by hand, and the targets' statuses.

Academic year 2025 (1 Sep 2025 – 31 Aug 2026), forecast made on 1 Dec 2025. School S, 20
students (B):

- last year (2024/25): 4 students came before 1 Dec 2024 and 8 more after (12 in all), and 4
  tickets were no-shows: of the 20 − 4 = 16 not reached by 1 Dec, 8 came later — a share of 0.5;
- this year so far: 6 students came (October), 2 tickets were no-shows;
- show rate: (12 + 6) came of (16 + 8) confirmed = 0.75;
- booked for 10 Dec 2025: 5 students, 2 of them already counted → 3 new, expected 3 × 0.75 =
  2.25;
- pace: 0.5 × (20 − 6) = 7.

So low = 6 + 2.25 = 8.25 (41.3 %), point = 6 + max(2.25, 7) = 13 (65.0 %), high = 6 + 3 + 7 =
16 (80.0 %).
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from models import Target, TicketStatus, db
from reports.forecast import (
    AT_RISK,
    REACHABLE,
    REACHED,
    city_gaps,
    compute_forecast,
    school_gaps,
    status_of,
)

YEAR = 2025
AS_OF = datetime(2025, 11, 30, 17, 0, tzinfo=UTC)  # 1 Dec 2025 00:00 in Tomsk


def at(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 5, 0, tzinfo=UTC)


@pytest.fixture
def school(db, factory):
    f = factory
    s = f.create_org(name="СОШ № 1 (прогноз)")
    uni = f.create_org(name="Университет (прогноз)", kind=f.OrgKind.UNIVERSITY)
    f.create_baseline(s, YEAR - 1, students_total=20, students_ovz=2, teachers_total=4)
    f.create_baseline(s, YEAR, students_total=20, students_ovz=2, teachers_total=4)
    kids = [f.create_student(s) for _ in range(20)]
    booked_at = at(2024, 9, 1)

    def visit(event, people, came: bool):
        for person in people:
            ticket = f.create_ticket(event, person, created_at=booked_at)
            if came:
                f.create_checkin(ticket)

    early_ly = f.create_event(uni, starts_at=at(2024, 10, 1))
    late_ly = f.create_event(uni, starts_at=at(2025, 3, 1))
    visit(early_ly, kids[0:4], True)
    visit(late_ly, kids[4:12], True)
    visit(late_ly, kids[12:16], False)
    october = f.create_event(uni, starts_at=at(2025, 10, 10))
    visit(october, kids[0:6], True)
    visit(october, kids[6:8], False)
    upcoming = f.create_event(uni, starts_at=at(2025, 12, 10))
    for person in [kids[0], kids[1], kids[10], kids[11], kids[12]]:
        f.create_ticket(upcoming, person, created_at=at(2025, 11, 20))
    # Not known on 1 Dec: booked after it, or cancelled before it.
    f.create_ticket(upcoming, kids[13], created_at=at(2025, 12, 2))
    f.create_ticket(upcoming, kids[14], created_at=at(2025, 11, 20),
                    status=TicketStatus.CANCELLED, cancelled_at=at(2025, 11, 25))
    return s


def forecast_of(org_id):
    return compute_forecast(YEAR, now=AS_OF).school(org_id)


def test_forecast_equals_the_hand_worked_figures(school):
    f = forecast_of(school.id).indicators["students"]
    assert (f.current.a, f.current.b) == (6, 20)
    assert (f.low_a, f.point_a, f.high_a) == pytest.approx((8.25, 13.0, 16.0))
    assert (f.low, f.forecast, f.high) == (Decimal("41.3"), Decimal("65.0"), Decimal("80.0"))
    assert forecast_of(school.id).show_rate == pytest.approx(0.75)
    assert forecast_of(school.id).own_show_rate
    # Events (8): B = the 2 events of the year open to S, 1 held (October). The 10 December
    # event has 5 students booked: held with the chance 1 − 0.25⁵; last year 1 event came
    # after 1 December → pace 1. low = 1 + 0.99902, point = 1 + max(0.99902, 1) = 2, high =
    # min(2, 1 + 1 + 1) = 2.
    events = forecast_of(school.id).indicators["events"]
    assert (events.current.a, events.current.b) == (1, 2)
    assert (events.low_a, events.point_a, events.high_a) == pytest.approx(
        (1 + 1 - 0.25 ** 5, 2.0, 2.0))


def test_people_already_counted_are_not_counted_again(school):
    f = forecast_of(school.id).indicators["students"]
    # 5 booked, 2 already came this year: high adds 3, not 5.
    assert f.high_a - f.current.a - 7 == pytest.approx(3)


def test_the_range_contains_the_point(school):
    for f in forecast_of(school.id).indicators.values():
        assert f.low_a <= f.point_a <= f.high_a
        if f.b:
            assert f.low <= f.forecast <= f.high


def test_no_target_no_status_and_statuses_follow_the_rule(school):
    f = forecast_of(school.id).indicators["students"]
    assert f.target is None and f.status is None
    assert school_gaps(YEAR, school.id, now=AS_OF) == []
    db.session.add(Target(year=YEAR, organization_id=None, students=Decimal("60.0")))
    db.session.flush()
    f = forecast_of(school.id).indicators["students"]
    assert (f.target, f.status) == (Decimal("60.0"), REACHABLE)
    db.session.add(Target(year=YEAR, organization_id=school.id, students=Decimal("85.0")))
    db.session.flush()
    f = forecast_of(school.id).indicators["students"]
    assert (f.target, f.status) == (Decimal("85.0"), AT_RISK)
    gaps = school_gaps(YEAR, school.id, now=AS_OF)
    assert [(g.indicator, g.target, g.forecast_high, g.people_needed) for g in gaps] == [
        ("students", Decimal("85.0"), Decimal("80.0"), 4)]  # ceil(17 − 13)
    assert [(g.organization_id, g.indicator) for g in city_gaps(YEAR, now=AS_OF)] == [
        (school.id, "students")]


def test_status_rule():
    assert status_of(Decimal("60"), Decimal("90"), Decimal("60")) == REACHED
    assert status_of(Decimal("10"), Decimal("59.9"), Decimal("60")) == AT_RISK
    assert status_of(Decimal("10"), Decimal("60"), Decimal("60")) == REACHABLE
    assert status_of(None, None, Decimal("60")) is None
    assert status_of(Decimal("10"), Decimal("20"), None) is None


def test_a_school_without_history_has_the_city_show_rate(school, factory):
    other = factory.create_org(name="СОШ № 2 (прогноз)")
    factory.create_baseline(other, YEAR, students_total=10)
    f = forecast_of(other.id)
    assert not f.own_show_rate
    assert f.show_rate == pytest.approx(0.75)


# --- the API ---------------------------------------------------------------------------------

def test_put_targets_and_read_the_forecast(school, client, factory):
    admin = factory.create_user()
    token = factory.create_token(admin)
    response = client.put(f"/api/v1/targets/{YEAR}", json={
        "city": {"students": 60.0, "teachers": 45},
        "schools": {str(school.id): {"students": 85.04}}}, headers=factory.bearer(token))
    assert response.status_code == 200, response.json
    body = response.json
    assert body["city"]["students"] == 60.0 and body["city"]["teachers"] == 45.0
    assert body["city"]["events"] is None
    assert body["schools"][str(school.id)] == {"students": 85.0, "locked": False}
    # Only the keys given change; null removes a goal.
    client.put(f"/api/v1/targets/{YEAR}", json={"city": {"teachers": None}},
               headers=factory.bearer(token))
    row = db.session.execute(db.select(Target).where(Target.organization_id.is_(None))).scalar_one()
    assert (row.students, row.teachers) == (Decimal("60.0"), None)


@pytest.mark.parametrize("body, field", [
    ({"city": {"pupils": 50}}, "city.pupils"),
    ({"city": {"students": 101}}, "city.students"),
    ({"city": {"students": "60"}}, "city.students"),
    ({"city": {"students": True}}, "city.students"),
    ({"city": [1]}, "city"),
    ({"schools": {"abc": {"students": 1}}}, "schools.abc"),
    ({"schools": {"999999": {"students": 1}}}, "schools.999999"),
    ({"town": {}}, "town"),
])
def test_bad_targets_are_422_with_the_field(client, factory, body, field):
    token = factory.create_token(factory.create_user())
    response = client.put(f"/api/v1/targets/{YEAR}", json=body, headers=factory.bearer(token))
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]
    assert db.session.execute(db.select(Target)).first() is None


def test_locked_targets_are_409_and_change_nothing(client, factory):
    from webapp.services.targets import save_targets, set_target_lock
    admin = factory.create_user()
    save_targets(admin, YEAR, {None: {"students": Decimal("50")}})
    set_target_lock(admin, YEAR, None, True)
    db.session.commit()
    token = factory.create_token(admin)
    response = client.put(f"/api/v1/targets/{YEAR}", json={"city": {"students": 70}},
                          headers=factory.bearer(token))
    assert response.status_code == 409
    assert response.json["error"]["code"] == "targets_locked"
    db.session.expire_all()
    assert db.session.execute(db.select(Target)).scalar_one().students == Decimal("50.0")


def test_forecast_api_shape_and_scope(school, client, factory, time_machine):
    time_machine.move_to(AS_OF, tick=False)
    db.session.add(Target(year=YEAR, organization_id=None, students=Decimal("60")))
    db.session.flush()
    admin_token = factory.create_token(factory.create_user())
    body = client.get(f"/api/v1/reports/forecast?year={YEAR}&organization_id={school.id}",
                      headers=factory.bearer(admin_token)).json
    assert body["students"]["current"] == {"a": 6, "b": 20, "percent": 30.0}
    assert {k: body["students"]["forecast"][k] for k in ("percent", "low", "high")} == {
        "percent": 65.0, "low": 41.3, "high": 80.0}
    assert (body["students"]["target"], body["students"]["status"]) == (60.0, "reachable")
    assert body["events"]["target"] is None and body["events"]["status"] is None
    city = client.get(f"/api/v1/reports/forecast?year={YEAR}",
                      headers=factory.bearer(admin_token)).json
    assert city["organization_id"] is None and city["students"]["target"] == 60.0
    coordinator = factory.create_user(factory.Role.COORDINATOR, organization=school)
    own = factory.create_token(coordinator)
    mine = client.get(f"/api/v1/reports/forecast?year={YEAR}", headers=factory.bearer(own))
    assert mine.status_code == 200 and mine.json["organization_id"] == school.id
    other = factory.create_org()
    assert client.get(f"/api/v1/reports/forecast?organization_id={other.id}",
                      headers=factory.bearer(own)).status_code == 403
    organizer = factory.create_token(factory.create_user(factory.Role.ORGANIZER))
    assert client.get("/api/v1/reports/forecast",
                      headers=factory.bearer(organizer)).status_code == 403
    assert client.put(f"/api/v1/targets/{YEAR}", json={"city": {"students": 1}},
                      headers=factory.bearer(own)).status_code == 403
    bad = client.get("/api/v1/reports/forecast?year=abc", headers=factory.bearer(admin_token))
    assert bad.status_code == 422 and "year" in bad.json["error"]["fields"]


# --- the backtest ----------------------------------------------------------------------------

def test_backtest_of_a_small_year_with_known_answers(school):
    """Year 2024/25 of the fixture, actual end 12 of 20 = 60 %. No 2023/24 in the system, so
    the pace is this year's own, carried over the teaching months left (1 Sep – 31 May).

    - 1 Sep 2024: nothing known yet (the tickets were made that day, after midnight) → 0 %.
    - 1 Dec 2024: 4 came (October); the 12 tickets for March were made on 1 Sep (known), all
      new people; show rate so far 4 of 4 = 1 → E = 12; pace 4 × (1 − ⅓) / ⅓ = 8 (91 of 273
      teaching days gone). low = 4 + 12 = 16 (80 %), point = 4 + max(12, 8) = 16 (80 %), high
      = 4 + 12 + 8 = 24, at most B = 20 (100 %); error +20 points, the end outside the range.
    - 1 Jun 2025: all is known, the teaching months are over → 60 %, error 0.
    """
    from reports.backtest import run_backtest
    result = run_backtest(YEAR - 1, now=AS_OF)
    assert result.complete and result.actual["students"].percent == Decimal("60.0")
    by_month = {m.as_of.isoformat(): m for m in result.months}
    assert len(result.months) == 12
    sep, dec, jun = (by_month[d].city["students"]
                     for d in ("2024-09-01", "2024-12-01", "2025-06-01"))
    assert (sep.point, sep.error) == (Decimal("0.0"), Decimal("-60.0"))
    assert (dec.low, dec.point, dec.high, dec.error, dec.inside) == (
        Decimal("80.0"), Decimal("80.0"), Decimal("100.0"), Decimal("20.0"), False)
    assert (jun.low, jun.point, jun.high, jun.error, jun.inside) == (
        Decimal("60.0"), Decimal("60.0"), Decimal("60.0"), Decimal("0.0"), True)
    assert by_month["2024-12-01"].school_error["students"] == Decimal("20.0")
    assert by_month["2025-06-01"].school_inside["students"] == Decimal("100.0")


def test_a_year_not_over_has_no_backtest(school):
    from reports.backtest import run_backtest
    assert run_backtest(YEAR, now=AS_OF).months == []


# --- the pages -------------------------------------------------------------------------------

def test_school_page_shows_target_forecast_and_status(school, client, auth, factory,
                                                     time_machine):
    time_machine.move_to(AS_OF, tick=False)
    db.session.add(Target(year=YEAR, organization_id=None, students=Decimal("60")))
    other = factory.create_org(name="СОШ № 3 (без истории)")
    factory.create_baseline(other, YEAR, students_total=10)
    factory.create_user(factory.Role.COORDINATOR, organization=school, email="c1@test.local")
    factory.create_user(factory.Role.COORDINATOR, organization=other, email="c3@test.local")
    db.session.commit()
    auth.login("c1@test.local")
    html = client.get(f"/reports/schools/{school.id}?year={YEAR}").get_data(as_text=True)
    row = html[html.index('id="forecast-students"'):]
    row = row[:row.index("</tr>")]
    for text in ("30,0\u00a0%", "65,0\u00a0%", "41,3\u00a0% – 80,0\u00a0%", "60,0\u00a0%",
                 "достижима"):
        assert text in row
    assert "взята городская доля явки" not in html
    auth.logout()
    auth.login("c3@test.local")
    html = client.get(f"/reports/schools/{other.id}?year={YEAR}").get_data(as_text=True)
    assert "своих прошлых записей у школы нет — взята городская доля явки" in html
    row = html[html.index('id="forecast-students"'):]
    assert "под угрозой" in row[:row.index("</tr>")]  # 0 of 10, nothing booked


def test_dashboard_shows_the_city_forecast(school, client, auth, factory, time_machine):
    time_machine.move_to(AS_OF, tick=False)
    db.session.add(Target(year=YEAR, organization_id=None, students=Decimal("90")))
    factory.create_user(factory.Role.ADMIN, email="a@test.local")
    db.session.commit()
    auth.login("a@test.local")
    html = client.get(f"/reports/?year={YEAR}").get_data(as_text=True)
    row = html[html.index('id="forecast-students"'):]
    row = row[:row.index("</tr>")]
    assert "65,0\u00a0%" in row and "под угрозой" in row and "90,0\u00a0%" in row
    # Narrowed reports have no forecast (it counts everything).
    narrowed = client.get(f"/reports/?year={YEAR}&category=university").get_data(as_text=True)
    assert 'id="forecast-students"' not in narrowed


def test_backtest_page(school, client, auth, factory, time_machine):
    time_machine.move_to(AS_OF, tick=False)
    factory.create_user(factory.Role.ADMIN, email="a@test.local")
    db.session.commit()
    auth.login("a@test.local")
    html = client.get(f"/admin/forecast-backtest?year={YEAR - 1}").get_data(as_text=True)
    assert "01.12.2024" in html and "+20,0\u00a0п.\u00a0п." in html
    current = client.get(f"/admin/forecast-backtest?year={YEAR}").get_data(as_text=True)
    assert "ещё не закончился" in current


def test_forecast_downloads(school, client, auth, factory, time_machine):
    time_machine.move_to(AS_OF, tick=False)
    db.session.add(Target(year=YEAR, organization_id=None, students=Decimal("60")))
    factory.create_user(factory.Role.COORDINATOR, organization=school, email="c1@test.local")
    other = factory.create_org()
    db.session.commit()
    auth.login("c1@test.local")
    response = client.get(f"/reports/forecast.csv?year={YEAR}")
    assert response.status_code == 200
    text = response.data.decode("utf-8-sig")
    assert "Город Томск" not in text  # a coordinator gets the own school only
    assert ("СОШ № 1 (прогноз);1. Обучающиеся, вовлечённые в профориентационные мероприятия;"
            "6;20;30,0;65,0;41,3;80,0;60,0;достижима;0;75,0;да") in text
    assert client.get(f"/reports/forecast.csv?organization_id={other.id}").status_code == 403
    workbook = client.get(f"/reports/forecast.xlsx?year={YEAR}")
    sheet = load_workbook(io.BytesIO(workbook.data))["Прогноз"]
    assert sheet["C4"].value == 6 and abs(sheet["F4"].value - 0.65) < 1e-9
    assert sheet["F4"].number_format == "0.0%"
