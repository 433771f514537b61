"""``POST /api/v1/events/{id}/parent-signups`` (docs/api.md): a parent signs up, no account."""

from __future__ import annotations

from flask import jsonify, request

from checkin.seats.tickets import ticket_url
from errors import ServiceError
from formats.input_checks import int_range_error
from webapp.api import bp
from webapp.api.openapi import documented
from webapp.api.validation import json_body
from webapp.api_errors import ApiError, from_service_error, validation_error
from webapp.parents.services import sign_up_parent
from webapp.transaction import unit_of_work

PARENT_SIGNUP_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 200},
        "phone": {"type": "string", "description": "российский номер: 8…, +7…; "
                                                   "приводится к +7XXXXXXXXXX"},
        "email": {"type": "string", "format": "email"},
        "child_organization_id": {"type": "integer", "description": "школа или ДОО ребёнка"},
        "child_grade": {"type": "integer", "minimum": 0, "maximum": 11},
        "consent": {"type": "boolean", "enum": [True],
                    "description": "согласие на обработку персональных данных"},
    },
    "required": ["name", "consent"],
}
PARENT_SIGNUP_RESPONSE = {
    "type": "object",
    "properties": {
        "code": {"type": "string", "description": "токен билета (в QR: …/t/{code})"},
        "manage_url": {"type": "string", "description": "личная ссылка /my/<secret>"},
        "status": {"type": "string", "enum": ["confirmed", "waitlisted"]},
        "short_code": {"type": "string"},
        "ticket_url": {"type": "string"},
    },
    "required": ["code", "manage_url"],
}


def _optional_int(data: dict, name: str, errors: dict) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        errors[name] = "Ожидается целое число."
        return None
    message = int_range_error(value)
    if message:
        errors[name] = message
        return None
    return value


def _optional_str(data: dict, name: str, errors: dict) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        errors[name] = "Ожидается строка."
        return None
    return value


@bp.post("/events/<int:event_id>/parent-signups")
@documented(
    "Записать родителя на встречу для родителей (без учётной записи)", tags=["Родители"],
    auth="none", request=PARENT_SIGNUP_SCHEMA, response=PARENT_SIGNUP_RESPONSE, status=201,
    description="Нужны имя, телефон и/или e-mail и согласие (consent: true); без согласия — "
                "422, ничего не сохраняется. Повторная запись с тем же телефоном или e-mail — "
                "409 duplicate_signup. Мест нет — билет в листе ожидания (status: waitlisted). "
                "Слишком много записей с одного адреса — 429 rate_limited.",
)
def create_parent_signup(event_id: int):
    data = json_body()
    errors: dict[str, str] = {}
    name = _optional_str(data, "name", errors)
    phone = _optional_str(data, "phone", errors)
    email = _optional_str(data, "email", errors)
    child_org = _optional_int(data, "child_organization_id", errors)
    child_grade = _optional_int(data, "child_grade", errors)
    consent = data.get("consent")
    if consent is not None and not isinstance(consent, bool):
        errors["consent"] = "Ожидается true."
    if errors:
        raise validation_error(errors)
    with unit_of_work(catch=ServiceError) as uow:
        result = sign_up_parent(event_id, name=name, phone=phone, email=email,
                                child_organization_id=child_org, child_grade=child_grade,
                                consent=consent is True, ip=request.remote_addr)
    if uow.error is not None:
        err = uow.error
        if err.code == "consent_required" or (err.status == 422 and "consent" in err.fields):
            raise ApiError(422, "consent_required", "Нужно согласие на обработку "
                           "персональных данных (consent: true).", err.fields) from err
        if err.code == "validation_error":
            raise validation_error(err.fields, err.message) from err
        raise from_service_error(err) from err
    ticket = result.ticket
    return jsonify({
        "code": ticket.token, "manage_url": result.manage_url, "status": ticket.status.value,
        "short_code": ticket.short_code, "ticket_url": ticket_url(ticket.token),
    }), 201
