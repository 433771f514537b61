"""Walk-ins: someone who came without a ticket is registered on the spot and checked in.

A student or teacher of a known school (found in its roster by name, else added to it), or a
parent. The seat comes from :func:`checkin.registration.allocate_ticket` under the event lock,
so capacity holds; when the event is full nothing is written and the answer is ``event_full``.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa

from checkin.capacity import lock_event
from checkin.registration import allocate_ticket
from checkin.services import MAX_CLIENT_SCAN_ID, MAX_LABEL, perform_scan, replay_scan
from models import (
    EventStatus,
    Organization,
    OrgKind,
    ParentSignup,
    Student,
    Teacher,
    TicketKind,
    TicketStatus,
    db,
    now_utc,
    record_audit,
)
from models.errors import ConflictError, NotFoundError, ServiceError
from models.user import hash_token

#: Recorded as the consent version of a parent registered by staff at the door.
DOOR_CONSENT_VERSION = "door"
NAME_MAX = 100
SCHOOL_KINDS = (OrgKind.SCHOOL, OrgKind.PRESCHOOL)


def _text(data: dict, name: str, problems: dict, *, required: bool, label: str,
          max_length: int = NAME_MAX) -> str | None:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        problems[name] = "Ожидается строка."
        return None
    value = " ".join((value or "").split())
    if not value:
        if required:
            problems[name] = f"Укажите {label}."
        return None
    if len(value) > max_length:
        problems[name] = f"Не длиннее {max_length} символов."
        return None
    return value


def _school(data: dict, problems: dict, *, required: bool) -> Organization | None:
    org_id = data.get("organization_id")
    if org_id is None:
        if required:
            problems["organization_id"] = "Выберите школу."
        return None
    if isinstance(org_id, bool) or not isinstance(org_id, int):
        problems["organization_id"] = "Ожидается число — номер организации."
        return None
    org = db.session.get(Organization, org_id)
    if org is None or not org.active or org.kind not in SCHOOL_KINDS:
        problems["organization_id"] = "Такой школы или детского сада нет в справочнике."
        return None
    return org


def _class_name(org: Organization, value: str, problems: dict) -> tuple[str, int] | None:
    from webapp.schools.classes import ClassNameError, normalize_class, normalize_group

    try:
        if org.kind == OrgKind.PRESCHOOL:
            return normalize_group(value)
        return normalize_class(value)
    except ClassNameError as err:
        problems["class_name"] = "Класс: " + str(err)
        return None


def _same(a: str | None, b: str | None) -> bool:
    return (a or "").casefold().replace("ё", "е") == (b or "").casefold().replace("ё", "е")


def _find_or_add_student(org, last, first, middle, class_name, grade) -> Student:
    for s in db.session.execute(
        sa.select(Student).where(Student.organization_id == org.id, Student.active.is_(True),
                                 Student.class_name == class_name)
    ).scalars():
        if _same(s.last_name, last) and _same(s.first_name, first) and (
                not middle or _same(s.middle_name, middle)):
            return s
    student = Student(organization_id=org.id, last_name=last, first_name=first,
                      middle_name=middle, class_name=class_name, grade=grade, ovz=False,
                      active=True)
    db.session.add(student)
    db.session.flush()
    return student


def _find_or_add_teacher(org, last, first, middle) -> Teacher:
    for t in db.session.execute(
        sa.select(Teacher).where(Teacher.organization_id == org.id, Teacher.active.is_(True))
    ).scalars():
        if _same(t.last_name, last) and _same(t.first_name, first) and (
                not middle or _same(t.middle_name, middle)):
            return t
    teacher = Teacher(organization_id=org.id, last_name=last, first_name=first,
                      middle_name=middle, active=True)
    db.session.add(teacher)
    db.session.flush()
    return teacher


def register_walk_in(event, data: dict, *, actor_user=None, scanner_link=None) -> dict:
    """Validate ``data`` (the API's walk-in body), create the ticket and check it in.

    Returns the scan answer (status ``ok``). Raises ServiceError: ``validation_error`` (422),
    ``event_full`` / ``not_open`` / ``duplicate_ticket`` (409).
    """
    problems: dict[str, str] = {}
    kind_value = data.get("kind")
    try:
        kind = TicketKind(kind_value)
    except ValueError:
        kind = None
        problems["kind"] = "Выберите: student (ученик), teacher (педагог) или parent (родитель)."
    force = data.get("force", False)
    if not isinstance(force, bool):
        problems["force"] = "Ожидается true или false."
        force = False
    if force and actor_user is None:
        raise ServiceError("force_not_allowed", "Отметить вне времени входа может только "
                           "организатор.", status=403)
    extras = {}
    for name, limit in (("client_scan_id", MAX_CLIENT_SCAN_ID), ("device_label", MAX_LABEL),
                        ("gate", MAX_LABEL)):
        extras[name] = _text(data, name, problems, required=False, label=name,
                             max_length=limit)

    holder = {}
    if kind in (TicketKind.STUDENT, TicketKind.TEACHER):
        org = _school(data, problems, required=True)
        last = _text(data, "last_name", problems, required=True, label="фамилию")
        first = _text(data, "first_name", problems, required=True, label="имя")
        middle = _text(data, "middle_name", problems, required=False, label="отчество")
        klass = None
        if kind == TicketKind.STUDENT:
            raw_class = _text(data, "class_name", problems, required=True, label="класс",
                              max_length=40)
            if org is not None and raw_class:
                klass = _class_name(org, raw_class, problems)
        holder = {"org": org, "last": last, "first": first, "middle": middle, "klass": klass}
    elif kind == TicketKind.PARENT:
        from webapp.parents.services import normalize_phone

        name = _text(data, "name", problems, required=True, label="имя и фамилию",
                     max_length=200)
        phone = None
        raw_phone = _text(data, "phone", problems, required=True, label="телефон",
                          max_length=40)
        if raw_phone:
            try:
                phone = normalize_phone(raw_phone)
            except ServiceError as err:
                problems["phone"] = err.message
        child_org = _school(data, problems, required=False)
        holder = {"name": name, "phone": phone, "org": child_org}
    if problems:
        raise ServiceError("validation_error", "Проверьте данные пришедшего.", fields=problems)
    # A retried walk-in (same client_scan_id): the first answer, nothing new.
    replay = replay_scan(event.id, extras["client_scan_id"])
    if replay is not None:
        return replay

    event = lock_event(event.id)
    if event is None:
        raise NotFoundError("not_found", "Мероприятие не найдено.")
    if event.status != EventStatus.PUBLISHED:
        raise ConflictError("event_not_published", "Мероприятие не опубликовано или отменено.")
    if not event.checkin_open() and not force:
        raise ConflictError("not_open", "Сейчас вне времени входа на мероприятие: записать и "
                                        "отметить пришедшего нельзя.")

    if kind == TicketKind.STUDENT:
        class_name, grade = holder["klass"]
        student = _find_or_add_student(holder["org"], holder["last"], holder["first"],
                                       holder["middle"], class_name, grade)
        ticket = allocate_ticket(event, kind, student=student)
    elif kind == TicketKind.TEACHER:
        teacher = _find_or_add_teacher(holder["org"], holder["last"], holder["first"],
                                       holder["middle"])
        ticket = allocate_ticket(event, kind, teacher=teacher)
    else:
        now = now_utc()
        signup = ParentSignup(
            event_id=event.id, name=holder["name"], phone=holder["phone"],
            child_organization_id=holder["org"].id if holder["org"] else None,
            consent_version=DOOR_CONSENT_VERSION, consent_at=now,
            manage_secret_hash=hash_token(secrets.token_urlsafe(24)), created_at=now)
        db.session.add(signup)
        db.session.flush()
        ticket = allocate_ticket(event, kind, parent_signup=signup)
    if ticket.status != TicketStatus.CONFIRMED:
        raise ConflictError("event_full", "Мест нет: все места на мероприятии заняты.")
    record_audit(actor_user, "checkin.walk_in", ticket, event_id=event.id, kind=kind.value,
                 scanner_link_id=getattr(scanner_link, "id", None))
    return perform_scan(event, ticket.token, actor_user=actor_user, scanner_link=scanner_link,
                        force=force, **extras)
