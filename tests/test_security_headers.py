"""Security headers, page by page: a sweep of every GET page of the app (read from the url_map,
as tests/test_scoping_matrix.py does) as a visitor and as each role over the demo data set.

Each HTML page must run under the Content-Security-Policy (no inline script except JSON data
blocks, no inline event handler, no inline style), and every response carries the CSP, the
Permissions-Policy (camera only on the scanner pages) and ``Cache-Control: no-store`` when it
may hold personal data. HSTS is sent over HTTPS only.
"""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from werkzeug.routing import IntegerConverter

from checkin.door.links import create_scanner_link
from models import (
    Audience,
    EventStatus,
    ParentSignup,
    Registration,
    Role,
    Scan,
    ScannerLink,
    SchoolNotice,
    Student,
    Teacher,
    Ticket,
    User,
    db,
)
from models.teacher_signup import TeacherSignup
from webapp import TestConfig, create_app
from webapp.demo import load_demo
from webapp.demo.directory import DEMO_PASSWORD
from webapp.parents.services import hash_secret

PARENT_SECRET = "parent-secret-0123456789abcdefghij"
TEACHER_SECRET = "teacher-secret-0123456789abcdefghi"

#: What the test expects of the policy, written out independently of the code under test.
CSP_MUST_HAVE = ["default-src 'self'", "script-src 'self'", "style-src 'self'",
                 "worker-src 'self'", "manifest-src 'self'", "media-src 'self' blob:",
                 "img-src 'self' data: blob:", "object-src 'none'", "frame-ancestors 'none'"]
SCANNER_ENDPOINTS = {"scanner.checkin", "scanner.link_scanner"}
#: Pages a visitor may have cached: public, no personal data.
PUBLIC_ENDPOINTS = {"main.index", "main.privacy", "main.favicon", "events.catalogue",
                    "events.detail", "events.event_ics", "events.feed", "events.organizers",
                    "events.organizer_profile", "scanner.service_worker", "scanner.asset_list",
                    "api.openapi_document"}
ROLES = {"visitor": None, "admin": "admin@demo.local", "organizer": "organizer@demo.local",
         "coordinator": "school@demo.local"}


def _get_rules() -> list:
    app = create_app(TestConfig)
    rules = [r for r in app.url_map.iter_rules()
             if "GET" in r.methods and r.endpoint != "static"]
    assert len(rules) > 60
    return rules


def _fill(rule, values: dict) -> str:
    url = rule.rule
    for match in re.finditer(r"<(?:([a-zA-Z_]+)(?:\([^)]*\))?:)?([a-zA-Z_]+)>", rule.rule):
        name = match.group(2)
        converter = rule._converters[name]
        value = values.get(name)
        if value is None:
            value = 1 if isinstance(converter, IntegerConverter) else "x"
        url = url.replace(match.group(0), str(value))
    return url


class InlineCode(HTMLParser):
    """Everything in a page that a CSP without 'unsafe-inline' would block."""

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and not attributes.get("src") \
                and attributes.get("type") != "application/json":
            self.problems.append(f"inline <script {attrs}>")
        if tag == "style":
            self.problems.append("inline <style> element")
        for name, _value in attrs:
            if name.lower().startswith("on"):
                self.problems.append(f"event handler {name}= on <{tag}>")
            if name.lower() == "style":
                self.problems.append(f"style= attribute on <{tag}>")
        if tag == "a" and (attributes.get("href") or "").strip().lower().startswith(
                "javascript:"):
            self.problems.append("javascript: link")

    handle_startendtag = handle_starttag


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.problems


