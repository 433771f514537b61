"""Attendance imports through the API: the twin of the page «Загрузить список
присутствовавших» (``webapp.attendance``). A file (``multipart/form-data``, field ``file``) or
JSON rows; all or nothing, errors by row (``rows[3]`` for JSON, the row number for a file)."""

from __future__ import annotations

from flask import jsonify, request

from errors import ServiceError
from formats.spreadsheets import ImportProblems, ProblemCollector
from models import Event, Role, db
from webapp.api import bp
from webapp.api.auth import api_login_required, current_caller
from webapp.api.openapi import documented
from webapp.api.validation import json_body
from webapp.api_errors import ApiError, from_service_error, not_found, validation_error
from webapp.attendance.imports import (
    MAX_ITEMS,
    TITLES,
    import_attendance,
    import_attendance_file,
    withdraw_import,
)
from webapp.transaction import unit_of_work

ROW_KEYS = tuple(TITLES)
ROW_ITEM = {
    "type": "object",
    "properties": {
        "last_name": {"type": "string"}, "first_name": {"type": "string"},
        "middle_name": {"type": "string"},
        "class_name": {"type": "string", "description": "«7Б»; пусто — педагог"},
        "external_id": {"type": "string", "description": "идентификатор ученика в школе"},
        "school": {"type": "string", "description": "название школы, если есть тёзки"},
    },
}
RESULT = {"type": "object", "properties": {
    "id": {"type": "integer", "nullable": True,
           "description": "загрузка; null, если все уже были отмечены"},
    "rows": {"type": "integer"}, "checked_in": {"type": "integer"},
    "already_checked_in": {"type": "integer"}, "new_tickets": {"type": "integer"}}}
WITHDRAWN = {"type": "object", "properties": {
    "id": {"type": "integer"}, "withdrawn_at": {"type": "string", "format": "date-time"},
    "withdraw_reason": {"type": "string"}}}


def _event(event_id: int) -> Event:
    event = db.session.get(Event, event_id)
    if event is None:
        raise not_found("Мероприятие не найдено.")
    return event


def _problems_to_error(err: ImportProblems, prefix: str | None) -> ApiError:
    fields: dict[str, str] = {}
    for problem in err.cells:
        if problem.row is None:
            key = "_"
        else:
            key = f"{prefix}[{problem.row}]" if prefix else str(problem.row)
        text = (f"{problem.column}: {problem.message}" if problem.column
                else problem.message[:1].upper() + problem.message[1:])
        fields[key] = f"{fields[key]} {text}" if key in fields else text
    return ApiError(422, "validation_error", "Ничего не записано: исправьте ошибки.", fields)


def _rows_envelope() -> tuple[str, list]:
    """The body's ``rows`` (a non-empty list, at most MAX_ITEMS) and ``file_name`` (how the
    upload is called; «API» when not given)."""
    body = json_body()
    rows = body.get("rows")
    if not isinstance(rows, list) or not rows:
        raise validation_error({"rows": "Ожидается непустой список."})
    if len(rows) > MAX_ITEMS:
        raise validation_error({"rows": f"Не больше {MAX_ITEMS} за один запрос."})
    file_name = body.get("file_name", "API")
    if not isinstance(file_name, str) or not 0 < len(file_name.strip()) <= 255:
        raise validation_error({"file_name": "Строка до 255 символов."})
    return file_name.strip(), rows


def _row_objects(rows: list, keys: tuple[str, ...], errors: dict):
    """(index, error prefix, row) for each row that is an object; a row that is not, or that
    has fields outside ``keys``, is recorded in ``errors`` (an unknown field's row is still
    checked field by field)."""
    for index, item in enumerate(rows):
        prefix = f"rows[{index}]"
        if not isinstance(item, dict):
            errors[prefix] = "Ожидается объект."
            continue
        unknown = set(item) - set(keys)
        if unknown:
            errors[prefix] = "Неизвестные поля: " + ", ".join(sorted(unknown)) + "."
        yield index, prefix, item


def _json_rows() -> tuple[str, list[tuple[int, dict]]]:
    file_name, rows = _rows_envelope()
    errors: dict[str, str] = {}
    items = []
    for index, prefix, item in _row_objects(rows, ROW_KEYS, errors):
        for key in ROW_KEYS:
            if item.get(key) is not None and not isinstance(item[key], str):
                errors[f"{prefix}.{key}"] = "Ожидается строка."
        items.append((index, {k: item.get(k) for k in ROW_KEYS}))
    if errors:
        raise validation_error(errors)
    return file_name, items


@bp.post("/events/<int:event_id>/attendance-imports")
@documented("Загрузить список присутствовавших (всё или ничего)",
            tags=["Отметка на входе"],
            request={"type": "object", "required": ["rows"], "properties": {
                "file_name": {"type": "string", "description": "как назвать загрузку"},
                "rows": {"type": "array", "items": ROW_ITEM}}},
            multipart={"type": "object", "required": ["file"], "properties": {
                "file": {"type": "string", "format": "binary",
                         "description": "XLSX или CSV (UTF-8, Windows-1251), столбцы как "
                                        "в шаблоне"}}},
            response=RESULT, status=201,
            description="Организатор мероприятия отмечает записанных на него (любой школы); "
                        "координатор школы — своих учеников и педагогов, после окончания "
                        "мероприятия. Строки сопоставляются по external_id, иначе по ФИО и "
                        "классу (пустой класс — педагог). Уже отмеченные пропускаются; у кого "
                        "нет билета, получает подтверждённый билет (сверх вместимости, если "
                        "нужно). Ошибки — по строкам: rows[i] или номер строки файла.")
