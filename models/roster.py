"""A school's people: students and teachers. Only what the indicators and the door need."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from formats.text import fold
from models.base import UTCDateTime, db, now_utc

_NAMED_OR_ANONYMIZED = (
    "anonymized_at IS NOT NULL OR (last_name IS NOT NULL AND first_name IS NOT NULL)"
)


#: What is shown instead of a name that was removed (anonymization).
REMOVED_NAME = "(данные удалены)"


def person_full_name(last_name, first_name, middle_name=None, anonymized: bool = False) -> str:
    """«Фамилия Имя Отчество» of a student or teacher (also for rows read without the ORM)."""
    if anonymized:
        return REMOVED_NAME
    return " ".join(p for p in (last_name, first_name, middle_name) if p)


def person_sort_key(last_name, first_name, middle_name=None) -> tuple[str, str, str]:
    """Alphabetical order of people: «Ёлкина» among the Е (also for rows read without the ORM)."""
    return (fold(last_name), fold(first_name), fold(middle_name))


def parent_display_name(name: str | None) -> str:
    """A parent types one free-form name; it is gone once removed."""
    return name or REMOVED_NAME


class PersonNames:
    """How a person's name is shown; names may have been removed (anonymization)."""

    @property
    def full_name(self) -> str:
        return person_full_name(self.last_name, self.first_name, self.middle_name,
                                bool(self.anonymized_at))

    @property
    def sort_key(self) -> tuple[str, str, str]:
        return person_sort_key(self.last_name, self.first_name, self.middle_name)

    @property
    def short_name(self) -> str:
        """First name and surname initial: what strangers may see."""
        if self.anonymized_at:
            return REMOVED_NAME
        return f"{self.first_name} {self.last_name[:1]}."


class Student(PersonNames, db.Model):
    __tablename__ = "students"
    __table_args__ = (
        sa.CheckConstraint("grade BETWEEN 0 AND 11", name="grade_range"),
        sa.CheckConstraint(_NAMED_OR_ANONYMIZED, name="named_or_anonymized"),
        sa.UniqueConstraint("organization_id", "external_id", name="uq_students_org_external_id"),
        sa.Index("ix_students_org_class", "organization_id", "class_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=False
    )
    #: NULL only after the name was removed (anonymization of past years).
    last_name: Mapped[str | None] = mapped_column(sa.String(100))
    first_name: Mapped[str | None] = mapped_column(sa.String(100))
    middle_name: Mapped[str | None] = mapped_column(sa.String(100))
    #: Normalized class such as «7Б»; a kindergarten group name for preschoolers.
    class_name: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    #: 0 for preschool, else derived from the class.
    grade: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    #: ОВЗ / disability: seen only by the student's school and admins.
    ovz: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    external_id: Mapped[str | None] = mapped_column(sa.String(64))
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    anonymized_at: Mapped[object | None] = mapped_column(UTCDateTime)
    created_at: Mapped[object] = mapped_column(UTCDateTime, nullable=False, default=now_utc)

    organization = relationship("Organization")



class Teacher(PersonNames, db.Model):
    __tablename__ = "teachers"
    __table_args__ = (sa.CheckConstraint(_NAMED_OR_ANONYMIZED, name="named_or_anonymized"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    last_name: Mapped[str | None] = mapped_column(sa.String(100))
    first_name: Mapped[str | None] = mapped_column(sa.String(100))
    middle_name: Mapped[str | None] = mapped_column(sa.String(100))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    anonymized_at: Mapped[object | None] = mapped_column(UTCDateTime)
    created_at: Mapped[object] = mapped_column(UTCDateTime, nullable=False, default=now_utc)

    organization = relationship("Organization")