@pytest.fixture
def demo_world(app, db):
    """The demo data set, plus the secrets the demo does not keep (a scanner link, a parent's
    and a teacher's private link) and the ids the sweep fills into the routes."""
    ctx = load_demo("small")
    admin = User.query.filter_by(email="admin@demo.local").one()
    organizer = User.query.filter_by(email="organizer@demo.local").one()
    coordinator = User.query.filter_by(email="school@demo.local").one()
    school = coordinator.organization
    event = ctx["today_event"]
    assert event.organizer_id == organizer.organization_id
    registration = Registration.query.filter_by(event_id=event.id,
                                                organization_id=school.id).first()
    assert registration is not None
    ticket = Ticket.query.filter_by(registration_id=registration.id).first()
    _link, link_token = create_scanner_link(organizer, event, label="Волонтёр")
    parent = ParentSignup.query.filter(ParentSignup.name.is_not(None)).first()
    parent.manage_secret_hash = hash_secret(PARENT_SECRET)
    teacher_signup = TeacherSignup.query.first()
    values = {
        "event_id": event.id, "org_id": school.id, "user_id": coordinator.id,
        "registration_id": registration.id, "ticket_id": ticket.id,
        "student_id": Student.query.filter_by(organization_id=school.id).first().id,
        "teacher_id": Teacher.query.filter_by(organization_id=school.id).first().id,
        "token": link_token, "secret": PARENT_SECRET, "code": ticket.token,
        "group_code": registration.group_code, "fmt": "xlsx",
        "link_id": ScannerLink.query.first().id,
        "scan_id": (db.session.execute(sa.select(Scan.id)).scalars().first() or 1),
        "notice_id": (db.session.execute(sa.select(SchoolNotice.id)).scalars().first() or 1),
        "signup_id": teacher_signup.id if teacher_signup else 1, "token_id": 1,
        "year": 2025, "kind": "students",
        "person_id": Student.query.filter_by(organization_id=school.id).first().id,
        "class_name": Student.query.filter(Student.organization_id == school.id,
                                           Student.grade.between(6, 11)).first().class_name,
    }
    extra = []
    if teacher_signup is not None:
        teacher_signup.manage_secret_hash = hash_secret(TEACHER_SECRET)
        extra.append(f"/my/{TEACHER_SECRET}")
    parent_event = next(e for e in ctx["parent_events"]
                        if e.starts_at > event.starts_at and e.status == EventStatus.PUBLISHED)
    teacher_event = next(e for e in ctx["teacher_events"]
                         if e.starts_at > event.starts_at and e.audience == Audience.TEACHERS)
    extra += [f"/events/{parent_event.id}/signup", f"/events/{teacher_event.id}/teacher-signup",
              f"/events/{parent_event.id}", f"/s/{link_token}/manifest.webmanifest",
              "/reports/spravka?year=2025", "/admin/baselines?year=2025",
              f"/reports/schools/{school.id}", "/no/such/page"]
    db.session.commit()
    assert admin.role == Role.ADMIN
    return {"values": values, "extra": extra, "parent_event": parent_event}


def _endpoint(app, url: str) -> str | None:
    try:
        return app.url_map.bind("profroute.test").match(url.split("?")[0])[0]
    except Exception:  # noqa: BLE001 - no such page
        return None


def _sweep_urls(app, values: dict, extra: list[str]) -> list[tuple[str, str | None]]:
    urls = [(_fill(rule, values), rule.endpoint) for rule in _get_rules()]
    return urls + [(url, _endpoint(app, url)) for url in extra]


def _check_response(role: str, url: str, endpoint: str | None, response) -> list[str]:
    problems = []
    where = f"{role} GET {url} ({response.status_code})"
    if response.status_code >= 500:
        return [f"{where}: server error"]
    csp = response.headers.get("Content-Security-Policy", "")
    missing = [d for d in CSP_MUST_HAVE if d not in csp]
    if missing or "unsafe-inline" in csp or "unsafe-eval" in csp:
        problems.append(f"{where}: CSP {csp!r} lacks {missing} or allows inline code")
    camera = "camera=(self)" if endpoint in SCANNER_ENDPOINTS else "camera=()"
    if camera not in response.headers.get("Permissions-Policy", ""):
        problems.append(f"{where}: Permissions-Policy "
                        f"{response.headers.get('Permissions-Policy')!r}, expected {camera}")
    cache = response.headers.get("Cache-Control", "")
    personal = role != "visitor" or endpoint not in PUBLIC_ENDPOINTS
    if personal and "no-store" not in cache:
        problems.append(f"{where}: Cache-Control {cache!r}, expected no-store")
    if not personal and "no-store" in cache:
        problems.append(f"{where}: a public page is no-store")
    if "Strict-Transport-Security" in response.headers:
        problems.append(f"{where}: HSTS over plain HTTP")
    if response.mimetype == "text/html":
        problems += [f"{where}: {p}" for p in inline_code(response.get_data(as_text=True))]
    return problems


