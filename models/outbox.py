"""The e-mail outbox: every message is stored before it is sent, so none is lost while the
mail server is down, and none is sent twice."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import TitledEnum, UTCDateTime, db, enum_column, now_utc


class OutboxStatus(TitledEnum):
    PENDING = ("pending", "В очереди")
    SENDING = ("sending", "Отправляется")
    SENT = ("sent", "Отправлено")
    FAILED = ("failed", "Не доставлено")


class OutboxMessage(db.Model):
    __tablename__ = "mail_outbox"
    __table_args__ = (
        sa.CheckConstraint("attempts >= 0", name="attempts_nonnegative"),
        sa.CheckConstraint("status <> 'sent' OR sent_at IS NOT NULL", name="sent_has_time"),
        sa.Index("ix_mail_outbox_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(sa.String(254), nullable=False)
    subject: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    #: The complete RFC 5322 message (headers, text, HTML, attachments), built when queued.
    message: Mapped[bytes] = mapped_column(sa.LargeBinary, nullable=False)
    #: Makes a message queued at most once (e.g. ``reminder:ticket:42``); NULL for no such rule.
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(120), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(
        enum_column(OutboxStatus, name="outbox_status"), nullable=False,
        default=OutboxStatus.PENDING,
    )
    attempts: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    #: Not tried again before this time (backoff after a rejected attempt).
    next_attempt_at: Mapped[object] = mapped_column(UTCDateTime, nullable=False, default=now_utc)
    #: When a sender claimed it (status ``sending``); a stale claim is taken over.
    claimed_at: Mapped[object | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[object] = mapped_column(UTCDateTime, nullable=False, default=now_utc)
    sent_at: Mapped[object | None] = mapped_column(UTCDateTime)
