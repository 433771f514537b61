"""Issue #19, class 4: no input causes a 5xx. Targeted bad inputs on pages and the API get a
clear 4xx (Russian page, or the API's JSON error shape) and change nothing."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from models import Event, EventStatus, Organization, Role, Student, now_utc
from tests.html_tables import table_rows
from webapp.input_guard import CONTROL_MESSAGE, safe_next_url

BIG = 10**20  # beyond every integer column, 64-bit included
INT33 = 2**31  # one beyond the 32-bit id and count columns
GUARD_TEXT = "недопустимые управляющие символы"
DATA_TEXT = "вне допустимого диапазона"


@pytest.fixture
def world(factory, db):
    """An admin, an organizer with a published event, a coordinator with a school; tokens."""
    admin = factory.create_user(Role.ADMIN, email="admin@test.local")
    organizer = factory.create_user(Role.ORGANIZER, email="org@test.local")
    coordinator = factory.create_user(Role.COORDINATOR, email="coord@test.local")
    start = now_utc() + timedelta(days=10)
    event = factory.create_event(organizer.organization, starts_at=start,
                                 ends_at=start + timedelta(hours=2),
                                 status=EventStatus.PUBLISHED)
    tokens = {role: factory.bearer(factory.create_token(user)) for role, user in
              (("admin", admin), ("organizer", organizer), ("coordinator", coordinator))}
    db.session.commit()
    return {"event": event.id, "school": coordinator.organization_id, "tokens": tokens,
            "org": organizer.organization_id}


def _api_error(response, status: int, code: str, field: str | None = None):
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    body = response.get_json()
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    if field is not None:
        assert field in body["error"]["fields"], body


def _page_error(response, status: int, text: str):
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html"
    assert text in response.get_data(as_text=True)


# --- API: (role, method, url, json, status, code, field) ------------------------------------

API_CASES = [
    # control characters in the path, the query, JSON strings and keys
    ("nul-in-path", "organizer", "GET", "/api/v1/events/{event}/groups/AB%00CD", None,
     400, "invalid_characters", "path"),
    ("ctl-in-path", "organizer", "GET", "/api/v1/events/{event}/groups/AB%01CD", None,
     400, "invalid_characters", "path"),
    ("nul-in-query", None, "GET", "/api/v1/events?q=a%00b", None,
     400, "invalid_characters", "q"),
    ("newline-in-query", None, "GET", "/api/v1/events?category=university%0A", None,
     400, "invalid_characters", "category"),
    ("nul-in-json", "organizer", "POST", "/api/v1/events", {"title": "День\x00"},
     400, "invalid_characters", "title"),
    ("esc-in-json", "organizer", "POST", "/api/v1/events", {"venue": "пр.\x1b[31m Ленина"},
     400, "invalid_characters", "venue"),
    ("nul-in-json-key", "organizer", "POST", "/api/v1/events", {"ti\x00tle": "x"},
     400, "invalid_characters", None),
    ("nul-in-nested-json", "coordinator", "POST", "/api/v1/organizations/{school}/students",
     {"students": [{"last_name": "Иванов\x00", "first_name": "Иван", "class_name": "9А"}]},
     400, "invalid_characters", "students[0].last_name"),
    ("nul-in-email", "admin", "POST", "/api/v1/organizations",
     {"name": "Школа", "kind": "school", "email": "a\x00@b.ru"},
     400, "invalid_characters", "email"),
    # integers beyond the columns: path (404), query and JSON (422 with the field)
    ("int33-in-path", "organizer", "GET", f"/api/v1/events/{INT33}", None,
     404, "not_found", None),
    ("huge-in-path", "organizer", "GET", f"/api/v1/events/{BIG}", None,
     404, "not_found", None),
    ("huge-registration-id", "coordinator", "GET", f"/api/v1/registrations/{BIG}", None,
     404, "not_found", None),
    ("huge-year-in-path", "admin", "PUT", f"/api/v1/organizations/{{school}}/baselines/{BIG}",
     {"students_total": 1}, 404, "not_found", None),
    ("int33-in-query", None, "GET", f"/api/v1/events?organizer_id={INT33}", None,
     422, "validation_error", "organizer_id"),
    ("huge-offset-in-query", None, "GET", f"/api/v1/events?offset={BIG}", None,
     422, "validation_error", "offset"),
    ("huge-grade-in-query", None, "GET", f"/api/v1/events?grade={BIG}", None,
     422, "validation_error", "grade"),
    ("int33-in-json", "organizer", "POST", "/api/v1/events", {"capacity": INT33},
     422, "validation_error", "capacity"),
    ("huge-count-in-json", "admin", "PUT", "/api/v1/organizations/{school}/baselines/2025",
     {"students_total": BIG, "students_ovz": 0, "teachers_total": 1},
     422, "validation_error", "students_total"),
    # dates out of range
    ("year-1-in-json", "organizer", "POST", "/api/v1/events",
     {"starts_at": "0001-01-01T00:00:00+07:00"}, 422, "validation_error", "starts_at"),
    ("year-9999-in-json", "organizer", "POST", "/api/v1/events",
     {"starts_at": "9999-12-31T23:00:00-07:00"}, 422, "validation_error", "starts_at"),
    ("year-1-in-query", None, "GET", "/api/v1/events?from=0001-01-01", None,
     422, "validation_error", "from"),
    ("year-9999-in-query", None, "GET", "/api/v1/events?to=9999-12-31T23:59:59-05:00", None,
     422, "validation_error", "to"),
    ("year-1-in-report", "admin", "GET", "/api/v1/reports/indicators?from=0001-01-01", None,
     422, "validation_error", "from"),
    ("huge-year-in-report", "admin", "GET", f"/api/v1/reports/indicators?year={BIG}", None,
     422, "validation_error", "year"),
]


@pytest.mark.parametrize(("role", "method", "url", "json", "status", "code", "field"),
                         [c[1:] for c in API_CASES], ids=[c[0] for c in API_CASES])
def test_api_bad_input_is_a_clear_4xx(client, world, db, role, method, url, json, status, code,
                                      field):
    headers = world["tokens"][role] if role else {}
    url = url.format(**world)
    if json is not None and method == "POST" and url.endswith("/api/v1/events"):
        json = {"title": "День", "category": "university",
                "starts_at": "2031-10-01T10:00:00+07:00", "ends_at": "2031-10-01T12:00:00+07:00",
                "venue": "г. Томск", "capacity": 50, "audience": "students", **json}
    before = db.session.query(Event).count(), db.session.query(Student).count()
    response = client.open(url, method=method, json=json, headers=headers)
    _api_error(response, status, code, field)
    if code == "invalid_characters":
        assert response.get_json()["error"]["message"] == CONTROL_MESSAGE
    db.session.rollback()
    assert (db.session.query(Event).count(), db.session.query(Student).count()) == before


def test_api_lone_surrogate_in_json(client, world):
    body = ('{"title": "\\ud800", "category": "university", "starts_at": '
            '"2031-10-01T10:00:00+07:00", "ends_at": "2031-10-01T12:00:00+07:00", '
            '"venue": "x", "capacity": 5, "audience": "students"}')
    response = client.post("/api/v1/events", data=body, content_type="application/json",
                           headers=world["tokens"]["organizer"])
    _api_error(response, 400, "invalid_characters", "title")


@pytest.mark.parametrize("url", ["/api/v1/events", "/api/v1/events/{event}/scans/batch"])
def test_api_json_nested_too_deep_is_400(client, world, url):
    body = "[" * 100000 + "]" * 100000
    response = client.post(url.format(**world), data=body, content_type="application/json",
                           headers=world["tokens"]["organizer"])
    _api_error(response, 400, "bad_request")


def test_scan_batch_is_not_rejected_whole_for_one_bad_item(client, world):
    """The batch's JSON is exempt from the global guard: each item is judged on its own."""
    response = client.post(
        f"/api/v1/events/{world['event']}/scans/batch", headers=world["tokens"]["organizer"],
        json={"scans": [{"code": "AB\x00CD", "scanned_at": now_utc().isoformat()}]})
    if response.status_code == 200:
        assert len(response.get_json()["results"]) == 1
    else:  # the door's own judgement of the item (not this guard's)
        assert response.get_json()["error"]["code"] != "invalid_characters"


