"""door: walk-ins waiting for confirmation; scans keep no copy of the holder in their answer

- ``walk_ins``: a student or teacher entered at the door by a scanner link waits here for the
  organizer (or the school) to confirm; a link never writes a school's roster.
- ``scans.response`` (the answer replayed for a repeated ``client_scan_id``) no longer keeps
  the ``attendee`` block (name, class, school, «нужна помощь»): it is rebuilt from the ticket on
  replay. Existing rows are stripped here.

Revision ID: 0005
Revises: 0004
"""
import json
import sqlalchemy as sa
from alembic import op


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "walk_ins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("middle_name", sa.String(length=100), nullable=True),
        sa.Column("class_name", sa.String(length=40), nullable=True),
        sa.Column("grade", sa.Integer(), nullable=True),
        sa.Column("client_scan_id", sa.String(length=64), nullable=True),
        sa.Column("scanner_link_id", sa.Integer(), nullable=True),
        sa.Column("device_label", sa.String(length=100), nullable=True),
        sa.Column("gate", sa.String(length=100), nullable=True),
        sa.Column("arrived_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('student', 'teacher')",
                           name=op.f("ck_walk_ins_walk_in_kind")),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"],
                                name=op.f("fk_walk_ins_event_id_events"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"],
                                name=op.f("fk_walk_ins_organization_id_organizations"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["scanner_link_id"], ["scanner_links.id"],
                                name=op.f("fk_walk_ins_scanner_link_id_scanner_links"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_walk_ins")),
        sa.UniqueConstraint("client_scan_id", name=op.f("uq_walk_ins_client_scan_id")),
    )
    with op.batch_alter_table("walk_ins", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_walk_ins_event_id"), ["event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_walk_ins_organization_id"), ["organization_id"],
                              unique=False)

    # Strip the holder's data from the stored answers (JSON text on SQLite, json on
    # PostgreSQL: read and written through Python, a few rows per scan at most).
    conn = op.get_bind()
    scans = sa.table("scans", sa.column("id", sa.Integer),
                     sa.column("response", sa.JSON))
    rows = conn.execute(sa.select(scans.c.id, scans.c.response)
                        .where(scans.c.response.isnot(None))).all()
    for scan_id, response in rows:
        if isinstance(response, str):
            response = json.loads(response)
        if isinstance(response, dict) and "attendee" in response:
            stripped = {k: v for k, v in response.items() if k != "attendee"}
            conn.execute(sa.update(scans).where(scans.c.id == scan_id)
                         .values(response=stripped))


def downgrade():
    # The stripped names are not restored (they are rebuilt from the tickets on replay).
    with op.batch_alter_table("walk_ins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_walk_ins_organization_id"))
        batch_op.drop_index(batch_op.f("ix_walk_ins_event_id"))
    op.drop_table("walk_ins")
