"""The audit log: who did what to which object, and when."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import UTCDateTime, db, now_utc


class AuditLog(db.Model):
    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: A dotted verb such as ``baseline.update`` or ``user.deactivate``.
    action: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    object_type: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    object_id: Mapped[str | None] = mapped_column(sa.String(64))
    #: Small JSON of what changed (never passwords or tokens).
    details: Mapped[dict | None] = mapped_column(sa.JSON)
    at: Mapped[object] = mapped_column(UTCDateTime, nullable=False, default=now_utc, index=True)

    user = relationship("User")


def record_audit(user, action: str, obj=None, *, object_type: str | None = None,
                 object_id=None, **details) -> AuditLog:
    """Add an audit row to the session (the caller commits)."""
    if obj is not None:
        object_type = object_type or obj.__tablename__
        object_id = obj.id if object_id is None else object_id
    entry = AuditLog(
        user_id=getattr(user, "id", None),
        action=action,
        object_type=object_type or "-",
        object_id=None if object_id is None else str(object_id),
        details=details or None,
    )
    db.session.add(entry)
    return entry
