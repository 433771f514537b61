import pytest

from models import AuditLog, Baseline, Organization, Role
from tests.factories import bearer
from webapp.api.openapi import openapi_path


def test_openapi_document_lists_every_api_route(client, app):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = openapi_path(rule.rule)
        assert path in doc["paths"], f"{rule.rule} is missing from openapi.json"
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in doc["paths"][path], f"{method} {rule.rule} undocumented"


def test_api_requires_a_token(client):
    response = client.post("/api/v1/organizations", json={"name": "X", "kind": "school"})
    assert response.status_code == 401
    body = response.get_json()
    assert set(body["error"]) == {"code", "message", "fields"}


def test_unknown_or_revoked_token_is_refused(client, db, factory):
    from models import ApiToken, now_utc

    user = factory.create_user(Role.ADMIN)
    token = factory.create_token(user)
    db.session.commit()
    assert client.post("/api/v1/organizations", json={"name": "X", "kind": "school"},
                       headers=bearer("pr_nonsense")).status_code == 401
    ApiToken.query.one().revoked_at = now_utc()
    db.session.commit()
    response = client.post("/api/v1/organizations", json={"name": "X", "kind": "school"},
                           headers=bearer(token))
    assert response.status_code == 401


@pytest.fixture
def admin_token(db, factory):
    token = factory.create_token(factory.create_user(Role.ADMIN))
    db.session.commit()
    return token


def test_admin_creates_an_organization(client, db, admin_token):
    response = client.post("/api/v1/organizations", headers=bearer(admin_token), json={
        "name": "МАОУ СОШ № 99", "kind": "school", "short_name": "СОШ № 99",
        "external_id": "X-99"})
    assert response.status_code == 201
    body = response.get_json()
    org = db.session.get(Organization, body["id"])
    assert org.name == "МАОУ СОШ № 99" and org.kind.value == "school"
    assert AuditLog.query.filter_by(action="organization.create").count() == 1


def test_duplicate_organization_is_a_conflict_and_changes_nothing(client, db, admin_token):
    client.post("/api/v1/organizations", headers=bearer(admin_token),
                json={"name": "Гимназия № 1", "kind": "school"})
    response = client.post("/api/v1/organizations", headers=bearer(admin_token),
                           json={"name": "  гимназия   № 1 ", "kind": "school"})
    assert response.status_code == 409
    assert response.get_json()["error"]["fields"]["name"]
    assert Organization.query.count() == 1


def test_organization_validation_lists_each_field(client, db, admin_token):
    response = client.post("/api/v1/organizations", headers=bearer(admin_token),
                           json={"kind": "castle"})
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert "name" in fields and "kind" in fields
    assert Organization.query.count() == 0


def test_non_json_body_is_a_400(client, admin_token):
    response = client.post("/api/v1/organizations", headers=bearer(admin_token), data="x")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


@pytest.mark.parametrize("role", [Role.ORGANIZER, Role.COORDINATOR])
def test_only_admins_create_organizations(client, db, factory, role):
    token = factory.create_token(factory.create_user(role))
    db.session.commit()
    response = client.post("/api/v1/organizations", headers=bearer(token),
                           json={"name": "X", "kind": "school"})
    assert response.status_code == 403


BASELINE = {"students_total": 800, "students_ovz": 30, "teachers_total": 60}


def test_coordinator_puts_own_baseline(client, db, factory):
    user = factory.create_user(Role.COORDINATOR)
    token = factory.create_token(user)
    db.session.commit()
    url = f"/api/v1/organizations/{user.organization_id}/baselines/2025"
    response = client.put(url, headers=bearer(token), json={**BASELINE, "planned_events": 12})
    assert response.status_code == 200
    baseline = Baseline.query.one()
    assert (baseline.students_total, baseline.students_ovz, baseline.planned_events) == (
        800, 30, 12)
    # PUT replaces: sending it again without the plan clears it.
    client.put(url, headers=bearer(token), json=BASELINE)
    db.session.expire_all()
    assert Baseline.query.one().planned_events is None


def test_coordinator_cannot_touch_another_schools_baseline(client, db, factory):
    user = factory.create_user(Role.COORDINATOR)
    other = factory.create_org()
    token = factory.create_token(user)
    db.session.commit()
    response = client.put(f"/api/v1/organizations/{other.id}/baselines/2025",
                          headers=bearer(token), json=BASELINE)
    assert response.status_code == 403
    assert Baseline.query.count() == 0


@pytest.mark.parametrize("payload, field", [
    ({**BASELINE, "students_ovz": 801}, "students_ovz"),
    ({**BASELINE, "teachers_total": -1}, "teachers_total"),
    ({**BASELINE, "students_total": "много"}, "students_total"),
    ({"students_ovz": 1, "teachers_total": 1}, "students_total"),
])
def test_bad_baseline_is_refused_and_saves_nothing(client, db, admin_token, factory, payload,
                                                   field):
    org = factory.create_org()
    db.session.commit()
    response = client.put(f"/api/v1/organizations/{org.id}/baselines/2025",
                          headers=bearer(admin_token), json=payload)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert Baseline.query.count() == 0


def test_locked_baseline_is_a_409(client, db, admin_token, factory):
    org = factory.create_org()
    factory.create_baseline(org, 2025, locked=True)
    db.session.commit()
    response = client.put(f"/api/v1/organizations/{org.id}/baselines/2025",
                          headers=bearer(admin_token), json=BASELINE)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "baseline_locked"
    db.session.expire_all()
    assert Baseline.query.one().students_total == 100


def test_unknown_organization_is_a_404(client, admin_token):
    response = client.put("/api/v1/organizations/424242/baselines/2025",
                          headers=bearer(admin_token), json=BASELINE)
    assert response.status_code == 404
