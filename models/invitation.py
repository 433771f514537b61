"""An organizer's invitation of a school at risk of missing its target to one of its events
(issue #15, «Организаторы видят спрос»): at most one per event and school."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import UTCDateTime, db, now_utc


class SchoolInvitation(db.Model):
    __tablename__ = "school_invitations"
    __table_args__ = (
        sa.UniqueConstraint("event_id", "organization_id", name="uq_school_invitations_pair"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False
    )
    #: The school invited.
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    invited_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[object] = mapped_column(UTCDateTime, nullable=False, default=now_utc)

    event = relationship("Event")
    organization = relationship("Organization")
