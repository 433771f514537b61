"""Event rules: create, update, publish, cancel, duplicate and repeat; counts for the lists.

Services take plain arguments, flush but never commit, and raise ``ServiceError`` with a code,
a Russian message and the fields at fault (field names match the form and the API).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa

from checkin.notifications import event_cancelled, event_moved
from checkin.seats.capacity import lock_event
from checkin.seats.registration import confirmed_count, promote_waitlist
from errors import ConflictError, FieldErrors, PermissionDenied, ServiceError
from formats.timefmt import TOMSK, format_datetime
from models import (
    LIVE_TICKET_STATUSES,
    Audience,
    Category,
    Event,
    EventStaff,
    EventStatus,
    Organization,
    OrgKind,
    RoadmapItem,
    Role,
    Scan,
    ScanOutcome,
    Teacher,
    Ticket,
    TicketStatus,
    db,
    now_utc,
    record_audit,
)
from models.academic_year import academic_year_of
from models.early_rule import early_rule_for
from models.event import (
    effective_checkin_closes,
    effective_checkin_opens,
    effective_registration_closes,
    event_search_key,
)
from models.profminimum import MAX_ACADEMIC_HOURS, ProfminimumFormat

#: Grades run from 0 (preschool / before first grade) to 11.
GRADE_MIN, GRADE_MAX = 0, 11
MAX_REPEAT_COPIES = 52

#: Fields a caller may set; anything else is a programming error.
EVENT_FIELDS = {
    "title", "description", "category", "audience", "grades_min", "grades_max", "starts_at",
    "ends_at", "venue_name", "venue_address", "venue_room", "capacity", "per_school_quota",
    "registration_opens_at", "registration_closes_at", "checkin_opens_at", "checkin_closes_at",
    "early", "ovz_adapted", "roadmap_item", "organizer_id", "school_internal", "staff_ids",
    "academic_hours", "profminimum_format",
}
#: Fields copied by duplicate/repeat.
_COPIED = (
    "title", "description", "category_id", "audience", "grades_min", "grades_max",
    "venue_name", "venue_address", "venue_room", "capacity", "per_school_quota", "early",
    "ovz_adapted", "roadmap_item_id", "organizer_id", "school_internal",
    "academic_hours_override", "profminimum_format_id",
)
_TIME_FIELDS = ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at",
                "checkin_opens_at", "checkin_closes_at")


def default_early(audience: Audience | None, grades_max: int | None,
                  category: Category | None, starts_at: datetime | None) -> bool:
    """Whether a new event without its own «ранняя профориентация» answer is early: the city's
    rule (``models.early_rule``) of the academic year the event starts in."""
    year = academic_year_of(starts_at or now_utc())
    return early_rule_for(year).applies(audience, grades_max,
                                        category.code if category else None)


def search_terms(query: str | None) -> list[str]:
    """Words of a catalogue search, normalized like ``Event.search_key``."""
    return event_search_key(query).split()[:8]


# --- permission ---------------------------------------------------------------------------

def _require_manager(actor, event: Event) -> None:
    if actor is None or not getattr(actor, "is_authenticated", True):
        raise PermissionDenied("forbidden", "Нужно войти в систему.")
    if actor.role != Role.ADMIN and actor.organization_id != event.organizer_id:
        raise PermissionDenied("forbidden", "Можно управлять только мероприятиями своей "
                                            "организации.")


def _require_creator(actor) -> None:
    if actor is None or actor.role not in (Role.ADMIN, Role.ORGANIZER, Role.COORDINATOR):
        raise PermissionDenied("forbidden", "Создавать мероприятия могут организаторы, "
                                            "профкоординаторы и администраторы.")


# --- validation ---------------------------------------------------------------------------

def _raise_if_any(errors: FieldErrors) -> None:
    """One field wrong: its message; several: a summary (each field keeps its own message)."""
    fields = errors.fields
    errors.raise_if_any(next(iter(fields.values())) if len(fields) == 1
                        else "Проверьте поля мероприятия.")


def _resolve_choice(model, value, errors: FieldErrors, field: str, unknown: str,
                    current=None):
    """A reference row (a category, a профминимум format) chosen by its code: the row, or None
    with ``unknown`` on ``field``. A retired row stays valid only where it is already set."""
    if isinstance(value, model):
        return value
    found = model.query.filter_by(code=str(value).strip()).one_or_none()
    if found is None or (not found.active and found is not current):
        errors.add(field, unknown)
        return None
    return found


def _resolve_category(value, errors: FieldErrors, current: Category | None = None):
    if value is None or value == "":
        errors.add("category", "Выберите категорию.")
        return None
    return _resolve_choice(Category, value, errors, "category",
                           "Неизвестная категория. Выберите категорию из списка.", current)


def _resolve_audience(value, errors: FieldErrors):
    if isinstance(value, Audience):
        return value
    try:
        return Audience(value)
    except ValueError:
        errors.add("audience", "Выберите аудиторию: обучающиеся, дошкольники, родители или "
                               "педагоги.")
        return None


def _resolve_roadmap(value, errors: FieldErrors):
    if value in (None, "", 0):
        return None
    if isinstance(value, RoadmapItem):
        return value
    item = None
    if isinstance(value, int):
        item = db.session.get(RoadmapItem, value)
    elif isinstance(value, str):
        item = RoadmapItem.query.filter_by(number=value.strip().rstrip(".")).one_or_none()
    if item is None:
        errors.add("roadmap_item", "Нет такого пункта дорожной карты (1.1–7.4).")
    return item


def _resolve_organizer(actor, organizer_id, errors: FieldErrors, current_id: int | None):
    if organizer_id in (None, "", 0):
        return current_id or actor.organization_id
    if actor.role != Role.ADMIN:
        if organizer_id != (current_id or actor.organization_id):
            raise PermissionDenied("forbidden", "Указать другого организатора может только "
                                                "администратор.")
        return organizer_id
    org = db.session.get(Organization, organizer_id)
    if org is None or not org.active:
        errors.add("organizer_id", "Нет такой организации.")
        return None
    return org.id


def _check_times(values: dict, errors: FieldErrors) -> None:
    for name in _TIME_FIELDS:
        value = values.get(name)
        if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
            errors.add(name, "Неверное время.")
            values[name] = None
    starts, ends = values.get("starts_at"), values.get("ends_at")
    if starts is None and "starts_at" not in errors:
        errors.add("starts_at", "Укажите начало мероприятия.")
    if ends is None and "ends_at" not in errors:
        errors.add("ends_at", "Укажите окончание мероприятия.")
    if starts and ends and ends <= starts:
        errors.add("ends_at", "Окончание должно быть позже начала.")
    reg_opens, reg_closes = values.get("registration_opens_at"), values.get(
        "registration_closes_at")
    if reg_closes and ends and reg_closes > ends:
        errors.add("registration_closes_at",
                   "Регистрация должна закрываться не позже окончания мероприятия.")
    effective_close = effective_registration_closes(starts, reg_closes)
    if reg_opens and effective_close and reg_opens >= effective_close:
        errors.add("registration_opens_at", "Регистрация должна открываться раньше, чем "
                                            "закрывается (по умолчанию — в момент начала).")
    ci_opens, ci_closes = values.get("checkin_opens_at"), values.get("checkin_closes_at")
    if ci_opens and ends and ci_opens >= effective_checkin_closes(ends, ci_closes):
        errors.add("checkin_opens_at", "Отметка должна открываться раньше, чем закрывается.")
    if ci_closes and starts and ci_closes <= effective_checkin_opens(starts, ci_opens):
        errors.add("checkin_closes_at", "Отметка должна закрываться позже, чем открывается.")


def _check_grades(values: dict, errors: FieldErrors) -> None:
    gmin, gmax = values.get("grades_min"), values.get("grades_max")
    for name, value in (("grades_min", gmin), ("grades_max", gmax)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or not GRADE_MIN <= value <= GRADE_MAX):
            errors.add(name, f"Класс должен быть от {GRADE_MIN} до {GRADE_MAX}.")
            values[name] = None
    gmin, gmax = values.get("grades_min"), values.get("grades_max")
    if gmin is not None and gmax is not None and gmin > gmax:
        errors.add("grades_max", "Последний класс не может быть меньше первого.")


def _check_numbers(values: dict, errors: FieldErrors, seats_taken: int) -> None:
    capacity = values.get("capacity")
    if capacity is None or isinstance(capacity, bool) or not isinstance(capacity, int):
        errors.add("capacity", "Укажите число мест.")
    elif capacity < 1:
        errors.add("capacity", "Мест должно быть не меньше 1.")
    elif capacity < seats_taken:
        errors.add("capacity", f"Мест не может быть меньше, чем уже занято ({seats_taken}). "
                               "Сначала отмените часть записей.")
    quota = values.get("per_school_quota")
    if quota is not None:
        if isinstance(quota, bool) or not isinstance(quota, int) or quota < 1:
            errors.add("per_school_quota", "Квота на школу — не меньше 1 (или оставьте пустой).")
        elif isinstance(capacity, int) and quota > capacity:
            errors.add("per_school_quota", "Квота на школу не может быть больше числа мест.")


def parse_academic_hours(value) -> tuple[Decimal | None, str | None]:
    """The organizer's academic hours (a number 0–999, at most one decimal; «1,5» is read as
    1.5) or None for the default; with the message when it is not such a number."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    if isinstance(value, bool):
        return None, "Укажите число академических часов."
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        return None, "Укажите число академических часов, например 2 или 1,5."
    if not number.is_finite() or number < 0 or number > MAX_ACADEMIC_HOURS:
        return None, "Академических часов — от 0 до 999."
    if number != number.quantize(Decimal("0.1")):
        return None, "Не больше одного знака после запятой, например 1,5."
    return number.quantize(Decimal("0.1")), None


