"""Organizations and their yearly baselines."""

from __future__ import annotations

from flask import jsonify

from models import Organization, OrgKind, Role, db
from webapp.access import can_manage_organization
from webapp.api import bp
from webapp.api.auth import api_login_required, current_caller
from webapp.api.openapi import documented
from webapp.api.validation import Fields, json_body
from webapp.api_errors import forbidden, not_found
from webapp.services.directory import BaselineFigures, save_baseline, save_organization
from webapp.transaction import unit_of_work

ORG_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "kind": {"type": "string", "enum": [k.value for k in OrgKind]},
        "short_name": {"type": "string"},
        "external_id": {"type": "string"},
    },
    "required": ["name", "kind"],
}
BASELINE_SCHEMA = {
    "type": "object",
    "properties": {
        name: {"type": "integer", "minimum": 0}
        for name in ("students_total", "students_ovz", "teachers_total", "planned_events",
                     "planned_early_events")
    },
    "required": ["students_total", "students_ovz", "teachers_total"],
}


def organization_json(org: Organization) -> dict:
    return {"id": org.id, "name": org.name, "kind": org.kind.value, "short_name": org.short_name,
            "external_id": org.external_id, "active": org.active}


@bp.post("/organizations")
@documented("Создать организацию", tags=["Справочник"], request=ORG_SCHEMA,
            response={"type": "object"}, status=201)
@api_login_required(Role.ADMIN)
def create_organization():
    fields = Fields(json_body())
    name = fields.string("name")
    kind_value = fields.string("kind")
    short_name = fields.string("short_name", required=False, max_length=120)
    external_id = fields.string("external_id", required=False, max_length=64)
    kind = None
    if kind_value is not None:
        try:
            kind = OrgKind(kind_value)
        except ValueError:
            fields.error("kind", "Допустимые значения: " + ", ".join(k.value for k in OrgKind))
    fields.raise_if_any()
    with unit_of_work():
        org = save_organization(current_caller().user, name=name, kind=kind,
                                short_name=short_name, external_id=external_id)
    return jsonify(organization_json(org)), 201


@bp.put("/organizations/<int:org_id>/baselines/<int:year>")
@documented("Записать базовые показатели организации за учебный год", tags=["Справочник"],
            request=BASELINE_SCHEMA, response={"type": "object"})
@api_login_required(Role.ADMIN, Role.COORDINATOR)
def put_baseline(org_id: int, year: int):
    user = current_caller().user
    org = db.session.get(Organization, org_id)
    if org is None:
        raise not_found("Организация не найдена.")
    if not can_manage_organization(user, org.id):
        raise forbidden("Можно менять только показатели своей организации.")
    fields = Fields(json_body())
    figures = BaselineFigures(
        students_total=fields.integer("students_total", minimum=0),
        students_ovz=fields.integer("students_ovz", minimum=0),
        teachers_total=fields.integer("teachers_total", minimum=0),
        planned_events=fields.integer("planned_events", required=False, minimum=0),
        planned_early_events=fields.integer("planned_early_events", required=False, minimum=0),
    )
    fields.raise_if_any()
    with unit_of_work():
        baseline = save_baseline(user, org, year, figures)
    return jsonify({
        "organization_id": org.id, "year": year, "locked": baseline.locked,
        "students_total": baseline.students_total, "students_ovz": baseline.students_ovz,
        "teachers_total": baseline.teachers_total, "planned_events": baseline.planned_events,
        "planned_early_events": baseline.planned_early_events,
    })
