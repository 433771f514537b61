"""Scoping, written as matrices: every admin page refuses organizers and coordinators, sends
visitors to the login page, and a coordinator reaches only their own school's baseline."""

from __future__ import annotations

import pytest
from werkzeug.routing import IntegerConverter

from models import AuditLog, Baseline, Role
from tests.factories import bearer
from webapp import TestConfig, create_app


def _admin_routes() -> list[tuple[str, str, str]]:
    """(method, url, endpoint) for every rule under /admin/, read from the app's url_map, so a
    new admin page is covered without touching this file."""
    app = create_app(TestConfig)
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin/"):
            continue
        values = {}
        for name in rule.arguments:
            converter = rule._converters[name]
            values[name] = 1 if isinstance(converter, IntegerConverter) else "csv"
        url = rule.rule
        for name, value in values.items():
            url = url.replace(f"<{_converter_spec(rule, name)}>", str(value))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, url, rule.endpoint))
    assert found, "no admin routes found"
    return found


def _converter_spec(rule, name: str) -> str:
    for converter, _args, variable in _parse(rule.rule):
        if variable == name:
            return f"{converter}:{name}" if converter else name
    raise AssertionError(name)


def _parse(rule_text: str):
    import re

    for match in re.finditer(r"<(?:([a-zA-Z_]+)(?:\([^)]*\))?:)?([a-zA-Z_]+)>", rule_text):
        yield match.group(1), None, match.group(2)


ADMIN_ROUTES = _admin_routes()
IDS = [f"{m} {u}" for m, u, _e in ADMIN_ROUTES]


@pytest.fixture
def world(db, factory):
    """An admin, an organizer, two schools with a coordinator each and a baseline each."""
    admin = factory.create_user(Role.ADMIN, email="admin@test.local")
    organizer = factory.create_user(Role.ORGANIZER, email="org@test.local")
    school_a = factory.create_org(name="МАОУ СОШ № 1")
    school_b = factory.create_org(name="МАОУ СОШ № 2")
    coord_a = factory.create_user(Role.COORDINATOR, organization=school_a, email="a@test.local")
    factory.create_user(Role.COORDINATOR, organization=school_b, email="b@test.local")
    factory.create_baseline(school_a, 2025, students_total=500, students_ovz=10)
    factory.create_baseline(school_b, 2025, students_total=700, students_ovz=20)
    db.session.commit()
    return {"admin": admin, "organizer": organizer, "a": school_a, "b": school_b,
            "coord_a": coord_a}


def _call(client, method: str, url: str):
    if method == "GET":
        return client.get(url)
    return client.post_form(url, {})


def test_the_matrix_covers_the_admin_pages():
    endpoints = {e for _m, _u, e in ADMIN_ROUTES}
    for expected in ("admin.organizations", "admin.organization_new", "admin.users",
                     "admin.user_new", "admin.baselines", "admin.baseline_import",
                     "admin.baseline_template", "admin.audit", "admin.baseline_lock_all"):
        assert expected in endpoints


@pytest.mark.parametrize("role_email", ["org@test.local", "a@test.local"],
                         ids=["organizer", "coordinator"])
@pytest.mark.parametrize(("method", "url", "endpoint"), ADMIN_ROUTES, ids=IDS)
def test_non_admins_get_403_on_every_admin_route(client, auth, world, role_email, method, url,
                                                 endpoint):
    auth.login(role_email)
    audit_before = AuditLog.query.count()
    response = _call(client, method, url)
    assert response.status_code == 403, f"{method} {url} ({endpoint})"
    assert "Доступ запрещён" in response.get_data(as_text=True)
    # Nothing happened: only the login itself is in the audit log.
    assert AuditLog.query.count() == audit_before


@pytest.mark.parametrize(("method", "url", "endpoint"), ADMIN_ROUTES, ids=IDS)
def test_visitors_are_sent_to_the_login_page(client, world, method, url, endpoint):
    response = _call(client, method, url)
    assert response.status_code == 302, f"{method} {url} ({endpoint})"
    assert "/login" in response.headers["Location"]
    assert AuditLog.query.count() == 0


def test_admin_opens_every_admin_page(client, auth, world):
    auth.login("admin@test.local")
    for method, url, endpoint in ADMIN_ROUTES:
        if method != "GET":
            continue
        response = client.get(url)
        assert response.status_code in (200, 400, 404), f"{url} ({endpoint})"


@pytest.mark.parametrize("url", ["/my/baseline", "/account/tokens", "/dashboard"])
def test_pages_of_every_role_need_a_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


# --- a coordinator and another school's baseline ----------------------------------------------

def test_coordinator_page_shows_only_the_own_school(client, auth, world):
    auth.login("a@test.local")
    page = client.get("/my/baseline?year=2025").get_data(as_text=True)
    assert "МАОУ СОШ № 1" in page and "500" in page
    assert "МАОУ СОШ № 2" not in page and "700" not in page
    # No parameter reaches another school: the page ignores anything but the year.
    page = client.get(f"/my/baseline?year=2025&org_id={world['b'].id}"
                      f"&organization_id={world['b'].id}").get_data(as_text=True)
    assert "МАОУ СОШ № 2" not in page and "700" not in page


