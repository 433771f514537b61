"""«Профминимум» levels (issue #14): a school's target hours per grade 6–11 for an academic
year, the city's default, and the admin's lock (as a locked baseline: the coordinator may not
change them, the admin may)."""

from __future__ import annotations

from errors import ConflictError, ServiceError
from models import Organization, OrgKind, ProfminimumFormat, ProfminimumLevels, db, record_audit
from models.profminimum import LEVEL_HOURS, PROFMINIMUM_GRADES


def level_problems(values: dict[int, int | None]) -> dict[str, str]:
    """Field errors (``"6"`` … ``"11"``) of target hours per grade: each 40, 60 or 80 or empty."""
    problems = {}
    for grade, hours in values.items():
        if grade not in PROFMINIMUM_GRADES:
            problems[str(grade)] = "Профминимум — для 6–11 классов."
        elif hours is not None and hours not in LEVEL_HOURS:
            problems[str(grade)] = "Уровень — 40, 60 или 80 часов."
    return problems


def _row(organization: Organization | None, year: int) -> ProfminimumLevels | None:
    query = ProfminimumLevels.query.filter_by(year=year)
    if organization is None:
        return query.filter(ProfminimumLevels.organization_id.is_(None)).one_or_none()
    return query.filter_by(organization_id=organization.id).one_or_none()


def _check(organization: Organization | None, year: int) -> None:
    if not 2000 <= year <= 2100:
        raise ServiceError("invalid_year", "Неверный учебный год.", "year")
    if organization is not None and organization.kind != OrgKind.SCHOOL:
        raise ServiceError("not_a_school", "Уровни профминимума задаются только школам.",
                           "organization_id")


def save_levels(actor, organization: Organization | None, year: int,
                values: dict[int, int | None], *, allow_locked: bool = False
                ) -> ProfminimumLevels:
    """Set the levels of a school (``organization``) or the city's default (``None``) for a
    year: every grade 6–11 given (None: follow the city's default, else 40). A locked row is
    refused (409) unless ``allow_locked`` (admins)."""
    _check(organization, year)
    problems = level_problems(values)
    if problems:
        raise ServiceError("invalid_levels", "Проверьте уровни профминимума.", fields=problems)
    row = _row(organization, year)
    if row is not None and row.locked and not allow_locked:
        raise ConflictError("profminimum_levels_locked",
                            "Уровни профминимума за этот год заблокированы. Обратитесь "
                            "к администратору.")
    if row is None:
        row = ProfminimumLevels(organization_id=organization.id if organization else None,
                                year=year, locked=False)
        db.session.add(row)
    before = row.hours()
    row.set_hours({g: values.get(g) for g in PROFMINIMUM_GRADES})
    db.session.flush()
    if row.hours() != before:
        record_audit(actor, "profminimum_levels.save", row,
                     organization_id=organization.id if organization else None, year=year,
                     levels={str(g): h for g, h in row.hours().items()})
    return row


def set_levels_lock(actor, organization: Organization, year: int, locked: bool
                    ) -> ProfminimumLevels:
    _check(organization, year)
    row = _row(organization, year)
    if row is None:
        row = ProfminimumLevels(organization_id=organization.id, year=year)
        db.session.add(row)
    row.locked = locked
    db.session.flush()
    record_audit(actor, "profminimum_levels.lock" if locked else "profminimum_levels.unlock",
                 row, organization_id=organization.id, year=year)
    return row


def add_format(actor, name: str) -> ProfminimumFormat:
    """An admin adds a «формат профминимума» (code ``custom_N``; listed after the standard
    eight)."""
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ServiceError("invalid_format", "Название формата — от 1 до 200 символов.", "name")
    existing = ProfminimumFormat.query.all()
    if any(f.name.casefold() == name.casefold() for f in existing):
        raise ServiceError("duplicate_format", "Такой формат уже есть.", "name")
    codes = {f.code for f in existing}
    n = 1
    while f"custom_{n}" in codes:
        n += 1
    added = ProfminimumFormat(code=f"custom_{n}", name=name, active=True,
                              sort_order=1000 + 10 * n)
    db.session.add(added)
    db.session.flush()
    record_audit(actor, "profminimum_format.create", added, name=name, code=added.code)
    return added
