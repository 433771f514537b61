"""«профминимум» (issue #14): an event's academic hours and format; levels per grade

- ``events.academic_hours_override`` (the organizer's figure, NULL for the default) and
  ``events.academic_hours`` (the effective value the reports sum: the override, else the
  duration in 45-minute academic hours, ``models.profminimum.default_academic_hours``);
  existing events get the default, computed here with the rule as it stands at this revision.
- ``events.profminimum_format_id`` → ``profminimum_formats`` (loaded with the standard eight).
- ``profminimum_levels``: per school (or the city's default, organization NULL) and academic
  year, the target hours of grades 6–11 (40, 60 or 80) and the admin's lock.

Revision ID: 0011
Revises: 0010
"""
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op


revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

GRADES = (6, 7, 8, 9, 10, 11)
FORMATS = (
    ("horizons", "Урок «Россия — мои горизонты»"),
    ("trial", "Профпроба"),
    ("excursion", "Экскурсия, посещение предприятия"),
    ("meeting", "Встреча с представителем профессии"),
    ("contest", "Конкурс, чемпионат"),
    ("diagnostics", "Диагностика"),
    ("parents", "Родительское собрание"),
    ("other", "Другое"),
)
TOMSK = ZoneInfo("Asia/Tomsk")


def _hours(starts_at, ends_at) -> Decimal:
    """The rule of this revision (models.profminimum.default_academic_hours)."""
    start = starts_at.replace(tzinfo=UTC).astimezone(TOMSK)
    end = ends_at.replace(tzinfo=UTC).astimezone(TOMSK)
    minutes = (end - start).total_seconds() / 60
    if (end.date() - start.date()).days > 0:
        daily = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
        if daily > 0:
            minutes = daily * ((end.date() - start.date()).days + 1)
    hours = (Decimal(max(minutes, 0)) / 45).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return min(hours, Decimal(999))


def _as_datetime(value):
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def upgrade():
    formats = op.create_table(
        "profminimum_formats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_profminimum_formats")),
        sa.UniqueConstraint("code", name=op.f("uq_profminimum_formats_code")),
    )
    op.bulk_insert(formats, [{"code": code, "name": name, "active": True,
                              "sort_order": i * 10}
                             for i, (code, name) in enumerate(FORMATS, start=1)])
    op.create_table(
        "profminimum_levels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("year", sa.Integer(), nullable=False),
        *(sa.Column(f"hours_{g}", sa.Integer(), nullable=True) for g in GRADES),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100",
                           name=op.f("ck_profminimum_levels_year_plausible")),
        *(sa.CheckConstraint(f"hours_{g} IS NULL OR hours_{g} IN (40, 60, 80)",
                             name=op.f(f"ck_profminimum_levels_hours_{g}_level"))
          for g in GRADES),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"],
                                name=op.f("fk_profminimum_levels_organization_id_organizations"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_profminimum_levels")),
        sa.UniqueConstraint("organization_id", "year", name="uq_profminimum_levels_org_year"),
    )
    op.create_index("uq_profminimum_levels_city_year", "profminimum_levels", ["year"],
                    unique=True, sqlite_where=sa.text("organization_id IS NULL"),
                    postgresql_where=sa.text("organization_id IS NULL"))
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("academic_hours_override", sa.Numeric(5, 1), nullable=True))
        batch.add_column(sa.Column("academic_hours", sa.Numeric(5, 1), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("profminimum_format_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_events_profminimum_format_id_profminimum_formats"),
                                 "profminimum_formats", ["profminimum_format_id"], ["id"],
                                 ondelete="SET NULL")
        batch.create_check_constraint(
            "academic_hours_override_range",
            "academic_hours_override IS NULL OR "
            "(academic_hours_override >= 0 AND academic_hours_override <= 999)")

    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, starts_at, ends_at FROM events")).all()
    by_hours: dict[Decimal, list[int]] = {}
    for event_id, starts_at, ends_at in rows:
        by_hours.setdefault(_hours(_as_datetime(starts_at), _as_datetime(ends_at)),
                            []).append(event_id)
    update = sa.text("UPDATE events SET academic_hours = :h WHERE id IN :ids").bindparams(
        sa.bindparam("ids", expanding=True), sa.bindparam("h", type_=sa.Numeric(5, 1)))
    for hours, ids in by_hours.items():
        for i in range(0, len(ids), 500):
            bind.execute(update, {"h": hours, "ids": ids[i:i + 500]})


def downgrade():
    with op.batch_alter_table("events") as batch:
        batch.drop_constraint("academic_hours_override_range", type_="check")
        batch.drop_constraint(op.f("fk_events_profminimum_format_id_profminimum_formats"),
                              type_="foreignkey")
        batch.drop_column("profminimum_format_id")
        batch.drop_column("academic_hours")
        batch.drop_column("academic_hours_override")
    op.drop_index("uq_profminimum_levels_city_year", table_name="profminimum_levels")
    op.drop_table("profminimum_levels")
    op.drop_table("profminimum_formats")