@api_login_required(Role.ADMIN, Role.ORGANIZER, Role.COORDINATOR)
def post_attendance_import(event_id: int):
    event = _event(event_id)
    user = current_caller().user
    upload = request.files.get("file")
    prefix, file_name, items = None, None, None
    if upload is None:
        prefix = "rows"
        file_name, items = _json_rows()
    with unit_of_work(catch=ServiceError) as uow:
        if upload is not None:
            outcome = import_attendance_file(user, event, upload.filename or "", upload.read())
        else:
            outcome = import_attendance(user, event, file_name, items, ProblemCollector())
    if isinstance(uow.error, ImportProblems):
        raise _problems_to_error(uow.error, prefix)
    if uow.error is not None:
        raise from_service_error(uow.error)
    return jsonify(outcome.as_json()), 201 if outcome.upload is not None else 200


@bp.post("/events/<int:event_id>/attendance-imports/<int:import_id>/withdraw")
@documented("Отозвать загруженный список: его отметки перестают учитываться",
            tags=["Отметка на входе"],
            request={"type": "object", "required": ["reason"],
                     "properties": {"reason": {"type": "string", "maxLength": 500}}},
            response=WITHDRAWN)
@api_login_required(Role.ADMIN, Role.ORGANIZER, Role.COORDINATOR)
def post_attendance_withdraw(event_id: int, import_id: int):
    event = _event(event_id)
    body = json_body()
    reason = body.get("reason")
    if not isinstance(reason, str):
        raise validation_error({"reason": "Укажите причину строкой."})
    with unit_of_work():
        upload = withdraw_import(current_caller().user, import_id, reason, event=event)
    return jsonify({"id": upload.id, "withdrawn_at": upload.withdrawn_at.isoformat(),
                    "withdraw_reason": upload.withdraw_reason})


# --------------------------------------------------------------------------- docs/api.md's form
# The contract fixed earlier in docs/api.md («Attendance the door never sees»): the same
# service, its own field names (``patronymic``, ``kind``, ``organization_id``) and answer.

CONTRACT_ROW = {
    "type": "object", "required": ["kind"],
    "properties": {
        "kind": {"type": "string", "enum": ["student", "teacher"]},
        "external_id": {"type": "string"}, "last_name": {"type": "string"},
        "first_name": {"type": "string"}, "patronymic": {"type": "string"},
        "class_name": {"type": "string"}, "organization_id": {"type": "integer"},
    },
}
CONTRACT_KEYS = ("kind", "external_id", "last_name", "first_name", "patronymic", "class_name",
                 "organization_id")


def _contract_rows() -> tuple[str, list[tuple[int, dict]]]:
    file_name, rows = _rows_envelope()
    errors: dict[str, str] = {}
    items = []
    for index, prefix, item in _row_objects(rows, CONTRACT_KEYS, errors):
        if item.get("kind") not in ("student", "teacher"):
            errors[f"{prefix}.kind"] = "Ожидается student или teacher."
        org_id = item.get("organization_id")
        if org_id is not None and (isinstance(org_id, bool) or not isinstance(org_id, int)
                                   or not 0 < org_id < 2**31):
            errors[f"{prefix}.organization_id"] = "Ожидается номер организации."
        for key in CONTRACT_KEYS[1:-1]:
            if item.get(key) is not None and not isinstance(item[key], str):
                errors[f"{prefix}.{key}"] = "Ожидается строка."
        values = {k: item.get(k) for k in ("external_id", "last_name", "first_name",
                                           "class_name")}
        values.update(middle_name=item.get("patronymic"), kind=item.get("kind"),
                      organization_id=org_id)
        if values["kind"] == "teacher":
            values["class_name"] = None
        items.append((index, values))
    if errors:
        raise validation_error(errors)
    return file_name, items


@bp.post("/events/<int:event_id>/attendance")
@documented("Отметить присутствовавших списком (форма из docs/api.md)",
            tags=["Отметка на входе"],
            request={"type": "object", "required": ["rows"], "properties": {
                "file_name": {"type": "string"},
                "rows": {"type": "array", "items": CONTRACT_ROW}}},
            response={"type": "object", "properties": {
                "import_id": {"type": "integer", "nullable": True},
                "checked_in": {"type": "integer"}, "already": {"type": "integer"}}},
            status=201,
            description="То же, что POST /events/{id}/attendance-imports с JSON; ошибки "
                        "по строкам rows[i].")
@api_login_required(Role.ADMIN, Role.ORGANIZER, Role.COORDINATOR)
def post_attendance(event_id: int):
    event = _event(event_id)
    file_name, items = _contract_rows()
    with unit_of_work(catch=ImportProblems) as uow:
        outcome = import_attendance(current_caller().user, event, file_name, items,
                                    ProblemCollector())
    if uow.error is not None:
        raise _problems_to_error(uow.error, "rows")
    return jsonify({"import_id": outcome.upload.id if outcome.upload else None,
                    "checked_in": outcome.checked_in, "already": outcome.already}), 201


@bp.delete("/attendance-imports/<int:import_id>")
@documented("Отозвать загруженный список (форма из docs/api.md)", tags=["Отметка на входе"],
            request={"type": "object", "required": ["reason"],
                     "properties": {"reason": {"type": "string", "maxLength": 500}}},
            response=WITHDRAWN)
@api_login_required(Role.ADMIN, Role.ORGANIZER, Role.COORDINATOR)
def delete_attendance_import(import_id: int):
    body = json_body()
    reason = body.get("reason")
    if not isinstance(reason, str):
        raise validation_error({"reason": "Укажите причину строкой."})
    with unit_of_work():
        upload = withdraw_import(current_caller().user, import_id, reason)
    return jsonify({"id": upload.id, "withdrawn_at": upload.withdrawn_at.isoformat(),
                    "withdraw_reason": upload.withdraw_reason})
