"""users.session_token (sessions that can be ended) and login_throttles (replaces login_failures)

Every user gets a random session token; Flask-Login's cookies name it (``User.get_id``), so
replacing it ends all of the user's sessions. Cookies issued before this revision carry the bare
user id and no longer sign anyone in: everybody signs in once more.

Failed logins are now counted per key (``account:<e-mail>``, ``ip:<address>``) in one row each,
locked while an attempt is counted (``webapp/auth/throttle.py``). The old per-failure rows are
short-lived (a 15-minute window) and are dropped, not converted.

Revision ID: 0004
Revises: 0003
"""
import secrets

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_token", sa.String(length=64), nullable=True))
    conn = op.get_bind()
    users = sa.table("users", sa.column("id", sa.Integer),
                     sa.column("session_token", sa.String))
    for (user_id,) in conn.execute(sa.select(users.c.id)).all():
        conn.execute(users.update().where(users.c.id == user_id)
                     .values(session_token=secrets.token_hex(16)))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("session_token", existing_type=sa.String(length=64),
                              nullable=False)

    op.create_table(
        "login_throttles",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("next_check_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("attempts >= 0",
                           name=op.f("ck_login_throttles_attempts_not_negative")),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttles")),
    )
    with op.batch_alter_table("login_throttles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_throttles_last_attempt_at"),
                              ["last_attempt_at"], unique=False)

    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_login_failures_ip_at")
        batch_op.drop_index("ix_login_failures_email_at")
    op.drop_table("login_failures")


def downgrade():
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.create_index("ix_login_failures_email_at", ["email", "at"], unique=False)
        batch_op.create_index("ix_login_failures_ip_at", ["ip", "at"], unique=False)

    with op.batch_alter_table("login_throttles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_throttles_last_attempt_at"))
    op.drop_table("login_throttles")

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("session_token")