def test_textarea_line_breaks_and_tab_are_not_control_characters(client, world):
    response = client.post("/api/v1/events", headers=world["tokens"]["organizer"], json={
        "title": "День", "category": "university", "description": "Строка 1\r\nСтрока\t2",
        "starts_at": "2031-10-01T10:00:00+07:00", "ends_at": "2031-10-01T12:00:00+07:00",
        "venue": "г. Томск", "capacity": 50, "audience": "students"})
    assert response.status_code == 201, response.json
    assert response.json["description"] == "Строка 1\r\nСтрока\t2"


# --- pages: (login, method, url, form, status, text) ----------------------------------------

PAGE_CASES = [
    ("nul-in-path", None, "GET", "/t/AB%00CD", None, 400, GUARD_TEXT),
    ("nul-in-secret-path", None, "GET", "/my/abc%00def", None, 400, GUARD_TEXT),
    ("ctl-in-scanner-path", None, "GET", "/s/tok%07en", None, 400, GUARD_TEXT),
    ("nul-in-query", None, "GET", "/events?q=%00", None, 400, GUARD_TEXT),
    ("nul-in-admin-query", "admin", "GET", "/admin/users?q=a%00", None, 400, GUARD_TEXT),
    ("nul-in-school-query", "coordinator", "GET", "/school/students?q=%00", None, 400,
     GUARD_TEXT),
    ("nul-in-login-email", None, "POST", "/login", {"email": "a\x00@b.ru", "password": "x"},
     400, GUARD_TEXT),
    ("nul-in-student-form", "coordinator", "POST", "/school/students/new",
     {"last_name": "Ив\x00анов", "first_name": "Иван", "class_name": "9А"}, 400, GUARD_TEXT),
    ("vt-in-org-form", "admin", "POST", "/admin/organizations/new",
     {"name": "Школа\x0b", "kind": "school"}, 400, GUARD_TEXT),
    ("newline-in-next", None, "GET", "/login?next=/dashboard%0D%0ASet-Cookie:%20x=1", None,
     400, GUARD_TEXT),
    ("int33-in-path", None, "GET", f"/events/{INT33}", None, 404, "Страница не найдена"),
    ("huge-in-path", None, "GET", f"/events/{BIG}", None, 404, "Страница не найдена"),
    ("huge-in-admin-path", "admin", "GET", f"/admin/users/{BIG}/edit", None, 404,
     "Страница не найдена"),
    ("huge-page-in-query", None, "GET", f"/events?page={BIG}", None, 404, "Такой страницы нет"),
    ("huge-org-in-query", "admin", "GET", f"/school/students?org={BIG}", None, 400, DATA_TEXT),
    ("huge-year-in-admin-query", "admin", "GET", f"/admin/baselines?year={BIG}", None, 404,
     "Страница не найдена"),
    ("huge-grade-filter", None, "GET", f"/events?grade={BIG}", None, 200, "Не больше"),
    ("huge-report-id", "admin", "GET", f"/reports/?organizer_id={BIG}", None, 422,
     "Выберите значение из списка"),
    ("huge-report-year", "admin", "GET", f"/reports/organizer?organizer_id={BIG}", None, 400,
     DATA_TEXT),
    ("year-1-filter", None, "GET", "/events?date_from=0001-01-01", None, 200,
     "Дата — не раньше"),
    ("year-9999-report", "admin", "GET", "/reports/?from=2025-01-01&to=9999-12-31", None, 422,
     "Дата — не позже"),
    ("year-1-scanner-link", "organizer", "POST", "/organizer/events/{event}/scanner-links",
     {"label": "Волонтёр", "expires_at": "0001-01-01T00:00"}, 422, "Дата — не раньше"),
    ("huge-baseline-form", "coordinator", "POST", "/my/baseline",
     {"students_total": str(BIG), "students_ovz": "0", "teachers_total": "1"}, 422,
     "Не больше"),
]


