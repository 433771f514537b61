"""Organizations, baselines and city plans."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from errors import ConflictError, ServiceError
from formats.spreadsheets import Column, ProblemCollector, read_table
from models import Baseline, Category, CityPlan, Organization, OrgKind, db, record_audit
from models.early_rule import EARLY_GRADE_MAX, EARLY_GRADE_MIN, EarlyRule, early_rule_for
from models.organization import in_name_order, organization_name_key
from models.profminimum import LEVEL_HOURS, PROFMINIMUM_GRADES, ProfminimumLevels
from webapp.services.profminimum_levels import save_levels

BASELINE_FIELDS = ("students_total", "students_ovz", "teachers_total", "planned_events",
                   "planned_early_events")
BASELINE_LABELS = {
    "students_total": "Число обучающихся",
    "students_ovz": "Из них с ОВЗ",
    "teachers_total": "Число педагогов",
    "planned_events": "План мероприятий",
    "planned_early_events": "План мероприятий ранней профориентации",
}


def organization_name_taken(name: str, exclude_id: int | None = None) -> bool:
    query = Organization.query.filter(Organization.name_key == organization_name_key(name))
    if exclude_id is not None:
        query = query.filter(Organization.id != exclude_id)
    return db.session.query(query.exists()).scalar()


def external_id_taken(external_id: str | None, exclude_id: int | None = None) -> bool:
    if not external_id:
        return False
    query = Organization.query.filter(Organization.external_id == external_id)
    if exclude_id is not None:
        query = query.filter(Organization.id != exclude_id)
    return db.session.query(query.exists()).scalar()


def save_organization(actor, *, organization: Organization | None = None, name: str,
                      kind: OrgKind, short_name: str | None = None,
                      external_id: str | None = None, **profile) -> Organization:
    """Create or update an organization; names and external ids are unique."""
    name = (name or "").strip()
    if not name:
        raise ServiceError("name_required", "Укажите название организации.", "name")
    exclude = organization.id if organization else None
    if organization_name_taken(name, exclude):
        raise ConflictError("duplicate_organization",
                            "Организация с таким названием уже есть в справочнике.", "name")
    external_id = (external_id or "").strip() or None
    if external_id_taken(external_id, exclude):
        raise ConflictError("duplicate_external_id",
                            "Организация с таким внешним идентификатором уже есть.",
                            "external_id")
    created = organization is None
    if created:
        organization = Organization(active=True)
        db.session.add(organization)
    organization.name = name
    organization.kind = kind
    organization.short_name = (short_name or "").strip() or None
    organization.external_id = external_id
    for key, value in profile.items():
        setattr(organization, key, (value or "").strip() or None if isinstance(value, str)
                else value)
    db.session.flush()
    record_audit(actor, "organization.create" if created else "organization.update", organization,
                 name=name)
    return organization


@dataclass
class BaselineFigures:
    students_total: int
    students_ovz: int
    teachers_total: int
    planned_events: int | None = None
    planned_early_events: int | None = None

    def problems(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        for field in BASELINE_FIELDS:
            value = getattr(self, field)
            if value is None:
                if field in ("students_total", "students_ovz", "teachers_total"):
                    errors[field] = "Обязательное поле."
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                errors[field] = "Должно быть целым числом."
            elif value < 0:
                errors[field] = "Не может быть отрицательным."
        if not errors and self.students_ovz > self.students_total:
            errors["students_ovz"] = "Обучающихся с ОВЗ не может быть больше, чем всех обучающихся."
        return errors


def save_baseline(actor, organization: Organization, year: int, figures: BaselineFigures,
                  *, allow_locked: bool = False) -> Baseline:
    """Create or replace an organization's baseline for a year.

    A locked baseline is refused (409) unless ``allow_locked`` (admins editing the table).
    """
    problems = figures.problems()
    if problems:
        raise ServiceError("invalid_baseline", "Проверьте показатели.", fields=problems)
    if not 2000 <= year <= 2100:
        raise ServiceError("invalid_year", "Неверный учебный год.", "year")
    baseline = Baseline.query.filter_by(organization_id=organization.id, year=year).first()
    if baseline is not None and baseline.locked and not allow_locked:
        raise ConflictError("baseline_locked",
                            "Показатели за этот год заблокированы. Обратитесь к администратору.")
    if baseline is None:
        baseline = Baseline(organization_id=organization.id, year=year, locked=False)
        db.session.add(baseline)
    before = {f: getattr(baseline, f) for f in BASELINE_FIELDS}
    for field in BASELINE_FIELDS:
        setattr(baseline, field, getattr(figures, field))
    db.session.flush()
    after = {f: getattr(baseline, f) for f in BASELINE_FIELDS}
    if before != after:
        record_audit(actor, "baseline.save", baseline, organization_id=organization.id,
                     year=year, values=after)
    return baseline


def set_baseline_lock(actor, organization: Organization, year: int, locked: bool) -> Baseline:
    baseline = Baseline.query.filter_by(organization_id=organization.id, year=year).first()
    if baseline is None:
        baseline = Baseline(organization_id=organization.id, year=year, students_total=0,
                            students_ovz=0, teachers_total=0)
        db.session.add(baseline)
    baseline.locked = locked
    db.session.flush()
    record_audit(actor, "baseline.lock" if locked else "baseline.unlock", baseline, year=year)
    return baseline


def save_city_plan(actor, year: int, planned_events: int | None,
                   planned_early_events: int | None) -> CityPlan:
    for field, value in (("planned_events", planned_events),
                         ("planned_early_events", planned_early_events)):
        if value is not None and value < 0:
            raise ServiceError("invalid_plan", "Не может быть отрицательным.", field)
    plan = db.session.get(CityPlan, year) or CityPlan(year=year)
    plan.planned_events = planned_events
    plan.planned_early_events = planned_early_events
    db.session.add(plan)
    db.session.flush()
    record_audit(actor, "city_plan.save", object_type="city_plans", object_id=year,
                 planned_events=planned_events, planned_early_events=planned_early_events)
    return plan


def set_organization_active(actor, organization: Organization, active: bool) -> Organization:
    """Deactivate or reactivate an organization (its history and baselines stay)."""
    if organization.active == active:
        return organization
    organization.active = active
    db.session.flush()
    record_audit(actor, "organization.activate" if active else "organization.deactivate",
                 organization, name=organization.name)
    return organization


#: Kinds that have baselines, in the order the baseline table shows them.
BASELINE_KINDS = (OrgKind.SCHOOL, OrgKind.PRESCHOOL)


def baseline_organizations(year: int) -> list[Organization]:
    """Schools then kindergartens: the active ones, plus any with a baseline for ``year``."""
    with_baseline = db.select(Baseline.organization_id).where(Baseline.year == year)
    query = Organization.query.filter(
        Organization.kind.in_(BASELINE_KINDS),
        db.or_(Organization.active.is_(True), Organization.id.in_(with_baseline)),
    )
    return in_name_order(query.all(), by_kind=True)  # schools first: OrgKind's own order


def baselines_by_organization(year: int) -> dict[int, Baseline]:
    return {b.organization_id: b for b in Baseline.query.filter_by(year=year)}


@dataclass
class BaselineRow:
    """One row of the admin's baseline table or of an imported file."""

    organization: Organization
    figures: BaselineFigures | None  #: None: the row was left empty (nothing to save)
    label: str = ""  #: how to name the row in an error message


