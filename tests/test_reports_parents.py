"""Issue #13 items 5 and 6: parents count for the school they named as their child's (event,
organizer, school and city reports, справка, XLSX/CSV, API; a parent who named none counts in
the city's total only), and «неявка» is counted over ended events only, registrations for
events still to come shown apart as «записано на предстоящие»."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
import time_machine
from openpyxl import load_workbook

from models import ParentSignup, Role, now_utc
from reports import queries
from reports.indicators import compute_indicators
from tests.factories import bearer
from tests.html_tables import table_rows

YEAR = 2024
#: «Now» in these tests: the past event is over, the future one still to come.
NOW = datetime(2025, 3, 1, 5, tzinfo=UTC)
_seq = iter(range(10_000))


def _parent(db, event, school, name: str) -> ParentSignup:
    signup = ParentSignup(event=event, name=name, phone=f"+7913{next(_seq):07d}",
                          child_organization_id=school.id if school else None,
                          consent_version="1", consent_at=now_utc(),
                          manage_secret_hash=f"{next(_seq):064d}")
    db.session.add(signup)
    db.session.flush()
    return signup


@pytest.fixture
def scene(db, factory):
    """Independently counted, by hand:

    past (ended) event of the university: students a (X) came, b (X) did not; parents p1 (X)
    came, p2 (no school) came, p3 (Y) did not. Future event: student c (Y), parent p4 (X)
    registered.
    """
    f = factory
    x = f.create_org(name="МАОУ СОШ № 201", short_name="СОШ № 201")
    y = f.create_org(name="МАОУ СОШ № 202", short_name="СОШ № 202")
    uni = f.create_org(name="Вуз родителей", short_name="Вуз Р")
    for school in (x, y):
        f.create_baseline(school, YEAR, students_total=10, students_ovz=1, teachers_total=2)
    past = f.create_event(uni, title="Родительское собрание о профессиях",
                          starts_at=datetime(2024, 10, 10, 5, tzinfo=UTC))
    future = f.create_event(uni, title="Весенний день открытых дверей",
                            starts_at=datetime(2025, 3, 10, 5, tzinfo=UTC))
    a = f.create_student(x, last_name="Анисимов", first_name="Артём")
    b = f.create_student(x, last_name="Белова", first_name="Бэлла")
    c = f.create_student(y, last_name="Цветков", first_name="Цезарь")
    f.create_checkin(f.create_ticket(past, a))
    f.create_ticket(past, b)
    f.create_checkin(f.create_ticket(past, _parent(db, past, x, "Анисимова Анна")))
    f.create_checkin(f.create_ticket(past, _parent(db, past, None, "Гостева Галина")))
    f.create_ticket(past, _parent(db, past, y, "Петрова Полина"))
    f.create_ticket(future, c)
    f.create_ticket(future, _parent(db, future, x, "Анисимов Андрей"))
    users = {"admin": f.create_user(Role.ADMIN, email="admin@parents.local"),
             "organizer": f.create_user(Role.ORGANIZER, organization=uni,
                                        email="org@parents.local"),
             "coordinator": f.create_user(Role.COORDINATOR, organization=x,
                                          email="coord@parents.local")}
    db.session.commit()
    return {"x": x, "y": y, "uni": uni, "past": past, "future": future, "users": users}


@pytest.fixture
def at_now():
    with time_machine.travel(NOW, tick=False):
        yield


def _login(auth, scene, role):
    response = auth.login(scene["users"][role].email)
    assert response.status_code in (302, 303)


def _page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_indicators_count_parents_for_the_school_they_named(scene):
    report = compute_indicators(YEAR, now=NOW)
    assert (report.parents.attended, report.parents.schools,
            report.parents.without_organization) == (2, 1, 1)
    assert report.row_for(scene["x"].id).parents == 1
    assert report.row_for(scene["y"].id).parents == 0  # p3 registered, never came
    # not one of the nine: a parent is no student of X
    assert report.row_for(scene["x"].id).indicators["students"].a == 1


def test_api_has_parents_apart_from_the_nine(client, scene, factory):
    token = factory.create_token(scene["users"]["admin"])
    body = client.get(f"/api/v1/reports/indicators?year={YEAR}", headers=bearer(token)).get_json()
    assert body["parents"]["attended"] == 2
    assert body["parents"]["schools"] == 1
    assert body["parents"]["without_organization"] == 1
    assert body["parents"]["by_organization"] == [
        {"id": scene["x"].id, "name": "МАОУ СОШ № 201", "kind": "school", "attended": 1}]
    by_id = {o["id"]: o for o in body["organizations"]}
    assert by_id[scene["x"].id]["parents"] == {"attended": 1}
    # the public contract: every indicators block carries its parents beside the nine
    assert by_id[scene["x"].id]["indicators"]["parents"] == {"attended": 1}
    assert body["city"]["parents"] == {"attended": 1}
    assert body["preschools"]["parents"] == {"attended": 0}


def test_openapi_documents_the_parents_block(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    schema = spec["paths"]["/api/v1/reports/indicators"]["get"]["responses"]["200"]
    text = str(schema)
    assert "by_organization" in text and "without_organization" in text


def test_event_report_puts_parents_under_their_childs_school(client, auth, scene, at_now):
    _login(auth, scene, "organizer")
    rows = {r[0]: r for r in table_rows(
        _page(client, f"/reports/events/{scene['past'].id}"), "attendance-schools")}
    # Организация, Записано, Пришли, Обучающихся, Педагогов, Родителей, Неявка
    assert rows["СОШ № 201"][1:6] == ("3", "2", "1", "0", "1")
    assert rows["СОШ № 202"][1:3] == ("1", "0")  # p3, the parent of a Y child, did not come
    assert rows["Родители без указанной школы"][1:6] == ("1", "1", "0", "0", "1")


def test_organizer_report_by_school_and_honest_no_shows(client, auth, scene, at_now):
    _login(auth, scene, "organizer")
    page = _page(client, f"/reports/organizer?year={YEAR}")
    # 7 registered; over the ended event 5 registered, 3 came: no-show 2 of 5; 2 upcoming.
    assert "Неявка на прошедших</dt><dd class=\"col-5 col-sm-8\">2 (40,0\u00a0%)" in page
    assert "Записано на предстоящие</dt><dd class=\"col-5 col-sm-8\">2<" in page
    events = {r[1].split(" впереди")[0]: r for r in table_rows(page, "attendance-events")}
    assert events["Весенний день открытых дверей"][4] == "на предстоящее"
    assert events["Родительское собрание о профессиях"][4] == "2 (40,0 %)"
    rows = {r[0]: r for r in table_rows(page, "attendance-schools")}
    # Организация, Записано, Пришли, Родителей, Неявка на прошедших, На предстоящие
    assert rows["СОШ № 201"][1:] == ("4", "2", "1", "1 (33,3 %)", "1")
    assert rows["СОШ № 202"][1:] == ("2", "0", "0", "1 (100,0 %)", "1")
    assert rows["Родители без указанной школы"][1:] == ("1", "1", "1", "0 (0,0 %)", "0")


def test_no_show_counts_ended_events_only(scene):
    ids = [scene["past"].id, scene["future"].id]
    before_past = queries.attendance_by_event(ids, now=datetime(2024, 10, 1, tzinfo=UTC))
    past = before_past[scene["past"].id]
    # before the event: everybody registered is «upcoming», nobody a no-show
    assert (past.registered, past.upcoming, past.no_show, past.no_show_rate) == (5, 5, 0, None)
    after_all = queries.attendance_by_event(ids, now=datetime(2025, 4, 1, tzinfo=UTC))
    future = after_all[scene["future"].id]
    assert (future.upcoming, future.no_show) == (0, 2)


def test_school_page_and_dashboard_show_parents(client, auth, scene, at_now):
    _login(auth, scene, "admin")
    school = _page(client, f"/reports/schools/{scene['x'].id}?year={YEAR}")
    line = school[school.index('id="school-parents"'):]
    assert "<strong>1</strong>" in line[:line.index("</p>")]
    dashboard = _page(client, f"/reports/?year={YEAR}")
    block = dashboard[dashboard.index('id="city-parents"'):]
    block = " ".join(block[:block.index("</dl>")].split())
    assert "всего по городу</dt><dd class=\"col-4 col-sm-7\">2<" in block
    assert "указали школу</dt><dd class=\"col-4 col-sm-7\">1<" in block
    assert "не указали</dt><dd class=\"col-4 col-sm-7\">1<" in block
    schools = {r[0]: r for r in table_rows(dashboard, "report-table")}
    assert schools["СОШ № 201"][-1] == "1" and schools["СОШ № 202"][-1] == "0"


def test_coordinator_sees_own_parents_only(client, auth, scene, factory, db):
    other = factory.create_org(name="МАОУ СОШ № 203")
    factory.create_checkin(factory.create_ticket(
        scene["past"], _parent(db, scene["past"], other, "Чужая Мама")))
    db.session.commit()
    token = factory.create_token(scene["users"]["coordinator"])
    body = client.get(f"/api/v1/reports/indicators?year={YEAR}&organization_id={scene['x'].id}",
                      headers=bearer(token)).get_json()
    assert body["parents"]["by_organization"] == [
        {"id": scene["x"].id, "name": "МАОУ СОШ № 201", "kind": "school", "attended": 1}]
    assert body["parents"]["attended"] == 3  # the city's total stays complete


def test_spravka_states_parents(client, auth, scene):
    _login(auth, scene, "admin")
    page = _page(client, f"/reports/spravka?year={YEAR}")
    assert ("Родители на мероприятиях (не входит в девять показателей): 2, из них указали "
            "школу ребёнка — 1") in page
    schools = {r[0]: r for r in table_rows(page, "report-table")}
    assert schools["СОШ № 201"][-1] == "1"


def test_xlsx_and_csv_have_a_parents_column(client, auth, scene):
    _login(auth, scene, "admin")
    response = client.get(f"/reports/indicators.xlsx?year={YEAR}")
    ws = load_workbook(io.BytesIO(response.data))["Показатели"]
    col = 3 + 3 * 9
    assert ws.cell(3, col).value.startswith("Родители")
    names = [ws.cell(r, 1).value for r in range(5, ws.max_row + 1)]
    assert ws.cell(5, col).value == 2  # the city: the school's parent and the one without
    assert ws.cell(names.index("МАОУ СОШ № 201") + 5, col).value == 1
    assert ws.cell(names.index("МАОУ СОШ № 202") + 5, col).value == 0
    methodology = " ".join(c.value for c in load_workbook(io.BytesIO(response.data))
                           ["Методика"]["A"] if c.value)
    assert "как школу ребёнка" in methodology
    rows = list(csv.reader(io.StringIO(client.get(f"/reports/indicators.csv?year={YEAR}")
                                       .data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][-1].startswith("Родители")
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name["МАОУ СОШ № 201"][-1] == "1"
    assert rows[1][-1] == "2"


def test_a_parent_is_counted_once_however_many_events(db, factory):
    """The contract's «distinct parents»: the same person (the same phone, else the same
    e-mail) at two events counts once for the school and the city; another parent of the same
    school counts apart; a parent known by no contact is one person per sign-up."""
    x = factory.create_org(name="МАОУ СОШ № 301", short_name="СОШ № 301")
    uni = factory.create_org(name="Вуз для родителей")
    first, second = (factory.create_event(uni, starts_at=datetime(2024, 11, day, 5, tzinfo=UTC))
                     for day in (5, 12))

    def came(event, phone=None, email=None):
        signup = ParentSignup(event=event, name="Родитель", phone=phone, email=email,
                              child_organization_id=x.id, consent_version="1",
                              consent_at=now_utc(), manage_secret_hash=f"{next(_seq):064d}")
        db.session.add(signup)
        db.session.flush()
        factory.create_checkin(factory.create_ticket(event, signup))

    came(first, phone="+79130000001")
    came(second, phone="+79130000001")           # the same mother, a week later
    came(first, email="papa@mail.ru")
    came(second, email="papa@mail.ru")           # the same father
    came(second, phone="+79130000002")           # somebody else
    db.session.commit()
    report = compute_indicators(YEAR)
    assert report.row_for(x.id).parents == 3
    assert report.parents.schools == 3 and report.parents.attended == 3
    body = report.to_json()
    assert body["city"]["parents"] == {"attended": 3}