def test_every_page_of_every_role_runs_under_the_policy(app, client, demo_world):
    urls = _sweep_urls(app, demo_world["values"], demo_world["extra"])
    problems: list[str] = []
    rendered: dict[str, set[str]] = {}
    for role, email in ROLES.items():
        if email is not None:
            response = client.post_form("/login", {"email": email, "password": DEMO_PASSWORD})
            assert response.status_code == 302, f"{email} could not log in"
        for url, endpoint in urls:
            response = client.get(url)
            problems += _check_response(role, url, endpoint, response)
            if response.status_code == 200 and response.mimetype == "text/html":
                rendered.setdefault(role, set()).add(endpoint or url)
            response.close()  # file responses (the service worker) hold an open file
        # A form sent back with errors (the error summary and its focus script).
        response = client.post_form(f"/events/{demo_world['parent_event'].id}/signup", {})
        assert "data-error-summary" in response.get_data(as_text=True)
        problems += _check_response(role, "POST signup", "parents.signup", response)
        if email is not None:
            client.post_form("/logout")
    assert not problems, "\n".join(problems)
    # The sweep really rendered the pages (not a wall of 404s and redirects).
    assert {"events.catalogue", "events.detail", "tickets.ticket_page", "tickets.group_page",
            "parents.manage", "scanner.link_scanner"} <= rendered["visitor"]
    assert {"admin.users", "admin.organizations", "admin.audit", "reports.dashboard",
            "reports.spravka", "scanner.checkin", "checkin_admin.board", "checkin_admin.scans",
            "events.manage", "events.edit_event"} <= rendered["admin"]
    assert {"events.my_events", "events.manage", "scanner.checkin", "checkin_admin.board",
            "checkin_admin.scanner_links", "reports.organizer"} <= rendered["organizer"]
    assert {"schools.students", "schools.registration_detail", "schools.registration_print",
            "schools.register_group_page", "main.own_baseline",
            "reports.school"} <= rendered["coordinator"]
    assert len(rendered["admin"]) >= 50


@pytest.fixture
def event(factory):
    ev = factory.create_event(title="День открытых дверей")
    db.session.commit()
    return ev


def test_hsts_over_https_only(app, client, event):
    over_https = client.get("/events", base_url="https://profroute.test")
    assert over_https.status_code == 200
    assert over_https.headers["Strict-Transport-Security"] == "max-age=31536000"
    over_http = client.get("/events")
    assert over_http.status_code == 200
    assert "Strict-Transport-Security" not in over_http.headers
    # Without trusted proxies a client cannot claim HTTPS with a header.
    spoofed = client.get("/events", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in spoofed.headers


def test_hsts_behind_nginx_follows_x_forwarded_proto(app, database_url, event):
    behind_proxy = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig)
                                  if k.isupper()},
                               "SQLALCHEMY_DATABASE_URI": database_url, "PROXY_COUNT": 1})
    client = behind_proxy.test_client()
    try:
        https = client.get("/events", headers={"X-Forwarded-Proto": "https",
                                               "X-Forwarded-For": "203.0.113.5"})
        assert https.status_code == 200
        assert https.headers["Strict-Transport-Security"] == "max-age=31536000"
        http = client.get("/events", headers={"X-Forwarded-Proto": "http"})
        assert http.status_code == 200
        assert "Strict-Transport-Security" not in http.headers
    finally:
        with behind_proxy.app_context():
            db.engine.dispose()  # this app's own pool (PostgreSQL: an open connection)


