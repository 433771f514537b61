"""Class lists through the API (docs/api.md): the school's coordinator records that whole
classes attended an event; the twin of the page «Отметка по списку класса»."""

from __future__ import annotations

from flask import jsonify

from models import Event, Role, db
from webapp.api import bp
from webapp.api.auth import api_login_required, current_caller
from webapp.api.openapi import documented
from webapp.api.validation import json_body
from webapp.api_errors import not_found, validation_error
from webapp.attendance.class_lists import mark_classes
from webapp.transaction import unit_of_work


@bp.post("/events/<int:event_id>/class-attendance")
@documented("Отметить классы по списку (все, кроме отсутствующих)",
            tags=["Отметка на входе"],
            request={"type": "object", "required": ["classes"], "properties": {
                "classes": {"type": "array", "items": {"type": "string"}, "minItems": 1,
                            "description": "классы школы, например «7Б»"},
                "absent_student_ids": {"type": "array", "items": {"type": "integer"},
                                       "description": "ученики этих классов, которых не было"}}},
            response={"type": "object", "properties": {
                "checked_in": {"type": "integer",
                               "description": "отмечено сейчас (уже отмеченные не считаются)"}}},
            status=201,
            description="Только координатор школы: активные ученики своей школы, на "
                        "внутришкольном мероприятии своей школы или на мероприятии, куда школа "
                        "записала группу (иначе 403); мероприятие опубликовано и началось. "
                        "Отметка с источником «отметка по списку класса» (class_list). "
                        "Неизвестный класс, отсутствующий не из этих классов — 422 с их "
                        "перечнем; ничего не записано. Повторная отметка никого не считает "
                        "дважды.")
@api_login_required(Role.ADMIN, Role.ORGANIZER, Role.COORDINATOR)
def post_class_attendance(event_id: int):
    event = db.session.get(Event, event_id)
    if event is None:
        raise not_found("Мероприятие не найдено.")
    body = json_body()
    classes, absent = body.get("classes"), body.get("absent_student_ids", [])
    unknown = set(body) - {"classes", "absent_student_ids"}
    if unknown:
        raise validation_error({"_": "Неизвестные поля: " + ", ".join(sorted(unknown)) + "."})
    if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
        raise validation_error({"classes": "Ожидается непустой список классов, например "
                                           "[\"7Б\"]."})
    if not isinstance(absent, list):
        raise validation_error({"absent_student_ids": "Ожидается список номеров учеников."})
    with unit_of_work():
        outcome = mark_classes(current_caller().user, event, classes, absent)
    return jsonify({"checked_in": outcome.checked_in}), 201
