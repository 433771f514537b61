"""attendance imports: a check-in's source, uploaded lists of who attended

- ``scans.source``: how a check-in came about (door, offline, group, walk_in, class_list,
  import). Existing rows are all ``door`` (kept simple: an offline scan before this revision
  is not told apart).
- ``attendance_imports``: one uploaded list of who attended an event (file name, who uploaded
  it and when, its rows, and its withdrawal with a reason); ``scans.attendance_import_id``
  names the upload a check-in came from, ``tickets.attendance_import_id`` the upload that
  created a ticket (cancelled when the upload is withdrawn).

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op


revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

SOURCES = ("door", "offline", "group", "walk_in", "class_list", "import")


def upgrade():
    op.create_table(
        "attendance_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(), nullable=True),
        sa.Column("withdrawn_by_id", sa.Integer(), nullable=True),
        sa.Column("withdraw_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("withdrawn_at IS NULL OR withdraw_reason IS NOT NULL",
                           name=op.f("ck_attendance_imports_withdrawn_with_reason")),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], ondelete="RESTRICT",
                                name=op.f("fk_attendance_imports_event_id_events")),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_attendance_imports_uploaded_by_id_users")),
        sa.ForeignKeyConstraint(["withdrawn_by_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_attendance_imports_withdrawn_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance_imports")),
    )
    with op.batch_alter_table("attendance_imports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attendance_imports_event_id"), ["event_id"],
                              unique=False)
    with op.batch_alter_table("scans", schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            "source", sa.Enum(*SOURCES, name="scan_source", native_enum=False,
                              create_constraint=True, length=32),
            nullable=False, server_default="door"))
        batch_op.add_column(sa.Column("attendance_import_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_scans_attendance_import_id"),
                              ["attendance_import_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_scans_attendance_import_id_attendance_imports"),
            "attendance_imports", ["attendance_import_id"], ["id"], ondelete="RESTRICT")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attendance_import_id", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("attendance_import_id")
    with op.batch_alter_table("scans", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_scans_attendance_import_id_attendance_imports"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_scans_attendance_import_id"))
        batch_op.drop_constraint(batch_op.f("ck_scans_scan_source"), type_="check")
        batch_op.drop_column("attendance_import_id")
        batch_op.drop_column("source")
    with op.batch_alter_table("attendance_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attendance_imports_event_id"))
    op.drop_table("attendance_imports")
