"""scans: who a check-in counts for (the ticket's holder and their organization, copied)

Reports count check-ins from ``scans`` alone (``reports.indicators``): each scan of a ticket
records the ticket's student or teacher and the organization they belong to. Existing scans
are filled from their tickets.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

def upgrade():
    with op.batch_alter_table("scans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("student_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("teacher_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("organization_id", sa.Integer(), nullable=True))

    # UPDATE … FROM: PostgreSQL, and SQLite since 3.33.
    op.execute(
        "UPDATE scans SET student_id = t.student_id, teacher_id = t.teacher_id, "
        "organization_id = COALESCE(st.organization_id, te.organization_id) "
        "FROM tickets AS t "
        "LEFT OUTER JOIN students AS st ON st.id = t.student_id "
        "LEFT OUTER JOIN teachers AS te ON te.id = t.teacher_id "
        "WHERE t.id = scans.ticket_id"
    )

    with op.batch_alter_table("scans", schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f("ck_scans_holder_needs_ticket"),
            "ticket_id IS NOT NULL OR (student_id IS NULL AND teacher_id IS NULL "
            "AND organization_id IS NULL)")
        # Replaces (event_id, outcome): the same prefix, and covering for the reports.
        batch_op.drop_index("ix_scans_event_outcome")
        batch_op.create_index(
            "ix_scans_event_checkins", ["event_id", "outcome", "undone_at", "organization_id",
                                        "student_id", "teacher_id"], unique=False)


def downgrade():
    with op.batch_alter_table("scans", schema=None) as batch_op:
        batch_op.drop_index("ix_scans_event_checkins")
        batch_op.create_index("ix_scans_event_outcome", ["event_id", "outcome"], unique=False)
        batch_op.drop_constraint(op.f("ck_scans_holder_needs_ticket"), type_="check")
        batch_op.drop_column("organization_id")
        batch_op.drop_column("teacher_id")
        batch_op.drop_column("student_id")