def _resolve_format(value, errors: FieldErrors, current: ProfminimumFormat | None = None):
    if value is None or value == "":
        return None
    return _resolve_choice(ProfminimumFormat, value, errors, "profminimum_format",
                           "Неизвестный формат профминимума. Выберите из списка.", current)


def _clean_text(values: dict, errors: FieldErrors) -> None:
    title = (values.get("title") or "").strip()
    if not title:
        errors.add("title", "Укажите название мероприятия.")
    elif len(title) > 300:
        errors.add("title", "Название — не длиннее 300 символов.")
    values["title"] = title
    values["description"] = (values.get("description") or "").strip()
    if len(values["description"]) > 20000:
        errors.add("description", "Описание — не длиннее 20 000 символов.")
    for name, limit in (("venue_name", 300), ("venue_address", 300), ("venue_room", 100)):
        text = (values.get(name) or "").strip()
        if len(text) > limit:
            errors.add(name, f"Не длиннее {limit} символов.")
        values[name] = text
    values["venue_room"] = values["venue_room"] or None
    if not values["venue_name"] and not values["venue_address"]:
        errors.add("venue_address", "Укажите место проведения: площадку или адрес.")


def _apply(actor, event: Event, values: dict, *, creating: bool) -> Event:
    unknown = set(values) - EVENT_FIELDS
    if unknown:
        raise TypeError(f"unknown event fields: {sorted(unknown)}")
    errors = FieldErrors()
    _clean_text(values, errors)
    category = _resolve_category(values.get("category"), errors,
                                 None if creating else event.category)
    audience = _resolve_audience(values.get("audience"), errors)
    if audience not in (Audience.STUDENTS, None):
        values["grades_min"] = values["grades_max"] = None
    _check_grades(values, errors)
    _check_times(values, errors)
    _check_numbers(values, errors, 0 if creating else confirmed_count(event.id))
    roadmap = _resolve_roadmap(values.get("roadmap_item"), errors)
    organizer_id = _resolve_organizer(actor, values.get("organizer_id"), errors,
                                      None if creating else event.organizer_id)
    staff = _resolve_staff(actor, values.get("staff_ids"), organizer_id, errors)
    hours, hours_error = parse_academic_hours(values.get("academic_hours"))
    if hours_error:
        errors.add("academic_hours", hours_error)
    pm_format = _resolve_format(values.get("profminimum_format"), errors,
                                None if creating else event.profminimum_format)
    _raise_if_any(errors)

    early = values.get("early")
    if early is None:
        early = default_early(audience, values.get("grades_max"), category,
                              values.get("starts_at"))
    school_internal = _school_internal(actor, values.get("school_internal"), organizer_id,
                                       event if not creating else None)

    event.title = values["title"]
    event.description = values["description"]
    event.category = category
    event.audience = audience
    event.grades_min = values.get("grades_min")
    event.grades_max = values.get("grades_max")
    for name in _TIME_FIELDS:
        setattr(event, name, values.get(name))
    event.venue_name = values["venue_name"]
    event.venue_address = values["venue_address"]
    event.venue_room = values["venue_room"]
    event.capacity = values["capacity"]
    event.per_school_quota = values.get("per_school_quota")
    event.early = bool(early)
    event.ovz_adapted = bool(values.get("ovz_adapted"))
    event.roadmap_item = roadmap
    event.organizer_id = organizer_id
    event.school_internal = school_internal
    event.academic_hours_override = hours
    event.profminimum_format = pm_format
    if staff is not None:
        wanted = {t.id for t in staff}
        event.staff = [s for s in event.staff if s.teacher_id in wanted] + [
            EventStaff(teacher_id=t.id) for t in staff
            if t.id not in {s.teacher_id for s in event.staff}]
    return event


