"""«Профминимум» (issue #14): the academic-hour rule, each event once per person from every
source of check-in, the pace rule, levels and their lock, and a hand-built scenario of three
classes whose hours and statuses are worked out here (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from errors import ConflictError
from formats.timefmt import TOMSK
from models import (
    Audience,
    AuditLog,
    EventStatus,
    OrgKind,
    ProfminimumFormat,
    Role,
    ScanOutcome,
    ScanSource,
    db,
    now_utc,
)
from models.profminimum import PROFMINIMUM_GRADES, default_academic_hours
from reports.profminimum import (
    StatusRule,
    city_ledger,
    events_for_grade,
    pace_share,
    school_ledger,
    status_of,
)
from tests.factories import bearer
from webapp.services.profminimum_levels import save_levels, set_levels_lock

YEAR = 2025
DEC_15 = date(2025, 12, 15)


def tomsk(y, m, d, hh=10, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TOMSK)


# --- the academic-hour rule ------------------------------------------------------------------

@pytest.mark.parametrize(("minutes", "hours"), [
    (30, 1),     # 0.67 → 1 (half up to a whole hour)
    (45, 1),
    (100, 2),    # 1 h 40 min = 2.22 → 2
    (20, 0),     # 0.44 → 0
    (68, 2),     # 1.51 → 2
    (67, 1),     # 1.49 → 1
    (90, 2),
])
def test_academic_hours_of_one_day(minutes, hours):
    start = tomsk(2025, 10, 1, 9)
    assert default_academic_hours(start, start + timedelta(minutes=minutes)) == hours


def test_academic_hours_of_a_two_day_event_count_the_daily_span_each_day():
    # 10:00–16:00 on two days: 6 h a day, 720 min / 45 = 16, not the 30 h between the ends.
    assert default_academic_hours(tomsk(2025, 10, 1, 10), tomsk(2025, 10, 2, 16)) == 16
    # Through the night (20:00 → 09:00 next day): the whole duration, 13 h = 17.3 → 17.
    assert default_academic_hours(tomsk(2025, 10, 1, 20), tomsk(2025, 10, 2, 9)) == 17
    # The day is Tomsk's: 23:00–01:00 Tomsk is one evening, 2 h → 3 (2.67).
    assert default_academic_hours(tomsk(2025, 10, 1, 23), tomsk(2025, 10, 2, 1)) == 3


def test_event_keeps_its_effective_hours(factory):
    event = factory.create_event(starts_at=tomsk(2025, 10, 1, 9),
                                 ends_at=tomsk(2025, 10, 1, 10, 40))
    db.session.commit()
    assert event.academic_hours == Decimal(2)  # 100 min
    event.academic_hours_override = Decimal("1.5")
    db.session.commit()
    assert event.academic_hours == Decimal("1.5")
    event.academic_hours_override = None
    event.ends_at = tomsk(2025, 10, 1, 9, 30)
    db.session.commit()
    assert event.academic_hours == Decimal(1)


# --- the pace rule ---------------------------------------------------------------------------

def test_pace_before_and_after_winter():
    # 15.12.2025: day 106 of 273 (01.09–31.05); 15.02.2026: day 168.
    assert pace_share(YEAR, DEC_15) == Fraction(106, 273)
    assert pace_share(YEAR, date(2026, 2, 15)) == Fraction(168, 273)
    assert pace_share(YEAR, date(2025, 8, 31)) == 0
    assert pace_share(YEAR, date(2025, 9, 1)) == Fraction(1, 273)
    assert pace_share(YEAR, date(2026, 5, 31)) == 1
    assert pace_share(YEAR, date(2026, 7, 1)) == 1
    # 20 hours of 40: in December on pace (15.5 due), in February behind (24.6 due).
    assert status_of(Decimal(20), 40, pace_share(YEAR, DEC_15)) == "on_pace"
    assert status_of(Decimal(20), 40, pace_share(YEAR, date(2026, 2, 15))) == "behind"
    assert status_of(Decimal(40), 40, Fraction(1)) == "done"
    assert status_of(Decimal("39.9"), 40, Fraction(1)) == "behind"
    assert status_of(Decimal(0), 80, Fraction(0)) == "on_pace"
    # the many-students form of the rule gives the same answers, edges included
    for share in (Fraction(0), Fraction(1, 273), Fraction(106, 273), Fraction(168, 273),
                  Fraction(1)):
        rule = StatusRule(share)
        for tenths in range(0, 900, 1):
            hours = Decimal(tenths) / 10
            for target in (40, 60, 80):
                assert rule(hours, target) == status_of(hours, target, share)


# --- the scenario ----------------------------------------------------------------------------

def _checkin(factory, event, student, source=ScanSource.DOOR, **extra):
    ticket = factory.create_ticket(event, student)
    return factory.create_checkin(ticket, source=source, **extra)


@pytest.fixture
def scene(factory):
    """School «СОШ № 5»: 7А (level 40), 8Б (60), 9В (80); events of 2025/26 with known hours."""
    school = factory.create_org(name="МАОУ СОШ № 5")
    other = factory.create_org(name="МАОУ СОШ № 6")
    uni = factory.create_org(kind=OrgKind.UNIVERSITY, name="ТГУ")
    admin = factory.create_user(Role.ADMIN)
    save_levels(admin, school, YEAR, {7: 40, 8: 60, 9: 80})

    def event(hours, **kw):
        start = kw.pop("starts_at", tomsk(2025, 10, 1))
        return factory.create_event(uni, starts_at=start, ends_at=start + timedelta(hours=2),
                                    academic_hours_override=Decimal(hours), **kw)

    big = event(40, title="Летняя школа")
    twenty = event(20, title="Проектная смена")
    ten = event(10, title="Профпробы")
    parents = event(2, audience=Audience.PARENTS, grades_min=None, grades_max=None)
    teachers = event(3, audience=Audience.TEACHERS, grades_min=None, grades_max=None)
    cancelled = event(5, status=EventStatus.CANCELLED, cancel_reason="Болезнь")
    last_year = event(30, starts_at=tomsk(2025, 5, 20))
    s = {}
    for key, klass, grade in (("a1", "7А", 7), ("a2", "7А", 7), ("a3", "7А", 7),
                              ("b1", "8Б", 8), ("b2", "8Б", 8), ("b3", "8Б", 8),
                              ("c1", "9В", 9), ("c2", "9В", 9)):
        s[key] = factory.create_student(school, class_name=klass, grade=grade,
                                        last_name=f"Ученик{key}", ovz=key == "c1")
    fifth = factory.create_student(school, class_name="5А", grade=5)
    gone = factory.create_student(school, class_name="7А", grade=7, active=False)
    stranger = factory.create_student(other, class_name="7А", grade=7)

    _checkin(factory, big, s["a1"])                                   # 40 → done
    first = _checkin(factory, twenty, s["a2"], undone_at=now_utc(),   # 20: undone, then
                     undo_reason="не тот")                            # checked in again and
    factory.create_checkin(first.ticket, source=ScanSource.GROUP)     # scanned twice more:
    for _ in range(2):                                                # once
        factory.create_checkin(first.ticket, outcome=ScanOutcome.ALREADY_CHECKED_IN)
    _checkin(factory, ten, s["a3"])                                   # 10
    _checkin(factory, parents, s["a3"])                               # parents' event: 0
    _checkin(factory, teachers, s["a3"])                              # teachers' event: 0
    _checkin(factory, last_year, s["a3"])                             # last year: not here
    for e in (big, twenty, ten):                                      # 70 → done
        _checkin(factory, e, s["b1"])
    _checkin(factory, twenty, s["b2"], source=ScanSource.IMPORT)      # 20 from an upload
    _checkin(factory, ten, s["b2"], source=ScanSource.CLASS_LIST)     # 10 from a class list
    _checkin(factory, twenty, s["b3"], undone_at=now_utc(), undo_reason="ошибка")  # undone
    _checkin(factory, ten, s["b3"], source=ScanSource.OFFLINE)        # 10
    _checkin(factory, twenty, s["c1"])                                # 20
    _checkin(factory, ten, s["c1"], source=ScanSource.WALK_IN)        # 10
    _checkin(factory, cancelled, s["c1"])                             # cancelled: 0
    _checkin(factory, big, s["c2"])                                   # 40
    _checkin(factory, big, fifth)
    _checkin(factory, big, gone)
    _checkin(factory, big, stranger)
    db.session.commit()
    return dict(school=school, other=other, admin=admin, s=s, stranger=stranger, uni=uni,
                events=dict(big=big, twenty=twenty, ten=ten))


# Worked out by hand on 15.12.2025, share 106/273: due 15.5 of 40, 23.3 of 60, 31.1 of 80.
EXPECTED = {
    "a1": (40, "done"), "a2": (20, "on_pace"), "a3": (10, "behind"),
    "b1": (70, "done"), "b2": (30, "on_pace"), "b3": (10, "behind"),
    "c1": (30, "behind"), "c2": (40, "on_pace"),
}


def test_school_ledger_of_three_classes(scene):
    ledger = school_ledger(scene["school"], YEAR, today=DEC_15)
    by_id = {s.id: s for s in ledger.students}
    got = {key: (by_id[st.id].hours, by_id[st.id].status) for key, st in scene["s"].items()}
    assert got == {k: (Decimal(h), status) for k, (h, status) in EXPECTED.items()}
    assert len(by_id) == 8  # not the 5th grade, not the one who left, not another school's
    assert by_id[scene["s"]["b1"].id].events == 3
    assert by_id[scene["s"]["a2"].id].events == 1
    assert [(c.class_name, c.target, c.counts.students, c.counts.done, c.counts.on_pace,
             c.counts.behind) for c in ledger.classes] == [
        ("7А", 40, 3, 1, 1, 1), ("8Б", 60, 3, 1, 1, 1), ("9В", 80, 2, 0, 1, 1)]
    assert (ledger.ovz.students, ledger.ovz.behind) == (1, 1)
    # In February the same hours: 20 of 40 is behind (24.6 due), 40 of 80 too (49.2 due).
    later = school_ledger(scene["school"], YEAR, today=date(2026, 2, 15))
    statuses = {s.id: s.status for s in later.students}
    assert statuses[scene["s"]["a2"].id] == "behind"
    assert statuses[scene["s"]["c2"].id] == "behind"
    assert statuses[scene["s"]["b1"].id] == "done"


def test_city_ledger(scene):
    city = city_ledger(YEAR, today=DEC_15)
    rows = {s.organization.id: s for s in city.schools}
    own = rows[scene["school"].id].counts
    assert (own.students, own.done, own.on_pace, own.behind) == (8, 2, 3, 3)
    other = rows[scene["other"].id].counts  # level 40 by default: 40 ≥ 40
    assert (other.students, other.done) == (1, 1)
    assert (city.city.students, city.city.done, city.city.on_pace, city.city.behind) == \
        (9, 3, 3, 3)
    assert city.by_grade[9].behind == 1 and city.ovz.behind == 1
    assert city.is_behind(rows[scene["school"].id])  # 5 of 8 against 6 of 9
    assert not city.is_behind(rows[scene["other"].id])


def test_city_default_levels_apply_where_the_school_set_none(scene):
    admin = scene["admin"]
    save_levels(admin, None, YEAR, {7: 80})
    db.session.commit()
    other = {s.organization.id: s for s in city_ledger(YEAR, today=DEC_15).schools}[
        scene["other"].id]
    assert (other.counts.done, other.counts.on_pace) == (0, 1)  # 40 of 80 in December
    own = school_ledger(scene["school"], YEAR, today=DEC_15)
    assert own.targets[7] == 40 and own.targets[10] == 40  # the school's own 7, default 10


# --- levels: lock, API -----------------------------------------------------------------------

def test_locked_levels_refuse_the_coordinator(factory, client, scene):
    school = scene["school"]
    coordinator = factory.create_user(Role.COORDINATOR, school)
    token = factory.create_token(coordinator)
    db.session.commit()
    url = f"/api/v1/organizations/{school.id}/profminimum-levels/{YEAR}"
    body = {"6": 40, "7": 60, "8": 60, "9": 80, "10": 80, "11": 80}
    r = client.put(url, json=body, headers=bearer(token))
    assert r.status_code == 200, r.json
    assert r.json["levels"] == body and r.json["effective"]["7"] == 60
    set_levels_lock(scene["admin"], school, YEAR, True)
    db.session.commit()
    r = client.put(url, json={**body, "7": 40}, headers=bearer(token))
    assert r.status_code == 409
    assert r.json["error"]["code"] == "profminimum_levels_locked"
    assert school_ledger(school, YEAR).targets[7] == 60
    with pytest.raises(ConflictError):
        save_levels(coordinator, school, YEAR, {7: 40})
    db.session.rollback()
    # the admin may change locked levels
    admin_token = factory.create_token(scene["admin"])
    db.session.commit()
    r = client.put(url, json={**body, "7": 80}, headers=bearer(admin_token))
    assert r.status_code == 200 and r.json["locked"] is True and r.json["levels"]["7"] == 80
    actions = [a.action for a in AuditLog.query.order_by(AuditLog.id)]
    assert "profminimum_levels.lock" in actions and actions.count("profminimum_levels.save") >= 2


def test_levels_api_refuses_bad_values_and_strangers(factory, client, scene):
    school = scene["school"]
    coordinator = factory.create_user(Role.COORDINATOR, scene["other"])
    organizer = factory.create_user(Role.ORGANIZER, scene["uni"])
    admin_token = factory.create_token(scene["admin"])
    tokens = {"coord": factory.create_token(coordinator),
              "org": factory.create_token(organizer)}
    db.session.commit()
    url = f"/api/v1/organizations/{school.id}/profminimum-levels/{YEAR}"
    r = client.put(url, json={"7": 50, "12": 40, "x": 40, "8": True}, headers=bearer(admin_token))
    assert r.status_code == 422
    assert set(r.json["error"]["fields"]) == {"7", "12", "x", "8"}
    assert client.put(url, json={"7": 40}, headers=bearer(tokens["coord"])).status_code == 403
    assert client.put(url, json={"7": 40}, headers=bearer(tokens["org"])).status_code == 403
    assert client.put(url, json=[1], headers=bearer(admin_token)).status_code == 400
    uni_url = f"/api/v1/organizations/{scene['uni'].id}/profminimum-levels/{YEAR}"
    assert client.put(uni_url, json={"7": 40}, headers=bearer(admin_token)).status_code == 404
    r = client.put(f"/api/v1/organizations/{school.id}/profminimum-levels/1900",
                   json={"7": 40}, headers=bearer(admin_token))
    assert r.status_code == 422


def test_report_api_for_school_and_city(factory, client, scene):
    school = scene["school"]
    coordinator = factory.create_user(Role.COORDINATOR, school)
    other_coordinator = factory.create_user(Role.COORDINATOR, scene["other"])
    organizer = factory.create_user(Role.ORGANIZER, scene["uni"])
    tokens = {k: factory.create_token(u) for k, u in (
        ("coord", coordinator), ("other", other_coordinator), ("org", organizer),
        ("admin", scene["admin"]))}
    db.session.commit()
    base = f"/api/v1/reports/profminimum?year={YEAR}"
    r = client.get(f"{base}&organization_id={school.id}", headers=bearer(tokens["coord"]))
    assert r.status_code == 200
    body = r.json
    assert [(c["class_name"], c["target_hours"], c["students"], c["done"], c["on_pace"],
             c["behind"]) for c in body["classes"]] == [
        ("7А", 40, 3, 1, 0, 2), ("8Б", 60, 3, 1, 0, 2), ("9В", 80, 2, 0, 0, 2)]
    # (the year 2025/26 is over by the test's today unless the clock says otherwise)
    students = {s["id"]: s for s in body["students"]}
    assert students[scene["s"]["b2"].id]["hours"] == 30.0
    assert students[scene["s"]["b2"].id]["target_hours"] == 60
    assert set(students[scene["s"]["a1"].id]) >= {"id", "class_name", "hours", "target_hours",
                                                   "status"}
    # the coordinator without organization_id gets the own school
    assert client.get(base, headers=bearer(tokens["coord"])).json["classes"] == body["classes"]
    r = client.get(f"{base}&organization_id={school.id}", headers=bearer(tokens["other"]))
    assert r.status_code == 403
    assert client.get(base, headers=bearer(tokens["org"])).status_code == 403
    city = client.get(base, headers=bearer(tokens["admin"])).json
    assert city["city"]["students"] == 9
    assert {s["organization_id"]: s["students"] for s in city["schools"]} == {
        school.id: 8, scene["other"].id: 1}
    assert client.get(f"{base}&organization_id={scene['uni'].id}",
                      headers=bearer(tokens["admin"])).status_code == 404
    assert client.get("/api/v1/reports/profminimum?year=abc",
                      headers=bearer(tokens["admin"])).status_code == 422
    assert client.get("/api/v1/reports/profminimum?organization_id=-1",
                      headers=bearer(tokens["admin"])).status_code == 422


def test_event_api_academic_hours(factory, client):
    uni = factory.create_org(kind=OrgKind.UNIVERSITY)
    organizer = factory.create_user(Role.ORGANIZER, uni)
    token = factory.create_token(organizer)
    db.session.commit()
    body = {"title": "Профпроба «Лаборант»", "category": "university",
            "starts_at": "2026-03-02T10:00:00+07:00", "ends_at": "2026-03-02T11:40:00+07:00",
            "venue": "ТГУ", "capacity": 20, "audience": "students", "grades_min": 8,
            "grades_max": 9, "profminimum_format": "trial"}
    r = client.post("/api/v1/events", json=body, headers=bearer(token))
    assert r.status_code == 201, r.json
    assert r.json["academic_hours"] == 2 and r.json["profminimum_format"] == "trial"
    event_id = r.json["id"]
    r = client.patch(f"/api/v1/events/{event_id}", json={"academic_hours": 3.5},
                     headers=bearer(token))
    assert r.status_code == 200 and r.json["academic_hours"] == 3.5
    r = client.patch(f"/api/v1/events/{event_id}", json={"title": "Профпроба"},
                     headers=bearer(token))
    assert r.json["academic_hours"] == 3.5  # left out of PATCH: stays
    r = client.patch(f"/api/v1/events/{event_id}", json={"academic_hours": None},
                     headers=bearer(token))
    assert r.json["academic_hours"] == 2 and r.json["academic_hours_explicit"] is False
    for bad in (-1, 1000, "2", True, 1.25):
        r = client.patch(f"/api/v1/events/{event_id}", json={"academic_hours": bad},
                         headers=bearer(token))
        assert r.status_code == 422, bad
        assert "academic_hours" in r.json["error"]["fields"]
    r = client.patch(f"/api/v1/events/{event_id}", json={"profminimum_format": "nope"},
                     headers=bearer(token))
    assert r.status_code == 422 and "profminimum_format" in r.json["error"]["fields"]
    assert client.get(f"/api/v1/events/{event_id}",
                      headers=bearer(token)).json["academic_hours"] == 2


def test_events_for_a_grade_behind(factory, scene):
    school = scene["school"]
    trial = ProfminimumFormat.query.filter_by(code="trial").one()
    soon = now_utc() + timedelta(days=3)
    plain = factory.create_event(scene["uni"], starts_at=soon, title="Лекция")
    probe = factory.create_event(scene["uni"], starts_at=soon + timedelta(days=5),
                                 title="Профпроба", profminimum_format=trial)
    factory.create_event(scene["uni"], starts_at=soon, grades_min=10, grades_max=11)
    factory.create_event(scene["other"], starts_at=soon, school_internal=True)
    factory.create_event(scene["uni"], starts_at=soon, audience=Audience.PARENTS,
                         grades_min=None, grades_max=None)
    db.session.commit()
    assert [e.id for e in events_for_grade(school.id, 8)] == [probe.id, plain.id]


# --- pages -----------------------------------------------------------------------------------

@pytest.fixture
def people(factory, scene):
    users = {
        "coordinator": factory.create_user(Role.COORDINATOR, scene["school"],
                                           email="pm-coord@test.local"),
        "other": factory.create_user(Role.COORDINATOR, scene["other"],
                                     email="pm-other@test.local"),
        "organizer": factory.create_user(Role.ORGANIZER, scene["uni"],
                                         email="pm-org@test.local"),
    }
    scene["admin"].email = "pm-admin@test.local"
    trial = ProfminimumFormat.query.filter_by(code="trial").one()
    users["probe"] = factory.create_event(scene["uni"], title="Профпроба «Химик»",
                                          starts_at=now_utc() + timedelta(days=5),
                                          grades_min=8, grades_max=9, profminimum_format=trial)
    db.session.commit()
    return users


def _page(client, auth, email, url):
    auth.login(email)
    response = client.get(url, follow_redirects=True)
    auth.logout()
    return response


def test_school_page_classes_and_who_is_behind(client, auth, scene, people):
    """The year 2025/26 is over by now: everyone short of the target is behind."""
    from tests.html_tables import table_rows

    school, s = scene["school"], scene["s"]
    r = _page(client, auth, "pm-coord@test.local", f"/reports/profminimum/?year={YEAR}")
    assert r.status_code == 200 and "Профминимум: МАОУ СОШ № 5" in r.text
    rows = table_rows(r.text, "report-table")
    assert [row[0].split()[0] for row in rows] == ["7А", "8Б", "9В"]
    assert rows[1] == ("8Б 60 ч в год, к дате 60", "3", "1", "0", "2")
    # «кто отстаёт»: the upcoming профпроба for grade 8 with the two behind in 8Б proposed
    link = (f"/events/{people['probe'].id}/register?student={s['b2'].id}&amp;"
            f"student={s['b3'].id}")
    assert link in r.text or (f"/events/{people['probe'].id}/register?student={s['b3'].id}"
                              f"&amp;student={s['b2'].id}") in r.text
    assert "Ученикb3" in r.text
    # the school's report page links here
    r = _page(client, auth, "pm-coord@test.local", f"/reports/schools/{school.id}?year={YEAR}")
    assert f"/reports/profminimum/schools/{school.id}?year={YEAR}" in r.text


def test_class_page_lists_each_students_hours_and_events(client, auth, scene, people):
    from tests.html_tables import table_rows

    school = scene["school"]
    r = _page(client, auth, "pm-coord@test.local",
              f"/reports/profminimum/schools/{school.id}/classes/8Б?year={YEAR}")
    assert r.status_code == 200
    rows = table_rows(r.text, "report-table")
    first = {row[0].split()[0]: row for row in rows}
    assert first["Ученикb1"][1] == "70 из 60" and first["Ученикb1"][2] == "выполнено"
    assert first["Ученикb3"][1] == "10 из 60" and first["Ученикb3"][2] == "отстаёт"
    assert "Мероприятия: 3" in first["Ученикb1"][0]
    assert "Проектная смена — 20 ч" in r.text and "Профпробы — 10 ч" in r.text
    assert _page(client, auth, "pm-coord@test.local",
                 f"/reports/profminimum/schools/{school.id}/classes/5А?year={YEAR}"
                 ).status_code == 404


def test_levels_on_the_page_and_the_admins_lock(client, auth, scene, people):
    school = scene["school"]
    url = f"/reports/profminimum/schools/{school.id}?year={YEAR}"
    levels = {f"levels-grade_{g}": "" for g in PROFMINIMUM_GRADES}
    auth.login("pm-coord@test.local")
    r = client.post_form(url, {**levels, "levels-grade_8": "80"})
    assert r.status_code == 303
    assert school_ledger(school, YEAR).targets[8] == 80
    assert school_ledger(school, YEAR).targets[7] == 40  # left «как в городе»: no city row
    auth.logout()
    auth.login("pm-admin@test.local")
    r = client.post_form(f"/reports/profminimum/schools/{school.id}/lock?year={YEAR}&locked=1")
    assert r.status_code == 303
    auth.logout()
    auth.login("pm-coord@test.local")
    page = client.get(url)
    assert "Уровни заблокированы администратором" in page.text
    assert "Сохранить уровни" not in page.text
    r = client.post_form(url, {**levels, "levels-grade_8": "40"})
    assert r.status_code == 409 and "заблокированы" in r.text
    assert school_ledger(school, YEAR).targets[8] == 80
    auth.logout()
    auth.login("pm-admin@test.local")
    r = client.post_form(url, {**levels, "levels-grade_8": "60"})
    assert r.status_code == 303
    assert school_ledger(school, YEAR).targets[8] == 60
    r = client.post_form(url, {**levels, "levels-grade_8": "50"})
    assert r.status_code == 422
    assert school_ledger(school, YEAR).targets[8] == 60


def test_who_sees_the_pages(client, auth, scene, people):
    school = scene["school"]
    pages = [f"/reports/profminimum/schools/{school.id}?year={YEAR}",
             f"/reports/profminimum/schools/{school.id}/classes/8Б?year={YEAR}",
             f"/reports/profminimum/schools/{school.id}/profminimum.xlsx?year={YEAR}"]
    for email in ("pm-org@test.local", "pm-other@test.local"):
        auth.login(email)
        for url in pages:
            r = client.get(url)
            assert r.status_code == 403, (email, url)
            assert "Ученикb" not in r.text
        auth.logout()
    auth.login("pm-org@test.local")
    assert client.get("/reports/profminimum/").status_code == 403
    assert client.get("/api/v1/reports/profminimum").status_code == 403
    auth.logout()
    auth.login("pm-coord@test.local")
    assert client.get(f"/reports/profminimum/city.xlsx?year={YEAR}").status_code == 403
    assert client.get(f"/reports/profminimum/schools/{scene['uni'].id}").status_code == 404
    auth.logout()


def test_city_page_sorted_with_schools_behind_marked(client, auth, scene, people):
    from tests.html_tables import table_rows

    r = _page(client, auth, "pm-admin@test.local",
              f"/reports/profminimum/?year={YEAR}&sort=done&dir=desc")
    assert r.status_code == 200
    schools = table_rows(r.text, "report-table")
    names = [row[0] for row in schools if row[0].startswith("МАОУ")]
    assert names[0].startswith("МАОУ СОШ № 6") and names[1].startswith("МАОУ СОШ № 5")
    assert "МАОУ СОШ № 5 (ниже города)" in [row[0] for row in schools]
    r = _page(client, auth, "pm-admin@test.local", f"/reports/profminimum/?year={YEAR}&sort=x")
    assert r.status_code == 200
    r = _page(client, auth, "pm-admin@test.local", "/reports/profminimum/?year=abc")
    assert r.status_code == 422


def test_spreadsheets(client, auth, scene, people):
    import io

    from openpyxl import load_workbook

    school = scene["school"]
    auth.login("pm-coord@test.local")
    r = client.get(f"/reports/profminimum/schools/{school.id}/profminimum.xlsx?year={YEAR}")
    auth.logout()
    assert r.status_code == 200
    book = load_workbook(io.BytesIO(r.data))
    assert book.sheetnames == ["Итоги", "7А", "8Б", "9В"]
    rows = list(book["8Б"].iter_rows(values_only=True))
    header = rows.index(next(r for r in rows if r and r[0] == "№"))
    people_rows = {r[1]: r for r in rows[header + 1:]}
    b1 = next(v for k, v in people_rows.items() if k.startswith("Ученикb1"))
    assert b1[2:6] == (70, 60, "выполнено", 3)
    assert "Проектная смена (20 ч)" in b1[6]
    auth.login("pm-admin@test.local")
    r = client.get(f"/reports/profminimum/city.xlsx?year={YEAR}")
    auth.logout()
    book = load_workbook(io.BytesIO(r.data))
    assert book.sheetnames == ["Школы", "По параллелям"]
    values = [row for row in book["Школы"].iter_rows(values_only=True) if row and row[0]]
    city = next(row for row in values if row[0] == "Город")
    assert city[1:5] == (9, 3, 0, 6)
    own = next(row for row in values if row[0] == "МАОУ СОШ № 5")
    assert own[1:5] == (8, 2, 0, 6) and own[10] == "да"


def test_levels_ride_in_the_baseline_spreadsheet(client, auth, scene, people):
    """The baseline template carries each school's levels; uploading it sets them (a wrong
    level or a locked school's change refused with the row, nothing saved)."""
    import io

    from openpyxl import Workbook, load_workbook

    school, other = scene["school"], scene["other"]
    auth.login("pm-admin@test.local")
    r = client.get(f"/admin/baselines/template.xlsx?year={YEAR}")
    rows = [list(row) for row in load_workbook(io.BytesIO(r.data)).active.iter_rows(
        values_only=True)]
    header = rows[0]
    assert header[7:] == [f"Профминимум {g} кл. (ч)" for g in PROFMINIMUM_GRADES]
    own = next(row for row in rows if row[1] == school.name)
    assert own[7:] == [None, 40, 60, 80, None, None]

    def upload(table):
        book = Workbook()
        for row in [header, *table]:
            book.active.append(row)
        buffer = io.BytesIO()
        book.save(buffer)
        return client.post_form("/admin/baselines/import", {
            "year": str(YEAR), "file": (io.BytesIO(buffer.getvalue()), "b.xlsx")})

    blank = [None] * 5
    r = upload([[None, other.name, *blank, 60, 60, 80, 80, 80, 80],
                [None, school.name, *blank, 50, None, None, None, None, None]])
    assert r.status_code == 422 and "40, 60 или 80" in r.text
    assert school_ledger(other, YEAR).targets[6] == 40  # nothing saved
    set_levels_lock(scene["admin"], school, YEAR, True)
    db.session.commit()
    r = upload([[None, school.name, *blank, 60, None, None, None, None, None]])
    assert r.status_code == 422 and "заблокированы" in r.text
    r = upload([[None, other.name, *blank, 60, 60, 80, 80, 80, 80]])
    assert r.status_code == 302
    assert school_ledger(other, YEAR).targets == {6: 60, 7: 60, 8: 80, 9: 80, 10: 80, 11: 80}
    auth.logout()


