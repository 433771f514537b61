"""Rosters through the API: a school's information system sends students and teachers.

``POST /organizations/{id}/students`` and ``/teachers`` are all or nothing; people already in
the roster are matched (students by external id, else exact name and class; teachers by e-mail,
else exact name) and updated instead of duplicated. Errors name the item, for example
``students[3].class_name``.
"""

from __future__ import annotations

from flask import jsonify, request

from formats.spreadsheets import ImportProblems
from models import Organization, Role, Student, Teacher, db, folded
from models.organization import EDUCATIONAL_KINDS
from webapp.access import can_manage_roster
from webapp.api import bp
from webapp.api.auth import api_login_required, current_caller
from webapp.api.openapi import documented
from webapp.api.validation import json_body
from webapp.api_errors import ApiError, forbidden, not_found, validation_error
from webapp.schools.roster import upsert_students, upsert_teachers
from webapp.services.personal_data import record_personal_export
from webapp.transaction import unit_of_work

MAX_ITEMS = 5000
STUDENT_ITEM = {
    "type": "object",
    "properties": {
        "last_name": {"type": "string"}, "first_name": {"type": "string"},
        "middle_name": {"type": "string"},
        "class_name": {"type": "string", "description": "«7Б», «7 б», «7-Б»…; нормализуется"},
        "ovz": {"type": "boolean"}, "external_id": {"type": "string"},
    },
    "required": ["last_name", "first_name", "class_name", "ovz"],
}
TEACHER_ITEM = {
    "type": "object",
    "properties": {"last_name": {"type": "string"}, "first_name": {"type": "string"},
                   "middle_name": {"type": "string"}, "email": {"type": "string"}},
    "required": ["last_name", "first_name"],
}
IDS_RESPONSE = {"type": "object",
                "properties": {"ids": {"type": "array", "items": {"type": "integer"}}}}

STUDENT_KEYS = ("last_name", "first_name", "middle_name", "class_name", "ovz", "external_id")
TEACHER_KEYS = ("last_name", "first_name", "middle_name", "email")


def _school(org_id: int) -> Organization:
    user = current_caller().user
    org = db.session.get(Organization, org_id)
    if org is None:
        raise not_found("Организация не найдена.")
    if not can_manage_roster(user, org.id):
        raise forbidden("Списки учеников и педагогов ведёт только сама школа.")
    if org.kind not in EDUCATIONAL_KINDS:
        raise ApiError(422, "not_a_school", "Списки ведут только школы и детские сады.")
    return org


def _items(list_name: str, keys: tuple, required: tuple) -> list[tuple[str, dict]]:
    body = json_body()
    items = body.get(list_name)
    if not isinstance(items, list) or not items:
        raise validation_error({list_name: "Ожидается непустой список."})
    if len(items) > MAX_ITEMS:
        raise validation_error({list_name: f"Не больше {MAX_ITEMS} за один запрос."})
    errors: dict[str, str] = {}
    parsed = []
    for index, item in enumerate(items):
        prefix = f"{list_name}[{index}]"
        if not isinstance(item, dict):
            errors[prefix] = "Ожидается объект."
            continue
        values = {}
        for key in keys:
            value = item.get(key)
            if key == "ovz":
                if value is None:
                    errors[f"{prefix}.ovz"] = "Обязательное поле: true или false."
                elif not isinstance(value, bool):
                    errors[f"{prefix}.ovz"] = "Ожидается true или false."
                values[key] = bool(value)
                continue
            if value is not None and not isinstance(value, str):
                errors[f"{prefix}.{key}"] = "Ожидается строка."
                continue
            if key in required and not (value or "").strip():
                errors[f"{prefix}.{key}"] = "Обязательное поле."
            values[key] = value
        unknown = set(item) - set(keys)
        if unknown:
            errors[f"{prefix}"] = "Неизвестные поля: " + ", ".join(sorted(unknown)) + "."
        parsed.append((prefix, values))
    if errors:
        raise validation_error(errors)
    return parsed


def _problems_to_error(err: ImportProblems) -> ApiError:
    fields: dict[str, str] = {}
    for problem in err.cells:
        key = str(problem.row) if problem.row is not None else "_"
        text = (f"{problem.column}: {problem.message}" if problem.column
                else problem.message[:1].upper() + problem.message[1:])
        fields[key] = f"{fields[key]} {text}" if key in fields else text
    return ApiError(422, "validation_error", "Ничего не записано: исправьте ошибки.", fields)