def _resolve_staff(actor, staff_ids, organizer_id, errors: FieldErrors):
    if staff_ids is None:
        return None
    ids = sorted({int(i) for i in staff_ids})
    if not ids:
        return []
    teachers = Teacher.query.filter(Teacher.id.in_(ids), Teacher.active.is_(True)).all()
    allowed = [t for t in teachers if actor.role == Role.ADMIN or
               t.organization_id == organizer_id]
    if len(allowed) != len(ids):
        errors.add("staff_ids", "Ведущими можно указать только педагогов своей организации.")
    return allowed


def _school_internal(actor, requested, organizer_id, event: Event | None) -> bool:
    """A coordinator's events are always internal to the school; admins may choose."""
    if actor.role == Role.COORDINATOR:
        return True
    if actor.role == Role.ADMIN and requested is not None:
        if requested:
            org = db.session.get(Organization, organizer_id)
            if org is None or org.kind not in (OrgKind.SCHOOL, OrgKind.PRESCHOOL):
                raise ServiceError("validation_error", "Внутришкольным может быть только "
                                   "мероприятие школы или детского сада.",
                                   field="school_internal")
        return bool(requested)
    return event.school_internal if event is not None else False


# --- dates in the past --------------------------------------------------------------------

#: The form's field that carries the organizer's «yes, in the past on purpose».
CONFIRM_PAST_FIELD = "confirm_past"


