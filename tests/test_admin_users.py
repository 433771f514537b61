"""Admin: user accounts."""

from __future__ import annotations

import pytest

from models import AuditLog, Role, User


@pytest.fixture
def admin(client, auth, db, factory):
    user = factory.create_user(Role.ADMIN, email="admin@test.local")
    db.session.commit()
    auth.login("admin@test.local")
    return user


def _new(org_id=0, **overrides):
    data = {"email": "Coord@School.RU", "full_name": "Иванова Мария Петровна",
            "role": "coordinator", "organization": str(org_id),
            "password": "long-enough-1", "password_confirm": "long-enough-1"}
    data.update(overrides)
    return data


def test_admin_creates_a_coordinator_who_can_log_in(client, auth, admin, factory, db):
    school = factory.create_org(name="МАОУ СОШ № 12")
    db.session.commit()
    response = client.post_form("/admin/users/new", _new(school.id))
    assert response.status_code == 302
    user = User.query.filter_by(email="coord@school.ru").one()  # stored lower-case
    assert user.role == Role.COORDINATOR and user.organization_id == school.id
    assert user.password_hash != "long-enough-1" and user.check_password("long-enough-1")
    entry = AuditLog.query.filter_by(action="user.create").one()
    assert entry.user_id == admin.id and "long-enough-1" not in str(entry.details)
    auth.logout()
    response = auth.login("COORD@school.ru", "long-enough-1")
    assert response.status_code == 302
    assert "Иванова Мария Петровна" in client.get("/dashboard").get_data(as_text=True)


def test_email_is_unique_case_insensitively(client, admin, factory, db):
    school = factory.create_org()
    factory.create_user(Role.COORDINATOR, organization=school, email="coord@school.ru")
    db.session.commit()
    response = client.post_form("/admin/users/new", _new(school.id, email="COORD@School.ru"))
    assert response.status_code == 422
    assert "Пользователь с таким адресом уже есть" in response.get_data(as_text=True)
    assert User.query.filter(User.email == "coord@school.ru").count() == 1


@pytest.mark.parametrize(("overrides", "message"), [
    ({"organization": "0"}, "нужна организация"),
    ({"password": "short", "password_confirm": "short"}, "Не короче 8 символов"),
    ({"password_confirm": "other-password"}, "Пароли не совпадают"),
    ({"email": "no-at-sign"}, "name@example.ru"),
    ({"organization": "99999"}, "Выберите организацию"),
])
def test_bad_user_input_saves_nothing(client, admin, factory, db, overrides, message):
    school = factory.create_org()
    db.session.commit()
    before = User.query.count()
    data = _new(school.id)
    data.update(overrides)
    response = client.post_form("/admin/users/new", data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert User.query.count() == before


def test_an_admin_needs_no_organization(client, admin, db):
    response = client.post_form("/admin/users/new", _new(0, role="admin", email="ops@city.ru"))
    assert response.status_code == 302
    assert User.query.filter_by(email="ops@city.ru").one().organization_id is None


def test_reset_password(client, admin, factory, db, app):
    user = factory.create_user(Role.ORGANIZER, email="org@test.local")
    db.session.commit()
    response = client.post_form(f"/admin/users/{user.id}/password",
                                {"password": "brand-new-pass",
                                 "password_confirm": "brand-new-pass"})
    assert response.status_code == 302
    db.session.expire_all()
    assert user.check_password("brand-new-pass") and not user.check_password("secret-pass")
    assert AuditLog.query.filter_by(action="user.reset_password",
                                    object_id=str(user.id)).count() == 1


def test_reset_password_refuses_a_short_one(client, admin, factory, db):
    user = factory.create_user(Role.ORGANIZER)
    db.session.commit()
    response = client.post_form(f"/admin/users/{user.id}/password",
                                {"password": "abc", "password_confirm": "abc"})
    assert response.status_code == 422
    db.session.expire_all()
    assert user.check_password("secret-pass")


def test_deactivated_user_cannot_log_in_or_use_tokens(client, auth, admin, factory, db):
    from tests.factories import bearer

    user = factory.create_user(Role.ADMIN, email="old@test.local")
    token = factory.create_token(user)
    db.session.commit()
    client.post_form(f"/admin/users/{user.id}/deactivate")
    db.session.expire_all()
    assert user.active is False
    response = client.post("/api/v1/organizations", json={"name": "X", "kind": "school"},
                           headers=bearer(token))
    assert response.status_code == 401
    client.post_form(f"/admin/users/{user.id}/activate")
    db.session.expire_all()
    assert user.active is True
    client.post_form(f"/admin/users/{user.id}/deactivate")
    auth.logout()
    response = auth.login("old@test.local")
    assert "Учётная запись отключена" in response.get_data(as_text=True)
    auth.login("admin@test.local")
    client.post_form(f"/admin/users/{user.id}/activate")
    db.session.expire_all()
    assert user.active is True


def test_admin_cannot_deactivate_themselves(client, admin, db):
    response = client.post_form(f"/admin/users/{admin.id}/deactivate", follow_redirects=True)
    assert "Нельзя отключить собственную учётную запись" in response.get_data(as_text=True)
    db.session.expire_all()
    assert admin.active is True


def test_admin_edits_role_and_organization(client, admin, factory, db):
    school = factory.create_org(name="МАОУ СОШ № 5")
    user = factory.create_user(Role.ORGANIZER)
    db.session.commit()
    response = client.post_form(f"/admin/users/{user.id}/edit", {
        "full_name": "Петров П. П.", "role": "coordinator", "organization": str(school.id)})
    assert response.status_code == 302
    db.session.expire_all()
    assert user.role == Role.COORDINATOR and user.organization_id == school.id


def test_users_list_filters(client, admin, factory, db):
    factory.create_user(Role.ORGANIZER, email="tpu@test.local")
    factory.create_user(Role.COORDINATOR, email="sch@test.local")
    db.session.commit()
    page = client.get("/admin/users?role=organizer").get_data(as_text=True)
    assert "tpu@test.local" in page and "sch@test.local" not in page
    page = client.get("/admin/users?q=SCH@").get_data(as_text=True)
    assert "sch@test.local" in page and "tpu@test.local" not in page
