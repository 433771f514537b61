"""Check-in at the door: scans, offline batches, the offline data, groups, search, walk-ins,
undo and the live counts (contract: docs/api.md «Scans», docs/scanner-offline.md).

Who may call: the event's organizer or an admin (Bearer user token, or the browser session with
the ``X-CSRFToken`` header), or the event's scanner-link token as Bearer (scan endpoints only;
undo and the live board are for organizers).
"""

from __future__ import annotations

import gzip
import json

from flask import Response, current_app, g, jsonify, request

from checkin.door.callers import DoorCall, identify_at_door
from checkin.door.connection import DoorConnection, SessionDoor, start_scan_transaction
from checkin.door.lookups import group_tickets, live_summary, search_tickets
from checkin.door.scanner_data import build_scanner_data
from checkin.door.scans import (
    MAX_CLIENT_SCAN_ID,
    MAX_LABEL,
    scan,
    scanner_fields,
    undo_checkin,
)
from checkin.door.sync import MAX_BATCH, sync_batch
from checkin.door.walkins import register_walk_in
from models import Event, Role, db, now_utc
from webapp.access import can_manage_event
from webapp.api import bp
from webapp.api.auth import Caller, door_credential, resolve_caller
from webapp.api.openapi import documented
from webapp.api.validation import Fields, json_body
from webapp.api_errors import ApiError, forbidden, not_found
from webapp.services.personal_data import record_personal_export
from webapp.transaction import unit_of_work

TAG = ["Отметка на входе"]
AUTH_NOTE = ("Доступ: организатор мероприятия или администратор (Bearer-токен пользователя или "
             "сессия браузера с заголовком X-CSRFToken), либо токен ссылки сканера этого "
             "мероприятия как Bearer.")

LINK_LISTS_NOTE = (" Ссылке сканера — только до закрытия входа (потом 403 checkin_closed) и без "
                   "токенов билетов: code — «#<хэш токена>», принимается для отметки только на "
                   "этом мероприятии.")

SCAN_REQUEST = {
    "type": "object",
    "properties": {
        "code": {"type": "string", "description": "Как прочитано из QR: токен, ссылка …/t/<токен> "
                                                  "или 8-символьный короткий код; либо "
                                                  "#<хэш токена> из поиска, списка группы или "
                                                  "офлайн-данных (только билеты этого "
                                                  "мероприятия)"},
        "client_scan_id": {"type": "string", "maxLength": MAX_CLIENT_SCAN_ID,
                           "description": "UUID телефона; повтор возвращает первый ответ"},
        "scanned_at": {"type": "string", "format": "date-time"},
        "device_label": {"type": "string", "maxLength": MAX_LABEL},
        "gate": {"type": "string", "maxLength": MAX_LABEL},
        "force": {"type": "boolean", "description": "Только организатор: отметить вне окна"},
    },
    "required": ["code"],
}
ATTENDEE = {
    "type": "object", "nullable": True,
    "properties": {"name": {"type": "string"},
                   "kind": {"type": "string", "enum": ["student", "teacher", "parent"]},
                   "organization": {"type": "string", "nullable": True},
                   "class_name": {"type": "string", "nullable": True},
                   "needs_assistance": {"type": "boolean"}},
}
SCAN_RESPONSE = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": ["ok", "already_checked_in", "wrong_event",
                                              "cancelled", "waitlisted", "not_open", "invalid"]},
        "message": {"type": "string"},
        "checkin": {"type": "object", "nullable": True,
                    "properties": {"id": {"type": "integer"},
                                   "at": {"type": "string", "format": "date-time"}}},
        "attendee": ATTENDEE,
        "first_checkin": {"type": "object",
                          "properties": {"id": {"type": "integer"}, "at": {"type": "string"},
                                         "by": {"type": "string"}}},
        "ticket_event": {"type": "object",
                         "properties": {"id": {"type": "integer"}, "title": {"type": "string"},
                                        "starts_at": {"type": "string"}}},
        "group_code": {"type": "string", "description": "при скане группового QR (status "
                                                        "invalid): код группы"},
        "scan_id": {"type": "integer"},
        "flag": {"type": "string", "nullable": True,
                 "description": "clock_skew, cancelled_offline, late_sync (получено после "
                                "закрытия входа, в пределах допустимого срока — засчитано), "
                                "late_sync_refused (получено позже срока — не засчитано, статус "
                                "not_open); через запятую, или null"},
        "forced": {"type": "boolean"},
    },
    "required": ["status", "checkin", "attendee", "scan_id", "flag"],
}
TICKET_ITEM = {
    "type": "object",
    "properties": {"code": {"type": "string",
                            "description": "Код для отметки (поле code запроса скана): токен "
                                           "билета для организатора; для ссылки сканера — "
                                           "#<хэш токена>, принимается только для билетов "
                                           "этого мероприятия"},
                   "name": {"type": "string"},
                   "class_name": {"type": "string", "nullable": True},
                   "kind": {"type": "string"}, "status": {"type": "string"},
                   "needs_assistance": {"type": "boolean"}, "checked_in": {"type": "boolean"},
                   "organization": {"type": "string", "nullable": True}},
}