def _refuse_unconfirmed_past(starts: list[datetime], what: str) -> None:
    """An event starting in the past is almost always a typo (the year, AM/PM): ask first.
    An organizer recording a past event on purpose confirms and saves again."""
    past = sorted(s for s in starts if s is not None and s < now_utc())
    if not past:
        return
    raise ServiceError(
        "past_date_unconfirmed",
        f"{what} ({format_datetime(past[0])}) — в прошлом. Проверьте дату и год. Если вы "
        "записываете прошедшее мероприятие намеренно, отметьте «Да, дата в прошлом — так и "
        "задумано» и сохраните ещё раз.", field=CONFIRM_PAST_FIELD)


def _has_people(event_id: int) -> bool:
    return db.session.execute(sa.select(sa.exists().where(
        Ticket.event_id == event_id, Ticket.status.in_(LIVE_TICKET_STATUSES)))).scalar()


# --- the services -------------------------------------------------------------------------

#: What people are told about when it changes (``checkin.notifications.event_moved``).
WHEN_AND_WHERE = ("starts_at", "ends_at", "venue_name", "venue_address", "venue_room")


def _when_and_where(event: Event) -> dict:
    return {name: getattr(event, name) for name in WHEN_AND_WHERE}


def create_event(actor, *, confirm_past: bool = True, **fields) -> Event:
    """A new draft event of the actor's organization (an admin may pass ``organizer_id``).

    ``confirm_past``: pages pass the organizer's answer and refuse a start in the past until
    it is confirmed; the API and scripts record past events on purpose (default)."""
    _require_creator(actor)
    values = dict(fields)
    if actor.role == Role.COORDINATOR and not values.get("category"):
        values["category"] = "school_internal"
    event = Event(status=EventStatus.DRAFT, created_by_id=actor.id)
    _apply(actor, event, values, creating=True)
    if not confirm_past:
        _refuse_unconfirmed_past([event.starts_at], "Начало мероприятия")
    db.session.add(event)
    db.session.flush()
    record_audit(actor, "event.create", event, title=event.title)
    return event


