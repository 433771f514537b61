"""scans: the check-ins index also covers the source, so the indicators narrowed to what was
verified at a door (``verified_only``) are read from the index alone, as the full ones are

Without it each of a year's ≈ 700 000 check-ins is fetched from the table to read its source
(city scale: the verified report 1.3–2.7 s on PostgreSQL instead of ≈ 0.8 s).

Revision ID: 0010
Revises: 0009
"""
from alembic import op


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BEFORE = ["event_id", "outcome", "undone_at", "organization_id", "student_id", "teacher_id"]


def upgrade():
    op.drop_index("ix_scans_event_checkins", table_name="scans")
    op.create_index("ix_scans_event_checkins", "scans", [*BEFORE, "source"], unique=False)


def downgrade():
    op.drop_index("ix_scans_event_checkins", table_name="scans")
    op.create_index("ix_scans_event_checkins", "scans", BEFORE, unique=False)