class BaselineTableErrors(ServiceError):
    """Per-row problems of a table save or import: ``rows`` maps organization id → field errors."""

    def __init__(self, rows: dict[int, dict[str, str]], messages: list[str]):
        super().__init__("invalid_baselines", "Показатели не сохранены: исправьте ошибки "
                         "в отмеченных строках. Ничего не изменено.", status=422)
        self.rows = rows
        self.messages = messages


def save_baseline_table(actor, year: int, rows: list[BaselineRow], *,
                        allow_locked: bool = False) -> int:
    """Save many baselines at once: every row or none. Returns how many rows changed.

    Locked baselines are refused unless ``allow_locked``. Empty rows save nothing, but a row
    may not empty an existing baseline.
    """
    if not 2000 <= year <= 2100:
        raise ServiceError("invalid_year", "Неверный учебный год.", "year")
    problems = baseline_table_problems(year, rows, allow_locked=allow_locked)
    if problems is not None:
        raise problems
    return _write_baseline_table(actor, year, rows)


def baseline_table_problems(year: int, rows: list[BaselineRow], *,
                            allow_locked: bool = False) -> BaselineTableErrors | None:
    """Everything wrong with the rows of a baseline table, or None: checked before anything is
    written, so a page can show these with its own field errors in one pass."""
    existing = baselines_by_organization(year)
    errors: dict[int, dict[str, str]] = {}
    messages: list[str] = []
    seen: set[int] = set()
    for row in rows:
        org = row.organization
        label = row.label or org.name
        row_errors: dict[str, str] = {}
        baseline = existing.get(org.id)
        if org.id in seen:
            row_errors["organization"] = "Организация встречается в файле повторно."
        seen.add(org.id)
        if org.kind not in BASELINE_KINDS:
            row_errors["organization"] = ("Базовые показатели ведутся только для школ "
                                          "и детских садов.")
        if row.figures is None:
            if baseline is not None and not row_errors:
                row_errors["students_total"] = ("Нельзя очистить введённые показатели: "
                                                "укажите значения.")
        else:
            row_errors.update(row.figures.problems())
            if baseline is not None and baseline.locked and not allow_locked:
                changed = any(getattr(baseline, f) != getattr(row.figures, f)
                              for f in BASELINE_FIELDS)
                if changed:
                    row_errors.setdefault("locked", "Показатели заблокированы: сначала "
                                          "снимите блокировку.")
        if row_errors:
            errors[org.id] = row_errors
            for field, message in row_errors.items():
                title = BASELINE_LABELS.get(field)
                messages.append(f"{label}: {title + ' — ' if title else ''}{message}")
    return BaselineTableErrors(errors, messages) if errors else None