def event_values(event: Event) -> dict:
    """The current values of an event in the shape ``update_event`` takes."""
    return {
        "title": event.title, "description": event.description,
        "category": event.category.code, "audience": event.audience,
        "grades_min": event.grades_min, "grades_max": event.grades_max,
        **{name: getattr(event, name) for name in _TIME_FIELDS},
        "venue_name": event.venue_name, "venue_address": event.venue_address,
        "venue_room": event.venue_room, "capacity": event.capacity,
        "per_school_quota": event.per_school_quota, "early": event.early,
        "ovz_adapted": event.ovz_adapted, "roadmap_item": event.roadmap_item,
        "academic_hours": event.academic_hours_override,
        "profminimum_format": event.profminimum_format,
    }


def update_event(actor, event: Event, *, confirm_past: bool = True, **fields) -> Event:
    """Change an event. Unnamed fields keep their values. Capacity never drops below the
    seats already taken (checked under the event's allocation lock).

    A published event whose date, time or venue changed sends ``event_moved`` (who is told:
    ``webapp/notifications.py``). Moving a published event with people registered into the
    past needs ``confirm_past`` (pages ask; see ``create_event``)."""
    _require_manager(actor, event)
    event_id = event.id
    event = lock_event(event_id)
    if event.status == EventStatus.CANCELLED:
        raise ConflictError("event_cancelled", "Отменённое мероприятие изменить нельзя.")
    values = event_values(event)
    values.update(fields)
    seats_before = (event.capacity, event.per_school_quota)
    before = _when_and_where(event)
    _apply(actor, event, values, creating=False)
    moved = _when_and_where(event) != before
    if (not confirm_past and event.status == EventStatus.PUBLISHED
            and event.starts_at != before["starts_at"] and _has_people(event.id)):
        _refuse_unconfirmed_past([event.starts_at], "Новое начало")
    db.session.flush()
    if (event.capacity, event.per_school_quota) != seats_before:
        # More seats or a larger quota: the waiting list moves up, in order, at once.

        promote_waitlist(event)
    record_audit(actor, "event.update", event, fields=sorted(fields))
    if moved and event.status == EventStatus.PUBLISHED:
        event_moved.send(event, before=before)
    return event


def publish_event(actor, event: Event) -> Event:
    _require_manager(actor, event)
    if event.status == EventStatus.PUBLISHED:
        return event
    if event.status == EventStatus.CANCELLED:
        raise ConflictError("event_cancelled", "Отменённое мероприятие опубликовать нельзя: "
                                               "создайте копию.")
    event.status = EventStatus.PUBLISHED
    event.published_at = now_utc()
    db.session.flush()
    record_audit(actor, "event.publish", event)
    return event