def test_camera_only_on_the_scanner_pages(client, auth, factory, event):
    organizer = factory.create_user(Role.ORGANIZER, organization=event.organizer)
    _link, token = create_scanner_link(organizer, event, label="Волонтёр")
    db.session.commit()
    link_page = client.get(f"/s/{token}")
    assert link_page.status_code == 200
    assert link_page.headers["Permissions-Policy"].startswith("camera=(self)")
    assert "microphone=()" in link_page.headers["Permissions-Policy"]
    catalogue = client.get("/events")
    assert catalogue.headers["Permissions-Policy"].startswith("camera=()")
    auth.login(organizer.email)
    scanner = client.get(f"/checkin/{event.id}")
    assert scanner.status_code == 200
    assert scanner.headers["Permissions-Policy"].startswith("camera=(self)")
    manage = client.get(f"/organizer/events/{event.id}")
    assert manage.status_code == 200
    assert manage.headers["Permissions-Policy"].startswith("camera=()")


def test_personal_pages_are_no_store_and_the_catalogue_is_not(client, auth, factory, event):
    school = factory.create_org(name="МАОУ СОШ № 3")
    student = factory.create_student(school, last_name="Петрова", first_name="Анна")
    ticket = factory.create_ticket(event, student)
    db.session.commit()
    for url in (f"/t/{ticket.token}", f"/tickets/{ticket.token}/qr.png",
                f"/events/{event.id}/register", "/login"):
        response = client.get(url)
        assert response.status_code in (200, 302), url
        assert response.headers["Cache-Control"] == "no-store", url
    public = client.get("/events")
    assert "no-store" not in public.headers.get("Cache-Control", "")
    static = client.get("/static/css/app.css")
    assert static.status_code == 200
    assert "no-store" not in static.headers.get("Cache-Control", "")
    static.close()
    # Signed in, even the catalogue (the menu shows who is signed in) is not kept.
    coordinator = factory.create_user(Role.COORDINATOR, organization=school)
    db.session.commit()
    auth.login(coordinator.email)
    assert client.get("/events").headers["Cache-Control"] == "no-store"
    page = client.get(f"/t/{ticket.token}")
    assert "Петрова Анна" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"


def test_api_answers_are_no_store(client, factory, event):
    school = factory.create_org(name="МАОУ СОШ № 3")
    factory.create_student(school, last_name="Петрова", first_name="Анна")
    admin = factory.create_user(Role.ADMIN)
    token = factory.create_token(admin)
    db.session.commit()
    response = client.get(f"/api/v1/organizations/{school.id}/students",
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert "Петрова" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_the_inline_code_parser_finds_what_the_policy_blocks():
    assert inline_code('<script src="/static/x.js"></script>'
                       '<script type="application/json">{"a": 1}</script>') == []
    found = inline_code('<script>alert(1)</script><button onclick="x()">b</button>'
                        '<div style="width:1px"></div><style>p{}</style>'
                        '<a href="javascript:x()">a</a>')
    assert len(found) == 5


def test_the_sweep_knows_every_url_argument():
    """A new GET route is swept automatically; the list of endpoints the sweep fills must know
    each URL argument (otherwise it would sweep a 404)."""
    known = {"event_id", "org_id", "user_id", "registration_id", "ticket_id", "student_id",
             "teacher_id", "token", "secret", "code", "group_code", "fmt", "link_id", "scan_id",
             "notice_id", "signup_id", "token_id", "year", "filename", "kind", "person_id",
             "class_name"}
    unknown = {arg for rule in _get_rules() for arg in rule.arguments} - known
    assert not unknown, f"teach the sweep these URL arguments: {unknown}"


def test_scanner_page_passes_its_data_as_json_not_code(client, factory, event):
    organizer = factory.create_user(Role.ORGANIZER, organization=event.organizer)
    _link, token = create_scanner_link(organizer, event, label="Волонтёр")
    db.session.commit()
    html = client.get(f"/s/{token}").get_data(as_text=True)
    assert '<script type="application/json" id="scanner-config">' in html
    assert inline_code(html) == []


def test_a_revoked_scanner_link_page_is_no_store(client, factory, event):
    organizer = factory.create_user(Role.ORGANIZER, organization=event.organizer)
    link, token = create_scanner_link(organizer, event, label="Волонтёр")
    link.revoked_at = event.starts_at - timedelta(days=1)
    db.session.commit()
    response = client.get(f"/s/{token}")
    assert response.status_code == 410
    assert response.headers["Cache-Control"] == "no-store"
    assert inline_code(response.get_data(as_text=True)) == []
