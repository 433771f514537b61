"""Every scan at the door, successful or not, and the scanner links handed to volunteers."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TitledEnum, UTCDateTime, db, enum_column, now_utc
from models.registration import Ticket


class ScanOutcome(TitledEnum):
    OK = ("ok", "Отмечен")
    ALREADY_CHECKED_IN = ("already_checked_in", "Уже отмечен")
    WRONG_EVENT = ("wrong_event", "Билет на другое мероприятие")
    CANCELLED = ("cancelled", "Регистрация отменена")
    WAITLISTED = ("waitlisted", "В листе ожидания")
    NOT_OPEN = ("not_open", "Вне окна регистрации на входе")
    INVALID = ("invalid", "Неизвестный код")


class ScanSource(TitledEnum):
    """How a check-in came about (issue #13: what was verified at a door, what was declared)."""

    DOOR = ("door", "Сканирование на входе")
    OFFLINE = ("offline", "Сканирование офлайн")
    GROUP = ("group", "Отметка по списку группы")
    WALK_IN = ("walk_in", "Пришёл без билета")
    CLASS_LIST = ("class_list", "Отметка по списку класса")
    IMPORT = ("import", "Загрузка списка присутствовавших")


#: Check-ins verified at a door: scans (online and offline), a group's list ticked at the
#: entrance, people who came without a ticket. Class lists and uploaded lists are declared.
VERIFIED_SOURCES = (ScanSource.DOOR, ScanSource.OFFLINE, ScanSource.GROUP, ScanSource.WALK_IN)


class AttendanceImport(db.Model):
    """One uploaded list of who attended an event: its check-ins refer to it, and the whole
    upload can be withdrawn at once (its check-ins undone, the tickets it created cancelled)."""

    __tablename__ = "attendance_imports"
    __table_args__ = (
        sa.CheckConstraint("withdrawn_at IS NULL OR withdraw_reason IS NOT NULL",
                           name="withdrawn_with_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("events.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    file_name: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    uploaded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    uploaded_at: Mapped[object] = mapped_column(UTCDateTime, nullable=False, default=now_utc)
    #: Data rows in the file (everyone named, checked in now or before).
    rows: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    withdrawn_at: Mapped[object | None] = mapped_column(UTCDateTime)
    withdrawn_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    withdraw_reason: Mapped[str | None] = mapped_column(sa.Text)

    event = relationship("Event")
    uploaded_by = relationship("User", foreign_keys=[uploaded_by_id])
    withdrawn_by = relationship("User", foreign_keys=[withdrawn_by_id])


class ScannerLink(db.Model):
    """A link (and Bearer token) that lets a volunteer scan one event until it expires."""

    __tablename__ = "scanner_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False, index=True
    )
    token_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    label: Mapped[str | None] = mapped_column(sa.String(100))
    gate: Mapped[str | None] = mapped_column(sa.String(100))
    expires_at: Mapped[object] = mapped_column(UTCDateTime, nullable=False)
    revoked_at: Mapped[object | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[object] = mapped_column(UTCDateTime, nullable=False, default=now_utc)

    event = relationship("Event")

    def usable(self, at=None) -> bool:
        return link_usable(self.revoked_at, self.expires_at, at)


def link_usable(revoked_at, expires_at, at=None) -> bool:
    """A scanner link works until it is revoked or expires."""
    return revoked_at is None and (at or now_utc()) < expires_at


class Scan(db.Model):
    """One scan. A check-in is a scan with outcome ``ok`` that has not been undone."""

    __tablename__ = "scans"
    __table_args__ = (
        # One successful, not undone check-in per ticket: the backstop against double counting.
        sa.Index(
            "uq_scans_ticket_checkin", "ticket_id", unique=True,
            sqlite_where=sa.text("outcome = 'ok' AND undone_at IS NULL"),
            postgresql_where=sa.text("outcome = 'ok' AND undone_at IS NULL"),
        ),
        # A scanned event's scans by outcome; for check-ins (outcome 'ok', undone_at NULL)
        # also who they count for, so reports read a period's check-ins from this index alone
        # (reports.indicators: one index range per event of the period); with the source, the
        # figures verified at a door too (migration 0010).
        sa.Index("ix_scans_event_checkins", "event_id", "outcome", "undone_at",
                 "organization_id", "student_id", "teacher_id", "source"),
        sa.CheckConstraint(
            "undone_at IS NULL OR outcome = 'ok'", name="only_checkins_undone"
        ),
        sa.CheckConstraint(
            "ticket_id IS NOT NULL OR (student_id IS NULL AND teacher_id IS NULL "
            "AND organization_id IS NULL)", name="holder_needs_ticket"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The event the scanner was scanning for.
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("events.id", ondelete="RESTRICT"), nullable=False
    )
    #: The ticket the code resolved to (NULL for unknown codes).
    ticket_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tickets.id", ondelete="RESTRICT"), index=True
    )
    #: Who the ticket is for, copied from it when the scan is recorded (:func:`holder_facts`):
    #: the student or the teacher, and the organization they belonged to at that moment (NULL
    #: for parents and unknown codes). Reports count check-ins from these without joining
    #: tickets and people (docs/reports.md). No foreign keys of their own: they copy the
    #: ticket's, which keep them valid (a person holding tickets cannot be deleted), and the
    #: door's INSERT stays cheap.
    student_id: Mapped[int | None] = mapped_column(sa.Integer)
    teacher_id: Mapped[int | None] = mapped_column(sa.Integer)
    organization_id: Mapped[int | None] = mapped_column(sa.Integer)
    raw_code: Mapped[str] = mapped_column(sa.String(500), nullable=False)
    outcome: Mapped[ScanOutcome] = mapped_column(
        enum_column(ScanOutcome, name="scan_outcome"), nullable=False
    )
    #: The phone's nonce: the same id again returns the first answer and records nothing.
    client_scan_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    scanner_link_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("scanner_links.id", ondelete="SET NULL")
    )
    device_label: Mapped[str | None] = mapped_column(sa.String(100))
    gate: Mapped[str | None] = mapped_column(sa.String(100))
    #: When it happened (the phone's clock, checked); ``received_at`` when it reached the server.
    scanned_at: Mapped[object] = mapped_column(UTCDateTime, nullable=False)
    received_at: Mapped[object] = mapped_column(UTCDateTime, nullable=False, default=now_utc)
    #: Checked in outside the window by an organizer.
    forced: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    #: Needs the organizer's attention (suspicious phone time, offline scan of a cancelled ticket).
    flag: Mapped[str | None] = mapped_column(sa.String(64))
    undone_at: Mapped[object | None] = mapped_column(UTCDateTime)
    undone_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    undo_reason: Mapped[str | None] = mapped_column(sa.Text)
    #: How the check-in came about; rows before issue #13 are all ``door``.
    source: Mapped[ScanSource] = mapped_column(
        enum_column(ScanSource, name="scan_source"), nullable=False, default=ScanSource.DOOR,
        server_default=ScanSource.DOOR.value)
    #: The uploaded list a check-in of source ``import`` came from.
    attendance_import_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("attendance_imports.id", ondelete="RESTRICT"), index=True)
    #: The answer given, returned again for a repeated ``client_scan_id``.
    response: Mapped[dict | None] = mapped_column(sa.JSON)

    event = relationship("Event")
    ticket = relationship("Ticket")
    user = relationship("User", foreign_keys=[user_id])
    scanner_link = relationship("ScannerLink")
    attendance_import = relationship("AttendanceImport")

    def __init__(self, *, ticket: Ticket | None = None, **values):
        """A scan made as an object (demo data, tests, tools); with ``ticket``, the holder's
        facts are copied from it as the door's own INSERT copies them
        (:func:`holder_facts`)."""
        if ticket is not None:
            values["ticket_id"] = ticket.id
            student, teacher = ticket.student, ticket.teacher
            values.update(holder_facts(
                ticket.student_id, ticket.teacher_id,
                student.organization_id if student is not None else None,
                teacher.organization_id if teacher is not None else None))
        super().__init__(**values)


def holder_facts(student_id: int | None, teacher_id: int | None,
                 student_organization_id: int | None,
                 teacher_organization_id: int | None) -> dict:
    """What a scan records of its ticket's holder (:attr:`Scan.student_id` and the rest): the
    student or the teacher, and the organization they belong to at that moment; all None for
    a parent's ticket or an unknown code. The one derivation, for the door's row and for a
    scan made as an object (:meth:`Scan.__init__`)."""
    organization_id = (student_organization_id if student_id is not None
                       else teacher_organization_id if teacher_id is not None else None)
    return {"student_id": student_id, "teacher_id": teacher_id,
            "organization_id": organization_id}


class WalkIn(db.Model):
    """A student or teacher who came without a ticket, entered at the door by a scanner link's
    volunteer and waiting for the organizer (or the school) to confirm who they are.

    A link never reads or writes a school's roster: until confirmation this row is all there
    is (no ticket, no check-in, nothing in the indicators). Confirming finds or adds the person
    in the roster, gives a ticket and records the check-in at ``arrived_at``; confirming or
    rejecting deletes the row (the audit log keeps the decision)."""

    __tablename__ = "walk_ins"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('student', 'teacher')", name="walk_in_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    last_name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    first_name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    middle_name: Mapped[str | None] = mapped_column(sa.String(100))
    #: Students only: the class as normalized for the school (7Б) and its grade.
    class_name: Mapped[str | None] = mapped_column(sa.String(40))
    grade: Mapped[int | None] = mapped_column(sa.Integer)
    #: The phone's id of the request: a retried walk-in gives the same answer.
    client_scan_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    scanner_link_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("scanner_links.id", ondelete="SET NULL")
    )
    device_label: Mapped[str | None] = mapped_column(sa.String(100))
    gate: Mapped[str | None] = mapped_column(sa.String(100))
    #: When the person came (the check-in time once confirmed).
    arrived_at: Mapped[object] = mapped_column(UTCDateTime, nullable=False, default=now_utc)

    event = relationship("Event")
    organization = relationship("Organization")
    scanner_link = relationship("ScannerLink")

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)
