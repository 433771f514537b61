"""«Профминимум» in the API (docs/api.md «Профминимум»): a school's levels per grade and the
hours report, per school or for the city."""

from __future__ import annotations

from flask import jsonify, request

from models import Organization, OrgKind, Role, db
from models.academic_year import current_academic_year
from models.profminimum import PROFMINIMUM_GRADES
from reports.params import query_organization_id, query_year
from reports.profminimum import city_ledger, school_ledger
from webapp.access import can_manage_organization
from webapp.api import bp
from webapp.api.auth import api_login_required, current_caller
from webapp.api.openapi import documented
from webapp.api.validation import json_body
from webapp.api_errors import forbidden, not_found, validation_error
from webapp.services.profminimum_levels import save_levels
from webapp.transaction import unit_of_work

_LEVEL = {"type": "integer", "enum": [40, 60, 80]}
LEVELS_SCHEMA = {
    "type": "object",
    "description": "Часов в год по параллелям 6–11: 40 (базовый), 60 (основной), "
                   "80 (продвинутый); не указанный класс или null — по уровню города "
                   "(без него — 40).",
    "properties": {str(g): {**_LEVEL, "nullable": True} for g in PROFMINIMUM_GRADES},
    "additionalProperties": False,
}
LEVELS_ANSWER = {
    "type": "object",
    "properties": {
        "organization_id": {"type": "integer"}, "year": {"type": "integer"},
        "locked": {"type": "boolean"},
        "levels": {"type": "object", "description": "заданные школой (null — как в городе)",
                   "properties": {str(g): {**_LEVEL, "nullable": True}
                                  for g in PROFMINIMUM_GRADES}},
        "effective": {"type": "object", "description": "действующие цели по классам",
                      "properties": {str(g): _LEVEL for g in PROFMINIMUM_GRADES}},
    },
}
_STATUS = {"type": "string", "enum": ["done", "on_pace", "behind"]}
_COUNTS = {"students": {"type": "integer"}, "done": {"type": "integer"},
           "on_pace": {"type": "integer"}, "behind": {"type": "integer"}}
_COUNTS_OBJECT = {"type": "object", "properties": _COUNTS,
                  "required": ["students", "done", "on_pace", "behind"]}
REPORT_SCHEMA = {
    "type": "object",
    "description": "С organization_id — школа: классы и обучающиеся 6–11 классов; без него "
                   "(администратор) — город и школы.",
    "properties": {
        "year": {"type": "integer"}, "as_of": {"type": "string", "format": "date"},
        "pace_share": {"type": "number", "description": "доля учебного года (01.09–31.05), "
                                                       "прошедшая к as_of"},
        "organization_id": {"type": "integer"},
        "locked": {"type": "boolean"},
        "levels": {"type": "object", "properties": {str(g): _LEVEL
                                                     for g in PROFMINIMUM_GRADES}},
        "classes": {"type": "array", "items": {"type": "object", "properties": {
            "class_name": {"type": "string"}, "grade": {"type": "integer"},
            "target_hours": {"type": "integer"}, **_COUNTS},
            "required": ["class_name", "target_hours", "students", "done", "on_pace",
                         "behind"]}},
        "students": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "integer"}, "name": {"type": "string"},
            "class_name": {"type": "string"}, "grade": {"type": "integer"},
            "hours": {"type": "number"}, "events": {"type": "integer"},
            "target_hours": {"type": "integer"}, "status": _STATUS},
            "required": ["id", "class_name", "hours", "target_hours", "status"]}},
        "city": {"type": "object", "properties": {**_COUNTS, "ovz": _COUNTS_OBJECT,
                                                  "grades": {"type": "object"}}},
        "schools": {"type": "array", "items": {"type": "object", "properties": {
            "organization_id": {"type": "integer"}, "name": {"type": "string"}, **_COUNTS,
            "ovz": _COUNTS_OBJECT, "grades": {"type": "object"}},
            "required": ["organization_id", "students", "done", "on_pace", "behind"]}},
    },
}
_PARAMETERS = [
    {"name": "year", "in": "query", "schema": {"type": "integer"},
     "description": "Учебный год по году начала (2025 = 01.09.2025–31.08.2026); по умолчанию "
                    "текущий."},
    {"name": "organization_id", "in": "query", "schema": {"type": "integer"},
     "description": "Школа (координатор — только своя; без параметра координатор получает "
                    "свою школу, администратор — город)."},
]