def _write_baseline_table(actor, year: int, rows: list[BaselineRow]) -> int:
    existing = baselines_by_organization(year)

    # Everything checked: write all rows with one flush (the table holds ~170 organizations).
    written: list[Baseline] = []
    for row in rows:
        if row.figures is None:
            continue
        baseline = existing.get(row.organization.id)
        if baseline is not None and all(getattr(baseline, f) == getattr(row.figures, f)
                                         for f in BASELINE_FIELDS):
            continue
        if baseline is None:
            baseline = Baseline(organization_id=row.organization.id, year=year, locked=False)
            db.session.add(baseline)
        for field in BASELINE_FIELDS:
            setattr(baseline, field, getattr(row.figures, field))
        written.append(baseline)
    db.session.flush()
    for baseline in written:
        record_audit(actor, "baseline.save", baseline, organization_id=baseline.organization_id,
                     year=year, values={f: getattr(baseline, f) for f in BASELINE_FIELDS})
    return len(written)


def lock_all_baselines(actor, year: int, locked: bool = True) -> int:
    """Lock (or unlock) every existing baseline of the year; returns how many changed."""
    rows = Baseline.query.filter(Baseline.year == year, Baseline.locked.is_(not locked)).all()
    for baseline in rows:
        baseline.locked = locked
    db.session.flush()
    if rows:
        record_audit(actor, "baseline.lock_all" if locked else "baseline.unlock_all",
                     object_type="baselines", object_id=year, year=year, count=len(rows))
    return len(rows)


# --- import from XLSX / CSV -------------------------------------------------------------------

def baseline_import_columns():
    return [
        Column("external_id", "Внешний ID", required=False),
        Column("name", "Организация"),
        Column("students_total", "Обучающихся"),
        Column("students_ovz", "С ОВЗ"),
        Column("teachers_total", "Педагогов"),
        Column("planned_events", "План мероприятий", required=False),
        Column("planned_early_events", "План ранних мероприятий", required=False),
        *LEVEL_COLUMNS,
    ]


#: «Профминимум» levels ride along in the baseline spreadsheet (issue #14): hours a year per
#: grade 6–11 (40, 60, 80; empty — the city's level), schools only.
LEVEL_COLUMNS = [Column(f"level_{g}", f"Профминимум {g} кл. (ч)", required=False)
                 for g in PROFMINIMUM_GRADES]