def test_coordinator_cannot_change_another_school_in_the_ui(client, auth, world, db):
    auth.login("a@test.local")
    response = client.post_form(f"/my/baseline?year=2025&org_id={world['b'].id}", {
        "students_total": "1", "students_ovz": "0", "teachers_total": "1",
        "organization_id": str(world["b"].id)})
    assert response.status_code in (302, 303)
    db.session.expire_all()
    other = Baseline.query.filter_by(organization_id=world["b"].id, year=2025).one()
    assert other.students_total == 700  # untouched
    own = Baseline.query.filter_by(organization_id=world["a"].id, year=2025).one()
    assert own.students_total == 1  # only the own school changed


def test_coordinator_cannot_download_the_city_table(client, auth, world):
    auth.login("a@test.local")
    for url in ("/admin/baselines?year=2025", "/admin/baselines/template.csv?year=2025",
                "/admin/baselines/template.xlsx?year=2025"):
        response = client.get(url)
        assert response.status_code == 403
        assert "700" not in response.get_data(as_text=True)


def test_coordinator_cannot_change_another_school_through_the_api(client, world, db, factory):
    token = factory.create_token(world["coord_a"])
    db.session.commit()
    response = client.put(f"/api/v1/organizations/{world['b'].id}/baselines/2025",
                          headers=bearer(token),
                          json={"students_total": 1, "students_ovz": 0, "teachers_total": 1})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    db.session.expire_all()
    assert Baseline.query.filter_by(organization_id=world["b"].id).one().students_total == 700
    # The own school works with the same token.
    response = client.put(f"/api/v1/organizations/{world['a'].id}/baselines/2025",
                          headers=bearer(token),
                          json={"students_total": 501, "students_ovz": 10, "teachers_total": 40})
    assert response.status_code == 200
    assert response.get_json()["students_total"] == 501


def test_organizer_cannot_write_any_baseline_through_the_api(client, world, db, factory):
    token = factory.create_token(world["organizer"])
    db.session.commit()
    response = client.put(f"/api/v1/organizations/{world['organizer'].organization_id}"
                          "/baselines/2025", headers=bearer(token),
                          json={"students_total": 1, "students_ovz": 0, "teachers_total": 1})
    assert response.status_code == 403
    assert Baseline.query.filter_by(
        organization_id=world["organizer"].organization_id).count() == 0


def test_coordinator_cannot_edit_a_locked_own_baseline(client, auth, world, db):
    Baseline.query.filter_by(organization_id=world["a"].id).one().locked = True
    db.session.commit()
    auth.login("a@test.local")
    page = client.get("/my/baseline?year=2025").get_data(as_text=True)
    assert "заблокированы" in page
    assert 'name="students_total"' not in page
    response = client.post_form("/my/baseline?year=2025", {
        "students_total": "1", "students_ovz": "0", "teachers_total": "1"},
        follow_redirects=True)
    assert "заблокированы" in response.get_data(as_text=True)
    db.session.expire_all()
    assert Baseline.query.filter_by(organization_id=world["a"].id).one().students_total == 500


def test_locked_baseline_is_a_409_in_the_api(client, world, db, factory):
    Baseline.query.filter_by(organization_id=world["a"].id).one().locked = True
    token = factory.create_token(world["coord_a"])
    db.session.commit()
    response = client.put(f"/api/v1/organizations/{world['a'].id}/baselines/2025",
                          headers=bearer(token),
                          json={"students_total": 1, "students_ovz": 0, "teachers_total": 1})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "baseline_locked"
    db.session.expire_all()
    assert Baseline.query.filter_by(organization_id=world["a"].id).one().students_total == 500


@pytest.mark.parametrize(("values", "message"), [
    (("100", "150", "10"), "Обучающихся с ОВЗ не может быть больше"),
    (("100", "5", "-3"), "Не может быть отрицательным"),
    (("сто", "5", "10"), "Введите целое число"),
    (("", "5", "10"), "Обязательное поле"),
])
def test_coordinator_bad_input_saves_nothing(client, auth, world, db, values, message):
    auth.login("a@test.local")
    total, ovz, teachers = values
    response = client.post_form("/my/baseline?year=2025", {
        "students_total": total, "students_ovz": ovz, "teachers_total": teachers})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    own = Baseline.query.filter_by(organization_id=world["a"].id, year=2025).one()
    assert (own.students_total, own.students_ovz) == (500, 10)
    assert AuditLog.query.filter_by(action="baseline.save").count() == 0


def test_coordinator_saves_own_baseline(client, auth, world, db):
    auth.login("a@test.local")
    response = client.post_form("/my/baseline?year=2026", {
        "students_total": "520", "students_ovz": "12", "teachers_total": "41",
        "planned_events": "30", "planned_early_events": ""})
    assert response.status_code == 302
    saved = Baseline.query.filter_by(organization_id=world["a"].id, year=2026).one()
    assert (saved.students_total, saved.planned_events, saved.planned_early_events) == (
        520, 30, None)
    assert AuditLog.query.filter_by(action="baseline.save").one().user_id == world["coord_a"].id
