"""Sessions can be ended (issue #19, class 3): logout, a password change, an admin's reset and
disabling or re-enabling an account end every earlier session of the user, on every device,
including a copied session cookie or remember-me cookie; a login lasts at most
LOGIN_SESSION_MAX_DAYS; a disabled user's API tokens are revoked for good."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models import ApiToken, AuditLog, Role, now_utc
from tests.factories import bearer
from tests.separate_clients import browser as _browser

REMEMBER = "remember_token"


def _sign_in(app, email, password="secret-pass", remember=False):
    """A separate browser (its own cookie jar) signed in as ``email``."""
    browser = _browser(app)
    data = {"email": email, "password": password}
    if remember:
        data["remember"] = "y"
    response = browser.post_form("/login", data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return browser


def _copy(app, browser, *names):
    """Another browser holding copies of ``browser``'s cookies (a stolen cookie)."""
    thief = _browser(app)
    for name in names:
        cookie = browser.get_cookie(name)
        assert cookie is not None, f"no {name} cookie"
        thief.set_cookie(name, cookie.value)
    return thief


def _signed_in(browser) -> bool:
    response = browser.get("/dashboard")
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]
        return False
    assert response.status_code == 200
    assert "Здравствуйте" in response.get_data(as_text=True)
    return True


@pytest.fixture
def coordinator(factory, db):
    user = factory.create_user(Role.COORDINATOR, email="coord@test.local")
    factory.create_student(user.organization, last_name="Ребёнкова")
    db.session.commit()
    return user


def test_copied_session_cookie_stops_working_after_logout(app, coordinator):
    browser = _sign_in(app, "coord@test.local")
    thief = _copy(app, browser, "session")
    url = f"/api/v1/organizations/{coordinator.organization_id}/students"
    assert _signed_in(thief)
    assert "Ребёнкова" in thief.get(url).get_data(as_text=True)

    assert browser.post_form("/logout").status_code == 302

    assert not _signed_in(browser)
    assert not _signed_in(thief)
    response = thief.get(url)  # the API refuses the copied cookie too
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert "Ребёнкова" not in response.get_data(as_text=True)


def test_logout_ends_the_users_sessions_on_every_device(app, coordinator, db):
    laptop = _sign_in(app, "coord@test.local")
    phone = _sign_in(app, "coord@test.local", remember=True)
    remembered = _copy(app, phone, REMEMBER)
    laptop.post_form("/logout")
    assert not _signed_in(phone)
    assert not _signed_in(remembered)
    entry = AuditLog.query.filter_by(action="user.logout").one()
    assert entry.user_id == coordinator.id
    # Signing in again works as usual.
    assert _signed_in(_sign_in(app, "coord@test.local"))


def test_copied_remember_me_cookie_stops_working_after_logout(app, coordinator):
    browser = _sign_in(app, "coord@test.local", remember=True)
    value = browser.get_cookie(REMEMBER).value
    thief = _copy(app, browser, REMEMBER)
    assert _signed_in(thief)  # the remember-me cookie alone signs in ...
    browser.post_form("/logout")
    assert not _signed_in(thief)  # ... until the owner logs out
    late_thief = _browser(app)  # a copy first used after the logout
    late_thief.set_cookie(REMEMBER, value)
    assert not _signed_in(late_thief)


def test_password_change_ends_the_other_sessions_and_keeps_this_one(app, coordinator, db):
    browser = _sign_in(app, "coord@test.local", remember=True)
    thief = _copy(app, browser, "session", REMEMBER)
    remembered = _copy(app, browser, REMEMBER)
    response = browser.post_form("/account/password", {
        "current_password": "secret-pass", "new_password": "another-pass-1"})
    assert response.status_code == 302
    assert _signed_in(browser)  # the owner stays signed in here
    assert not _signed_in(thief)
    assert not _signed_in(remembered)
    db.session.expire_all()
    assert coordinator.check_password("another-pass-1")


