"""``GET /api/v1/reports/indicators`` (docs/api.md «Indicators»)."""

from __future__ import annotations

from flask import jsonify, request

from models import Role
from reports.indicators import INDICATOR_KEYS, compute_indicators
from reports.params import ReportParamsError, organization_scope, parse_report_args
from webapp.api import bp
from webapp.api.auth import api_login_required, current_caller
from webapp.api.openapi import documented
from webapp.api_errors import forbidden, validation_error

_FIGURE = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"},
                                            "percent": {"type": ["number", "null"]}},
           "required": ["a", "b", "percent"]}
_PARENTS = {"type": "object", "description": "Родители, пришедшие на мероприятия (не показатель), "
                                            "каждый человек один раз: указавшие школой ребёнка "
                                            "эту организацию (city — любую школу, preschools — "
                                            "любой детский сад).",
            "properties": {"attended": {"type": "integer", "minimum": 0}},
            "required": ["attended"]}
_BLOCK = {"type": "object", "properties": {**{k: _FIGURE for k in INDICATOR_KEYS},
                                           "parents": _PARENTS},
          "required": [*INDICATOR_KEYS, "parents"]}
_KIND = {"type": "string", "enum": ["school", "preschool"]}
INDICATORS_SCHEMA = {
    "type": "object",
    "properties": {
        "period": {"type": "object", "properties": {"from": {"type": "string", "format": "date"},
                                                    "to": {"type": "string", "format": "date"}}},
        "city": _BLOCK,
        "preschools": _BLOCK,
        "organizations": {"type": "array", "items": {
            "type": "object",
            "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                           "kind": _KIND, "indicators": _BLOCK, "parents": _PARENTS}}},
        "parents": {
            "type": "object",
            "description": "Родители на мероприятиях периода, отдельно от девяти показателей: "
                           "всего по городу (и не указавшие школу), указавшие школу, детский "
                           "сад, не указавшие; по организациям.",
            "properties": {
                "attended": {"type": "integer", "minimum": 0},
                "schools": {"type": "integer", "minimum": 0},
                "preschools": {"type": "integer", "minimum": 0},
                "without_organization": {"type": "integer", "minimum": 0},
                "by_organization": {"type": "array", "items": {
                    "type": "object",
                    "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                                   "kind": _KIND, "attended": {"type": "integer"}},
                    "required": ["id", "name", "kind", "attended"]}},
            },
            "required": ["attended", "schools", "preschools", "without_organization",
                         "by_organization"]},
    },
}
_PARAMETERS = [
    {"name": "year", "in": "query", "schema": {"type": "integer"},
     "description": "Учебный год по году начала (2025 = 01.09.2025–31.08.2026); "
                    "по умолчанию текущий."},
    {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"},
     "description": "Начало периода (вместе с to, вместо year)."},
    {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"},
     "description": "Конец периода включительно."},
    {"name": "organization_id", "in": "query", "schema": {"type": "integer"},
     "description": "Только эта организация (координатор видит только свою)."},
    {"name": "category", "in": "query", "schema": {"type": "string"},
     "description": "Код категории; можно повторять или перечислить через запятую."},
    {"name": "organizer_id", "in": "query", "schema": {"type": "integer"},
     "description": "Только мероприятия этого организатора."},
    {"name": "roadmap_section", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                         "maximum": 7},
     "description": "Только мероприятия раздела дорожной карты (1–7)."},
    {"name": "verified_only", "in": "query", "schema": {"type": "boolean"},
     "description": "true — только отметки, подтверждённые на входе (сканирование онлайн и "
                    "офлайн, список группы, пришедшие без записи); без него — также списки "
                    "класса и загруженные списки присутствовавших."},
]


@bp.get("/reports/indicators")
@documented("Девять показателей мониторинга по школам, ДОО и городу", tags=["Отчёты"],
            response=INDICATORS_SCHEMA, parameters=_PARAMETERS,
            description="A, B и X = A × 100 / B (округление до десятых, half up; null при B = 0). "
                        "Администратор видит все организации; профкоординатор — свою и итоги "
                        "города.")
@api_login_required(Role.ADMIN, Role.COORDINATOR)
def indicators():
    try:
        query = parse_report_args(request.args)
    except ReportParamsError as err:
        raise validation_error(err.fields) from err
    try:
        organization_id = organization_scope(current_caller().user, query)
    except PermissionError as err:
        raise forbidden(str(err)) from err
    report = compute_indicators(query.period, organization_id=organization_id, **query.kwargs())
    return jsonify(report.to_json())