# --------------------------------------------------------------------------- access

def event_access(event_id: int, *, allow_link: bool = True) -> tuple[Event, Caller]:
    """Load the event and check the caller may work its door (401/403/404 otherwise)."""
    caller = resolve_caller()
    if caller is None:
        raise ApiError(401, "unauthorized", "Нужна авторизация: заголовок "
                                            "Authorization: Bearer <токен>.")
    if caller.scanner_link is not None:
        if not allow_link:
            raise forbidden("Ссылка сканера даёт доступ только к отметке на входе.")
        if caller.scanner_link.event_id != event_id:
            raise forbidden("Ссылка сканера выдана для другого мероприятия.")
    event = db.session.get(Event, event_id)
    if event is None:
        raise not_found("Мероприятие не найдено.")
    if caller.user is not None and (
            caller.user.role not in (Role.ADMIN, Role.ORGANIZER, Role.COORDINATOR)
            or not can_manage_event(caller.user, event)):
        raise forbidden("Отмечать могут только организатор мероприятия и администратор.")
    g.caller = caller
    return event, caller


def refuse_link_after_close(event: Event, caller: Caller) -> None:
    """A scanner link downloads people (offline data, search, group lists) only until check-in
    closes; scans made offline may still be sent afterwards (the late-sync rule)."""
    if caller.scanner_link is not None and now_utc() >= event.effective_checkin_closes_at:
        raise ApiError(403, "checkin_closed", "Вход на мероприятие закрыт: списки участников по "
                                              "ссылке сканера больше не выдаются. Несохранённые "
                                              "отметки телефон отправит сам.")


def _scan_kwargs(fields: Fields) -> dict:
    kwargs = {
        "code": fields.string("code", max_length=10_000),
        "client_scan_id": fields.string("client_scan_id", required=False,
                                        max_length=MAX_CLIENT_SCAN_ID),
        "scanned_at": fields.datetime("scanned_at", required=False),
        "device_label": fields.string("device_label", required=False, max_length=MAX_LABEL),
        "gate": fields.string("gate", required=False, max_length=MAX_LABEL),
        "force": fields.boolean("force"),
    }
    return kwargs


# --------------------------------------------------------------------------- scans

@bp.post("/events/<int:event_id>/scans")
@documented("Отметить билет (скан QR-кода)", tags=TAG, request=SCAN_REQUEST,
            response=SCAN_RESPONSE, description=AUTH_NOTE + " Любой исход сканирования — "
            "ответ 200 со статусом; повтор с тем же client_scan_id возвращает первый ответ и "
            "ничего не записывает.")
def post_scan(event_id: int):
    fields = Fields(json_body())
    kwargs = _scan_kwargs(fields)  # the errors are told after the caller check
    code = kwargs.pop("code")
    with DoorConnection() as door:
        call = door_caller(door, event_id, code=code)
        fields.raise_if_any()
        if kwargs["force"] and call.user is None:
            raise forbidden("Отметить вне времени входа может только организатор.")
        scanner = scanner_fields(call.event, actor_user=call.user, scanner_link=call.link,
                                 client_scan_id=kwargs["client_scan_id"], force=kwargs["force"])
        return jsonify(scan(door, call.event, code, scanner, ticket=call.ticket, **kwargs))


