"""One transaction per request (issue #21 item 4, webapp/transaction.py): routes commit only
through ``unit_of_work``; a failure rolls the whole request back and is
shown (form field, flash, JSON error); under TESTING a second commit in one request, or a bare
``db.session.commit()`` in a request, raises; no route module or service commits by hand."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import get_flashed_messages
from wtforms import StringField

from errors import ConflictError, ServiceError
from models import Category
from webapp.api import handle_service_error
from webapp.forms import FlaskForm
from webapp.transaction import (
    SecondCommitError,
    commit_separately,
    unit_of_work,
)

ROOT = Path(__file__).resolve().parent.parent

#: Modules that hold views: they commit only through webapp.transaction.
ROUTE_MODULES = sorted({
    *ROOT.glob("webapp/**/routes.py"), *ROOT.glob("webapp/**/*_routes.py"),
    *ROOT.glob("webapp/api/*.py")})
#: Modules that must only flush: the route (or a CLI command) commits.
SERVICE_MODULES = sorted({
    *ROOT.glob("webapp/services/*.py"), *ROOT.glob("webapp/*/services.py"),
    *ROOT.glob("checkin/*.py"), *ROOT.glob("reports/*.py"), *ROOT.glob("models/*.py"),
    *ROOT.glob("formats/*.py")})
#: The only places that commit apart from the request's unit of work, and why (the reason is
#: also the argument of each ``commit_separately`` call).
SEPARATE_COMMITS = {
    "webapp/auth/throttle.py": 2,  # the login attempt is counted before the password check
    "webapp/api/auth.py": 1,  # a token's last use, recorded without ever failing the call
}
SESSION_COMMIT = re.compile(r"\bsession\.commit\(")
#: Route modules that may roll back by hand: the API's error handlers, and a failed
#: separate commit of a token's last use.
ROLLBACK_ALLOWED = {"webapp/api/__init__.py", "webapp/api/auth.py"}


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_route_modules_never_commit_by_hand():
    assert len(ROUTE_MODULES) > 15  # the globs found the views
    offenders = [f"{_relative(p)}:{n}" for p in ROUTE_MODULES
                 for n, line in enumerate(p.read_text().splitlines(), 1)
                 if SESSION_COMMIT.search(line) or "session.rollback(" in line
                 and _relative(p) not in ROLLBACK_ALLOWED]
    assert offenders == []


def test_services_only_flush():
    offenders = [f"{_relative(p)}:{n}" for p in SERVICE_MODULES
                 for n, line in enumerate(p.read_text().splitlines(), 1)
                 if SESSION_COMMIT.search(line)]
    assert offenders == []


def test_separate_commits_are_the_known_ones():
    found = {}
    for path in ROOT.glob("webapp/**/*.py"):
        count = path.read_text().count("commit_separately(")
        if count and _relative(path) != "webapp/transaction.py":
            found[_relative(path)] = count
    assert found == SEPARATE_COMMITS


def _categories(db) -> set[str]:
    return set(db.session.execute(sa.select(Category.code)).scalars())


def _add(db, code: str) -> None:
    db.session.add(Category(code=code, name=code))
    db.session.flush()


class NameForm(FlaskForm):
    class Meta:
        csrf = False

    code = StringField("Код")


def test_success_commits_once(app, db):
    with app.test_request_context("/", method="POST"):
        with unit_of_work() as uow:
            _add(db, "tx_one")
        assert uow.ok and uow.error is None
    db.session.rollback()  # nothing left pending: the row is really in the database
    assert "tx_one" in _categories(db)


def test_service_error_goes_to_the_form_and_changes_nothing(app, db):
    with app.test_request_context("/", method="POST"):
        form = NameForm(formdata=None)
        with unit_of_work(form) as uow:
            _add(db, "tx_form")
            raise ServiceError("taken", "Код занят.", fields={"code": "Такой код уже есть.",
                                                              "other": "Общая ошибка."})
        assert not uow.ok and uow.error.code == "taken"
        assert form.code.errors == ["Такой код уже есть."]
        assert form.form_errors == ["Общая ошибка."]
    assert "tx_form" not in _categories(db)


def test_service_error_flashed_and_rolled_back(app, db):
    with app.test_request_context("/", method="POST"):
        with unit_of_work(flash_errors=True) as uow:
            _add(db, "tx_flash")
            raise ConflictError("busy", "Мест нет.")
        assert uow.error.status == 409
        assert get_flashed_messages(with_categories=True) == [("danger", "Мест нет.")]
    assert "tx_flash" not in _categories(db)


def test_caught_error_is_left_to_the_caller_others_propagate(app, db):
    with app.test_request_context("/", method="POST"):
        with unit_of_work(catch=ConflictError) as uow:
            _add(db, "tx_caught")
            raise ConflictError("busy", "Мест нет.")
        assert uow.error.code == "busy"
        assert get_flashed_messages() == []
        # A ServiceError nobody asked to show, and any other exception, propagate rolled back.
        with pytest.raises(ServiceError), unit_of_work(catch=ConflictError):
            _add(db, "tx_other")
            raise ServiceError("bad", "Нельзя.")
        with pytest.raises(ZeroDivisionError), unit_of_work():
            _add(db, "tx_crash")
            1 / 0  # noqa: B018
    assert _categories(db).isdisjoint({"tx_caught", "tx_other", "tx_crash"})


def test_second_commit_in_one_request_raises_and_is_rolled_back(app, db):
    with app.test_request_context("/", method="POST"):
        with unit_of_work():
            _add(db, "tx_first")
        with pytest.raises(SecondCommitError), unit_of_work():
            _add(db, "tx_second")
    assert "tx_first" in _categories(db)
    assert "tx_second" not in _categories(db)


def test_savepoints_are_not_commits(app, db):
    """perform_scan releases a savepoint per scan of a batch: not a second commit."""
    with app.test_request_context("/", method="POST"), unit_of_work():
        for code in ("tx_sp_a", "tx_sp_b"):
            with db.session.begin_nested():
                _add(db, code)
    assert {"tx_sp_a", "tx_sp_b"} <= _categories(db)


def test_bare_commit_in_a_request_raises(app, db):
    with app.test_request_context("/", method="POST"):
        _add(db, "tx_bare")
        with pytest.raises(SecondCommitError, match="webapp.transaction"):
            db.session.commit()
        db.session.rollback()
    assert "tx_bare" not in _categories(db)


def test_separate_commit_does_not_count(app, db):
    with app.test_request_context("/", method="POST"):
        _add(db, "tx_apart")
        commit_separately("test: work that persists apart from the request")
        with unit_of_work():
            _add(db, "tx_main")
    assert {"tx_apart", "tx_main"} <= _categories(db)


def test_each_request_has_its_own_count(app, db):
    for code in ("tx_req_a", "tx_req_b"):
        with app.test_request_context("/", method="POST"), unit_of_work():
            _add(db, code)
    assert {"tx_req_a", "tx_req_b"} <= _categories(db)


def test_api_service_error_propagates_rolled_back_to_the_json_shape(app, db):
    with app.test_request_context("/api/v1/x", method="POST"):
        with pytest.raises(ConflictError) as caught, unit_of_work():
            _add(db, "tx_api_refused")
            raise ConflictError("busy", "Мест нет.", fields={"seats": "Мест нет."})
        response, status = handle_service_error(caught.value)
        assert status == 409
        assert response.json == {"error": {"code": "busy", "message": "Мест нет.",
                                           "fields": {"seats": "Мест нет."}}}
    assert "tx_api_refused" not in _categories(db)


def test_api_service_error_is_the_json_shape_and_changes_nothing(client, db, factory):
    admin = factory.create_user(email="tx-admin@example.org")
    headers = factory.bearer(factory.create_token(admin))
    db.session.commit()
    before = _categories(db)
    response = client.post("/api/v1/categories", json={"code": "1 bad", "name": "Тест"},
                           headers=headers)
    assert response.status_code == 422
    error = response.json["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["fields"] == {"code": "Код — латинские строчные буквы, цифры и «_», от 2 до 40 "
                              "символов, начинается с буквы."}
    assert _categories(db) == before


def test_page_login_commits_once_after_the_throttle(client, db, factory):
    """The login page: the throttle commits its claim apart, the login itself once (the
    guard would raise on a second commit)."""
    user = factory.create_user(email="tx-login@example.org")
    db.session.commit()
    response = client.post_form("/login", {"email": user.email, "password": "secret-pass"})
    assert response.status_code == 302
    db.session.expire_all()
    assert user.last_login_at is not None
