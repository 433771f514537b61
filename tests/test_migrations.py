"""`flask db upgrade` from empty gives exactly the models' schema (empty autogenerate diff)."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from models import db as models_db


def test_upgrade_from_empty_matches_models(app, db):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, models_db.metadata)
    assert diff == []


def test_reference_categories_are_loaded(db):
    codes = {row[0] for row in db.session.execute(sa.text("SELECT code FROM categories"))}
    for code in ("professionals", "abilympics", "university", "college", "ticket_to_future",
                 "proektoria", "digital_lesson", "technopark", "cpc_program", "campaign",
                 "parents", "teacher_training", "coordinators", "conference",
                 "school_internal", "other"):
        assert code in codes


def test_schema_constraints_are_enforced_by_the_database(db, factory):
    """The CHECK constraints hold on the database itself, not only in forms (SQLite too)."""
    import pytest
    from sqlalchemy.exc import IntegrityError

    org = factory.create_org()
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(sa.text(
            "INSERT INTO baselines (organization_id, year, students_total, students_ovz, "
            "teachers_total, locked, updated_at) VALUES (:o, 2025, 10, 11, 1, false, "
            "CURRENT_TIMESTAMP)"), {"o": org.id})
    db.session.rollback()
    with pytest.raises(IntegrityError):
        db.session.execute(sa.text(
            "INSERT INTO users (email, password_hash, full_name, role, active, created_at) "
            "VALUES ('x@y.ru', 'h', '', 'superuser', true, CURRENT_TIMESTAMP)"))
    db.session.rollback()
    with pytest.raises(IntegrityError):  # foreign keys are on in SQLite too
        db.session.execute(sa.text(
            "INSERT INTO baselines (organization_id, year, students_total, students_ovz, "
            "teachers_total, locked, updated_at) VALUES (999999, 2025, 1, 0, 1, false, "
            "CURRENT_TIMESTAMP)"))
    db.session.rollback()


def test_0007_on_a_sqlite_database_with_data(tmp_path):
    """0007 rebuilds parent_signups (its CHECK) on SQLite while tickets point at it, and marks
    the walk-in tickets the audit log names; a door sign-up without a phone is then allowed."""
    from flask_migrate import downgrade, upgrade

    from tests.conftest import _test_config_dict
    from webapp import create_app

    url = f"sqlite:///{tmp_path / 'data.db'}"
    app = create_app({**_test_config_dict(), "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade(revision="0006")
        from models import db as app_db

        with app_db.engine.begin() as conn:
            run = conn.exec_driver_sql
            run("INSERT INTO organizations (id, name, name_key, kind, active, created_at) "
                "VALUES (1, 'ТПУ', 'тпу', 'university', 1, '2026-11-01 00:00:00')")
            category = run("SELECT id FROM categories LIMIT 1").scalar()
            run("INSERT INTO events (id, organizer_id, title, description, category_id, "
                "audience, starts_at, ends_at, venue_name, venue_address, capacity, early, "
                "ovz_adapted, status, search_key, school_internal, created_at, updated_at) "
                f"VALUES (1, 1, 'Д', '', {category}, 'students', '2026-12-01 05:00:00', "
                "'2026-12-01 07:00:00', 'ТПУ', 'Томск', 5, 0, 0, 'published', 'д', 0, "
                "'2026-11-01 00:00:00', '2026-11-01 00:00:00')")
            run("INSERT INTO parent_signups (id, event_id, name, phone, consent_version, "
                "consent_at, manage_secret_hash, created_at) VALUES (1, 1, 'Мама', "
                "'+79130000000', 'door', '2026-12-01 05:00:00', 'h1', '2026-12-01 05:00:00')")
            run("INSERT INTO tickets (id, event_id, kind, parent_signup_id, token, short_code, "
                "status, queued_at, created_at) VALUES (1, 1, 'parent', 1, 't1', 'S1', "
                "'confirmed', '2026-12-01 05:00:00', '2026-12-01 05:00:00')")
            run("INSERT INTO audit_log (action, object_type, object_id, at) VALUES "
                "('checkin.walk_in', 'tickets', '1', '2026-12-01 05:00:00')")
        upgrade()
        with app_db.engine.begin() as conn:
            run = conn.exec_driver_sql
            assert run("SELECT id, walk_in FROM tickets").all() == [(1, 1)]
            assert run("PRAGMA foreign_keys").scalar() == 1
            assert run("PRAGMA foreign_key_check").all() == []
            run("INSERT INTO parent_signups (id, event_id, name, consent_version, consent_at, "
                "manage_secret_hash, created_at) VALUES (2, 1, 'Папа', 'door', "
                "'2026-12-01 05:00:00', 'h2', '2026-12-01 05:00:00')")
        downgrade(revision="0005")
        with app_db.engine.begin() as conn:
            # the door sign-up without a contact cannot meet the old rule: it counts as withdrawn
            rows = conn.exec_driver_sql(
                "SELECT id, withdrawn_at IS NOT NULL FROM parent_signups ORDER BY id").all()
            assert rows == [(1, 0), (2, 1)]
        app_db.engine.dispose()
