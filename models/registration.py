"""Group registrations, parent sign-ups and the tickets they hold."""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TitledEnum, UTCDateTime, db, enum_column, now_utc
from models.roster import REMOVED_NAME, Student, Teacher, parent_display_name

#: Letters and digits that cannot be confused when typed from paper (no 0/O, 1/I/L).
SHORT_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
SHORT_CODE_LENGTH = 8


def new_ticket_token() -> str:
    """An opaque, URL-safe, 192-bit random token: the only thing a QR code holds."""
    return secrets.token_urlsafe(24)


def new_short_code() -> str:
    """An 8-character code for typing by hand (about 40 bits; unique by constraint)."""
    return "".join(secrets.choice(SHORT_CODE_ALPHABET) for _ in range(SHORT_CODE_LENGTH))


class RegistrationStatus(TitledEnum):
    ACTIVE = ("active", "Действует")
    CANCELLED = ("cancelled", "Отменена")


class TicketKind(TitledEnum):
    STUDENT = ("student", "Обучающийся")
    TEACHER = ("teacher", "Педагог")
    PARENT = ("parent", "Родитель")


class TicketStatus(TitledEnum):
    CONFIRMED = ("confirmed", "Подтверждён")
    WAITLISTED = ("waitlisted", "В листе ожидания")
    CANCELLED = ("cancelled", "Отменён")


#: A ticket that holds a seat or waits for one.
LIVE_TICKET_STATUSES = (TicketStatus.CONFIRMED, TicketStatus.WAITLISTED)


class Registration(db.Model):
    """A school's group for one event; the accompanying teacher holds its group code."""

    __tablename__ = "registrations"
    __table_args__ = (sa.Index("ix_registrations_event_org", "event_id", "organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("events.id", ondelete="RESTRICT"), nullable=False
    )
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=False
    )
    #: Opaque token in the group QR; opens the group's list at the door.
    group_code: Mapped[str] = mapped_column(
        sa.String(64), nullable=False, unique=True, default=new_ticket_token
    )
    status: Mapped[RegistrationStatus] = mapped_column(
        enum_column(RegistrationStatus, name="registration_status"),
        nullable=False,
        default=RegistrationStatus.ACTIVE,
    )
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[object] = mapped_column(UTCDateTime, nullable=False, default=now_utc)
    cancelled_at: Mapped[object | None] = mapped_column(UTCDateTime)

    event = relationship("Event")
    organization = relationship("Organization")
    tickets = relationship("Ticket", back_populates="registration", order_by="Ticket.id")


class ParentSignup(db.Model):
    """A parent's sign-up for a parent session, with the recorded personal-data consent."""

    __tablename__ = "parent_signups"
    __table_args__ = (
        sa.CheckConstraint(
            # A parent registered by staff at the door (consent «door») is there in person:
            # the phone is optional on that form.
            "withdrawn_at IS NOT NULL OR (name IS NOT NULL AND "
            "(phone IS NOT NULL OR email IS NOT NULL OR consent_version = 'door'))",
            name="contact_or_withdrawn",
        ),
        sa.CheckConstraint(
            "child_grade IS NULL OR child_grade BETWEEN 0 AND 11", name="child_grade_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("events.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    #: Name and contacts are erased (NULL) when consent is withdrawn.
    name: Mapped[str | None] = mapped_column(sa.String(200))
    phone: Mapped[str | None] = mapped_column(sa.String(20))  #: normalized +7XXXXXXXXXX
    email: Mapped[str | None] = mapped_column(sa.String(254))  #: lower-case
    child_organization_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="SET NULL")
    )
    child_grade: Mapped[int | None] = mapped_column(sa.Integer)
    consent_version: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    consent_at: Mapped[object] = mapped_column(UTCDateTime, nullable=False)
    consent_ip: Mapped[str | None] = mapped_column(sa.String(64))
    #: SHA-256 of the secret in the private /my/<secret> link.
    manage_secret_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime, nullable=False, default=now_utc)
    withdrawn_at: Mapped[object | None] = mapped_column(UTCDateTime)

    event = relationship("Event")
    child_organization = relationship("Organization")