@bp.post("/organizations/<int:org_id>/students")
@documented("Добавить или обновить учеников школы (всё или ничего)", tags=["Списки школы"],
            request={"type": "object", "properties": {
                "students": {"type": "array", "items": STUDENT_ITEM}}, "required": ["students"]},
            response=IDS_RESPONSE, status=201,
            description="Ученики сопоставляются по external_id, а без него — по ФИО и классу; "
                        "найденные обновляются. Ответ: id в порядке запроса.")
@api_login_required(Role.ADMIN, Role.COORDINATOR)
def post_students(org_id: int):
    org = _school(org_id)
    items = _items("students", STUDENT_KEYS, ("last_name", "first_name", "class_name"))
    with unit_of_work(catch=ImportProblems) as uow:
        result = upsert_students(current_caller().user, org, items)
    if uow.error is not None:
        raise _problems_to_error(uow.error)
    return jsonify({"ids": [p.id for p in result.ordered]}), 201


@bp.post("/organizations/<int:org_id>/teachers")
@documented("Добавить или обновить педагогов школы (всё или ничего)", tags=["Списки школы"],
            request={"type": "object", "properties": {
                "teachers": {"type": "array", "items": TEACHER_ITEM}}, "required": ["teachers"]},
            response=IDS_RESPONSE, status=201)
@api_login_required(Role.ADMIN, Role.COORDINATOR)
def post_teachers(org_id: int):
    org = _school(org_id)
    items = _items("teachers", TEACHER_KEYS, ("last_name", "first_name"))
    with unit_of_work(catch=ImportProblems) as uow:
        result = upsert_teachers(current_caller().user, org, items)
    if uow.error is not None:
        raise _problems_to_error(uow.error)
    return jsonify({"ids": [p.id for p in result.ordered]}), 201


STUDENT_JSON = {"type": "object", "properties": {
    "id": {"type": "integer"}, "last_name": {"type": "string"}, "first_name": {"type": "string"},
    "middle_name": {"type": "string"}, "class_name": {"type": "string"},
    "grade": {"type": "integer"}, "ovz": {"type": "boolean"}, "external_id": {"type": "string"},
    "active": {"type": "boolean"}}}


@bp.get("/organizations/<int:org_id>/students")
@documented("Ученики школы (только сама школа и администратор)", tags=["Списки школы"],
            response={"type": "object", "properties": {
                "students": {"type": "array", "items": STUDENT_JSON}}},
            parameters=[{"name": "class_name", "in": "query", "schema": {"type": "string"}},
                        {"name": "include_inactive", "in": "query",
                         "schema": {"type": "boolean"}}])
@api_login_required(Role.ADMIN, Role.COORDINATOR)
def get_students(org_id: int):
    org = _school(org_id)
    query = Student.query.filter(Student.organization_id == org.id,
                                 Student.anonymized_at.is_(None))
    if request.args.get("include_inactive") not in ("true", "1"):
        query = query.filter(Student.active.is_(True))
    if request.args.get("class_name"):
        query = query.filter(Student.class_name == request.args["class_name"])
    students = query.order_by(Student.class_name, folded(Student.last_name),
                              folded(Student.first_name), Student.id).all()
    with unit_of_work():
        record_personal_export(current_caller().user, "roster_students", org, rows=len(students),
                               format="api")
    return jsonify({"students": [{
        "id": s.id, "last_name": s.last_name, "first_name": s.first_name,
        "middle_name": s.middle_name, "class_name": s.class_name, "grade": s.grade,
        "ovz": s.ovz, "external_id": s.external_id, "active": s.active} for s in students]})


@bp.get("/organizations/<int:org_id>/teachers")
@documented("Педагоги школы (только сама школа и администратор)", tags=["Списки школы"],
            response={"type": "object"})
@api_login_required(Role.ADMIN, Role.COORDINATOR)
def get_teachers(org_id: int):
    org = _school(org_id)
    teachers = (Teacher.query.filter(Teacher.organization_id == org.id,
                                     Teacher.active.is_(True),
                                     Teacher.anonymized_at.is_(None))
                .order_by(folded(Teacher.last_name), folded(Teacher.first_name), Teacher.id).all())
    return jsonify({"teachers": [{
        "id": t.id, "last_name": t.last_name, "first_name": t.first_name,
        "middle_name": t.middle_name, "email": t.email} for t in teachers]})
