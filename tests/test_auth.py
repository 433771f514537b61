from models import AuditLog, Role


def test_login_with_correct_password(client, auth, factory, db):
    user = factory.create_user(Role.ADMIN, email="boss@test.local")
    db.session.commit()
    response = auth.login("Boss@Test.local")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/dashboard")
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Здравствуйте" in page
    assert AuditLog.query.filter_by(action="user.login", object_id=str(user.id)).count() == 1


def test_session_cookie_is_httponly_and_samesite(client, auth, factory, db):
    factory.create_user(Role.ADMIN, email="c@test.local")
    db.session.commit()
    response = auth.login("c@test.local")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_wrong_password_is_refused_with_a_russian_message(client, auth, factory, db):
    factory.create_user(Role.ADMIN, email="a@test.local")
    db.session.commit()
    response = auth.login("a@test.local", "wrong")
    assert response.status_code == 401
    assert "Неверный адрес электронной почты или пароль" in response.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302


def test_login_form_requires_csrf(client, factory, db):
    factory.create_user(Role.ADMIN, email="a@test.local")
    db.session.commit()
    response = client.post("/login", data={"email": "a@test.local", "password": "secret-pass"})
    assert response.status_code == 400
    assert client.get("/dashboard").status_code == 302


def test_repeated_failures_lock_the_account_for_a_while(client, auth, factory, db, app):
    factory.create_user(Role.ADMIN, email="a@test.local")
    db.session.commit()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert auth.login("a@test.local", "wrong").status_code == 401
    # Even the right password is refused now, with a clear message.
    response = auth.login("a@test.local")
    assert response.status_code == 429
    assert "Слишком много неудачных попыток" in response.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302


def test_failures_per_address_are_limited_across_accounts(client, auth, factory, db, app):
    app.config["LOGIN_MAX_FAILURES_PER_IP"] = 3
    factory.create_user(Role.ADMIN, email="victim@test.local")
    db.session.commit()
    for n in range(3):
        auth.login(f"guess{n}@test.local", "wrong")
    assert auth.login("victim@test.local").status_code == 429


def test_inactive_user_cannot_log_in(client, auth, factory, db):
    factory.create_user(Role.ADMIN, email="gone@test.local", active=False)
    db.session.commit()
    response = auth.login("gone@test.local")
    assert response.status_code == 403
    assert "отключена" in response.get_data(as_text=True)


def test_logout(client, auth, factory, db):
    factory.create_user(Role.ADMIN, email="a@test.local")
    db.session.commit()
    auth.login("a@test.local")
    auth.logout()
    assert client.get("/dashboard").status_code == 302


def test_anonymous_user_is_sent_to_login(client):
    response = client.get("/dashboard")
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]


def test_next_parameter_cannot_redirect_off_site(client, factory, db):
    factory.create_user(Role.ADMIN, email="a@test.local")
    db.session.commit()
    response = client.post_form("/login?next=https://evil.example/",
                                {"email": "a@test.local", "password": "secret-pass"})
    assert response.headers["Location"].endswith("/dashboard")