def test_admin_password_reset_ends_the_users_sessions(app, client, auth, coordinator, factory,
                                                      db):
    browser = _sign_in(app, "coord@test.local", remember=True)
    remembered = _copy(app, browser, REMEMBER)
    factory.create_user(Role.ADMIN, email="admin@test.local")
    db.session.commit()
    auth.login("admin@test.local")
    response = client.post_form(f"/admin/users/{coordinator.id}/password",
                                {"password": "reset-pass-1", "password_confirm": "reset-pass-1"})
    assert response.status_code == 302
    assert not _signed_in(browser)
    assert not _signed_in(remembered)
    assert _signed_in(_sign_in(app, "coord@test.local", "reset-pass-1"))
    assert _signed_in(client)  # the admin's own session is untouched


def test_disabling_and_re_enabling_ends_the_users_sessions(app, client, auth, coordinator,
                                                          factory, db):
    browser = _sign_in(app, "coord@test.local", remember=True)
    thief = _copy(app, browser, "session", REMEMBER)
    factory.create_user(Role.ADMIN, email="admin@test.local")
    db.session.commit()
    auth.login("admin@test.local")
    client.post_form(f"/admin/users/{coordinator.id}/deactivate")
    assert not _signed_in(_copy(app, browser, "session", REMEMBER))
    client.post_form(f"/admin/users/{coordinator.id}/activate")
    db.session.expire_all()
    assert coordinator.active is True
    assert not _signed_in(browser)
    assert not _signed_in(thief)
    assert _signed_in(_sign_in(app, "coord@test.local"))


def test_disabling_revokes_api_tokens_for_good(app, client, auth, coordinator, factory, db):
    token = factory.create_token(coordinator)
    factory.create_user(Role.ADMIN, email="admin@test.local")
    db.session.commit()
    url = f"/api/v1/organizations/{coordinator.organization_id}/students"
    assert client.get(url, headers=bearer(token)).status_code == 200
    auth.login("admin@test.local")
    client.post_form(f"/admin/users/{coordinator.id}/deactivate")
    client.post_form(f"/admin/users/{coordinator.id}/activate")
    auth.logout()
    response = client.get(url, headers=bearer(token))
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    row = ApiToken.query.filter_by(user_id=coordinator.id).one()
    assert row.revoked_at is not None
    entry = AuditLog.query.filter_by(action="user.deactivate").one()
    assert entry.details["revoked_token_ids"] == [row.id]


def test_remember_me_lasts_fourteen_days(app, coordinator):
    browser = _browser(app)
    response = browser.post_form("/login", {"email": "coord@test.local",
                                            "password": "secret-pass", "remember": "y"})
    assert response.status_code == 302
    expires = browser.get_cookie(REMEMBER).expires  # was a year
    assert now_utc() + timedelta(days=13, hours=23) < expires
    assert expires < now_utc() + timedelta(days=14, minutes=1)


def test_a_login_older_than_the_limit_is_refused_even_with_a_kept_cookie(app, coordinator,
                                                                         monkeypatch):
    browser = _sign_in(app, "coord@test.local", remember=True)
    kept = _copy(app, browser, REMEMBER)  # a cookie kept past its expiry date
    later = now_utc() + timedelta(days=14, hours=1)
    monkeypatch.setattr("models.user.now_utc", lambda: later)
    assert not _signed_in(browser)
    assert not _signed_in(kept)
    earlier = now_utc() + timedelta(days=13)
    monkeypatch.setattr("models.user.now_utc", lambda: earlier)
    assert _signed_in(_copy(app, browser, REMEMBER))


def test_cookie_with_a_bare_user_id_or_garbage_signs_nobody_in(app, coordinator):
    from flask.sessions import SecureCookieSessionInterface

    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    for forged_id in (str(coordinator.id), f"{coordinator.id}:x", "a:b:c", "1:2:3:4"):
        browser = _browser(app)
        browser.set_cookie("session", serializer.dumps({"_user_id": forged_id,
                                                        "_fresh": True}))
        assert not _signed_in(browser), forged_id
