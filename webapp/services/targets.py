"""The city's and the schools' targets for the nine indicators (``models.target``): saving a
table of them (page, API, spreadsheet import), locking, the import template."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import sqlalchemy as sa

from errors import ConflictError, FieldErrors, ServiceError
from formats.spreadsheets import Column, ProblemCollector, read_table
from models import TARGET_KEYS, Organization, OrgKind, Target, db, record_audit
from models.organization import in_name_order, organization_name_key
from webapp.services.directory import OrganizationsByReference

TARGET_LABELS = {
    "students": "1. Обучающиеся",
    "students_early": "2. Ранняя профориентация",
    "students_ovz": "3. Обучающиеся с ОВЗ",
    "schools": "4. Школы",
    "schools_early": "5. Школы (ранняя)",
    "teachers": "6. Педагоги",
    "teachers_early": "7. Педагоги (ранняя)",
    "events": "8. Мероприятия",
    "events_early": "9. Мероприятия (ранние)",
}
#: What the city's row is called in the table and the import file.
CITY_LABEL = "Город (все школы)"
_TENTH = Decimal("0.1")
_PERCENT_TEXT = re.compile(r"^\d{1,3}([.,]\d+)?$")

#: organization id (None: the city) → {indicator key: percent or None (no goal)}.
TargetTable = dict[int | None, dict[str, Decimal | None]]


def target_rows(year: int) -> dict[int | None, Target]:
    rows = db.session.execute(sa.select(Target).where(Target.year == year)).scalars()
    return {row.organization_id: row for row in rows}


def target_schools() -> list[Organization]:
    """The schools a target may be set for: active schools and those that already have one."""
    with_targets = sa.select(Target.organization_id).where(Target.organization_id.is_not(None))
    orgs = Organization.query.filter(
        Organization.kind == OrgKind.SCHOOL,
        sa.or_(Organization.active.is_(True), Organization.id.in_(with_targets))).all()
    return in_name_order(orgs)


def percent_value(value) -> tuple[Decimal | None, str | None]:
    """A target given as a number (API) or text (a form, a spreadsheet): (value, problem).
    Rounded half up to one decimal; 0–100."""
    if value is None:
        return None, None
    if isinstance(value, bool):
        return None, "Ожидается число от 0 до 100."
    if isinstance(value, str):
        text = value.replace("\u00a0", "").replace(" ", "").removesuffix("%")
        if not text:
            return None, None
        if not _PERCENT_TEXT.match(text):
            return None, "Ожидается число от 0 до 100 (например, 60 или 62,5)."
        value = text.replace(",", ".")
    if not isinstance(value, int | float | str | Decimal):
        return None, "Ожидается число от 0 до 100."
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None, "Ожидается число от 0 до 100."
    if not number.is_finite() or number < 0 or number > 100:
        return None, "Цель — от 0 до 100 %."
    return number.quantize(_TENTH, rounding=ROUND_HALF_UP), None


def _check_year(year: int) -> None:
    if not 2000 <= year <= 2100:
        raise ServiceError("invalid_year", "Неверный учебный год.", "year")


def save_targets(actor, year: int, table: TargetTable, *, replace: bool = False) -> int:
    """Set the targets given in ``table`` (every row or none); returns how many rows changed.

    Only the keys given change (``None`` removes a goal) unless ``replace``: then each given row
    is set exactly (keys left out have no goal). A locked row that would change is refused (409);
    an organization that is not a school is refused (422)."""
    _check_year(year)
    existing = target_rows(year)
    problems = FieldErrors()
    locked: list[str] = []
    for org_id, values in table.items():
        prefix = "city" if org_id is None else f"schools.{org_id}"
        if org_id is not None:
            org = db.session.get(Organization, org_id)
            if org is None or org.kind != OrgKind.SCHOOL:
                problems.add(prefix, "Нет такой школы: цели ставятся городу и школам.")
                continue
        for key in values:
            if key not in TARGET_KEYS:
                problems.add(f"{prefix}.{key}", "Неизвестный показатель. Допустимые: "
                             + ", ".join(TARGET_KEYS) + ".")
        row = existing.get(org_id)
        if row is not None and row.locked and _changes(row, values, replace):
            locked.append(CITY_LABEL if org_id is None else row.organization.name)
    problems.raise_if_any("Проверьте цели: " + "; ".join(problems.fields.values()))
    if locked:
        raise ConflictError("targets_locked", "Цели заблокированы: " + ", ".join(locked)
                            + ". Сначала снимите блокировку.", "year")
    changed = 0
    for org_id, values in table.items():
        row = existing.get(org_id)
        if not _changes(row, values, replace):
            continue
        if row is None:
            row = Target(year=year, organization_id=org_id, locked=False)
            db.session.add(row)
        for key in TARGET_KEYS:
            if key in values:
                setattr(row, key, values[key])
            elif replace:
                setattr(row, key, None)
        changed += 1
    db.session.flush()
    if changed:
        record_audit(actor, "target.save", object_type="targets", object_id=year, year=year,
                     count=changed)
    return changed


def _changes(row: Target | None, values: dict, replace: bool) -> bool:
    for key in TARGET_KEYS:
        current = getattr(row, key) if row is not None else None
        if key in values:
            if values[key] != current:
                return True
        elif replace and current is not None:
            return True
    return False


def set_target_lock(actor, year: int, organization_id: int | None, locked: bool) -> Target:
    _check_year(year)
    row = target_rows(year).get(organization_id)
    if row is None:
        row = Target(year=year, organization_id=organization_id)
        db.session.add(row)
    row.locked = locked
    db.session.flush()
    record_audit(actor, "target.lock" if locked else "target.unlock", object_type="targets",
                 object_id=year, year=year,
                 name=CITY_LABEL if organization_id is None else row.organization.name)
    return row


def lock_all_targets(actor, year: int, locked: bool = True) -> int:
    """Lock (or unlock) every target row of the year; returns how many changed."""
    _check_year(year)
    rows = [r for r in target_rows(year).values() if r.locked != locked]
    for row in rows:
        row.locked = locked
    db.session.flush()
    if rows:
        record_audit(actor, "target.lock_all" if locked else "target.unlock_all",
                     object_type="targets", object_id=year, year=year, count=len(rows))
    return len(rows)


# --- import from XLSX / CSV, the template ----------------------------------------------------

def target_import_columns() -> list[Column]:
    return [Column("external_id", "Внешний ID", required=False),
            Column("name", "Организация"),
            *(Column(key, TARGET_LABELS[key], required=False) for key in TARGET_KEYS)]


def target_template_rows(year: int) -> list[list]:
    """The city's row, then every school, with the year's targets (blank: none)."""
    existing = target_rows(year)

    def values(org_id):
        row = existing.get(org_id)
        return [getattr(row, key) if row is not None else None for key in TARGET_KEYS]
    rows = [["", CITY_LABEL, *values(None)]]
    for org in target_schools():
        rows.append([org.external_id or "", org.name, *values(org.id)])
    return rows


def import_targets(actor, year: int, filename: str, data: bytes) -> int:
    """Targets from a spreadsheet shaped like the template: every row or none, one message per
    cell. A row sets its organization's targets exactly (a blank cell: no goal of its own; the
    city's row: no goal). Rows are matched by «Внешний ID», else by the exact name; the city's
    row by its name «Город (все школы)»."""
    _check_year(year)
    columns = target_import_columns()
    headers = {c.key: c.header for c in columns}
    problems = ProblemCollector()
    table = read_table(filename, data, columns, problems)
    orgs = Organization.query.all()
    by_reference = OrganizationsByReference(orgs)
    existing = target_rows(year)
    result: TargetTable = {}
    first_row_of: dict[int | None, int] = {}
    for row in table:
        if "external_id" in row.refused or "name" in row.refused:
            continue
        external_id, name = row.get("external_id"), row.get("name")
        org_id: int | None = None
        found = True
        if not external_id and name and organization_name_key(name) == \
                organization_name_key(CITY_LABEL):
            org_id = None
        else:
            org = by_reference.of_row(row, problems)
            found = org is not None
            org_id = org.id if org is not None else None
        if found and org_id is not None and by_id(orgs, org_id).kind != OrgKind.SCHOOL:
            problems.add(row.number, f"«{by_id(orgs, org_id).name}» — не школа: цели ставятся "
                         "городу и школам.", column=headers["name"])
            found = False
        if found and org_id in first_row_of:
            problems.add(row.number, f"эта организация уже указана в строке "
                         f"{first_row_of[org_id]}.", column=headers["name"])
            found = False
        values: dict[str, Decimal | None] = {}
        for key in TARGET_KEYS:
            if key in row.refused:
                continue
            value, problem = percent_value(row.get(key))
            if problem:
                problems.add(row.number, problem, column=headers[key])
            values[key] = value
        if not found:
            continue
        first_row_of[org_id] = row.number
        current = existing.get(org_id)
        if current is not None and current.locked and _changes(current, values, True):
            label = CITY_LABEL if org_id is None else by_id(orgs, org_id).name
            problems.add(row.number, f"цели «{label}» за этот год заблокированы: сначала "
                         "снимите блокировку.")
            continue
        result[org_id] = values
    problems.raise_if_any()
    changed = save_targets(actor, year, result, replace=True)
    record_audit(actor, "target.import", object_type="targets", object_id=year, year=year,
                 filename=filename, rows=len(result), changed=changed)
    return changed


def by_id(orgs: list[Organization], org_id: int) -> Organization:
    return next(o for o in orgs if o.id == org_id)
