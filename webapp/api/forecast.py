"""``PUT /api/v1/targets/{year}`` and ``GET /api/v1/reports/forecast`` (docs/api.md «Targets
and forecast»)."""

from __future__ import annotations

from flask import jsonify, request

from formats.input_checks import int_range_error
from models import TARGET_KEYS, Organization, OrgKind, Role, db
from models.academic_year import current_academic_year
from reports.forecast import compute_forecast
from reports.indicators import INDICATOR_KEYS
from reports.params import query_organization_id, query_year
from webapp.api import bp
from webapp.api.auth import api_login_required, current_caller
from webapp.api.openapi import documented
from webapp.api.validation import json_body
from webapp.api_errors import forbidden, not_found, validation_error
from webapp.services.targets import percent_value, save_targets, target_rows
from webapp.transaction import unit_of_work

_PERCENT_OR_NULL = {"type": ["number", "null"], "minimum": 0, "maximum": 100}
_GOALS = {"type": "object", "properties": {k: _PERCENT_OR_NULL for k in TARGET_KEYS},
          "additionalProperties": False}
TARGETS_REQUEST = {
    "type": "object",
    "description": "Цели в процентах (0–100, одна цифра после запятой). Меняются только "
                   "названные показатели; null снимает цель. Школа без своей цели имеет "
                   "городскую.",
    "properties": {
        "city": _GOALS,
        "schools": {"type": "object", "description": "Ключ — id школы.",
                    "additionalProperties": _GOALS},
    },
    "additionalProperties": False,
}
TARGETS_RESPONSE = {
    "type": "object",
    "properties": {
        "year": {"type": "integer"},
        "changed": {"type": "integer", "description": "Сколько строк (город, школы) изменилось."},
        "city": {**_GOALS, "description": "Цели города (null — не задана)."},
        "city_locked": {"type": "boolean"},
        "schools": {"type": "object", "description": "Свои цели школ (только заданные).",
                    "additionalProperties": {"type": "object", "properties": {
                        **{k: {"type": "number"} for k in TARGET_KEYS},
                        "locked": {"type": "boolean"}}}},
    },
    "required": ["year", "changed", "city", "city_locked", "schools"],
}
_FIGURE = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"},
                                            "percent": {"type": ["number", "null"]}},
           "required": ["a", "b", "percent"]}
_NUMBER_OR_NULL = {"type": ["number", "null"]}
_INDICATOR = {
    "type": "object",
    "properties": {
        "current": _FIGURE,
        "forecast": {"type": "object", "properties": {
            "percent": _NUMBER_OR_NULL, "low": _NUMBER_OR_NULL, "high": _NUMBER_OR_NULL,
            "a": {"type": "number", "description": "Ожидаемое A на конец года (точка)."},
            "a_low": {"type": "number"}, "a_high": {"type": "number"}},
            "required": ["percent", "low", "high"]},
        "target": _NUMBER_OR_NULL,
        "status": {"type": ["string", "null"], "enum": ["reached", "reachable", "at_risk", None],
                   "description": "reached — текущее значение ≥ цели; at_risk — верхняя граница "
                                  "прогноза ниже цели; reachable — иначе; null — цели нет."},
    },
    "required": ["current", "forecast", "target", "status"],
}
FORECAST_SCHEMA = {
    "type": "object",
    "properties": {
        **{k: _INDICATOR for k in INDICATOR_KEYS},
        "year": {"type": "integer"},
        "as_of": {"type": "string", "format": "date-time"},
        "finished": {"type": "boolean", "description": "Год закончился: прогноз равен итогу."},
        "organization_id": {"type": ["integer", "null"]},
        "name": {"type": "string"},
        "show_rate": {"type": "number", "description": "Доля пришедших из записанных "
                                                       "(прошлые мероприятия этого и прошлого "
                                                       "года)."},
        "own_show_rate": {"type": "boolean", "description": "false — своей истории нет, "
                                                           "взята городская доля явки."},
        "pace_source": {"type": "string", "enum": ["last_year", "city_last_year", "this_year"]},
    },
    "required": [*INDICATOR_KEYS, "year", "organization_id"],
}
_PARAMETERS = [
    {"name": "year", "in": "query", "schema": {"type": "integer"},
     "description": "Учебный год по году начала; по умолчанию текущий."},
    {"name": "organization_id", "in": "query", "schema": {"type": "integer"},
     "description": "Школа (без него — город; профкоординатор всегда получает свою школу)."},
]