def _level_cells(row, problems: ProblemCollector, org: Organization | None,
                 existing: dict[int, ProfminimumLevels]) -> dict[int, int | None] | None:
    """A row's профминимум levels, or None when its level cells are all empty (nothing to
    change); problems are added per cell."""
    if all(row.get(c.key) is None for c in LEVEL_COLUMNS):
        return None
    values: dict[int, int | None] = {}
    ok = True
    for column, grade in zip(LEVEL_COLUMNS, PROFMINIMUM_GRADES, strict=True):
        if column.key in row.refused:
            ok = False
            continue
        value, problem = _parse_count(row.get(column.key))
        if problem is None and value is not None and value not in LEVEL_HOURS:
            problem = f"«{row.get(column.key)}» — уровень профминимума: 40, 60 или 80"
        if problem:
            problems.add(row.number, f"{problem}.", column=column.header)
            ok = False
        values[grade] = value
    if org is not None and org.kind != OrgKind.SCHOOL:
        problems.add(row.number, f"«{org.name}» — не школа: уровни профминимума задаются "
                     "только школам.", column=LEVEL_COLUMNS[0].header)
        return None
    current = existing.get(org.id) if org is not None else None
    if ok and current is not None and current.locked and current.hours() != values:
        problems.add(row.number, f"уровни профминимума «{org.name}» за этот год заблокированы: "
                     "сначала снимите блокировку.", column=LEVEL_COLUMNS[0].header)
        ok = False
    return values if ok else None


def _parse_count(text: str | None) -> tuple[int | None, str | None]:
    """A spreadsheet cell as a whole number: (value, problem)."""
    if text is None:
        return None, None
    cleaned = text.replace("\u00a0", "").replace(" ", "")
    if cleaned.endswith(".0") or cleaned.endswith(",0"):
        cleaned = cleaned[:-2]
    if cleaned.lstrip("-").isdigit():
        return int(cleaned), None
    return None, f"«{text}» — не целое число"


def import_baselines(actor, year: int, filename: str, data: bytes) -> int:
    """Import baselines from a spreadsheet: every row or none, row-numbered Russian errors.

    Rows are matched to organizations by «Внешний ID» when it is filled, else by the exact
    name (case and spacing ignored). Rows whose figures are all blank are skipped (the
    template lists every organization). Locked baselines are refused. Returns rows changed.
    """

    columns = baseline_import_columns()
    headers = {c.key: c.header for c in columns}
    problems = ProblemCollector()
    table = read_table(filename, data, columns, problems)
    orgs = Organization.query.all()
    by_reference = OrganizationsByReference(orgs)
    existing = baselines_by_organization(year)
    existing_levels = {r.organization_id: r for r in ProfminimumLevels.query.filter(
        ProfminimumLevels.year == year, ProfminimumLevels.organization_id.is_not(None))}
    rows: list[BaselineRow] = []
    level_rows: list[tuple[Organization, dict[int, int | None]]] = []
    first_row_of: dict[int, int] = {}
    for row in table:
        # Every cell of every row is checked, whatever else is wrong in the row: one pass
        # shows all there is to fix, one message per cell.
        org = _baseline_row_organization(row, problems, first_row_of, by_reference)
        levels = _level_cells(row, problems, org, existing_levels)
        if org is not None and levels is not None:
            level_rows.append((org, levels))
        if all(row.get(column) is None for column in BASELINE_FIELDS):
            continue  # a template row left blank: nothing to change for this organization
        values: dict[str, int | None] = {}
        bad_cells = set(row.refused)
        for column in BASELINE_FIELDS:
            if column in row.refused:
                continue
            value, problem = _parse_count(row.get(column))
            if problem:
                problems.add(row.number, f"{problem}.", column=headers[column])
                bad_cells.add(column)
            elif value is None and column in ("students_total", "students_ovz",
                                              "teachers_total"):
                problems.add(row.number, "не заполнено.", column=headers[column])
                bad_cells.add(column)
            values[column] = value
        if bad_cells:
            continue
        figures = BaselineFigures(**values)
        figure_problems = figures.problems()
        for field, message in figure_problems.items():
            problems.add(row.number, message, column=headers[field])
        if org is None or figure_problems:
            continue
        baseline = existing.get(org.id)
        if baseline is not None and baseline.locked and any(
                getattr(baseline, f) != values[f] for f in BASELINE_FIELDS):
            problems.add(row.number, f"показатели «{org.name}» за этот год заблокированы: "
                         "сначала снимите блокировку.")
            continue
        rows.append(BaselineRow(org, figures, label=f"Строка {row.number}"))
    problems.raise_if_any()
    changed = save_baseline_table(actor, year, rows, allow_locked=False)
    for org, levels in level_rows:
        save_levels(actor, org, year, levels)
    record_audit(actor, "baseline.import", object_type="baselines", object_id=year, year=year,
                 filename=filename, rows=len(rows), changed=changed)
    return changed


