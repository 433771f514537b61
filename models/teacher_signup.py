"""A teacher's own sign-up for a teacher event, confirmed by the school's coordinator."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TitledEnum, UTCDateTime, db, enum_column, now_utc


class TeacherSignupStatus(TitledEnum):
    PENDING = ("pending", "Ждёт подтверждения школы")
    CONFIRMED = ("confirmed", "Подтверждена школой")
    REJECTED = ("rejected", "Отклонена школой")
    CANCELLED = ("cancelled", "Отменена")


class TeacherSignup(db.Model):
    __tablename__ = "teacher_signups"
    __table_args__ = (
        sa.CheckConstraint("status <> 'confirmed' OR (teacher_id IS NOT NULL AND "
                           "ticket_id IS NOT NULL)", name="confirmed_has_ticket"),
        # One open (pending or confirmed) sign-up per e-mail per event.
        sa.Index(
            "uq_teacher_signups_event_email_open", "event_id", "email", unique=True,
            sqlite_where=sa.text("status IN ('pending', 'confirmed')"),
            postgresql_where=sa.text("status IN ('pending', 'confirmed')"),
        ),
        sa.Index("ix_teacher_signups_org_status", "organization_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("events.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    #: The school the teacher says they work at; its coordinator confirms.
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=False
    )
    last_name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    first_name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    middle_name: Mapped[str | None] = mapped_column(sa.String(100))
    email: Mapped[str] = mapped_column(sa.String(254), nullable=False)  #: lower-case
    phone: Mapped[str | None] = mapped_column(sa.String(20))  #: normalized +7XXXXXXXXXX
    status: Mapped[TeacherSignupStatus] = mapped_column(
        enum_column(TeacherSignupStatus, name="teacher_signup_status"), nullable=False,
        default=TeacherSignupStatus.PENDING,
    )
    consent_version: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    consent_at: Mapped[object] = mapped_column(UTCDateTime, nullable=False)
    consent_ip: Mapped[str | None] = mapped_column(sa.String(64))
    #: SHA-256 of the secret in the teacher's private /my/<secret> link.
    manage_secret_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    #: The roster teacher the coordinator matched (or added) on confirmation.
    teacher_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("teachers.id", ondelete="RESTRICT")
    )
    ticket_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tickets.id", ondelete="RESTRICT"), unique=True
    )
    decided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    decided_at: Mapped[object | None] = mapped_column(UTCDateTime)
    reject_reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[object] = mapped_column(UTCDateTime, nullable=False, default=now_utc)

    event = relationship("Event")
    organization = relationship("Organization")
    teacher = relationship("Teacher")
    ticket = relationship("Ticket")

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)
