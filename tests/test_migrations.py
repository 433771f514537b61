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
