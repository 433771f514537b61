"""Group registrations through the API (docs/api.md): register, look up, cancel."""

from __future__ import annotations

from flask import jsonify

from checkin.seats.registration import cancel_registration, register_group
from models import Event, Organization, Registration, Role, db
from webapp.access import can_manage_roster
from webapp.api import bp
from webapp.api.auth import api_login_required, current_caller
from webapp.api.openapi import documented
from webapp.api.validation import json_body
from webapp.api_errors import forbidden, not_found, validation_error
from webapp.events.visibility import can_view_event
from webapp.transaction import unit_of_work

TICKET_SCHEMA = {
    "type": "object",
    "properties": {
        "code": {"type": "string", "description": "токен билета (в QR: PROFROUTE_BASE_URL/t/code)"},
        "short_code": {"type": "string"},
        "kind": {"type": "string", "enum": ["student", "teacher"]},
        "person_id": {"type": "integer"},
        "status": {"type": "string", "enum": ["confirmed", "waitlisted", "cancelled"]},
    },
}
REGISTRATION_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"}, "event_id": {"type": "integer"},
        "organization_id": {"type": "integer"}, "group_code": {"type": "string"},
        "status": {"type": "string", "enum": ["active", "cancelled"]},
        "tickets": {"type": "array", "items": TICKET_SCHEMA},
    },
}


def registration_json(registration: Registration, tickets=None) -> dict:
    tickets = registration.tickets if tickets is None else tickets
    return {
        "id": registration.id,
        "event_id": registration.event_id,
        "organization_id": registration.organization_id,
        "group_code": registration.group_code,
        "status": registration.status.value,
        "tickets": [{
            "code": t.token, "short_code": t.short_code, "kind": t.kind.value,
            "person_id": t.student_id if t.student_id is not None else t.teacher_id,
            "status": t.status.value,
        } for t in tickets],
    }


def _id_list(data: dict, name: str, errors: dict) -> list[int]:
    value = data.get(name, [])
    if value is None:
        return []
    if not isinstance(value, list) or any(isinstance(i, bool) or not isinstance(i, int)
                                          for i in value):
        errors[name] = "Ожидается список целых чисел."
        return []
    if len(value) > 1000:
        errors[name] = "Не больше 1000 человек в одной заявке."
    return value


@bp.post("/events/<int:event_id>/registrations")
@documented("Записать группу школы на мероприятие", tags=["Заявки"],
            request={"type": "object", "properties": {
                "organization_id": {"type": "integer",
                                    "description": "школа; обязательно для администратора"},
                "student_ids": {"type": "array", "items": {"type": "integer"}},
                "teacher_ids": {"type": "array", "items": {"type": "integer"}}}},
            response=REGISTRATION_SCHEMA, status=201,
            description="Каждый получает билет: confirmed, если позволяют вместимость и квота "
                        "школы, иначе waitlisted. Сначала педагоги, затем ученики по порядку.")
@api_login_required(Role.ADMIN, Role.COORDINATOR)
def post_registration(event_id: int):
    user = current_caller().user
    data = json_body()
    errors: dict[str, str] = {}
    org_id = data.get("organization_id")
    if org_id is not None and (isinstance(org_id, bool) or not isinstance(org_id, int)):
        errors["organization_id"] = "Ожидается целое число."
    student_ids = _id_list(data, "student_ids", errors)
    teacher_ids = _id_list(data, "teacher_ids", errors)
    if errors:
        raise validation_error(errors)
    if org_id is None:
        if user.role == Role.ADMIN:
            raise validation_error({"organization_id": "Администратор указывает школу."})
        org_id = user.organization_id
    event = db.session.get(Event, event_id)
    if event is None or not can_view_event(user, event):
        raise not_found("Мероприятие не найдено.")
    org = db.session.get(Organization, org_id)
    if org is None:
        raise not_found("Организация не найдена.")
    if not can_manage_roster(user, org.id):
        raise forbidden("Записывать группы можно только от своей школы.")
    with unit_of_work():
        registration = register_group(user, event, org, student_ids, teacher_ids)
        body = registration_json(registration)
    return jsonify(body), 201


def _own_registration(registration_id: int) -> Registration:
    registration = db.session.get(Registration, registration_id)
    if registration is None:
        raise not_found("Заявка не найдена.")
    if not can_manage_roster(current_caller().user, registration.organization_id):
        raise not_found("Заявка не найдена.")
    return registration


@bp.get("/registrations/<int:registration_id>")
@documented("Заявка группы с билетами", tags=["Заявки"], response=REGISTRATION_SCHEMA)
@api_login_required(Role.ADMIN, Role.COORDINATOR)
def get_registration(registration_id: int):
    return jsonify(registration_json(_own_registration(registration_id)))


@bp.delete("/registrations/<int:registration_id>")
@documented("Отменить заявку группы", tags=["Заявки"],
            response={"type": "object", "properties": {
                "id": {"type": "integer"}, "status": {"type": "string"},
                "promoted": {"type": "integer",
                             "description": "сколько билетов подтверждено из листа ожидания"}}},
            description="Освобождает места и подтверждает лист ожидания по порядку.")
@api_login_required(Role.ADMIN, Role.COORDINATOR)
def delete_registration(registration_id: int):
    registration = _own_registration(registration_id)
    with unit_of_work():
        promoted = cancel_registration(current_caller().user, registration)
        body = {"id": registration.id, "status": registration.status.value,
                "promoted": len(promoted)}
    return jsonify(body)