def door_caller(door, event_id: int, *, code: str | None = None) -> DoorCall:
    """Who calls at ``event_id``'s door (a link, a token or the session), read on ``door``
    with the event (and the ticket of ``code``): every scan's caller check."""
    return identify_at_door(door, door_credential(), event_id, code=code,
                            login_max_age_days=current_app.config["LOGIN_SESSION_MAX_DAYS"])


@bp.post("/events/<int:event_id>/scans/batch")
@documented(
    "Передать накопленные офлайн сканирования", tags=TAG,
    request={"type": "object",
             "properties": {"scans": {"type": "array", "maxItems": MAX_BATCH,
                                      "items": SCAN_REQUEST},
                            "device_label": {"type": "string"}, "gate": {"type": "string"}},
             "required": ["scans"]},
    response={"type": "object", "properties": {"results": {"type": "array", "items": {
        "oneOf": [SCAN_RESPONSE, {"type": "object", "properties": {
            "status": {"type": "string", "enum": ["error"]},
            "error": {"type": "object"}}}]}}}},
    description=AUTH_NOTE + f" До {MAX_BATCH} сканирований за запрос. Результаты — в том же "
    "порядке; неверный элемент получает {\"status\": \"error\", \"error\": {...}} и не мешает "
    "остальным. Сканирования разбираются по scanned_at: самое раннее становится отметкой.")
def post_scan_batch(event_id: int):
    start_scan_transaction()
    call = door_caller(SessionDoor(), event_id)
    data = json_body()
    items = data.get("scans")
    fields = Fields(data)
    device_label = fields.string("device_label", required=False, max_length=MAX_LABEL)
    gate = fields.string("gate", required=False, max_length=MAX_LABEL)
    if not isinstance(items, list):
        fields.error("scans", "Ожидается список сканирований.")
    elif len(items) > MAX_BATCH:
        raise ApiError(413, "batch_too_large",
                       f"В одном пакете — не больше {MAX_BATCH} сканирований.")
    fields.raise_if_any()
    if call.user is None and any(isinstance(i, dict) and i.get("force") for i in items):
        raise forbidden("Отметить вне времени входа может только организатор.")
    with unit_of_work():
        results = sync_batch(call.event, items, actor_user=call.user, scanner_link=call.link,
                             device_label=device_label, gate=gate)
    return jsonify({"results": results})


@bp.get("/events/<int:event_id>/scanner-data")
@documented(
    "Данные для офлайн-отметки", tags=TAG, response={"type": "object"},
    description=AUTH_NOTE + " Хэши токенов (первые 16 hex SHA-256), статус и поля для показа; "
    "сжимается gzip, если клиент принимает. Формат — docs/scanner-offline.md." + LINK_LISTS_NOTE)
def get_scanner_data(event_id: int):
    event, caller = event_access(event_id)
    refuse_link_after_close(event, caller)
    data = build_scanner_data(event, scanner_link=caller.scanner_link)
    with unit_of_work():
        record_personal_export(caller.user, "scanner_data", event, tickets=len(data["tickets"]),
                               scanner_link_id=getattr(caller.scanner_link, "id", None))
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    response = Response(payload, mimetype="application/json")
    if "gzip" in request.accept_encodings:
        response.set_data(gzip.compress(payload, compresslevel=6))
        response.headers["Content-Encoding"] = "gzip"
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = "no-store"
    return response


# --------------------------------------------------------------------------- door helpers

@bp.get("/events/<int:event_id>/groups/<group_code>")
@documented("Список группы по групповому коду", tags=TAG, response={
    "type": "object",
    "properties": {"group": {"type": "object", "properties": {
        "organization": {"type": "string"}, "size": {"type": "integer"}}},
        "tickets": {"type": "array", "items": TICKET_ITEM}}},
    description=AUTH_NOTE + " Код группы — как в групповом QR (…/g/<код>) или сам код."
    + LINK_LISTS_NOTE)
def get_group(event_id: int, group_code: str):
    event, caller = event_access(event_id)
    refuse_link_after_close(event, caller)
    return jsonify(group_tickets(event, group_code, for_link=caller.scanner_link is not None))


@bp.get("/events/<int:event_id>/tickets")
@documented("Поиск билетов мероприятия по фамилии или школе", tags=TAG,
            parameters=[{"name": "q", "in": "query", "required": True,
                         "schema": {"type": "string", "minLength": 2}}],
            response={"type": "object", "properties": {"tickets": {
                "type": "array", "maxItems": 20, "items": TICKET_ITEM}}},
            description=AUTH_NOTE + " Не больше 20 результатов." + LINK_LISTS_NOTE)
