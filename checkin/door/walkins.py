"""Walk-ins: someone who came without a ticket is registered on the spot and checked in.

Signed in, the organizer (or an admin) registers a student or teacher of a known school (found
in its roster by name, else added to it) or a parent, and the check-in counts at once. The seat
comes from :func:`checkin.seats.registration.allocate_ticket` under the event lock, so capacity
holds; when the event is full nothing is written and the answer is ``event_full``.

A scanner link (a volunteer without an account) never reads or writes a school's roster: a
student or teacher it enters becomes a :class:`models.WalkIn` waiting for the organizer or the
school to confirm (:func:`confirm_walk_in`); nothing counts until then, and the answer tells
only what the volunteer typed. A parent entered by a link is registered at once (their own
sign-up, no roster).
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa

from checkin.door.scans import (
    MAX_CLIENT_SCAN_ID,
    MAX_LABEL,
    check_client_scan_event,
    perform_scan,
    replay_scan,
)
from checkin.seats.capacity import lock_event
from checkin.seats.registration import allocate_ticket
from errors import ConflictError, FieldErrors, NotFoundError, ServiceError
from formats.class_names import ClassNameError, normalize_class, normalize_group
from formats.person_names import add_name_problems
from formats.phones import normalize_phone
from formats.text import fold
from models import (
    Audience,
    EventStatus,
    Organization,
    OrgKind,
    ParentSignup,
    ScanSource,
    Student,
    Teacher,
    TicketKind,
    TicketStatus,
    WalkIn,
    db,
    now_utc,
    record_audit,
)
from models.user import hash_token

#: Recorded as the consent version of a parent registered by staff at the door.
DOOR_CONSENT_VERSION = "door"
NAME_MAX = 100
SCHOOL_KINDS = (OrgKind.SCHOOL, OrgKind.PRESCHOOL)


def walk_in_school_kinds(event, kind: TicketKind | None = None) -> tuple[OrgKind, ...]:
    """Where someone who came without a ticket may be from: a pupil of a school at an event
    for school students, of a kindergarten at one for preschoolers; a teacher or a parent's
    child from either (``kind`` None: what the door's form offers at all)."""
    if kind == TicketKind.STUDENT or kind is None:
        if event.audience == Audience.STUDENTS:
            return (OrgKind.SCHOOL,)
        if event.audience == Audience.PRESCHOOL:
            return (OrgKind.PRESCHOOL,)
    return SCHOOL_KINDS


def _text(data: dict, name: str, problems: FieldErrors, *, required: bool, label: str,
          max_length: int = NAME_MAX) -> str | None:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        problems.add(name, "Ожидается строка.")
        return None
    value = " ".join((value or "").split())
    if not value:
        if required:
            problems.add(name, f"Укажите {label}.")
        return None
    if len(value) > max_length:
        problems.add(name, f"Не длиннее {max_length} символов.")
        return None
    return value


def _school(data: dict, problems: FieldErrors, *, required: bool,
            kinds: tuple[OrgKind, ...] = SCHOOL_KINDS) -> Organization | None:
    org_id = data.get("organization_id")
    if org_id is None:
        if required:
            problems.add("organization_id", "Выберите школу.")
        return None
    if isinstance(org_id, bool) or not isinstance(org_id, int):
        problems.add("organization_id", "Ожидается число — номер организации.")
        return None
    org = db.session.get(Organization, org_id)
    if org is None or not org.active or org.kind not in SCHOOL_KINDS:
        problems.add("organization_id", "Такой школы или детского сада нет в справочнике.")
        return None
    if org.kind not in kinds:
        problems.add("organization_id", "Мероприятие для школьников: выберите школу."
                     if kinds == (OrgKind.SCHOOL,) else
                     "Мероприятие для дошкольников: выберите детский сад.")
        return None
    return org


def _class_name(org: Organization, value: str, problems: FieldErrors) -> tuple[str, int] | None:
    try:
        if org.kind == OrgKind.PRESCHOOL:
            return normalize_group(value)
        return normalize_class(value)
    except ClassNameError as err:
        problems.add("class_name", "Класс: " + str(err))
        return None


def _same(a: str | None, b: str | None) -> bool:
    return fold(a) == fold(b)


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
    problems = FieldErrors()
    kind_value = data.get("kind")
    try:
        kind = TicketKind(kind_value)
    except ValueError:
        kind = None
        problems.add("kind", "Выберите: student (ученик), teacher (педагог) или parent "
                             "(родитель).")
    force = data.get("force", False)
    if not isinstance(force, bool):
        problems.add("force", "Ожидается true или false.")
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
        org = _school(data, problems, required=True, kinds=walk_in_school_kinds(event, kind))
        last = _text(data, "last_name", problems, required=True, label="фамилию")
        first = _text(data, "first_name", problems, required=True, label="имя")
        middle = _text(data, "middle_name", problems, required=False, label="отчество")
        klass = None
        if kind == TicketKind.STUDENT:
            raw_class = _text(data, "class_name", problems, required=True,
                              label="класс, например 7Б", max_length=40)
            if org is not None and raw_class:
                klass = _class_name(org, raw_class, problems)
        add_name_problems(problems, last_name=last, first_name=first, middle_name=middle)
        holder = {"org": org, "last": last, "first": first, "middle": middle, "klass": klass}
    elif kind == TicketKind.PARENT:
        # The form's labels: «Фамилия и имя», «Телефон (необязательно)».
        name = _text(data, "name", problems, required=True, label="фамилию и имя родителя",
                     max_length=200)
        phone = None
        raw_phone = _text(data, "phone", problems, required=False, label="телефон",
                          max_length=40)
        if raw_phone:
            try:
                phone = normalize_phone(raw_phone)
            except ServiceError as err:
                problems.add("phone", err.message)
        child_org = _school(data, problems, required=False)
        add_name_problems(problems, name=name)
        holder = {"name": name, "phone": phone, "org": child_org}
    problems.raise_if_any("Проверьте данные пришедшего.")
    # A retried walk-in (same client_scan_id): the first answer, nothing new.
    pending = _pending_replay(event.id, extras["client_scan_id"])
    if pending is not None:
        return pending
    replay = replay_scan(event.id, extras["client_scan_id"])
    if replay is not None:
        return replay
    if actor_user is None and kind in (TicketKind.STUDENT, TicketKind.TEACHER):
        return _hold_for_confirmation(event, kind, holder, scanner_link, extras)

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
    ticket.walk_in = True
    record_audit(actor_user, "checkin.walk_in", ticket, event_id=event.id, kind=kind.value,
                 scanner_link_id=getattr(scanner_link, "id", None))
    return perform_scan(event, ticket.token, actor_user=actor_user, scanner_link=scanner_link,
                        force=force, source=ScanSource.WALK_IN, **extras)


# --------------------------------------------------------------------------- pending walk-ins

PENDING_MESSAGE = ("Записан(а) как новый участник. Отметка засчитается, когда организатор или "
                   "школа подтвердит данные.")


def pending_answer(walk_in: WalkIn) -> dict:
    """The answer to a link holder: only what they typed, nothing from any roster."""
    org = walk_in.organization
    return {"status": "pending", "message": PENDING_MESSAGE, "checkin": None,
            "attendee": {"name": walk_in.full_name, "kind": walk_in.kind,
                         "organization": org.display_name if org is not None else None,
                         "class_name": walk_in.class_name, "needs_assistance": False},
            "walk_in": {"id": walk_in.id, "arrived_at": walk_in.arrived_at.isoformat()},
            "scan_id": None, "flag": None, "forced": False}


def _pending_replay(event_id: int, client_scan_id: str | None) -> dict | None:
    if not client_scan_id:
        return None
    walk_in = db.session.execute(
        sa.select(WalkIn).where(WalkIn.client_scan_id == client_scan_id)).scalar_one_or_none()
    if walk_in is None:
        return None
    check_client_scan_event(walk_in.event_id, event_id)
    return pending_answer(walk_in)


def _hold_for_confirmation(event, kind: TicketKind, holder: dict, scanner_link,
                           extras: dict) -> dict:
    """A link's student or teacher: a pending walk-in, no roster row, no ticket, no check-in."""
    if event.status != EventStatus.PUBLISHED:
        raise ConflictError("event_not_published", "Мероприятие не опубликовано или отменено.")
    if not event.checkin_open():
        raise ConflictError("not_open", "Сейчас вне времени входа на мероприятие: записать и "
                                        "отметить пришедшего нельзя.")
    class_name, grade = holder["klass"] if kind == TicketKind.STUDENT else (None, None)
    walk_in = WalkIn(event_id=event.id, kind=kind.value, organization_id=holder["org"].id,
                     last_name=holder["last"], first_name=holder["first"],
                     middle_name=holder["middle"], class_name=class_name, grade=grade,
                     client_scan_id=extras["client_scan_id"],
                     scanner_link_id=getattr(scanner_link, "id", None),
                     device_label=extras["device_label"],
                     gate=extras["gate"] or getattr(scanner_link, "gate", None),
                     arrived_at=now_utc())
    db.session.add(walk_in)
    db.session.flush()
    record_audit(None, "checkin.walk_in_pending", walk_in, event_id=event.id, kind=kind.value,
                 organization_id=walk_in.organization_id,
                 scanner_link_id=getattr(scanner_link, "id", None))
    return pending_answer(walk_in)


def pending_walk_ins(event_id: int, *, organization_id: int | None = None) -> list[WalkIn]:
    query = sa.select(WalkIn).where(WalkIn.event_id == event_id)
    if organization_id is not None:
        query = query.where(WalkIn.organization_id == organization_id)
    return list(db.session.execute(query.order_by(WalkIn.arrived_at, WalkIn.id)).scalars())


def confirm_walk_in(actor, walk_in: WalkIn) -> dict:
    """The organizer (or the school) confirms: the person is found or added in the school's
    roster, gets a ticket and is checked in at the time they came; the pending row goes."""
    event = lock_event(walk_in.event_id)
    if event is None:
        raise NotFoundError("not_found", "Мероприятие не найдено.")
    if event.status != EventStatus.PUBLISHED:
        raise ConflictError("event_not_published", "Мероприятие не опубликовано или отменено.")
    org = walk_in.organization
    if walk_in.kind == TicketKind.STUDENT.value:
        person = _find_or_add_student(org, walk_in.last_name, walk_in.first_name,
                                      walk_in.middle_name, walk_in.class_name, walk_in.grade)
        ticket = allocate_ticket(event, TicketKind.STUDENT, student=person)
    else:
        person = _find_or_add_teacher(org, walk_in.last_name, walk_in.first_name,
                                      walk_in.middle_name)
        ticket = allocate_ticket(event, TicketKind.TEACHER, teacher=person)
    if ticket.status != TicketStatus.CONFIRMED:
        raise ConflictError("event_full", "Мест нет: все места на мероприятии заняты.")
    ticket.walk_in = True
    # Confirmed by staff: counts from the moment the person came (``force`` only lets a time
    # outside the window or a confirmation after check-in closed through; it is not flagged
    # as forced when the person came inside the window).
    result = perform_scan(event, ticket.token, actor_user=actor, scanner_link=None,
                          scanned_at=walk_in.arrived_at, force=True,
                          device_label=walk_in.device_label, gate=walk_in.gate,
                          source=ScanSource.WALK_IN)
    record_audit(actor, "checkin.walk_in_confirm", ticket, event_id=event.id,
                 kind=walk_in.kind, walk_in_id=walk_in.id, scan_id=result.get("scan_id"))
    db.session.delete(walk_in)
    db.session.flush()
    return result


def reject_walk_in(actor, walk_in: WalkIn) -> None:
    """Not a real person of that school (or entered twice): the pending row goes, nothing else
    was written."""
    record_audit(actor, "checkin.walk_in_reject", walk_in, event_id=walk_in.event_id,
                 kind=walk_in.kind)
    db.session.delete(walk_in)
    db.session.flush()