class Ticket(db.Model):
    """One person's admission to one event."""

    __tablename__ = "tickets"
    __table_args__ = (
        sa.CheckConstraint(
            "(kind = 'student' AND student_id IS NOT NULL AND teacher_id IS NULL "
            "AND parent_signup_id IS NULL) OR "
            "(kind = 'teacher' AND teacher_id IS NOT NULL AND student_id IS NULL "
            "AND parent_signup_id IS NULL) OR "
            "(kind = 'parent' AND parent_signup_id IS NOT NULL AND student_id IS NULL "
            "AND teacher_id IS NULL)",
            name="holder_matches_kind",
        ),
        # One live ticket per person per event.
        sa.Index(
            "uq_tickets_event_student_live", "event_id", "student_id", unique=True,
            sqlite_where=sa.text("status <> 'cancelled' AND student_id IS NOT NULL"),
            postgresql_where=sa.text("status <> 'cancelled' AND student_id IS NOT NULL"),
        ),
        sa.Index(
            "uq_tickets_event_teacher_live", "event_id", "teacher_id", unique=True,
            sqlite_where=sa.text("status <> 'cancelled' AND teacher_id IS NOT NULL"),
            postgresql_where=sa.text("status <> 'cancelled' AND teacher_id IS NOT NULL"),
        ),
        sa.Index("ix_tickets_event_status", "event_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("events.id", ondelete="RESTRICT"), nullable=False
    )
    registration_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("registrations.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[TicketKind] = mapped_column(enum_column(TicketKind, name="ticket_kind"),
                                             nullable=False)
    student_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("students.id", ondelete="RESTRICT"), index=True
    )
    teacher_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("teachers.id", ondelete="RESTRICT"), index=True
    )
    parent_signup_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("parent_signups.id", ondelete="RESTRICT"), unique=True
    )
    #: Opaque random token carried by the QR code (never personal data).
    token: Mapped[str] = mapped_column(
        sa.String(64), nullable=False, unique=True, default=new_ticket_token
    )
    #: Short code printed on the ticket for manual entry.
    short_code: Mapped[str] = mapped_column(
        sa.String(16), nullable=False, unique=True, default=new_short_code
    )
    status: Mapped[TicketStatus] = mapped_column(
        enum_column(TicketStatus, name="ticket_status"), nullable=False
    )
    #: Order on the waiting list (and of confirmation); set when the ticket is created.
    queued_at: Mapped[object] = mapped_column(UTCDateTime, nullable=False, default=now_utc)
    created_at: Mapped[object] = mapped_column(UTCDateTime, nullable=False, default=now_utc)
    cancelled_at: Mapped[object | None] = mapped_column(UTCDateTime)
    #: Registered on the spot at the door (``checkin.door.walkins``): undoing its check-in
    #: also releases the seat, since the person never was registered before they came.
    walk_in: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False,
                                          server_default=sa.false())
    #: Created by an uploaded list of who attended (``webapp.attendance``): withdrawing the
    #: upload cancels it. No foreign key: ``attendance_imports`` lives with the scans.
    attendance_import_id: Mapped[int | None] = mapped_column(sa.Integer)

    event = relationship("Event")
    registration = relationship("Registration", back_populates="tickets")
    student = relationship("Student")
    teacher = relationship("Teacher")
    parent_signup = relationship("ParentSignup")

    @property
    def holder(self):
        return self.student or self.teacher or self.parent_signup

    @property
    def holder_name(self) -> str:
        """The holder's full name, as the holder's school, the organizer and admins see it."""
        if self.parent_signup is not None:
            return parent_display_name(self.parent_signup.name)
        holder = self.student or self.teacher
        return holder.full_name if holder is not None else ""

    @property
    def holder_short_name(self) -> str:
        """«Имя Ф.»: what anyone may see of the holder."""
        if self.parent_signup is not None:
            # Parents type one free-form name, usually «Фамилия Имя [Отчество]».
            parts = (self.parent_signup.name or "").split()
            if not parts:
                return REMOVED_NAME
            if len(parts) == 1:
                return parts[0]
            return f"{parts[1]} {parts[0][:1]}."
        holder = self.student or self.teacher
        return holder.short_name if holder is not None else ""

    @property
    def school_id(self) -> int | None:
        """The school a ticket belongs to: its registration's, else its holder's (parents: none)."""
        if self.registration is not None:
            return self.registration.organization_id
        if self.student is not None:
            return self.student.organization_id
        if self.teacher is not None:
            return self.teacher.organization_id
        return None

    @classmethod
    def school_id_sql(cls):
        """:attr:`school_id` in SQL; the query outer-joins Registration, Student and Teacher
        (:meth:`join_school`)."""
        return sa.case((cls.kind == TicketKind.PARENT, sa.null()),
                       else_=sa.func.coalesce(Registration.organization_id,
                                              Student.organization_id, Teacher.organization_id))

    @classmethod
    def join_school(cls, query):
        """``query`` (selecting from tickets) with the joins :meth:`school_id_sql` reads."""
        return (query.outerjoin(Registration, Registration.id == cls.registration_id)
                .outerjoin(Student, Student.id == cls.student_id)
                .outerjoin(Teacher, Teacher.id == cls.teacher_id))

    @classmethod
    def seats_taken_sql(cls, event_id):
        """The seats an event's tickets take (its confirmed tickets), as a SELECT of one
        count; ``event_id`` a value, or a column to correlate (``Event.id``)."""
        return sa.select(sa.func.count(cls.id)).where(cls.event_id == event_id,
                                                      cls.status == TicketStatus.CONFIRMED)
