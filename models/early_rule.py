"""The city's «ранняя профориентация» rule: which new events are early by default.

An admin sets it per academic year (``early_rules``, one row per year). A year without a row
uses :data:`DEFAULT_EARLY_RULE` (preschoolers and grades up to 4, no category). The rule only
proposes the flag when an event is created without one; an event keeps the flag it was saved
with, whatever the rule becomes later.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import UTCDateTime, db, now_utc
from models.event import Audience, Category

#: Grade bounds the rule may name (the last grade of an event's audience, inclusive).
EARLY_GRADE_MIN, EARLY_GRADE_MAX = 1, 11


class EarlyRule(db.Model):
    """The rule of one academic year (named by the year it starts in)."""

    __tablename__ = "early_rules"
    __table_args__ = (
        sa.CheckConstraint(
            "max_grade IS NULL OR (max_grade >= 1 AND max_grade <= 11)",
            name="max_grade_in_range"),
    )

    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    #: Events for preschoolers are early.
    preschool: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    #: Events for students whose last grade is at most this are early; None: none by grade.
    max_grade: Mapped[int | None] = mapped_column(sa.Integer)
    #: Category codes whose events are early whatever the audience (a sorted JSON list).
    category_codes: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    updated_at: Mapped[object] = mapped_column(
        UTCDateTime, nullable=False, default=now_utc, onupdate=now_utc)

    @property
    def terms(self) -> EarlyRuleTerms:
        return EarlyRuleTerms(self.preschool, self.max_grade, tuple(self.category_codes or ()))


@dataclass(frozen=True)
class EarlyRuleTerms:
    """What makes an event early by default: its audience (preschoolers; students up to a
    grade) or its category — any one of them is enough."""

    preschool: bool
    max_grade: int | None
    category_codes: tuple[str, ...] = ()

    def applies(self, audience: Audience | None, grades_max: int | None,
                category_code: str | None) -> bool:
        if category_code is not None and category_code in self.category_codes:
            return True
        if audience == Audience.PRESCHOOL:
            return self.preschool
        return (audience == Audience.STUDENTS and self.max_grade is not None
                and grades_max is not None and grades_max <= self.max_grade)

    def describe(self, category_names: dict[str, str] | None = None) -> str:
        """The rule as one Russian sentence part: «дошкольники; 1–4 классы; категории: …»."""
        names = category_names or {}
        parts = []
        if self.preschool:
            parts.append("дошкольники")
        if self.max_grade is not None:
            parts.append("1 класс" if self.max_grade == 1 else f"1–{self.max_grade} классы")
        if self.category_codes:
            titles = sorted(_quoted(names.get(code, code)) for code in self.category_codes)
            parts.append(("категория " if len(titles) == 1 else "категории ") +
                         ", ".join(titles))
        return "; ".join(parts) if parts else "ни одна аудитория и ни одна категория"


def _quoted(title: str) -> str:
    return title if "«" in title else f"«{title}»"


#: Today's rule, and the rule of every year an admin has not set.
DEFAULT_EARLY_RULE = EarlyRuleTerms(preschool=True, max_grade=4)


def early_rule_for(year: int) -> EarlyRuleTerms:
    """The rule in force for events of academic year ``year``."""
    row = db.session.get(EarlyRule, year)
    return DEFAULT_EARLY_RULE if row is None else row.terms


def early_rule_text(year: int) -> str:
    """«дошкольники; 1–4 классы» — the rule of ``year`` with category names, for reports."""
    terms = early_rule_for(year)
    names = {}
    if terms.category_codes:
        names = dict(db.session.execute(sa.select(Category.code, Category.name).where(
            Category.code.in_(terms.category_codes))).all())
    return terms.describe(names)
