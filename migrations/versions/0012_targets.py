"""targets: the city's and the schools' goals for the nine indicators per academic year

- ``targets``: one row per academic year for the city (``organization_id`` NULL, kept single by
  the partial unique index ``uq_targets_city_year``) and at most one per school; each of the
  nine indicator columns a percent 0–100 or NULL (no goal; a school then has the city's).

Revision ID: 0012
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op


revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

KEYS = ("students", "students_early", "students_ovz", "schools", "schools_early",
        "teachers", "teachers_early", "events", "events_early")
CITY_ONLY = sa.text("organization_id IS NULL")


def upgrade():
    op.create_table(
        "targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("year", sa.Integer(), nullable=False),
        *(sa.Column(key, sa.Numeric(precision=4, scale=1), nullable=True) for key in KEYS),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name=op.f("ck_targets_year_plausible")),
        *(sa.CheckConstraint(f"{key} IS NULL OR ({key} >= 0 AND {key} <= 100)",
                             name=op.f(f"ck_targets_{key}_is_percent")) for key in KEYS),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"],
                                name=op.f("fk_targets_organization_id_organizations"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_targets")),
        sa.UniqueConstraint("organization_id", "year", name="uq_targets_organization_year"),
    )
    with op.batch_alter_table("targets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_targets_organization_id"), ["organization_id"],
                              unique=False)
        batch_op.create_index("uq_targets_city_year", ["year"], unique=True,
                              sqlite_where=CITY_ONLY, postgresql_where=CITY_ONLY)


def downgrade():
    with op.batch_alter_table("targets", schema=None) as batch_op:
        batch_op.drop_index("uq_targets_city_year", sqlite_where=CITY_ONLY,
                            postgresql_where=CITY_ONLY)
        batch_op.drop_index(batch_op.f("ix_targets_organization_id"))
    op.drop_table("targets")