class OrganizationsByReference:
    """The organizations as an import file names them: by «Внешний ID» when it is filled,
    else by the exact name (case and spacing ignored). Baselines and targets read rows so."""

    def __init__(self, organizations: list[Organization]):
        self.by_external = {o.external_id.strip().lower(): o for o in organizations
                            if o.external_id}
        self.by_name = {o.name_key: o for o in organizations}

    def of_row(self, row, problems: ProblemCollector) -> Organization | None:
        """The organization a row names, or None with the problem added to its cell."""
        external_id, name = row.get("external_id"), row.get("name")
        if external_id:
            org = self.by_external.get(external_id.strip().lower())
            if org is None:
                problems.add(row.number, f"организация с внешним ID «{external_id}» не найдена "
                             "в справочнике.", column="Внешний ID")
            return org
        if name:
            org = self.by_name.get(organization_name_key(name))
            if org is None:
                problems.add(row.number, f"организация «{name}» не найдена в справочнике "
                             "(название должно совпадать точно, или укажите внешний ID).",
                             column="Организация")
            return org
        problems.add(row.number, "не указаны ни внешний ID, ни название организации.",
                     column="Организация")
        return None


def _baseline_row_organization(row, problems: ProblemCollector, first_row_of: dict[int, int],
                               organizations: OrganizationsByReference) -> Organization | None:
    """The organization a row of the baseline file is about, or None (the problem added)."""
    if "external_id" in row.refused or "name" in row.refused:
        return None
    org = organizations.of_row(row, problems)
    if org is None:
        return None
    if org.kind not in BASELINE_KINDS:
        problems.add(row.number, f"«{org.name}» — не школа и не детский сад: базовые "
                     "показатели для неё не ведутся.", column="Организация")
        return None
    if org.id in first_row_of:
        problems.add(row.number, f"«{org.name}» уже указана в строке "
                     f"{first_row_of[org.id]}.", column="Организация")
        return None
    first_row_of[org.id] = row.number
    return org


def baseline_template_rows(year: int) -> list[list]:
    """Every organization of the table with its current figures, ready to fill in."""
    existing = baselines_by_organization(year)
    levels = {r.organization_id: r.hours() for r in ProfminimumLevels.query.filter(
        ProfminimumLevels.year == year, ProfminimumLevels.organization_id.is_not(None))}
    rows = []
    for org in baseline_organizations(year):
        b = existing.get(org.id)
        own = levels.get(org.id, {})
        rows.append([org.external_id or "", org.name,
                     *( [getattr(b, f) for f in BASELINE_FIELDS] if b else [None] * 5),
                     *(own.get(g) for g in PROFMINIMUM_GRADES)])
    return rows


def save_early_rule(actor, year: int, *, preschool: bool, max_grade: int | None,
                    category_codes: list[str]) -> EarlyRule:
    """Set the city's «ранняя профориентация» rule of academic year ``year`` (new events
    only: saved events keep their flag)."""
    if max_grade is not None and not EARLY_GRADE_MIN <= max_grade <= EARLY_GRADE_MAX:
        raise ServiceError("invalid_early_rule",
                           f"Класс — от {EARLY_GRADE_MIN} до {EARLY_GRADE_MAX}.", "max_grade")
    codes = sorted(set(category_codes))
    before = early_rule_for(year)
    known = set(db.session.execute(sa.select(Category.code).where(
        Category.code.in_(codes), Category.active.is_(True))).scalars())
    if any(code not in known for code in codes):
        raise ServiceError("invalid_early_rule", "Неизвестная категория. Выберите категории "
                           "из списка.", "category_codes")
    rule = db.session.get(EarlyRule, year)
    if rule is None:
        rule = EarlyRule(year=year)
        db.session.add(rule)
    rule.preschool = bool(preschool)
    rule.max_grade = max_grade
    rule.category_codes = codes
    db.session.flush()
    if rule.terms != before:
        names = dict(db.session.execute(sa.select(Category.code, Category.name).where(
            Category.code.in_(set(codes) | set(before.category_codes)))).all())
        record_audit(actor, "early_rule.save", object_type="early_rules", object_id=year,
                     year=year, rule=rule.terms.describe(names),
                     rule_before=before.describe(names))
    return rule
