"""report_changes: a counter per academic year of the changes to what its indicators count

- ``report_changes``: one row per closed academic year that changed (and the row 0 for changes
  that touch every year), bumped in the change's own transaction (``models.report_changes``).
  A closed year's report is kept while the counters it was computed under stay the same
  (``reports.cache``). No row means no change since the table was made.
- ``kept_reports``: those reports, shared by every worker and app instance (a key, the counters
  and the code they were computed under, the report).

Revision ID: 0014
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op


revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "report_changes",
        sa.Column("academic_year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("version >= 0", name=op.f("ck_report_changes_version_nonnegative")),
        sa.PrimaryKeyConstraint("academic_year", name=op.f("pk_report_changes")),
    )
    op.create_table(
        "kept_reports",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("stamp", sa.String(length=400), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("kept_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_kept_reports")),
    )


def downgrade():
    op.drop_table("kept_reports")
    op.drop_table("report_changes")
