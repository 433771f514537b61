"""Notices shown to a school on its pages (for example: people moved up from the waiting list)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import UTCDateTime, db, now_utc


class SchoolNotice(db.Model):
    __tablename__ = "school_notices"
    __table_args__ = (
        sa.Index("ix_school_notices_org_dismissed", "organization_id", "dismissed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False
    )
    event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"))
    registration_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("registrations.id", ondelete="CASCADE")
    )
    #: Plain Russian text, shown as is.
    message: Mapped[str] = mapped_column(sa.Text, nullable=False)
    created_at: Mapped[object] = mapped_column(UTCDateTime, nullable=False, default=now_utc)
    #: Set when a coordinator of the school closes the notice.
    dismissed_at: Mapped[object | None] = mapped_column(UTCDateTime)

    organization = relationship("Organization")
    event = relationship("Event")
    registration = relationship("Registration")