def _targets_json(year: int, changed: int) -> dict:
    rows = target_rows(year)
    city = rows.get(None)
    return {
        "year": year,
        "changed": changed,
        "city": {k: (None if city is None or getattr(city, k) is None
                     else float(getattr(city, k))) for k in TARGET_KEYS},
        "city_locked": bool(city is not None and city.locked),
        "schools": {str(org_id): {**{k: float(v) for k, v in row.values().items()
                                     if v is not None}, "locked": row.locked}
                    for org_id, row in sorted(rows.items(), key=lambda i: i[0] or 0)
                    if org_id is not None},
    }


def _parse_goals(value, prefix: str, errors: dict) -> dict:
    if not isinstance(value, dict):
        errors[prefix] = "Ожидается объект: показатель → цель в процентах."
        return {}
    goals = {}
    for key, raw in value.items():
        if key not in TARGET_KEYS:
            errors[f"{prefix}.{key}"] = ("Неизвестный показатель. Допустимые: "
                                         + ", ".join(TARGET_KEYS) + ".")
            continue
        if raw is not None and not isinstance(raw, int | float) or isinstance(raw, bool):
            errors[f"{prefix}.{key}"] = "Ожидается число от 0 до 100 или null."
            continue
        number, problem = percent_value(raw)
        if problem:
            errors[f"{prefix}.{key}"] = problem
            continue
        goals[key] = number
    return goals


@bp.put("/targets/<int:year>")
@documented("Записать цели по девяти показателям на учебный год", tags=["Отчёты"],
            request=TARGETS_REQUEST, response=TARGETS_RESPONSE,
            description="Только администратор. Цели города и (по желанию) отдельных школ, в "
                        "процентах. Заблокированные цели — 409 (targets_locked); неизвестный "
                        "показатель, школа или значение вне 0–100 — 422.")
@api_login_required(Role.ADMIN)
def put_targets(year: int):
    data = json_body()
    errors: dict[str, str] = {}
    if not 2000 <= year <= 2100:
        errors["year"] = "Учебный год — от 2000 до 2100."
    for key in data:
        if key not in ("city", "schools"):
            errors[key] = "Неизвестное поле: ожидаются city и schools."
    table = {}
    if "city" in data:
        table[None] = _parse_goals(data["city"], "city", errors)
    schools = data.get("schools", {})
    if not isinstance(schools, dict):
        errors["schools"] = "Ожидается объект: id школы → цели."
        schools = {}
    for raw_id, goals in schools.items():
        field = f"schools.{raw_id}"
        if not (isinstance(raw_id, str) and raw_id.isdigit()) or int_range_error(int(raw_id)):
            errors[field] = "Ключ — id школы (целое число)."
            continue
        org = db.session.get(Organization, int(raw_id))
        if org is None or org.kind != OrgKind.SCHOOL:
            errors[field] = "Нет такой школы: цели ставятся городу и школам."
            continue
        table[org.id] = _parse_goals(goals, field, errors)
    if errors:
        raise validation_error(errors)
    with unit_of_work():
        changed = save_targets(current_caller().user, year, table)
    return jsonify(_targets_json(year, changed))



@bp.get("/reports/forecast")
@documented("Прогноз девяти показателей на конец учебного года, цели и статусы",
            tags=["Отчёты"], response=FORECAST_SCHEMA, parameters=_PARAMETERS,
            description="Текущее значение, прогноз на конец года (точка и диапазон), цель и "
                        "статус по каждому показателю — для города (только администратор) или "
                        "школы (администратор и профкоординатор этой школы). Методика — "
                        "docs/reports.md «Цели и прогноз».")
@api_login_required(Role.ADMIN, Role.COORDINATOR)
def forecast():
    errors: dict[str, str] = {}
    year = query_year(request.args, errors)
    organization_id = query_organization_id(request.args, errors)
    if errors:
        raise validation_error(errors)
    user = current_caller().user
    if user.role == Role.COORDINATOR:
        if organization_id not in (None, user.organization_id) or user.organization_id is None:
            raise forbidden("Можно смотреть прогноз только своей школы.")
        organization_id = user.organization_id
    year = year if year is not None else current_academic_year()
    if organization_id is not None:
        org = db.session.get(Organization, organization_id)
        if org is None:
            raise not_found("Организация не найдена.")
        if org.kind != OrgKind.SCHOOL:
            raise validation_error({"organization_id": "Прогноз считается для школ."})
    result = compute_forecast(year, organization_id=organization_id)
    block = result.city if organization_id is None else result.school(organization_id)
    if block is None:  # a school without a baseline that is no longer active
        raise not_found("Школа не входит в отчёт этого года.")
    return jsonify({**block.to_json(), "year": year, "as_of": result.as_of.isoformat(),
                    "finished": result.finished, "organization_id": organization_id,
                    "name": block.name})