@pytest.mark.parametrize(("login", "method", "url", "form", "status", "text"),
                         [c[1:] for c in PAGE_CASES], ids=[c[0] for c in PAGE_CASES])
def test_page_bad_input_is_a_clear_4xx(client, auth, world, db, login, method, url, form,
                                       status, text):
    if login:
        auth.login({"admin": "admin", "organizer": "org", "coordinator": "coord"}[login]
                   + "@test.local")
    url = url.format(**world)
    url = url.format(**world)
    before = db.session.query(Organization).count(), db.session.query(Student).count()
    response = client.post_form(url, form) if method == "POST" else client.get(url)
    _page_error(response, status, text)
    db.session.rollback()
    assert (db.session.query(Organization).count(),
            db.session.query(Student).count()) == before


def test_tab_in_a_form_field_is_not_rejected(client, world):
    response = client.post_form("/login", {"email": "nobody@test.local", "password": "a\tb"})
    assert response.status_code == 401
    assert "Неверный адрес электронной почты или пароль" in response.get_data(as_text=True)


# --- redirect targets -------------------------------------------------------------------------

@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/", "/\\evil.example", "\\\\evil.example",
    "/dashboard\r\nSet-Cookie: x=1", "/dash\x00board", "javascript:alert(1)", "dashboard", "",
    None,
])
def test_safe_next_url_refuses(target):
    assert safe_next_url(target) is None


