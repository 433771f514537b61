"""The city's «ранняя профориентация» rule: an admin setting per academic year that decides
which new events are early by default; saved events keep their flag; the Методика sheet and the
справка state the rule of the report's year."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from openpyxl import load_workbook
from pypdf import PdfReader

from formats.timefmt import TOMSK
from models import Audience, AuditLog, Event, Role
from models.early_rule import DEFAULT_EARLY_RULE, EarlyRule, early_rule_for
from webapp.events import services as svc
from webapp.services import directory

YEAR = 2026
#: 01.10.2026 in Tomsk: academic year 2026/27 is in progress.
NOW = datetime(2026, 10, 1, 3, tzinfo=UTC)
START = datetime(2026, 10, 20, 10, tzinfo=TOMSK)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def people(db, factory):
    admin = factory.create_user(Role.ADMIN, email="admin@test.local")
    organizer = factory.create_user(Role.ORGANIZER, email="org@test.local")
    coordinator = factory.create_user(Role.COORDINATOR, email="coord@test.local")
    db.session.commit()
    return {"admin": admin, "organizer": organizer, "coordinator": coordinator}


def fields(start=START, **overrides):
    values = {
        "title": "Экскурсия", "category": "university", "audience": "students",
        "grades_min": 1, "grades_max": 4, "starts_at": start,
        "ends_at": start + timedelta(hours=2), "venue_name": "Главный корпус",
        "venue_address": "г. Томск, пр. Ленина, 36", "capacity": 30,
    }
    values.update(overrides)
    return values


def form_data(**overrides):
    data = {
        "title": "Экскурсия на завод", "description": "", "category": "university",
        "audience": "students", "grades_min": "5", "grades_max": "7",
        "starts_at": "2026-10-20T10:00", "ends_at": "2026-10-20T12:00",
        "venue_name": "Завод", "venue_address": "г. Томск, ул. Мира, 1", "venue_room": "",
        "capacity": "25", "per_school_quota": "", "registration_opens_at": "",
        "registration_closes_at": "", "checkin_opens_at": "", "checkin_closes_at": "",
        "early": "auto", "roadmap_item": "",
    }
    data.update(overrides)
    return data


# --- the rule --------------------------------------------------------------------------------

def test_the_default_rule_is_preschool_and_grades_up_to_four(db):
    assert early_rule_for(YEAR) == DEFAULT_EARLY_RULE
    rule = DEFAULT_EARLY_RULE
    assert rule.applies(Audience("preschool"), None, "university")
    assert rule.applies(Audience("students"), 4, "university")
    assert not rule.applies(Audience("students"), 5, "university")
    assert not rule.applies(Audience("parents"), None, "university")
    assert not rule.applies(Audience("teachers"), None, "digital_lesson")
    assert DEFAULT_EARLY_RULE.describe() == "дошкольники; 1–4 классы"


def test_changing_the_rule_changes_new_events_only(db, people):
    organizer, admin = people["organizer"], people["admin"]
    kept = svc.create_event(organizer, **fields(grades_min=1, grades_max=4))
    grade_six = svc.create_event(organizer, **fields(grades_min=5, grades_max=6))
    db.session.commit()
    assert (kept.early, grade_six.early) == (True, False)

    directory.save_early_rule(admin, YEAR, preschool=True, max_grade=6,
                              category_codes=["digital_lesson"])
    db.session.commit()

    assert svc.create_event(organizer, **fields(grades_min=5, grades_max=6)).early is True
    assert svc.create_event(organizer, **fields(grades_min=9, grades_max=11)).early is False
    assert svc.create_event(organizer, **fields(
        grades_min=9, grades_max=11, category="digital_lesson")).early is True
    assert svc.create_event(organizer, **fields(audience="parents",
                                                category="digital_lesson")).early is True
    # The organizer's own answer wins over the rule.
    assert svc.create_event(organizer, **fields(grades_min=5, grades_max=6,
                                                early=False)).early is False
    db.session.commit()

    directory.save_early_rule(admin, YEAR, preschool=False, max_grade=None, category_codes=[])
    db.session.commit()
    db.session.expire_all()
    # Saved events keep the flag they were saved with, also through an edit of other fields.
    assert db.session.get(Event, kept.id).early is True
    assert db.session.get(Event, grade_six.id).early is False
    svc.update_event(organizer, db.session.get(Event, kept.id), title="Экскурсия на завод")
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Event, kept.id).early is True
    assert svc.create_event(organizer, **fields(grades_min=1, grades_max=4)).early is False
    assert svc.create_event(organizer, **fields(audience="preschool")).early is False


def test_the_rule_of_the_year_the_event_starts_in_applies(db, people):
    directory.save_early_rule(people["admin"], YEAR + 1, preschool=False, max_grade=None,
                              category_codes=[])
    db.session.commit()
    this_year = svc.create_event(people["organizer"], **fields())
    next_year = svc.create_event(people["organizer"], **fields(
        start=datetime(2027, 10, 20, 10, tzinfo=TOMSK)))
    assert (this_year.early, next_year.early) == (True, False)


def test_api_create_uses_the_rule_and_an_update_keeps_the_flag(client, db, people, factory):
    token = factory.create_token(people["organizer"])
    headers = {"Authorization": f"Bearer {token}"}
    directory.save_early_rule(people["admin"], YEAR, preschool=True, max_grade=None,
                              category_codes=["university"])
    db.session.commit()
    body = {"title": "Лекция", "category": "university", "audience": "students",
            "grades_min": 10, "grades_max": 11, "starts_at": START.isoformat(),
            "ends_at": (START + timedelta(hours=1)).isoformat(), "venue": "ТГУ",
            "capacity": 10}
    created = client.post("/api/v1/events", json=body, headers=headers)
    assert created.status_code == 201 and created.json["early"] is True
    directory.save_early_rule(people["admin"], YEAR, preschool=True, max_grade=None,
                              category_codes=[])
    db.session.commit()
    changed = client.patch(f"/api/v1/events/{created.json['id']}", json={"capacity": 12},
                           headers=headers)
    assert changed.status_code == 200 and changed.json["early"] is True


# --- the admin page ----------------------------------------------------------------------------

def test_admin_sets_the_rule_and_the_audit_log_says_so(client, auth, db, people):
    auth.login("admin@test.local")
    page = client.get(f"/admin/early-rule?year={YEAR}").get_data(as_text=True)
    assert "Правило ранней профориентации на 2026/27" in page
    assert "ранние — дошкольники; 1–4 классы" in page
    preschool_box = re.search(r'<input[^>]*id="preschool"[^>]*>', page).group(0)
    assert "checked" in preschool_box
    response = client.post_form(f"/admin/early-rule?year={YEAR}", {
        "max_grade": "6", "category_codes": ["digital_lesson", "proektoria"]})
    assert response.status_code == 302
    rule = db.session.get(EarlyRule, YEAR)
    assert (rule.preschool, rule.max_grade, rule.category_codes) == (
        False, 6, ["digital_lesson", "proektoria"])
    entry = AuditLog.query.filter_by(action="early_rule.save").one()
    assert entry.object_id == str(YEAR)
    log = client.get("/admin/audit").get_data(as_text=True)
    assert "правило ранней профориентации изменено" in log
    assert "Было: дошкольники; 1–4 классы." in log
    assert "Ранние по умолчанию: 1–6 классы; категории" in log
    # Saving the same rule again writes no second entry.
    client.post_form(f"/admin/early-rule?year={YEAR}", {
        "max_grade": "6", "category_codes": ["digital_lesson", "proektoria"]})
    assert AuditLog.query.filter_by(action="early_rule.save").count() == 1
    # Other years keep the default.
    assert early_rule_for(YEAR + 1) == DEFAULT_EARLY_RULE


@pytest.mark.parametrize("data, message", [
    ({"preschool": "y", "max_grade": "12"}, "Выберите класс из списка: от 1 до 11."),
    ({"preschool": "y", "max_grade": "четыре"}, "Выберите класс из списка: от 1 до 11."),
    ({"preschool": "y", "max_grade": "4", "category_codes": ["no_such"]},
     "Неизвестная категория. Выберите категории из списка."),
])
def test_the_admin_page_refuses_bad_input_in_russian(client, auth, db, people, data, message):
    auth.login("admin@test.local")
    response = client.post_form(f"/admin/early-rule?year={YEAR}", data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Исправьте ошибки" in page and message in page
    assert db.session.get(EarlyRule, YEAR) is None
    assert AuditLog.query.filter_by(action="early_rule.save").count() == 0


def test_a_year_out_of_range_is_not_found(client, auth, people):
    auth.login("admin@test.local")
    assert client.get("/admin/early-rule?year=1900").status_code == 404


@pytest.mark.parametrize("who", ["organizer", "coordinator", None])
def test_only_admins_may_see_or_change_the_rule(client, auth, db, people, who):
    if who:
        auth.login(f"{'org' if who == 'organizer' else 'coord'}@test.local")
    refused = 403 if who else 302   # a visitor is sent to sign in
    assert client.get(f"/admin/early-rule?year={YEAR}").status_code == refused
    response = client.post_form(f"/admin/early-rule?year={YEAR}", {"max_grade": "11"})
    assert response.status_code == refused
    assert db.session.get(EarlyRule, YEAR) is None
    if who:
        page = client.get("/").get_data(as_text=True)
        assert "/admin/early-rule" not in page


def test_the_menu_leads_admins_to_the_rule(client, auth, people):
    auth.login("admin@test.local")
    assert "/admin/early-rule" in client.get("/admin/baselines").get_data(as_text=True)


# --- the event form ------------------------------------------------------------------------

def test_the_event_form_names_the_rule_and_applies_it(client, auth, db, people):
    directory.save_early_rule(people["admin"], YEAR, preschool=True, max_grade=7,
                              category_codes=[])
    db.session.commit()
    auth.login("org@test.local")
    page = client.get("/organizer/events/new").get_data(as_text=True)
    assert "Правило города на 2026/27 учебный год: ранние — дошкольники; 1–7 классы." in page
    assert '<option selected value="auto">' in page or 'value="auto" selected' in page
    response = client.post_form("/organizer/events/new", form_data())
    assert response.status_code == 303
    assert Event.query.one().early is True   # grades 5–7: early under this year's rule
    response = client.post_form("/organizer/events/new", form_data(early="no"))
    assert response.status_code == 303
    assert sorted(e.early for e in Event.query.all()) == [False, True]


# --- reports -------------------------------------------------------------------------------

def test_the_methodology_sheet_and_the_spravka_state_the_rule(client, auth, db, people):
    directory.save_early_rule(people["admin"], YEAR, preschool=False, max_grade=2,
                              category_codes=["digital_lesson"])
    db.session.commit()
    auth.login("admin@test.local")
    response = client.get(f"/reports/indicators.xlsx?year={YEAR}")
    assert response.status_code == 200
    notes = load_workbook(io.BytesIO(response.data))["Методика"]
    lines = [row[0] for row in notes.iter_rows(values_only=True) if row[0]]
    rule_lines = [line for line in lines if "Правило города на 2026/27" in line]
    assert len(rule_lines) == 1
    assert "ранние — 1–2 классы; категория «Урок цифры»" in rule_lines[0]
    last_year = client.get(f"/reports/indicators.xlsx?year={YEAR - 1}")
    notes = load_workbook(io.BytesIO(last_year.data))["Методика"]
    assert any("на 2025/26 учебный год" in (row[0] or "") and
               "ранние — дошкольники; 1–4 классы" in row[0]
               for row in notes.iter_rows(values_only=True))

    page = client.get(f"/reports/spravka?year={YEAR}").get_data(as_text=True)
    assert "правило города на 2026/27 учебный год" in page
    assert "ранние — 1–2 классы; категория «Урок цифры»" in page
    pdf = client.get(f"/reports/spravka.pdf?year={YEAR}")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "1–2 классы" in " ".join(text.split()) and "Урок цифры" in text