def test_spravka_has_a_profminimum_section(client, auth, scene, people):
    import io

    from pypdf import PdfReader

    from reports.spravka import build_spravka, spravka_pdf

    data = build_spravka(YEAR)
    assert data.profminimum[0].startswith(
        "Обучающихся 6–11 классов: 9; выполнили уровень своей параллели 33,3\u00a0%")
    assert any(line.startswith("Из них с ОВЗ: 1;") for line in data.profminimum)
    assert any("МАОУ СОШ № 5" in line for line in data.profminimum)  # below the city
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(
        spravka_pdf(data))).pages)
    assert "6. Профминимум" in text
    r = _page(client, auth, "pm-admin@test.local", f"/reports/spravka?year={YEAR}")
    assert "6. Профминимум" in r.text and "Обучающихся 6–11 классов: 9" in r.text


def test_openapi_documents_the_profminimum_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert "put" in paths["/api/v1/organizations/{org_id}/profminimum-levels/{year}"] or \
        "put" in paths["/organizations/{org_id}/profminimum-levels/{year}"]
    report = paths.get("/api/v1/reports/profminimum") or paths["/reports/profminimum"]
    schema = report["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert {"classes", "students", "city", "schools"} <= set(schema["properties"])
    event = (paths.get("/api/v1/events") or paths["/events"])["post"]
    assert "academic_hours" in event["requestBody"]["content"]["application/json"]["schema"][
        "properties"]


def test_event_form_takes_hours_and_format(client, auth, factory):
    from models import Event
    from tests.test_events_pages import form_data

    organizer = factory.create_user(Role.ORGANIZER, email="pm-form@test.local")
    db.session.commit()
    auth.login("pm-form@test.local")
    r = client.post_form("/organizer/events/new", form_data(
        title="Профпроба «Технолог»", academic_hours="1,5", profminimum_format="trial"))
    assert r.status_code in (302, 303), r.text[:500]
    event = Event.query.filter_by(title="Профпроба «Технолог»").one()
    assert event.academic_hours == Decimal("1.5") and event.profminimum_format.code == "trial"
    page = client.get(f"/organizer/events/{event.id}/edit")
    assert 'value="1,5"' in page.text
    for bad, message in (("-2", "от 0 до 999"), ("1,25", "одного знака"), ("два", "например")):
        r = client.post_form("/organizer/events/new", form_data(title="Т", academic_hours=bad))
        assert r.status_code in (200, 422) and message in r.text, bad
    assert organizer.id


def test_admin_sets_city_levels_and_adds_a_format(client, auth, scene, people):
    auth.login("pm-admin@test.local")
    r = client.post_form(f"/reports/profminimum/city-levels?year={YEAR}",
                         {**{f"city-grade_{g}": "" for g in PROFMINIMUM_GRADES},
                          "city-grade_11": "80"})
    assert r.status_code == 303
    assert school_ledger(scene["other"], YEAR).targets[11] == 80
    assert school_ledger(scene["school"], YEAR).targets[11] == 80  # the school left 11 unset
    r = client.post_form(f"/reports/profminimum/formats?year={YEAR}",
                         {"name": "Мастер-класс наставника"})
    assert r.status_code == 303
    added = ProfminimumFormat.query.filter_by(name="Мастер-класс наставника").one()
    assert added.code == "custom_1"
    r = client.post_form(f"/reports/profminimum/formats?year={YEAR}", {"name": "ПРОФПРОБА"})
    assert ProfminimumFormat.query.count() == 9  # the eight and the one added
    page = client.get(f"/reports/profminimum/?year={YEAR}")
    assert "Такой формат уже есть." in page.text and "Мастер-класс наставника" in page.text
    auth.logout()
    auth.login("pm-coord@test.local")
    assert client.post_form(f"/reports/profminimum/formats?year={YEAR}",
                            {"name": "Моё"}).status_code == 403
    assert client.post_form(f"/reports/profminimum/city-levels?year={YEAR}",
                            {"city-grade_6": "80"}).status_code == 403
    auth.logout()


def test_event_page_shows_the_hours_and_format(client, factory):
    trial = ProfminimumFormat.query.filter_by(code="trial").one()
    event = factory.create_event(title="Профпроба «Геолог»", profminimum_format=trial,
                                 starts_at=now_utc() + timedelta(days=3))
    parents = factory.create_event(audience=Audience.PARENTS, grades_min=None,
                                   grades_max=None, starts_at=now_utc() + timedelta(days=3))
    db.session.commit()
    page = client.get(f"/events/{event.id}").text
    assert "Профминимум" in page and "3 ак. ч, профпроба" in page  # 2 h = 2.67 → 3
    assert "ак. ч" not in client.get(f"/events/{parents.id}").text
