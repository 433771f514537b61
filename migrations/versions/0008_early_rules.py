"""the city's «ранняя профориентация» rule per academic year

- ``early_rules``: one row per academic year an admin has set (``models.early_rule``): events
  for preschoolers, for students up to ``max_grade``, or of one of ``category_codes`` are
  early by default when created. A year without a row uses the built-in rule (preschoolers
  and grades 1–4), which is what every existing event was created with; no event changes.

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op


revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "early_rules",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("preschool", sa.Boolean(), nullable=False),
        sa.Column("max_grade", sa.Integer(), nullable=True),
        sa.Column("category_codes", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("max_grade IS NULL OR (max_grade >= 1 AND max_grade <= 11)",
                           name=op.f("ck_early_rules_max_grade_in_range")),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_early_rules")),
    )


def downgrade():
    op.drop_table("early_rules")
