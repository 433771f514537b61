"""GET /api/v1/reports/indicators: the contract of docs/api.md, who may see what, bad input."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from models import OrgKind, Role
from tests.factories import bearer

YEAR = 2024


@pytest.fixture
def city(db, factory):
    f = factory
    s1 = f.create_org(name="СОШ № 11")
    s2 = f.create_org(name="СОШ № 12")
    k1 = f.create_org(name="ДОО № 5", kind=OrgKind.PRESCHOOL)
    f.create_baseline(s1, YEAR, students_total=4, students_ovz=1, teachers_total=2)
    f.create_baseline(s2, YEAR, students_total=6, students_ovz=0, teachers_total=3)
    event = f.create_event(starts_at=datetime(2024, 10, 2, 5, tzinfo=UTC))
    for student in (f.create_student(s1, ovz=True), f.create_student(s2)):
        f.create_checkin(f.create_ticket(event, student))
    admin = f.create_user(Role.ADMIN)
    coordinator = f.create_user(Role.COORDINATOR, organization=s1)
    organizer = f.create_user(Role.ORGANIZER)
    tokens = {name: f.create_token(user) for name, user in
              (("admin", admin), ("coordinator", coordinator), ("organizer", organizer))}
    db.session.commit()
    return {"s1": s1, "s2": s2, "k1": k1, "tokens": tokens}


def get(client, token, query=""):
    return client.get(f"/api/v1/reports/indicators{query}", headers=bearer(token))


def test_admin_gets_every_organization_and_the_city(client, city):
    response = get(client, city["tokens"]["admin"], f"?year={YEAR}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["period"] == {"from": "2024-09-01", "to": "2025-08-31"}
    assert body["city"]["students"] == {"a": 2, "b": 10, "percent": 20.0}
    assert body["city"]["students_ovz"] == {"a": 1, "b": 1, "percent": 100.0}
    assert body["city"]["schools"] == {"a": 2, "b": 2, "percent": 100.0}
    assert body["preschools"]["students"] == {"a": 0, "b": 0, "percent": None}
    names = {o["name"]: o for o in body["organizations"]}
    assert set(names) == {"СОШ № 11", "СОШ № 12", "ДОО № 5"}
    assert names["СОШ № 11"]["kind"] == "school"
    assert names["СОШ № 11"]["indicators"]["students"] == {"a": 1, "b": 4, "percent": 25.0}
    assert names["СОШ № 11"]["indicators"]["schools"] == {"a": 1, "b": 1, "percent": 100.0}
    assert names["ДОО № 5"]["kind"] == "preschool"


def test_admin_narrows_to_one_organization_and_a_date_range(client, city):
    body = get(client, city["tokens"]["admin"],
               f"?from=2024-10-01&to=2024-10-31&organization_id={city['s2'].id}").get_json()
    assert body["period"] == {"from": "2024-10-01", "to": "2024-10-31"}
    assert [o["id"] for o in body["organizations"]] == [city["s2"].id]
    assert body["city"]["students"]["a"] == 2


def test_coordinator_gets_own_school_and_city_totals_only(client, city):
    body = get(client, city["tokens"]["coordinator"], f"?year={YEAR}").get_json()
    assert [o["id"] for o in body["organizations"]] == [city["s1"].id]
    assert body["city"]["students"]["a"] == 2
    own = get(client, city["tokens"]["coordinator"],
              f"?year={YEAR}&organization_id={city['s1'].id}")
    assert own.status_code == 200


def test_coordinator_may_not_ask_for_another_school(client, city):
    response = get(client, city["tokens"]["coordinator"],
                   f"?year={YEAR}&organization_id={city['s2'].id}")
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    assert "своей" in response.get_json()["error"]["message"]


def test_organizer_is_refused(client, city):
    response = get(client, city["tokens"]["organizer"], f"?year={YEAR}")
    assert response.status_code == 403
    assert set(response.get_json()["error"]) == {"code", "message", "fields"}


def test_anonymous_is_refused(client, city):
    response = client.get("/api/v1/reports/indicators")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(("query", "field"), [
    ("?year=abc", "year"),
    ("?year=1900", "year"),
    ("?year=2024&from=2024-09-01&to=2024-10-01", "year"),
    ("?from=2024-09-01", "to"),
    ("?from=2024-13-01&to=2024-12-01", "from"),
    ("?from=2024-10-01&to=2024-09-01", "to"),
    ("?category=no_such_thing", "category"),
    ("?roadmap_section=9", "roadmap_section"),
    ("?organization_id=999999", "organization_id"),
    ("?organizer_id=x", "organizer_id"),
])
def test_bad_parameters_get_a_422_naming_the_field(client, city, query, field):
    response = get(client, city["tokens"]["admin"], query)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["fields"] and error["fields"][field]


def test_category_filter_is_accepted_repeated_or_comma_separated(client, city):
    one = get(client, city["tokens"]["admin"], f"?year={YEAR}&category=university").get_json()
    assert one["city"]["students"]["a"] == 2
    other = get(client, city["tokens"]["admin"],
                f"?year={YEAR}&category=cpc_program,abilympics").get_json()
    assert other["city"]["students"]["a"] == 0


def test_the_route_is_in_the_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    op = doc["paths"]["/api/v1/reports/indicators"]["get"]
    assert {p["name"] for p in op["parameters"]} >= {"year", "from", "to", "organization_id"}