def test_safe_next_url_keeps_a_local_path_and_checks_the_prefix():
    assert safe_next_url("/events/5?tab=1") == "/events/5?tab=1"
    assert safe_next_url("/events/5", prefix="/organizer/") is None


def test_login_next_backslash_goes_to_the_dashboard(client, world, factory, db):
    response = client.post_form("/login?next=/%5Cevil.example",
                                {"email": "admin@test.local", "password": factory.PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"


def test_student_new_next_backslash_is_ignored(client, auth, world):
    auth.login("coord@test.local")
    response = client.post_form("/school/students/new?next=/%5Cevil.example", {
        "last_name": "Иванов", "first_name": "Иван", "class_name": "9А"})
    assert response.status_code == 303
    assert "evil" not in response.headers["Location"]
    assert response.headers["Location"].startswith("/school/students")


def test_undo_form_next_with_newline_falls_back(client, auth, world):
    auth.login("org@test.local")
    event = world["event"]
    response = client.post_form(f"/organizer/events/{event}/scans/1/undo",
                                {"next": f"/organizer/events/{event}/scans\r\nSet-Cookie: x=1",
                                 "undo-1-reason": "ошибка"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/organizer/events/{event}/scans"


def test_referrer_from_another_site_is_not_followed(client, auth, world):
    auth.login("admin@test.local")
    response = client.post_form(f"/admin/organizations/{world['school']}/deactivate",
                                headers={"Referer": "https://evil.example/phish"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/organizations"
    response = client.post_form(f"/admin/organizations/{world['school']}/activate",
                                headers={"Referer": "http://localhost/admin/organizations?q=a"})
    assert response.headers["Location"] == "/admin/organizations?q=a"


# --- imports ------------------------------------------------------------------------------------

def _import(client, auth, content: bytes, name: str = "students.csv"):
    auth.login("coord@test.local")
    return client.post_form("/school/students/import",
                            {"file": (io.BytesIO(content), name)},
                            content_type="multipart/form-data")


def test_import_cell_with_control_character_is_a_row_error(client, auth, world, db):
    content = "Фамилия;Имя;Отчество;Класс\nИванов;Ив\x00ан;;9А\nПетров;Пётр;;9А\n".encode()
    response = _import(client, auth, content)
    assert response.status_code == 200  # the import page lists the problems
    page = response.get_data(as_text=True)
    assert table_rows(page, "import-problems") == [
        ("2", "Имя", "Недопустимые управляющие символы.")]
    assert db.session.query(Student).count() == 0


def test_import_oversize_csv_field_is_a_clear_error(client, auth, world, db):
    content = ("Фамилия;Имя;Отчество;Класс\nИванов;" + "И" * 200_000 + ";;9А\n").encode()
    response = _import(client, auth, content)
    assert response.status_code == 200  # the import page lists the problems
    # the reader's line cap (formats.spreadsheets.MAX_CSV_LINE_CHARS) meets it first
    assert "строка длиннее 10000 символов" in response.get_data(as_text=True)
    assert db.session.query(Student).count() == 0


def test_upload_file_name_with_control_character(client, auth, world, db):
    content = "Фамилия;Имя;Отчество;Класс\nИванов;Иван;;9А\n".encode()
    response = _import(client, auth, content, name="spis\x00ok.csv")
    _page_error(response, 400, GUARD_TEXT)
    assert db.session.query(Student).count() == 0


def test_every_form_uses_the_bounded_number_and_date_fields(app):
    """The root of the form fix: a form using wtforms' own IntegerField/DateField would accept
    numbers beyond the columns and dates beyond the sane range again."""
    import importlib
    import pkgutil

    from flask_wtf import FlaskForm
    from wtforms import Form
    from wtforms.fields.core import UnboundField

    import reports
    import webapp
    from webapp.forms import BOUNDED_FIELDS, UNBOUNDED_FIELDS

    for package in (webapp, reports):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if module.name.endswith(("forms", "forms_extra")) or ".forms" in module.name:
                importlib.import_module(module.name)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    checked = 0
    offenders = []
    for form_class in {*subclasses(FlaskForm), *subclasses(Form)}:
        if not form_class.__module__.startswith(("webapp", "reports")):
            continue
        for name in dir(form_class):
            value = getattr(form_class, name, None)
            if not isinstance(value, UnboundField):
                continue
            if issubclass(value.field_class, UNBOUNDED_FIELDS):
                checked += 1
                if not issubclass(value.field_class, BOUNDED_FIELDS):
                    offenders.append(f"{form_class.__module__}.{form_class.__name__}.{name}")
    assert checked >= 10
    assert not offenders, offenders
