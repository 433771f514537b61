"""coordinators: the weekly digest of new events can be switched off

- ``users.weekly_digest``: on for everyone (existing users included); only coordinators are
  sent the digest (``flask --app wsgi send-digest``).

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("weekly_digest", sa.Boolean(), nullable=False,
                                      server_default=sa.true()))


def downgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("weekly_digest")
