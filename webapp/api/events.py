"""Events and categories (docs/api.md): create, publish, cancel, list with filters, read, patch."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app, jsonify, request, url_for
from sqlalchemy.orm import joinedload

from formats.input_checks import date_range_error, int_range_error
from models import Audience, Category, Event, EventStatus, Role, db
from webapp.api import bp
from webapp.api.auth import api_login_required, current_caller, resolve_caller
from webapp.api.openapi import documented
from webapp.api.validation import Fields, json_body
from webapp.api_errors import ApiError, forbidden, not_found
from webapp.events import services as svc
from webapp.events.catalogue import CatalogueFilters, catalogue_query
from webapp.events.visibility import can_view_event
from webapp.transaction import unit_of_work

EVENT_MANAGERS = (Role.ADMIN, Role.ORGANIZER, Role.COORDINATOR)
MAX_LIMIT = 500

_TIME = {"type": "string", "format": "date-time"}
EVENT_REQUEST_SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "maxLength": 300},
        "description": {"type": "string", "description": "Markdown без HTML"},
        "category": {"type": "string", "description": "код из GET /categories"},
        "audience": {"type": "string", "enum": ["students", "preschool", "parents", "teachers"]},
        "grades_min": {"type": "integer", "minimum": 0, "maximum": 11},
        "grades_max": {"type": "integer", "minimum": 0, "maximum": 11},
        "starts_at": _TIME, "ends_at": _TIME,
        "venue": {"description": "строка (площадка/адрес) или объект {name, address, room}",
                  "oneOf": [{"type": "string"}, {"type": "object", "properties": {
                      "name": {"type": "string"}, "address": {"type": "string"},
                      "room": {"type": "string"}}}]},
        "venue_name": {"type": "string"}, "venue_address": {"type": "string"},
        "venue_room": {"type": "string"},
        "capacity": {"type": "integer", "minimum": 1},
        "per_school_quota": {"type": "integer", "minimum": 1, "nullable": True},
        "registration_opens_at": _TIME, "registration_closes_at": _TIME,
        "checkin_opens_at": _TIME, "checkin_closes_at": _TIME,
        "early": {"type": "boolean", "description": "не указано при создании — по правилу "
                  "города на учебный год мероприятия (по умолчанию — дошкольники и 1–4 классы)"},
        "ovz_adapted": {"type": "boolean"},
        "roadmap_item": {"type": "string", "description": "номер пункта, например 3.2"},
        "organizer_id": {"type": "integer", "description": "только администратор"},
        "school_internal": {"type": "boolean", "description": "только администратор"},
        "academic_hours": {"type": ["number", "null"], "minimum": 0, "maximum": 999,
                           "description": "академические часы профминимума (не больше одного "
                                          "знака после запятой); не указано или null — по "
                                          "длительности: академический час 45 минут, "
                                          "округление до целого half up"},
        "profminimum_format": {"type": ["string", "null"],
                               "description": "код формата профминимума: horizons, trial, "
                                              "excursion, meeting, contest, diagnostics, "
                                              "parents, other (администратор добавляет новые)"},
    },
    "required": ["title", "category", "starts_at", "ends_at", "venue", "capacity",
                 "audience"],
}
EVENT_PATCH_SCHEMA = {**EVENT_REQUEST_SCHEMA, "required": []}
EVENT_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"}, "title": {"type": "string"},
        "status": {"type": "string", "enum": ["draft", "published", "cancelled"]},
        "finished": {"type": "boolean"}, "category": {"type": "string"},
        "starts_at": _TIME, "ends_at": _TIME, "capacity": {"type": "integer"},
        "seats_taken": {"type": "integer"}, "seats_left": {"type": "integer"},
        "academic_hours": {"type": "number", "minimum": 0,
                           "description": "действующее значение: указанное организатором, иначе "
                                          "длительность в академических часах по 45 минут"},
        "academic_hours_explicit": {"type": "boolean"},
        "profminimum_format": {"type": ["string", "null"]},
    },
}
_BOOL_PARAM = {"type": "string", "enum": ["true", "false"]}
LIST_PARAMETERS = [
    {"name": "from", "in": "query", "schema": {"type": "string"},
     "description": "дата ГГГГ-ММ-ДД (томская) или время ISO 8601: мероприятия, "
                    "которые заканчиваются не раньше"},
    {"name": "to", "in": "query", "schema": {"type": "string"},
     "description": "дата (включительно) или время: мероприятия, которые начинаются раньше"},
    {"name": "category", "in": "query", "schema": {"type": "string"}},
    {"name": "early", "in": "query", "schema": _BOOL_PARAM},
    {"name": "ovz_adapted", "in": "query", "schema": _BOOL_PARAM},
    {"name": "audience", "in": "query", "schema": {"type": "string"}},
    {"name": "grade", "in": "query", "schema": {"type": "integer"}},
    {"name": "organizer_id", "in": "query", "schema": {"type": "integer"}},
    {"name": "q", "in": "query", "schema": {"type": "string"}},
    {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": MAX_LIMIT}},
    {"name": "offset", "in": "query", "schema": {"type": "integer"}},
]


def _iso(value):
    return None if value is None else value.isoformat()


def event_json(event: Event, seats_taken: int | None = None) -> dict:
    if seats_taken is None:
        seats_taken = svc.event_counts([event.id])[event.id][0]
    base = current_app.config["PROFROUTE_BASE_URL"].rstrip("/")
    return {
        "id": event.id,
        "title": event.title,
        "description": event.description,
        "status": event.status.value,
        "finished": event.is_finished(),
        "cancel_reason": event.cancel_reason,
        "category": event.category.code,
        "category_name": event.category.name,
        "organizer_id": event.organizer_id,
        "organizer": {"id": event.organizer_id, "name": event.organizer.name,
                      "short_name": event.organizer.short_name},
        "audience": event.audience.value,
        "grades_min": event.grades_min,
        "grades_max": event.grades_max,
        "starts_at": _iso(event.starts_at),
        "ends_at": _iso(event.ends_at),
        "venue": event.venue_text,
        "venue_name": event.venue_name,
        "venue_address": event.venue_address,
        "venue_room": event.venue_room,
        "capacity": event.capacity,
        "per_school_quota": event.per_school_quota,
        "seats_taken": seats_taken,
        "seats_left": max(event.capacity - seats_taken, 0),
        "registration_opens_at": _iso(event.registration_opens_at),
        "registration_closes_at": _iso(event.effective_registration_closes_at),
        "checkin_opens_at": _iso(event.effective_checkin_opens_at),
        "checkin_closes_at": _iso(event.effective_checkin_closes_at),
        "early": event.early,
        "ovz_adapted": event.ovz_adapted,
        "school_internal": event.school_internal,
        "roadmap_item": event.roadmap_item.number if event.roadmap_item else None,
        "academic_hours": float(event.effective_academic_hours),
        "academic_hours_explicit": event.academic_hours_override is not None,
        "profminimum_format": (event.profminimum_format.code
                               if event.profminimum_format else None),
        "published_at": _iso(event.published_at),
        "url": base + url_for("events.detail", event_id=event.id),
    }


def _read_event_fields(data: dict, *, partial: bool) -> dict:
    """Type-check the body; returns service arguments for the keys present."""
    fields = Fields(data)
    values: dict = {}

    def present(name):
        return not partial or name in data

    if present("title"):
        values["title"] = fields.string("title", max_length=300)
    if "description" in data:
        values["description"] = fields.string("description", required=False,
                                              max_length=20000, default="") or ""
    if present("category"):
        values["category"] = fields.string("category", max_length=40)
    if present("audience"):
        values["audience"] = fields.string("audience", max_length=20)
    for name in ("grades_min", "grades_max", "per_school_quota"):
        if name in data:
            values[name] = fields.integer(name, required=False)
    if present("capacity"):
        values["capacity"] = fields.integer("capacity")
    for name in ("starts_at", "ends_at"):
        if present(name):
            values[name] = fields.datetime(name)
    for name in ("registration_opens_at", "registration_closes_at", "checkin_opens_at",
                 "checkin_closes_at"):
        if name in data:
            values[name] = fields.datetime(name, required=False)
    for name in ("early", "ovz_adapted", "school_internal"):
        if name in data and data[name] is not None:
            values[name] = fields.boolean(name)
    if "roadmap_item" in data:
        item = data["roadmap_item"]
        if item is not None and not isinstance(item, str | int) or isinstance(item, bool):
            fields.error("roadmap_item", "Ожидается номер пункта, например «3.2».")
        else:
            values["roadmap_item"] = item
    if "organizer_id" in data:
        values["organizer_id"] = fields.integer("organizer_id", required=False)
    if "academic_hours" in data:
        hours = data["academic_hours"]
        if hours is not None and (isinstance(hours, bool) or not isinstance(hours, int | float)):
            fields.error("academic_hours", "Ожидается число академических часов (≥ 0) или null.")
        else:
            values["academic_hours"] = hours
    if "profminimum_format" in data:
        values["profminimum_format"] = fields.string("profminimum_format", required=False,
                                                     max_length=40)
    _read_venue(data, fields, values, partial=partial)
    fields.raise_if_any()
    return values


def _read_venue(data: dict, fields: Fields, values: dict, *, partial: bool) -> None:
    venue = data.get("venue")
    if isinstance(venue, dict):
        for key, target in (("name", "venue_name"), ("address", "venue_address"),
                            ("room", "venue_room")):
            value = venue.get(key)
            if value is not None and not isinstance(value, str):
                fields.error("venue", "Ожидается объект {name, address, room} из строк.")
                return
            values[target] = value or ""
    elif isinstance(venue, str):
        values["venue_name"] = ""
        values["venue_address"] = venue
    elif venue is not None:
        fields.error("venue", "Ожидается строка или объект {name, address, room}.")
    for name in ("venue_name", "venue_address", "venue_room"):
        if name in data:
            values[name] = fields.string(name, required=False, max_length=300) or ""
    if not partial and not any(values.get(n) for n in ("venue_name", "venue_address")):
        fields.error("venue", "Укажите место проведения.")


def _event_for(event_id: int) -> Event:
    caller = resolve_caller()
    user = caller.user if caller else None
    event = db.session.get(Event, event_id)
    if event is None or not can_view_event(user, event):
        raise not_found("Мероприятие не найдено.")
    return event


def _managed(event_id: int) -> Event:
    event = _event_for(event_id)
    user = current_caller().user
    if user.role != Role.ADMIN and user.organization_id != event.organizer_id:
        raise forbidden("Можно управлять только мероприятиями своей организации.")
    return event


@bp.post("/events")
@documented("Создать мероприятие (черновик)", tags=["Мероприятия"],
            request=EVENT_REQUEST_SCHEMA, response=EVENT_SCHEMA, status=201,
            description="Организатор — своя организация; профкоординатор создаёт внутришкольное "
                        "мероприятие своей школы; администратор может указать organizer_id.")
@api_login_required(*EVENT_MANAGERS)
def create_event():
    values = _read_event_fields(json_body(), partial=False)
    with unit_of_work():
        event = svc.create_event(current_caller().user, **values)
    return jsonify(event_json(event, 0)), 201


@bp.get("/events")
@documented("Опубликованные мероприятия с фильтрами", tags=["Мероприятия"], auth="none",
            parameters=LIST_PARAMETERS,
            response={"type": "object", "properties": {
                "events": {"type": "array", "items": EVENT_SCHEMA},
                "total": {"type": "integer"}}})
def list_events():
    caller = resolve_caller()
    user = caller.user if caller else None
    args = request.args
    errors: dict[str, str] = {}
    filters = CatalogueFilters(
        q=args.get("q") or None,
        date_from=_date_or_time(args.get("from"), "from", errors),
        date_to=_date_or_time(args.get("to"), "to", errors),
    )
    category = args.get("category")
    if category:
        if Category.query.filter_by(code=category).first() is None:
            errors["category"] = "Неизвестная категория."
        filters.category = category
    if args.get("audience"):
        try:
            filters.audience = Audience(args["audience"])
        except ValueError:
            errors["audience"] = "Допустимые значения: students, preschool, parents, teachers."
    for name in ("grade", "organizer_id", "limit", "offset"):
        if args.get(name) is not None:
            try:
                message = int_range_error(int(args[name]))
            except ValueError:
                message = "Ожидается целое число."
            if message:
                errors[name] = message
    flags = {}
    for name in ("early", "ovz_adapted"):
        value = args.get(name)
        if value is None or value == "":
            continue
        if value.lower() not in ("true", "false", "1", "0"):
            errors[name] = "Ожидается true или false."
        else:
            flags[name] = value.lower() in ("true", "1")
    if errors:
        raise ApiError(422, "validation_error", "Проверьте параметры запроса.", errors)
    if args.get("grade") is not None:
        filters.grade = int(args["grade"])
    if args.get("organizer_id") is not None:
        filters.organizer_id = int(args["organizer_id"])
    limit = min(max(int(args.get("limit", 100)), 1), MAX_LIMIT)
    offset = max(int(args.get("offset", 0)), 0)

    stmt = catalogue_query(user, filters, upcoming_only=False)
    if "early" in flags:
        stmt = stmt.where(Event.early.is_(flags["early"]))
    if "ovz_adapted" in flags:
        stmt = stmt.where(Event.ovz_adapted.is_(flags["ovz_adapted"]))
    total = db.session.execute(
        sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    events = db.session.execute(
        stmt.options(joinedload(Event.organizer), joinedload(Event.category),
                     joinedload(Event.roadmap_item))
        .order_by(Event.starts_at, Event.id).offset(offset).limit(limit)
    ).unique().scalars().all()
    counts = svc.event_counts([e.id for e in events])
    return jsonify({"events": [event_json(e, counts[e.id][0]) for e in events],
                    "total": total, "limit": limit, "offset": offset})


def _date_or_time(value: str | None, name: str, errors: dict):
    if not value:
        return None
    try:
        parsed = date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or (isinstance(parsed, datetime) and parsed.tzinfo is None):
        errors[name] = "Ожидается дата ГГГГ-ММ-ДД или время ISO 8601 со смещением."
        return None
    message = date_range_error(parsed)
    if message:
        errors[name] = message
        return None
    return parsed


@bp.get("/events/<int:event_id>")
@documented("Мероприятие", tags=["Мероприятия"], auth="none", response=EVENT_SCHEMA,
            description="Черновики и внутришкольные мероприятия видны только своей "
                        "организации и администраторам.")
def get_event(event_id: int):
    return jsonify(event_json(_event_for(event_id)))


@bp.patch("/events/<int:event_id>")
@documented("Изменить мероприятие", tags=["Мероприятия"], request=EVENT_PATCH_SCHEMA,
            response=EVENT_SCHEMA)
@api_login_required(*EVENT_MANAGERS)
def patch_event(event_id: int):
    event = _managed(event_id)
    values = _read_event_fields(json_body(), partial=True)
    with unit_of_work():
        event = svc.update_event(current_caller().user, event, **values)
    return jsonify(event_json(event))


@bp.post("/events/<int:event_id>/publish")
@documented("Опубликовать мероприятие", tags=["Мероприятия"],
            response={"type": "object", "properties": {"status": {"type": "string"}}})
@api_login_required(*EVENT_MANAGERS)
def publish_event(event_id: int):
    event = _managed(event_id)
    with unit_of_work():
        event = svc.publish_event(current_caller().user, event)
    return jsonify({**event_json(event), "status": event.status.value})


@bp.post("/events/<int:event_id>/cancel")
@documented("Отменить мероприятие", tags=["Мероприятия"],
            request={"type": "object", "properties": {"reason": {"type": "string"}},
                     "required": ["reason"]},
            response={"type": "object", "properties": {"status": {"type": "string"}}})
@api_login_required(*EVENT_MANAGERS)
def cancel_event(event_id: int):
    event = _managed(event_id)
    data = json_body()
    reason = data.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise ApiError(422, "validation_error", "Причина — строка.",
                       {"reason": "Ожидается строка."})
    with unit_of_work():
        event = svc.cancel_event(current_caller().user, event, reason)
    return jsonify({**event_json(event), "status": EventStatus.CANCELLED.value})


@bp.get("/categories")
@documented("Категории мероприятий", tags=["Мероприятия"], auth="none",
            response={"type": "object", "properties": {"categories": {
                "type": "array", "items": {"type": "object", "properties": {
                    "code": {"type": "string"}, "name": {"type": "string"}}}}}})
def list_categories():
    rows = Category.query.filter_by(active=True).order_by(Category.sort_order,
                                                          Category.name).all()
    return jsonify({"categories": [{"code": c.code, "name": c.name} for c in rows]})


@bp.post("/categories")
@documented("Добавить категорию", tags=["Мероприятия"], status=201,
            request={"type": "object", "properties": {"code": {"type": "string"},
                                                       "name": {"type": "string"}},
                     "required": ["code", "name"]},
            response={"type": "object"})
@api_login_required(Role.ADMIN)
def create_category():
    data = json_body()
    fields = Fields(data)
    code = fields.string("code", max_length=40)
    name = fields.string("name", max_length=200)
    fields.raise_if_any()
    with unit_of_work():
        category = svc.create_category(current_caller().user, code, name)
    return jsonify({"code": category.code, "name": category.name}), 201
