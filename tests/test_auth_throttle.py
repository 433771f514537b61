"""Login throttling (issue #19, class 7): attempts are counted in the database before the
password is checked, so parallel guesses cannot beat the per-account limit (real parallel
requests, each with its own client, app context and connection; SQLite and PostgreSQL); an
unknown account costs a password check too; the per-account limit slows guessing but does not
lock the owner out; the per-address limit still refuses."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest

import models.user
from models import Role, now_utc
from tests.separate_clients import browser

GUESSES = 16
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture
def hash_checks(monkeypatch):
    """Counts every password hash check (known accounts and the dummy one alike)."""
    calls = []
    lock = threading.Lock()
    real = models.user.check_password_hash

    def counting(pwhash, password):
        with lock:
            calls.append(password)
        return real(pwhash, password)

    monkeypatch.setattr(models.user, "check_password_hash", counting)
    return calls


def _login(client, email, password, ip="127.0.0.1"):
    return client.post_form("/login", {"email": email, "password": password},
                            environ_base={"REMOTE_ADDR": ip})


def _later(monkeypatch, seconds):
    moment = now_utc() + timedelta(seconds=seconds)
    monkeypatch.setattr("webapp.auth.throttle.now_utc", lambda: moment)


@pytest.mark.parametrize("known", [True, False], ids=["known", "unknown"])
def test_parallel_wrong_guesses_check_at_most_the_limit(app, factory, db, hash_checks, known):
    app.config["LOGIN_MAX_FAILURES_PER_IP"] = 1000  # this test is about the account's limit
    limit = app.config["LOGIN_MAX_FAILURES"]
    if known:
        factory.create_user(Role.ADMIN, email="target@test.local")
        db.session.commit()
    barrier = threading.Barrier(GUESSES)
    results, errors = [], []

    def guess(n):
        with app.app_context():
            try:
                client = app.test_client()
                token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
                barrier.wait()
                response = client.post("/login", data={
                    "csrf_token": token, "email": "target@test.local",
                    "password": f"guess-{n}"})
                results.append((response.status_code, response.get_data(as_text=True)))
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(GUESSES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    codes = sorted(code for code, _page in results)
    assert len(hash_checks) == limit, (len(hash_checks), codes)  # not one more than the limit
    assert codes == [401] * limit + [429] * (GUESSES - limit)
    refused = [page for code, page in results if code == 429]
    assert all("Слишком много неудачных попыток входа в эту учётную запись" in page
               for page in refused)
    # Every checked guess was counted: the next one waits too.
    assert _login(browser(app), "target@test.local", "secret-pass").status_code == 429


def test_unknown_account_costs_one_password_check_like_a_known_one(client, factory, db,
                                                                   hash_checks):
    factory.create_user(Role.ADMIN, email="known@test.local")
    db.session.commit()
    unknown = _login(client, "nobody@test.local", "whatever-1")
    assert len(hash_checks) == 1  # the dummy hash: as slow as a real account's
    known = _login(client, "known@test.local", "whatever-2")
    assert len(hash_checks) == 2
    assert unknown.status_code == known.status_code == 401
    message = "Неверный адрес электронной почты или пароль."
    assert message in unknown.get_data(as_text=True) and message in known.get_data(as_text=True)


def test_an_unknown_account_is_throttled_like_a_known_one(client, factory, db, app):
    factory.create_user(Role.ADMIN, email="known@test.local")
    db.session.commit()
    pages = {}
    for email in ("known@test.local", "nobody@test.local"):
        for _ in range(app.config["LOGIN_MAX_FAILURES"]):
            assert _login(client, email, "wrong-pass").status_code == 401
        response = _login(client, email, "wrong-pass")
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "15"
        pages[email] = response.get_data(as_text=True)
    assert "Повторите через 15 секунд." in pages["known@test.local"]
    assert "Повторите через 15 секунд." in pages["nobody@test.local"]


def test_an_attacker_cannot_lock_the_owner_out(app, factory, db, monkeypatch, hash_checks):
    factory.create_user(Role.ADMIN, email="owner@test.local")
    db.session.commit()
    attacker, owner = browser(app), browser(app)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert _login(attacker, "owner@test.local", "wrong-pass", ip="198.51.100.9") \
            .status_code == 401
    # Right away, the owner is asked to wait a little (the account is being guessed) ...
    response = _login(owner, "owner@test.local", "secret-pass", ip="203.0.113.5")
    assert response.status_code == 429
    assert "Повторите через 15 секунд" in response.get_data(as_text=True)
    checks = len(hash_checks)
    # ... and a moment later signs in, though the attacker's failures still count.
    _later(monkeypatch, 16)
    response = _login(owner, "owner@test.local", "secret-pass", ip="203.0.113.5")
    assert response.status_code == 302
    assert len(hash_checks) == checks + 1
    assert owner.get("/dashboard").status_code == 200


def test_beyond_the_limit_each_check_waits_twice_as_long(app, client, factory, db, monkeypatch,
                                                         hash_checks):
    factory.create_user(Role.ADMIN, email="a@test.local")
    db.session.commit()
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit):
        _login(client, "a@test.local", "wrong-pass")
    elapsed = 0
    for wait in (15, 30, 60):
        response = _login(client, "a@test.local", "wrong-pass")
        assert response.status_code == 429
        assert response.headers["Retry-After"] == str(wait)
        elapsed += wait + 1
        _later(monkeypatch, elapsed)
        assert _login(client, "a@test.local", "wrong-pass").status_code == 401
    assert len(hash_checks) == limit + 3
    # After the window without attempts the account is forgotten: free checks again.
    _later(monkeypatch, elapsed + app.config["LOGIN_FAILURE_WINDOW_MINUTES"] * 60 + 1)
    assert _login(client, "a@test.local", "secret-pass").status_code == 302


def test_the_delay_is_capped(app, client, factory, db, monkeypatch):
    app.config["LOGIN_MAX_FAILURES"] = 1
    app.config["LOGIN_ACCOUNT_MAX_DELAY_SECONDS"] = 40
    factory.create_user(Role.ADMIN, email="a@test.local")
    db.session.commit()
    elapsed = 0
    for expected in (15, 30, 40, 40):
        assert _login(client, "a@test.local", "wrong-pass").status_code == 401
        response = _login(client, "a@test.local", "wrong-pass")
        assert response.headers["Retry-After"] == str(expected)
        elapsed += expected
        _later(monkeypatch, elapsed)


def test_success_forgets_the_accounts_failures(app, client, factory, db):
    factory.create_user(Role.ADMIN, email="a@test.local")
    db.session.commit()
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit - 1):
        assert _login(client, "a@test.local", "wrong-pass").status_code == 401
    assert _login(client, "a@test.local", "secret-pass").status_code == 302
    client.post_form("/logout")
    for _ in range(limit):
        assert _login(client, "a@test.local", "wrong-pass").status_code == 401


def test_the_address_limit_refuses_and_successes_do_not_count(app, factory, db):
    app.config["LOGIN_MAX_FAILURES_PER_IP"] = 3
    school = factory.create_org()
    for n in range(5):  # five teachers behind one school address all sign in
        factory.create_user(Role.COORDINATOR, organization=school, email=f"t{n}@test.local")
    db.session.commit()
    for n in range(5):
        assert _login(browser(app), f"t{n}@test.local", "secret-pass", ip="10.1.1.1") \
            .status_code == 302
    client = browser(app)
    for n in range(3):
        assert _login(client, f"guess{n}@test.local", "wrong-pass", ip="10.1.1.1") \
            .status_code == 401
    response = _login(client, "t0@test.local", "secret-pass", ip="10.1.1.1")
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "Слишком много неудачных попыток входа с этого адреса. Повторите через 15 минут" \
        in page
    assert response.headers["Retry-After"] == "900"
    # Another address is not affected.
    assert _login(browser(app), "t0@test.local", "secret-pass", ip="10.2.2.2") \
        .status_code == 302


def test_a_disabled_account_with_the_right_password_is_told_so(client, factory, db, app):
    factory.create_user(Role.ADMIN, email="gone@test.local", active=False)
    db.session.commit()
    for _ in range(app.config["LOGIN_MAX_FAILURES"] + 2):
        response = _login(client, "gone@test.local", "secret-pass")
        assert response.status_code == 403
        assert "Учётная запись отключена" in response.get_data(as_text=True)


def test_parallel_guesses_and_the_owners_logins_all_get_an_answer(app, factory, db,
                                                                  hash_checks):
    """Right passwords (which delete the account's counter) race with wrong ones (which lock
    and update it): every request gets a proper answer, no server error."""
    app.config["LOGIN_MAX_FAILURES_PER_IP"] = 1000
    factory.create_user(Role.ADMIN, email="target@test.local")
    db.session.commit()
    passwords = ["secret-pass" if n % 4 == 0 else f"guess-{n}" for n in range(GUESSES)]
    barrier = threading.Barrier(GUESSES)
    results, errors = [], []

    def attempt(password):
        with app.app_context():
            try:
                client = app.test_client()
                token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
                barrier.wait()
                response = client.post("/login", data={
                    "csrf_token": token, "email": "target@test.local", "password": password})
                results.append((password, response.status_code))
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(p,)) for p in passwords]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == GUESSES
    for password, code in results:
        assert code in ((302, 429) if password == "secret-pass" else (401, 429)), results
    assert len(hash_checks) == sum(code != 429 for _p, code in results)
