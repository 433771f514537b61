"""door: walk-in tickets are marked; a parent registered at the door may leave no phone

- ``tickets.walk_in``: the ticket was created at the door for someone who came without one
  (``checkin.door.walkins``). Undoing its check-in cancels it and frees the seat. Existing
  walk-in tickets are found through the audit log (``checkin.walk_in`` and
  ``checkin.walk_in_confirm`` name the ticket).
- ``parent_signups.contact_or_withdrawn``: a sign-up with consent «door» (the parent stood at
  the door) needs no phone or e-mail; the form's phone field says «необязательно».

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

OLD_CONTACT = ("withdrawn_at IS NOT NULL OR (name IS NOT NULL AND "
               "(phone IS NOT NULL OR email IS NOT NULL))")
NEW_CONTACT = ("withdrawn_at IS NOT NULL OR (name IS NOT NULL AND "
               "(phone IS NOT NULL OR email IS NOT NULL OR consent_version = 'door'))")


def upgrade():
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("walk_in", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    audit = sa.table("audit_log", sa.column("action", sa.String),
                     sa.column("object_type", sa.String), sa.column("object_id", sa.String))
    tickets = sa.table("tickets", sa.column("id", sa.Integer), sa.column("walk_in", sa.Boolean))
    walk_in_ids = sa.select(audit.c.object_id).where(
        audit.c.action.in_(["checkin.walk_in", "checkin.walk_in_confirm"]),
        audit.c.object_type == "tickets")
    op.execute(sa.update(tickets).where(sa.cast(tickets.c.id, sa.String).in_(walk_in_ids))
               .values(walk_in=True))

    with op.batch_alter_table("parent_signups", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_parent_signups_contact_or_withdrawn"),
                                 type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_parent_signups_contact_or_withdrawn"),
                                         NEW_CONTACT)


def downgrade():
    # Door sign-ups without a contact cannot satisfy the old rule: they count as withdrawn.
    signups = sa.table("parent_signups", sa.column("phone", sa.String),
                       sa.column("email", sa.String), sa.column("withdrawn_at", sa.DateTime),
                       sa.column("consent_at", sa.DateTime))
    op.execute(sa.update(signups).where(signups.c.phone.is_(None), signups.c.email.is_(None),
                                        signups.c.withdrawn_at.is_(None))
               .values(withdrawn_at=signups.c.consent_at))
    with op.batch_alter_table("parent_signups", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_parent_signups_contact_or_withdrawn"),
                                 type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_parent_signups_contact_or_withdrawn"),
                                         OLD_CONTACT)
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("walk_in")
