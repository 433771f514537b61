"""school invitations: an organizer invites a school at risk of missing its target to an event
(issue #15), at most once per event and school

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op


revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "school_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("invited_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], ondelete="CASCADE",
                                name=op.f("fk_school_invitations_event_id_events")),
        sa.ForeignKeyConstraint(["invited_by_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_school_invitations_invited_by_id_users")),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE",
                                name=op.f("fk_school_invitations_organization_id_organizations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_invitations")),
        sa.UniqueConstraint("event_id", "organization_id", name="uq_school_invitations_pair"),
    )
    with op.batch_alter_table("school_invitations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_school_invitations_organization_id"),
                              ["organization_id"], unique=False)


def downgrade():
    with op.batch_alter_table("school_invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_school_invitations_organization_id"))
    op.drop_table("school_invitations")
