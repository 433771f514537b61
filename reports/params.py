"""Reading a report's query string (API, pages and spreadsheets share it).

``year=2025`` or ``from=YYYY-MM-DD&to=YYYY-MM-DD`` (default: the current academic year);
``organization_id``; narrowing by ``category`` (a code, repeated or comma-separated),
``organizer_id`` and ``roadmap_section`` (1–7).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from formats.input_checks import date_range_error, int_range_error
from models import Category, Organization, Role, db
from models.academic_year import (
    Period,
    academic_year_period,
    academic_year_title,
    current_academic_year,
)
from reports.indicators import ReportFilters, normalize_filters

#: A range longer than this is refused (a report over decades helps nobody and costs a lot).
MAX_RANGE_DAYS = 366 * 5
ROADMAP_SECTIONS = {
    1: "Организационные мероприятия",
    2: "Взаимодействие с СПО, чемпионаты «Профессионалы» и «Абилимпикс»",
    3: "Взаимодействие с вузами",
    4: "Взаимодействие с партнёрами",
    5: "Ресурсы ЦПК «Планирование карьеры»",
    6: "Мониторинг",
    7: "Работа с профкоординаторами",
}


class ReportParamsError(Exception):
    def __init__(self, fields: dict[str, str]):
        super().__init__("; ".join(fields.values()))
        self.fields = fields


@dataclass
class ReportQuery:
    period: Period
    #: The academic year when the period is one, else None.
    year: int | None
    organization_id: int | None = None
    filters: ReportFilters = field(default_factory=ReportFilters)

    @property
    def period_title(self) -> str:
        if self.year is not None:
            return f"{academic_year_title(self.year)} учебный год"
        return (f"{self.period.first_day:%d.%m.%Y} – {self.period.last_day:%d.%m.%Y}")

    def kwargs(self) -> dict:
        """Keyword arguments for ``compute_indicators`` (without organization_id)."""
        return {"category_codes": self.filters.category_codes,
                "organizer_id": self.filters.organizer_id,
                "roadmap_section": self.filters.roadmap_section,
                "verified_only": self.filters.verified_only}

    def query_args(self, **overrides) -> dict:
        """The query string that reproduces this report (for links and exports)."""
        args: dict = {}
        if self.year is not None:
            args["year"] = self.year
        else:
            args["from"] = self.period.first_day.isoformat()
            args["to"] = self.period.last_day.isoformat()
        if self.organization_id is not None:
            args["organization_id"] = self.organization_id
        if self.filters.category_codes:
            args["category"] = ",".join(self.filters.category_codes)
        if self.filters.organizer_id is not None:
            args["organizer_id"] = self.filters.organizer_id
        if self.filters.roadmap_section is not None:
            args["roadmap_section"] = self.filters.roadmap_section
        if self.filters.verified_only:
            args["verified_only"] = "true"
        args.update(overrides)
        return {k: v for k, v in args.items() if v is not None and v != ""}


def query_integer(args, name: str, errors: dict, message: str) -> int | None:
    """An optional whole number among the query's ``args``: None when absent; a message in
    ``errors[name]`` when it is not a number or beyond the 32-bit columns."""
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        errors[name] = message
        return None
    if int_range_error(value):
        errors[name] = message
        return None
    return value


def _date(args, name: str, errors: dict) -> date | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        errors[name] = "Дата в формате ГГГГ-ММ-ДД, например 2025-09-01."
        return None
    out_of_range = date_range_error(value)
    if out_of_range:
        errors[name] = out_of_range
        return None
    return value


def query_year(args, errors: dict) -> int | None:
    """The optional ``year`` (an academic year, named by the year it starts in, 2000–2100)."""
    year = query_integer(args, "year", errors, "Учебный год — число, например 2025.")
    if year is not None and not 2000 <= year <= 2100:
        errors["year"] = "Учебный год — от 2000 до 2100."
        return None
    return year


def query_organization_id(args, errors: dict) -> int | None:
    """The optional ``organization_id``: a number above zero (whether it exists is the
    caller's question)."""
    value = query_integer(args, "organization_id", errors, "Номер организации — число.")
    if value is not None and value < 1:
        errors["organization_id"] = "Номер организации — число больше нуля."
        return None
    return value


def parse_report_args(args) -> ReportQuery:
    """Parse and check; raises ReportParamsError with a Russian message per field."""
    errors: dict[str, str] = {}
    year = query_year(args, errors)
    first, last = _date(args, "from", errors), _date(args, "to", errors)
    if year is not None and (first or last):
        errors["year"] = "Укажите либо учебный год, либо даты «с» и «по», но не всё сразу."
    elif (first is None) != (last is None) and "from" not in errors and "to" not in errors:
        errors["from" if first is None else "to"] = "Укажите обе даты периода: «с» и «по»."
    elif first and last:
        if last < first:
            errors["to"] = "Дата окончания раньше даты начала."
        elif (last - first).days > MAX_RANGE_DAYS:
            errors["to"] = "Период не длиннее пяти лет."

    organization_id = query_organization_id(args, errors)
    if organization_id is not None and "organization_id" not in errors \
            and db.session.get(Organization, organization_id) is None:
        errors["organization_id"] = "Организация не найдена."
    organizer_id = query_integer(args, "organizer_id", errors, "Номер организатора — число.")
    if organizer_id is not None and "organizer_id" not in errors \
            and db.session.get(Organization, organizer_id) is None:
        errors["organizer_id"] = "Организатор не найден."
    section = query_integer(args, "roadmap_section", errors,
                            "Раздел дорожной карты — число от 1 до 7.")
    if section is not None and section not in ROADMAP_SECTIONS:
        errors["roadmap_section"] = "Раздел дорожной карты — число от 1 до 7."
    codes: list[str] = []
    for value in args.getlist("category") if hasattr(args, "getlist") else [args.get("category")]:
        codes.extend(c.strip() for c in (value or "").split(",") if c.strip())
    if codes:
        known = {c for (c,) in db.session.query(Category.code).filter(Category.code.in_(codes))}
        unknown = sorted(set(codes) - known)
        if unknown:
            errors["category"] = "Неизвестная категория: " + ", ".join(unknown) + "."
    verified_only = False
    raw_verified = (args.get("verified_only") or "").strip().lower()
    if raw_verified in ("true", "1", "yes", "on"):
        verified_only = True
    elif raw_verified not in ("", "false", "0", "no", "off"):
        errors["verified_only"] = "Только подтверждённое на входе: true или false."
    if errors:
        raise ReportParamsError(errors)

    if first and last:
        period, year_value = Period(first, last), None
        if period == academic_year_period(first.year if first.month >= 9 else first.year - 1):
            year_value = first.year if first.month >= 9 else first.year - 1
    else:
        year_value = year if year is not None else current_academic_year()
        period = academic_year_period(year_value)
    return ReportQuery(period, year_value, organization_id,
                       normalize_filters(codes, organizer_id, section, verified_only))


def organization_scope(user, query: ReportQuery) -> int | None:
    """The one organization a user may see rows of (None: all). Raises PermissionError.

    Admins see every organization; a coordinator only their own (plus the city totals, which
    every report carries); organizers see no school's indicators.
    """
    if user.role == Role.ADMIN:
        return query.organization_id
    if user.role == Role.COORDINATOR and user.organization_id is not None:
        if query.organization_id not in (None, user.organization_id):
            raise PermissionError("Можно смотреть показатели только своей организации.")
        return user.organization_id
    raise PermissionError("Показатели доступны администраторам и профкоординаторам.")