def cancel_event(actor, event: Event, reason: str | None) -> Event:
    """Cancel with a reason; registrations stay for the record, hooks notify people."""
    _require_manager(actor, event)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("validation_error", "Укажите причину отмены: её увидят "
                                               "записавшиеся.", field="reason")
    if len(reason) > 2000:
        raise ServiceError("validation_error", "Причина — не длиннее 2000 символов.",
                           field="reason")
    if event.status == EventStatus.CANCELLED:
        raise ConflictError("event_cancelled", "Мероприятие уже отменено.")
    if event.ends_at <= now_utc():
        raise ConflictError("event_finished", "Мероприятие уже прошло: отменить его нельзя.")
    was_published = event.status == EventStatus.PUBLISHED
    event.status = EventStatus.CANCELLED
    event.cancel_reason = reason
    event.cancelled_at = now_utc()
    db.session.flush()
    record_audit(actor, "event.cancel", event, reason=reason)
    if was_published:
        event_cancelled.send(event)
    return event


def _shifted_copy(actor, event: Event, delta: timedelta) -> Event:
    copy = Event(status=EventStatus.DRAFT, created_by_id=actor.id)
    for name in _COPIED:
        setattr(copy, name, getattr(event, name))
    for name in _TIME_FIELDS:
        value = getattr(event, name)
        setattr(copy, name, None if value is None else value + delta)
    copy.staff = [EventStaff(teacher_id=s.teacher_id) for s in event.staff]
    db.session.add(copy)
    return copy


def duplicate_event(actor, event: Event) -> Event:
    """A draft copy with the same fields and times (the organizer then edits the date)."""
    _require_manager(actor, event)
    copy = _shifted_copy(actor, event, timedelta(0))
    db.session.flush()
    record_audit(actor, "event.duplicate", copy, source=event.id)
    return copy


def repeat_dates_weekly(event: Event, count: int) -> list[date]:
    first = event.starts_at.astimezone(TOMSK).date()
    return [first + timedelta(weeks=n) for n in range(1, count + 1)]


def repeat_event(actor, event: Event, dates: list[date], *, publish: bool = False,
                 confirm_past: bool = True) -> list[Event]:
    """Copies of ``event`` on other local dates, same local times; drafts unless ``publish``.
    A copy starting in the past needs ``confirm_past`` (see ``create_event``)."""
    _require_manager(actor, event)
    if event.status == EventStatus.CANCELLED:
        raise ConflictError("event_cancelled", "Отменённое мероприятие повторить нельзя.")
    wanted = sorted(set(dates))
    if not wanted:
        raise ServiceError("validation_error", "Укажите хотя бы одну дату.", field="dates")
    if len(wanted) > MAX_REPEAT_COPIES:
        raise ServiceError("validation_error",
                           f"Не больше {MAX_REPEAT_COPIES} копий за один раз.", field="dates")
    local_start = event.starts_at.astimezone(TOMSK)
    if local_start.date() in wanted:
        raise ServiceError("validation_error", "Дата "
                           f"{local_start:%d.%m.%Y} — это дата самого мероприятия.",
                           field="dates")
    if not confirm_past:
        _refuse_unconfirmed_past([datetime.combine(day, local_start.timetz())
                                  for day in wanted], "Начало копии")
    copies = []
    for day in wanted:
        new_start = datetime.combine(day, local_start.timetz())
        delta = new_start - local_start
        copy = _shifted_copy(actor, event, delta)
        if publish:
            copy.status = EventStatus.PUBLISHED
            copy.published_at = now_utc()
        copies.append(copy)
    db.session.flush()
    for copy in copies:
        record_audit(actor, "event.repeat", copy, source=event.id)
    return copies


