"""Issue #13 item 4 (first part): indicators narrowed to what was verified at a door
(``verified_only``) — scans online and offline, a group's list, walk-ins — against the full
figures that also count class lists and uploaded lists."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from models import Role, ScanSource
from reports.indicators import INDICATOR_TITLES, compute_indicators
from reports.spravka import build_spravka
from tests.factories import bearer

YEAR = 2024


@pytest.fixture
def scene(db, factory):
    """School X, 10 students in its baseline. At one event of the year: a (door scan), b
    (offline scan), c (group list), d (walk-in) were verified at the door; e (class list) and
    f, g (uploaded list) were declared. Teacher t came through an uploaded list too."""
    x = factory.create_org(name="МАОУ СОШ № 401", short_name="СОШ № 401")
    factory.create_baseline(x, YEAR, students_total=10, students_ovz=1, teachers_total=4)
    event = factory.create_event(starts_at=datetime(2024, 11, 12, 5, tzinfo=UTC))
    sources = {"a": ScanSource.DOOR, "b": ScanSource.OFFLINE, "c": ScanSource.GROUP,
               "d": ScanSource.WALK_IN, "e": ScanSource.CLASS_LIST, "f": ScanSource.IMPORT,
               "g": ScanSource.IMPORT}
    for name, source in sources.items():
        student = factory.create_student(x, last_name=f"Ученик {name}", first_name="Имя")
        factory.create_checkin(factory.create_ticket(event, student), source=source)
    teacher = factory.create_teacher(x)
    factory.create_checkin(factory.create_ticket(event, teacher), source=ScanSource.IMPORT)
    admin = factory.create_user(Role.ADMIN, email="admin@verified.local")
    token = factory.create_token(admin)
    db.session.commit()
    verified = sum(1 for s in sources.values()
                   if s in (ScanSource.DOOR, ScanSource.OFFLINE, ScanSource.GROUP,
                            ScanSource.WALK_IN))
    return {"x": x, "token": token, "all": len(sources), "verified": verified,
            "declared": len(sources) - verified}


def test_verified_only_is_the_full_figure_minus_what_was_declared(scene):
    full = compute_indicators(YEAR).row_for(scene["x"].id).indicators
    door = compute_indicators(YEAR, verified_only=True).row_for(scene["x"].id).indicators
    assert full["students"].a == scene["all"] == 7
    assert door["students"].a == scene["all"] - scene["declared"] == scene["verified"] == 4
    assert (full["teachers"].a, door["teachers"].a) == (1, 0)
    assert full["students"].b == door["students"].b == 10  # baselines stay


def test_api_takes_verified_only_and_refuses_nonsense(client, scene):
    url = "/api/v1/reports/indicators?year=2024&organization_id=" + str(scene["x"].id)
    headers = bearer(scene["token"])
    full = client.get(url, headers=headers).get_json()
    door = client.get(url + "&verified_only=true", headers=headers).get_json()
    assert full["organizations"][0]["indicators"]["students"]["a"] == 7
    assert door["organizations"][0]["indicators"]["students"]["a"] == 4
    assert door["city"]["students"]["a"] == 4
    refused = client.get(url + "&verified_only=может", headers=headers)
    assert refused.status_code == 422
    assert "verified_only" in refused.get_json()["error"]["fields"]


def test_dashboard_and_spreadsheet_say_what_was_counted(client, auth, scene, factory, db):
    factory.create_user(Role.ADMIN, email="boss@verified.local")
    db.session.commit()
    auth.login("boss@verified.local")
    page = client.get("/reports/?year=2024&verified_only=true").get_data(as_text=True)
    assert "только подтверждённое на входе" in page
    assert 'id="verified_only" name="verified_only" value="true" checked' in page
    for flag, expected in (("&verified_only=true", "Учтены только отметки, подтверждённые"),
                           ("", "Учтены все отметки")):
        data = client.get("/reports/indicators.xlsx?year=2024" + flag).data
        sheet = load_workbook(__import__("io").BytesIO(data))["Методика"]
        lines = [c.value for row in sheet.iter_rows() for c in row if c.value]
        assert any(str(v).startswith(expected) for v in lines), lines


def _cell(page: str, cell_id: str) -> str:
    start = page.index(f'id="{cell_id}"')
    return page[start:page.index("</td>", start)]


def test_school_page_shows_the_door_figure_beside_where_it_differs(client, auth, scene,
                                                                  factory, db):
    factory.create_user(Role.ADMIN, email="head@verified.local")
    # School Y: every check-in at a door — nothing to put beside.
    y = factory.create_org(name="МАОУ СОШ № 402", short_name="СОШ № 402")
    factory.create_baseline(y, YEAR, students_total=10, students_ovz=1, teachers_total=4)
    event = factory.create_event(starts_at=datetime(2024, 11, 13, 5, tzinfo=UTC))
    factory.create_checkin(factory.create_ticket(event, factory.create_student(y)),
                           source=ScanSource.DOOR)
    db.session.commit()
    auth.login("head@verified.local")
    page = client.get(f"/reports/schools/{scene['x'].id}?year=2024").get_data(as_text=True)
    assert "Подтверждено на входе</th>" in page
    students = _cell(page, "door-students")
    assert ">4<" in students and "40,0" in students  # 4 of 10, beside A = 7 (70 %)
    assert ">0<" in _cell(page, "door-teachers")  # 1 teacher by upload, none at a door
    assert "столько же" in _cell(page, "door-students_ovz")  # no ОВЗ student: the same
    same = client.get(f"/reports/schools/{y.id}?year=2024").get_data(as_text=True)
    assert "Подтверждено на входе</th>" not in same and 'id="door-students"' not in same


def test_spravka_states_the_door_figure_where_it_differs(client, auth, scene, factory, db):
    data = build_spravka(YEAR)
    assert data.door_figure("students", scene["x"].id).a == 4
    assert data.door_figure("students").a == 4
    assert data.door_figure("students_ovz", scene["x"].id) is None  # no ОВЗ anywhere: same
    title = INDICATOR_TITLES["students"]
    line = next(line for line in data.summary_lines() if line.startswith(title))
    assert "из них подтверждено на входе: 4" in line
    factory.create_user(Role.ADMIN, email="chief@verified.local")
    db.session.commit()
    auth.login("chief@verified.local")
    page = client.get("/reports/spravka?year=2024").get_data(as_text=True)
    assert "из них подтверждено на входе: 4" in page
    assert 'id="door-note"' in page and "на входе: 40,0" in page
