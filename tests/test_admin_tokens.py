"""The API token page: every role manages its own tokens; admins see and revoke all."""

from __future__ import annotations

import re

import pytest
from flask import g

from models import ApiToken, AuditLog, Role
from models.user import hash_token
from tests.factories import bearer


@pytest.fixture
def people(db, factory):
    admin = factory.create_user(Role.ADMIN, email="admin@test.local")
    organizer = factory.create_user(Role.ORGANIZER, email="org@test.local")
    coordinator = factory.create_user(Role.COORDINATOR, email="coord@test.local")
    db.session.commit()
    return {"admin": admin, "organizer": organizer, "coordinator": coordinator}


def _created_token(page: str) -> str:
    match = re.search(r'id="new-token" value="([^"]+)"', page)
    assert match, "the new token is not shown"
    return match.group(1)


@pytest.mark.parametrize("email", ["org@test.local", "coord@test.local", "admin@test.local"])
def test_every_role_creates_a_token_shown_once_and_stored_hashed(client, auth, people, email):
    auth.login(email)
    response = client.post_form("/account/tokens", {"name": "Сканер, вход А"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    plain = _created_token(response.get_data(as_text=True))
    row = ApiToken.query.one()
    assert row.token_hash == hash_token(plain) and plain not in (row.token_hash, row.prefix)
    assert row.user.email == email and row.name == "Сканер, вход А"
    # Shown once: the next visit has only the prefix.
    page = client.get("/account/tokens").get_data(as_text=True)
    assert plain not in page and row.prefix in page and "не использовался" in page
    entry = AuditLog.query.filter_by(action="token.create").one()
    assert plain not in str(entry.details)


def test_token_works_records_last_use_and_stops_after_revoking(client, auth, people, db):
    auth.login("admin@test.local")
    plain = _created_token(client.post_form("/account/tokens", {"name": "ИС"})
                           .get_data(as_text=True))
    response = client.post("/api/v1/organizations", headers=bearer(plain),
                           json={"name": "МАОУ СОШ № 77", "kind": "school"})
    assert response.status_code == 201
    db.session.expire_all()
    row = ApiToken.query.one()
    assert row.last_used_at is not None
    assert "не использовался" not in client.get("/account/tokens").get_data(as_text=True)
    client.post_form(f"/account/tokens/{row.id}/revoke")
    db.session.expire_all()
    assert row.revoked_at is not None
    # The test's app context outlives requests: forget the caller cached on ``g``.
    g.pop("api_caller", None)
    response = client.post("/api/v1/organizations", headers=bearer(plain),
                           json={"name": "МАОУ СОШ № 78", "kind": "school"})
    assert response.status_code == 401
    assert AuditLog.query.filter_by(action="token.revoke").count() == 1


def test_a_token_needs_a_name(client, auth, people):
    auth.login("org@test.local")
    response = client.post_form("/account/tokens", {"name": "  "})
    assert response.status_code == 422
    assert "Укажите название токена" in response.get_data(as_text=True)
    assert ApiToken.query.count() == 0


def test_users_see_and_revoke_only_their_own_tokens(client, auth, people, db, factory):
    factory.create_token(people["coordinator"], name="токен координатора")
    mine = ApiToken.issue(people["organizer"], "мой токен")[0]
    db.session.commit()
    other = ApiToken.query.filter_by(name="токен координатора").one()
    auth.login("org@test.local")
    page = client.get("/account/tokens").get_data(as_text=True)
    assert "мой токен" in page and "токен координатора" not in page
    response = client.post_form(f"/account/tokens/{other.id}/revoke")
    assert response.status_code == 404
    db.session.expire_all()
    assert other.revoked_at is None
    client.post_form(f"/account/tokens/{mine.id}/revoke")
    db.session.expire_all()
    assert mine.revoked_at is not None


def test_admin_sees_and_revokes_every_token(client, auth, people, db, factory):
    factory.create_token(people["coordinator"], name="токен координатора")
    db.session.commit()
    auth.login("admin@test.local")
    page = client.get("/account/tokens").get_data(as_text=True)
    assert "токен координатора" in page and "coord@test.local" in page
    row = ApiToken.query.one()
    client.post_form(f"/account/tokens/{row.id}/revoke")
    db.session.expire_all()
    assert row.revoked_at is not None
    response = client.post_form(f"/account/tokens/{row.id}/revoke", follow_redirects=True)
    assert "Токен уже отозван" in response.get_data(as_text=True)