def _school(org_id: int) -> Organization:
    org = db.session.get(Organization, org_id)
    if org is None or org.kind != OrgKind.SCHOOL:
        raise not_found("Школа не найдена.")
    return org


def _year_and_organization() -> tuple[int, int | None]:
    errors: dict[str, str] = {}
    year = query_year(request.args, errors)
    organization_id = query_organization_id(request.args, errors)
    if errors:
        raise validation_error(errors)
    return (year if year is not None else current_academic_year()), organization_id


@bp.put("/organizations/<int:org_id>/profminimum-levels/<int:year>")
@documented("Уровни профминимума школы за учебный год", tags=["Профминимум"],
            request=LEVELS_SCHEMA, response=LEVELS_ANSWER,
            description="Профкоординатор своей школы (пока администратор не заблокировал — "
                        "иначе 409 profminimum_levels_locked) или администратор (и при "
                        "блокировке). Заменяет все уровни года.")
@api_login_required(Role.ADMIN, Role.COORDINATOR)
def put_profminimum_levels(org_id: int, year: int):
    user = current_caller().user
    org = db.session.get(Organization, org_id)
    if org is None:
        raise not_found("Организация не найдена.")
    if not can_manage_organization(user, org.id):
        raise forbidden("Можно менять уровни только своей школы.")
    if org.kind != OrgKind.SCHOOL:
        raise not_found("Школа не найдена.")
    data = json_body()
    values, errors = {}, {}
    for key, value in data.items():
        if not (isinstance(key, str) and key.isdigit() and int(key) in PROFMINIMUM_GRADES):
            errors[str(key)[:20]] = "Ключи — классы от 6 до 11."
        elif value is not None and (isinstance(value, bool) or value not in (40, 60, 80)):
            errors[key] = "Уровень — 40, 60 или 80 часов (или null — как в городе)."
        else:
            values[int(key)] = value
    if errors:
        raise validation_error(errors)
    with unit_of_work():
        row = save_levels(user, org, year, values, allow_locked=user.role == Role.ADMIN)
    ledger_targets = school_ledger(org, year).targets
    return jsonify({"organization_id": org.id, "year": year, "locked": row.locked,
                    "levels": {str(g): h for g, h in row.hours().items()},
                    "effective": {str(g): ledger_targets[g] for g in PROFMINIMUM_GRADES}})


@bp.get("/reports/profminimum")
@documented("Часы профминимума: школа по классам и обучающимся или город по школам",
            tags=["Профминимум"], response=REPORT_SCHEMA, parameters=_PARAMETERS,
            description="Часы обучающегося — сумма академических часов мероприятий года для "
                        "обучающихся, на которых он отмечен (каждое один раз, из любого "
                        "источника отметки; отменённые отметки и отозванные списки не "
                        "считаются). done — часы ≥ цели; on_pace — часы ≥ цель × доля года "
                        "(линейно 01.09–31.05); иначе behind. Организатор — 403; "
                        "координатор чужой школы — 403.")
@api_login_required(Role.ADMIN, Role.COORDINATOR)
def profminimum_report():
    user = current_caller().user
    year, org_id = _year_and_organization()
    if user.role != Role.ADMIN:
        if user.organization_id is None or org_id not in (None, user.organization_id):
            raise forbidden("Можно смотреть профминимум только своей школы.")
        org_id = user.organization_id
    if org_id is None:
        return jsonify(city_ledger(year).to_json())
    return jsonify(school_ledger(_school(org_id), year).to_json())