def get_tickets(event_id: int):
    event, caller = event_access(event_id)
    refuse_link_after_close(event, caller)
    query = (request.args.get("q") or "").strip()
    return jsonify({"tickets": search_tickets(
        event, query, for_link=caller.scanner_link is not None)})


WALK_IN_REQUEST = {
    "type": "object",
    "properties": {
        "kind": {"type": "string", "enum": ["student", "teacher", "parent"]},
        "organization_id": {"type": "integer"},
        "last_name": {"type": "string"}, "first_name": {"type": "string"},
        "middle_name": {"type": "string"}, "class_name": {"type": "string"},
        "name": {"type": "string"}, "phone": {"type": "string"},
        "client_scan_id": {"type": "string"}, "device_label": {"type": "string"},
        "gate": {"type": "string"},
    },
    "required": ["kind"],
}


WALK_IN_RESPONSE = {
    **SCAN_RESPONSE,
    "properties": {
        **SCAN_RESPONSE["properties"],
        "status": {"type": "string", "enum": [*SCAN_RESPONSE["properties"]["status"]["enum"],
                                              "pending"],
                   "description": "pending (ответ 202) — ученик или педагог, записанный по "
                                  "ссылке сканера: ждёт подтверждения организатора или школы, "
                                  "до подтверждения не засчитан"},
        "scan_id": {"type": "integer", "nullable": True},
        "walk_in": {"type": "object", "description": "только при status pending",
                    "properties": {"id": {"type": "integer"},
                                   "arrived_at": {"type": "string", "format": "date-time"}}},
    },
}


@bp.post("/events/<int:event_id>/walk-ins")
@documented("Записать и отметить пришедшего без записи", tags=TAG, request=WALK_IN_REQUEST,
            response=WALK_IN_RESPONSE, status=201,
            description=AUTH_NOTE + " Ученик или педагог известной школы (organization_id, "
            "фамилия, имя, для ученика класс) или родитель (name; phone необязателен). Если "
            "мест нет — 409 event_full, ничего не записывается. Организатор (вошедший) "
            "записывает и отмечает сразу (201). По ссылке сканера ученик или педагог только "
            "ставится в очередь на подтверждение (202, status pending): ссылка не ищет и не "
            "пополняет списки школ, отметка засчитывается после подтверждения организатором "
            "или школой.")
def post_walk_in(event_id: int):
    event, caller = event_access(event_id)
    data = json_body()
    start_scan_transaction()
    event = db.session.get(Event, event_id)
    with unit_of_work():
        result = register_walk_in(event, data, actor_user=caller.user,
                                  scanner_link=caller.scanner_link)
    return jsonify(result), 202 if result["status"] == "pending" else 201


@bp.post("/events/<int:event_id>/checkins/<int:scan_id>/undo")
@documented("Отменить отметку с причиной", tags=TAG,
            request={"type": "object", "properties": {"reason": {"type": "string"}},
                     "required": ["reason"]},
            response={"type": "object", "properties": {"undone": {"type": "boolean"}}},
            description="Только организатор мероприятия или администратор (не ссылка сканера)."
            " Отмена отметки пришедшего без записи отменяет и его билет: место освобождается.")
def post_undo(event_id: int, scan_id: int):
    event, caller = event_access(event_id, allow_link=False)
    fields = Fields(json_body())
    reason = fields.string("reason", max_length=500)
    fields.raise_if_any()
    with unit_of_work():
        undo_checkin(caller.user, event, scan_id, reason)
    return jsonify({"undone": True})


@bp.get("/events/<int:event_id>/live")
@documented("Табло: отмечено из записанных, по школам и входам, последние сканирования",
            tags=TAG, response={"type": "object"},
            description="Только организатор мероприятия или администратор.")
def get_live(event_id: int):
    event, _caller = event_access(event_id, allow_link=False)
    return jsonify(live_summary(event))


@bp.get("/ping")
@documented("Проверка доступности API (без базы данных)", tags=["Служебное"], auth="none",
            response={"type": "object", "properties": {"status": {"type": "string"}}})
def ping():
    return jsonify({"status": "ok"})