# --- counts -------------------------------------------------------------------------------

def event_counts(event_ids) -> dict[int, tuple[int, int]]:
    """``{event_id: (registered, checked_in)}`` in one grouped query.

    Registered = confirmed (live) tickets; checked in = distinct tickets with an ``ok``
    scan that was not undone.
    """
    ids = list(event_ids)
    if not ids:
        return {}
    ok_scan = sa.and_(Scan.ticket_id == Ticket.id, Scan.outcome == ScanOutcome.OK,
                      Scan.undone_at.is_(None))
    rows = db.session.execute(
        sa.select(
            Ticket.event_id,
            sa.func.count(sa.distinct(sa.case(
                (Ticket.status == TicketStatus.CONFIRMED, Ticket.id)))),
            sa.func.count(sa.distinct(Scan.ticket_id)),
        ).select_from(Ticket).outerjoin(Scan, ok_scan)
        .where(Ticket.event_id.in_(ids)).group_by(Ticket.event_id)
    ).all()
    counts = {event_id: (0, 0) for event_id in ids}
    counts.update({row[0]: (row[1], row[2]) for row in rows})
    return counts


# --- categories and profiles --------------------------------------------------------------

def create_category(actor, code: str | None, name: str | None) -> Category:
    if actor is None or actor.role != Role.ADMIN:
        raise PermissionDenied("forbidden", "Категории добавляет администратор.")
    errors = FieldErrors()
    code = (code or "").strip().lower()
    name = " ".join((name or "").split())
    if not re.fullmatch(r"[a-z][a-z0-9_]{1,39}", code):
        errors.add("code", "Код — латинские строчные буквы, цифры и «_», от 2 до 40 символов, "
                           "начинается с буквы.")
    elif Category.query.filter_by(code=code).first() is not None:
        errors.add("code", "Категория с таким кодом уже есть.")
    if not name:
        errors.add("name", "Укажите название категории.")
    elif len(name) > 200:
        errors.add("name", "Название — не длиннее 200 символов.")
    elif Category.query.filter(sa.func.lower(Category.name) == name.lower()).first():
        errors.add("name", "Категория с таким названием уже есть.")
    _raise_if_any(errors)
    top = db.session.query(sa.func.max(Category.sort_order)).scalar() or 0
    category = Category(code=code, name=name, active=True, sort_order=max(top, 1000) + 10)
    db.session.add(category)
    db.session.flush()
    record_audit(actor, "category.create", category, code=code)
    return category


PROFILE_FIELDS = ("description", "offer", "address", "phone", "email", "website")
_PROFILE_LIMITS = {"description": 5000, "offer": 5000, "address": 300, "phone": 40,
                   "email": 254, "website": 300}


def update_profile(actor, organization: Organization, **fields) -> Organization:
    """An organizer's public profile («Карта ресурсов»): its own organization, or any (admin)."""
    if actor is None or (actor.role != Role.ADMIN and actor.organization_id != organization.id):
        raise PermissionDenied("forbidden", "Можно менять только профиль своей организации.")
    errors = FieldErrors()
    cleaned = {}
    for name in PROFILE_FIELDS:
        value = (fields.get(name) or "").strip()
        if len(value) > _PROFILE_LIMITS[name]:
            errors.add(name, f"Не длиннее {_PROFILE_LIMITS[name]} символов.")
        cleaned[name] = value or None
    if cleaned["email"] and "email" not in errors and (
            "@" not in cleaned["email"] or " " in cleaned["email"]):
        errors.add("email", "Укажите адрес электронной почты, например info@example.ru.")
    if cleaned["website"] and "website" not in errors and not cleaned["website"].startswith(
            ("http://", "https://")):
        errors.add("website", "Адрес сайта начинается с http:// или https://.")
    _raise_if_any(errors)
    for name, value in cleaned.items():
        setattr(organization, name, value)
    db.session.flush()
    record_audit(actor, "organization.profile", organization)
    return organization
