"""Organizations, baselines and city plans."""

from __future__ import annotations

from dataclasses import dataclass

from models import Baseline, CityPlan, Organization, OrgKind, db, record_audit
from models.errors import ConflictError, ServiceError
from models.organization import organization_name_key

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
