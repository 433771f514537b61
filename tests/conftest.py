"""Fixtures: every test gets its own database, on SQLite by default or on PostgreSQL when
TEST_DATABASE_URL is set. The schema comes from the Alembic migrations, built once per run.

- SQLite: the migrated template file is copied for each test.
- PostgreSQL: a fresh database is created for the run; each test starts from emptied tables
  (reference data kept), so tests may commit and use real parallel connections.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from webapp import create_app
from webapp.config import TestConfig, normalize_database_url

REFERENCE_TABLES = {"alembic_version", "categories", "roadmap_items", "profminimum_formats"}
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


def is_postgres() -> bool:
    return bool(TEST_DATABASE_URL) and TEST_DATABASE_URL.startswith(("postgres", "postgresql"))


def migrate_to_head(url: str) -> None:
    from flask_migrate import upgrade

    app = create_app({**_test_config_dict(), "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        from models import db

        db.engine.dispose()


def _test_config_dict() -> dict:
    return {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    """Migrate an empty database once; yields how to get a per-test copy."""
    if is_postgres():
        base_url = normalize_database_url(TEST_DATABASE_URL)
        name = f"profroute_test_{uuid.uuid4().hex[:10]}"
        admin_engine = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
        with admin_engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            # A test database need not survive a power cut: commits skip the WAL flush.
            conn.execute(sa.text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
        url = sa.engine.make_url(base_url).set(database=name).render_as_string(
            hide_password=False)
        migrate_to_head(url)
        yield {"kind": "postgres", "url": url}
        with admin_engine.connect() as conn:
            conn.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
            ), {"n": name})
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin_engine.dispose()
    else:
        path = tmp_path_factory.mktemp("template") / "template.db"
        migrate_to_head(f"sqlite:///{path}")
        yield {"kind": "sqlite", "path": path}


def _empty_postgres(url: str) -> None:
    """Empty every table but the reference data and restart the ids. DELETE with the foreign
    key triggers off: on a test's few rows it is several times faster than TRUNCATE."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        tables = [row[0] for row in conn.execute(sa.text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))]
        conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        for table in tables:
            if table not in REFERENCE_TABLES:
                conn.execute(sa.text(f'DELETE FROM "{table}"'))
        conn.execute(sa.text("DELETE FROM categories WHERE sort_order > 1000"))
        conn.execute(sa.text("DELETE FROM profminimum_formats WHERE sort_order > 1000"))
        owned = conn.execute(sa.text(
            "SELECT s.relname AS sequence, t.relname AS owner FROM pg_class s "
            "JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i') "
            "JOIN pg_class t ON t.oid = d.refobjid WHERE s.relkind = 'S'")).all()
        for row in owned:
            if row.owner not in REFERENCE_TABLES:
                conn.execute(sa.text("SELECT setval(:s, 1, false)"), {"s": f'"{row.sequence}"'})
    engine.dispose()


@pytest.fixture(scope="session")
def _database_file(database_template, tmp_path_factory) -> str:
    """The one database URL the whole run uses. SQLite: a file that every test gets as a fresh
    copy of the template (:func:`database_url`); PostgreSQL: the run's database."""
    if database_template["kind"] == "postgres":
        return database_template["url"]
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


def _fresh_sqlite_copy(url: str, template: Path) -> None:
    path = Path(sa.engine.make_url(url).database)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(template, path)


@pytest.fixture
def database_url(database_template, _database_file) -> str:
    """A fresh database for this test, always at the run's one URL (so the run's one app keeps
    its engine): the template copied anew on SQLite, emptied tables on PostgreSQL."""
    if database_template["kind"] == "postgres":
        _empty_postgres(_database_file)
    else:
        _fresh_sqlite_copy(_database_file, database_template["path"])
    return _database_file


class CSRFClient(FlaskClient):
    """A test client that can post forms with the session's CSRF token, as a browser does."""

    _csrf_pattern = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')

    def csrf_token(self) -> str:
        response = self.get("/login")
        if response.status_code == 302:  # logged in: any page with a form has the token
            response = self.get("/account/password")
        match = self._csrf_pattern.search(response.get_data(as_text=True))
        assert match, "no CSRF token found"
        return match.group(1)

    def post_form(self, url: str, data: dict | None = None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token())
        return self.post(url, data=data, **kwargs)


@pytest.fixture(scope="session")
def _session_app(_database_file, tmp_path_factory):
    """The application, built once for the run: building one per test cost a third of the
    suite's time (the URL map and Jinja environment of every blueprint)."""
    app = create_app({
        **_test_config_dict(),
        "SQLALCHEMY_DATABASE_URI": _database_file,
        "MAIL_OUTBOX_DIR": str(tmp_path_factory.mktemp("mail")),
    })
    app.test_client_class = CSRFClient
    yield app
    from models import db

    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app(_session_app, database_url, tmp_path):
    """The run's application with this test's fresh database, its own mail folder and its
    configuration as built: what a test changes in ``app.config`` is undone after it."""
    from models import db

    app = _session_app
    saved_config = dict(app.config)
    app.config["MAIL_OUTBOX_DIR"] = str(tmp_path / "mail")
    ctx = app.app_context()
    ctx.push()
    # Connections (the pool's and the door's kept ones) opened on the previous test's file.
    db.engine.dispose()
    yield app
    db.session.remove()
    db.engine.dispose()
    ctx.pop()
    app.config.clear()
    app.config.update(saved_config)


@pytest.fixture
def db(app):
    from models import db as _db

    return _db


@pytest.fixture
def client(app) -> CSRFClient:
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    def __init__(self, client: CSRFClient):
        self.client = client

    def login(self, email: str, password: str = "secret-pass"):
        return self.client.post_form("/login", {"email": email, "password": password})

    def logout(self):
        return self.client.post_form("/logout")


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def factory(db):
    from tests import factories

    return factories


def pytest_report_header(config):
    return f"database: {'PostgreSQL' if is_postgres() else 'SQLite'}"


def pytest_collection_modifyitems(config, items):
    if is_postgres():
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set TEST_DATABASE_URL)")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


TESTS_DIR = Path(__file__).parent
