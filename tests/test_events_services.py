"""Event services: validation (nothing saved), defaults, scoping, copies, cancel, counts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from checkin.notifications import event_cancelled
from errors import ConflictError, PermissionDenied, ServiceError
from formats.timefmt import TOMSK
from models import Audience, AuditLog, Event, EventStatus, OrgKind, Role, now_utc
from webapp.events import services as svc


def _start(days=10, hour=10):
    day = (now_utc() + timedelta(days=days)).astimezone(TOMSK).date()
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=TOMSK)


def valid_fields(**overrides):
    start = _start()
    values = {
        "title": "День открытых дверей", "category": "university",
        "audience": "students", "grades_min": 9, "grades_max": 11,
        "starts_at": start, "ends_at": start + timedelta(hours=2),
        "venue_name": "Главный корпус", "venue_address": "г. Томск, пр. Ленина, 36",
        "capacity": 30,
    }
    values.update(overrides)
    return values


@pytest.fixture
def organizer(factory, db):
    user = factory.create_user(Role.ORGANIZER)
    db.session.commit()
    return user


def _event_count(db):
    return db.session.query(Event).count()


@pytest.mark.parametrize("overrides, field, message", [
    ({"ends_at": _start() - timedelta(hours=1)}, "ends_at", "Окончание должно быть позже начала"),
    ({"ends_at": _start()}, "ends_at", "Окончание должно быть позже начала"),
    ({"capacity": 0}, "capacity", "не меньше 1"),
    ({"capacity": -5}, "capacity", "не меньше 1"),
    ({"registration_closes_at": _start() + timedelta(hours=3)}, "registration_closes_at",
     "не позже окончания"),
    ({"grades_min": -1}, "grades_min", "от 0 до 11"),
    ({"grades_max": 12}, "grades_max", "от 0 до 11"),
    ({"grades_min": 9, "grades_max": 5}, "grades_max", "не может быть меньше первого"),
    ({"category": "no_such_category"}, "category", "Неизвестная категория"),
    ({"title": "  "}, "title", "Укажите название"),
    ({"audience": "aliens"}, "audience", "Выберите аудиторию"),
    ({"per_school_quota": 0}, "per_school_quota", "не меньше 1"),
    ({"per_school_quota": 31}, "per_school_quota", "больше числа мест"),
    ({"venue_name": "", "venue_address": ""}, "venue_address", "место проведения"),
    ({"roadmap_item": "9.9"}, "roadmap_item", "дорожной карты"),
])
def test_create_rejects_invalid_and_saves_nothing(db, organizer, overrides, field, message):
    before = _event_count(db)
    with pytest.raises(ServiceError) as info:
        svc.create_event(organizer, **valid_fields(**overrides))
    assert info.value.code == "validation_error"
    assert message in info.value.fields[field]
    db.session.rollback()
    assert _event_count(db) == before


def test_several_errors_reported_at_once(db, organizer):
    with pytest.raises(ServiceError) as info:
        svc.create_event(organizer, **valid_fields(capacity=0, category="nope", grades_max=15))
    assert set(info.value.fields) == {"capacity", "category", "grades_max"}


def test_create_is_a_draft_of_own_organization_with_audit(db, organizer):
    event = svc.create_event(organizer, **valid_fields(roadmap_item="3.2"))
    db.session.commit()
    assert event.status == EventStatus.DRAFT
    assert event.organizer_id == organizer.organization_id
    assert event.published_at is None
    assert event.roadmap_item.number == "3.2"
    assert event.school_internal is False
    assert AuditLog.query.filter_by(action="event.create", object_id=str(event.id)).count() == 1


def test_stored_in_utc(db, organizer):
    start = datetime(2031, 10, 1, 10, 0, tzinfo=TOMSK)
    event = svc.create_event(organizer, **valid_fields(starts_at=start,
                                                       ends_at=start + timedelta(hours=2)))
    db.session.commit()
    db.session.expire_all()
    event = db.session.get(Event, event.id)
    assert event.starts_at == datetime(2031, 10, 1, 3, 0, tzinfo=UTC)
    raw = db.session.execute(db.text("SELECT starts_at FROM events WHERE id = :id"),
                             {"id": event.id}).scalar_one()
    assert str(raw).startswith("2031-10-01 03:00:00")


@pytest.mark.parametrize("audience, grades, expected", [
    ("preschool", (None, None), True),
    ("students", (1, 4), True),
    ("students", (0, 2), True),
    ("students", (3, 5), False),
    ("students", (9, 11), False),
    ("parents", (None, None), False),
    ("teachers", (None, None), False),
])
def test_early_default(db, organizer, audience, grades, expected):
    event = svc.create_event(organizer, **valid_fields(
        audience=audience, grades_min=grades[0], grades_max=grades[1]))
    assert event.early is expected


def test_early_is_editable(db, organizer):
    event = svc.create_event(organizer, **valid_fields(grades_min=1, grades_max=4, early=False))
    assert event.early is False
    event = svc.create_event(organizer, **valid_fields(early=True))
    assert event.early is True


def test_grades_dropped_for_parents(db, organizer):
    event = svc.create_event(organizer, **valid_fields(audience="parents"))
    assert event.grades_min is None and event.grades_max is None


def test_coordinator_event_is_school_internal(db, factory):
    coordinator = factory.create_user(Role.COORDINATOR)
    event = svc.create_event(coordinator, **valid_fields(category=None))
    assert event.school_internal is True
    assert event.organizer_id == coordinator.organization_id
    assert event.category.code == "school_internal"


def test_only_admin_sets_another_organizer(db, organizer, factory):
    other = factory.create_org(kind=OrgKind.UNIVERSITY)
    with pytest.raises(PermissionDenied):
        svc.create_event(organizer, **valid_fields(organizer_id=other.id))
    admin = factory.create_user(Role.ADMIN)
    event = svc.create_event(admin, **valid_fields(organizer_id=other.id))
    assert event.organizer_id == other.id


def test_organizer_updates_only_own_events(db, organizer, factory):
    foreign = factory.create_event()
    db.session.commit()
    with pytest.raises(PermissionDenied):
        svc.update_event(organizer, foreign, title="Чужое")
    with pytest.raises(PermissionDenied):
        svc.publish_event(organizer, foreign)
    with pytest.raises(PermissionDenied):
        svc.cancel_event(organizer, foreign, "нет")
    with pytest.raises(PermissionDenied):
        svc.duplicate_event(organizer, foreign)
    db.session.rollback()
    assert db.session.get(Event, foreign.id).title != "Чужое"


def test_capacity_not_below_seats_taken(db, factory, organizer):
    event = factory.create_event(organizer.organization, capacity=5)
    school = factory.create_org()
    for _ in range(3):
        factory.create_ticket(event, factory.create_student(school))
    db.session.commit()
    with pytest.raises(ServiceError) as info:
        svc.update_event(organizer, event, capacity=2)
    assert "уже занято (3)" in info.value.fields["capacity"]
    db.session.rollback()
    assert db.session.get(Event, event.id).capacity == 5
    svc.update_event(organizer, event, capacity=3)
    db.session.commit()
    assert db.session.get(Event, event.id).capacity == 3


def test_update_keeps_unnamed_fields(db, factory, organizer):
    event = factory.create_event(organizer.organization, title="Старое", capacity=40,
                                 ovz_adapted=True)
    db.session.commit()
    svc.update_event(organizer, event, title="Новое")
    db.session.commit()
    event = db.session.get(Event, event.id)
    assert (event.title, event.capacity, event.ovz_adapted) == ("Новое", 40, True)


def test_publish_sets_time_and_cancelled_cannot_publish(db, factory, organizer):
    event = factory.create_event(organizer.organization, status=EventStatus.DRAFT,
                                 published_at=None)
    svc.publish_event(organizer, event)
    assert event.status == EventStatus.PUBLISHED and event.published_at is not None
    svc.cancel_event(organizer, event, "Карантин")
    with pytest.raises(ConflictError):
        svc.publish_event(organizer, event)


def test_cancel_requires_reason_and_sends_the_signal(db, factory, organizer):
    calls = []
    event = factory.create_event(organizer.organization)
    with event_cancelled.connected_to(calls.append):
        with pytest.raises(ServiceError) as info:
            svc.cancel_event(organizer, event, "   ")
        assert info.value.fields == {"reason": info.value.message}
        assert event.status == EventStatus.PUBLISHED and calls == []
        svc.cancel_event(organizer, event, "Площадка закрыта")
    assert event.status == EventStatus.CANCELLED
    assert event.cancel_reason == "Площадка закрыта"
    assert calls == [event]
    with pytest.raises(ConflictError):
        svc.cancel_event(organizer, event, "ещё раз")


def test_cancel_of_past_event_refused(db, factory, organizer):
    event = factory.create_event(organizer.organization,
                                 starts_at=now_utc() - timedelta(days=2))
    with pytest.raises(ConflictError) as info:
        svc.cancel_event(organizer, event, "поздно")
    assert info.value.code == "event_finished"
    assert event.status == EventStatus.PUBLISHED


def test_cancelled_event_cannot_be_edited(db, factory, organizer):
    event = factory.create_event(organizer.organization)
    svc.cancel_event(organizer, event, "Отмена")
    db.session.commit()
    with pytest.raises(ConflictError):
        svc.update_event(organizer, event, title="x")


def test_duplicate_is_draft_copy(db, factory, organizer):
    event = factory.create_event(organizer.organization, ovz_adapted=True, per_school_quota=5)
    copy = svc.duplicate_event(organizer, event)
    assert copy.id != event.id and copy.status == EventStatus.DRAFT
    assert copy.published_at is None
    assert (copy.title, copy.starts_at, copy.capacity, copy.per_school_quota, copy.ovz_adapted) \
        == (event.title, event.starts_at, event.capacity, event.per_school_quota, True)


def test_repeat_weekly_keeps_local_time(db, factory, organizer):
    start = datetime(2031, 10, 2, 10, 0, tzinfo=TOMSK)
    event = factory.create_event(organizer.organization, starts_at=start,
                                 registration_closes_at=start - timedelta(days=1))
    dates = svc.repeat_dates_weekly(event, 3)
    assert dates == [date(2031, 10, 9), date(2031, 10, 16), date(2031, 10, 23)]
    copies = svc.repeat_event(organizer, event, dates)
    assert [c.starts_at.astimezone(TOMSK).strftime("%d.%m %H:%M") for c in copies] == [
        "09.10 10:00", "16.10 10:00", "23.10 10:00"]
    assert all(c.status == EventStatus.DRAFT for c in copies)
    assert copies[0].registration_closes_at == copies[0].starts_at - timedelta(days=1)
    assert copies[0].ends_at - copies[0].starts_at == timedelta(hours=2)


def test_repeat_on_dates_published(db, factory, organizer):
    event = factory.create_event(organizer.organization,
                                 starts_at=datetime(2031, 10, 2, 10, 0, tzinfo=TOMSK))
    copies = svc.repeat_event(organizer, event, [date(2031, 11, 5), date(2031, 12, 1)],
                              publish=True)
    assert [c.status for c in copies] == [EventStatus.PUBLISHED] * 2
    with pytest.raises(ServiceError):
        svc.repeat_event(organizer, event, [])
    with pytest.raises(ServiceError):
        svc.repeat_event(organizer, event, [date(2031, 10, 2)])


def test_counts_in_one_grouped_query(db, factory):
    from models import ScanOutcome, TicketStatus

    first, second, empty = factory.create_event(), factory.create_event(), factory.create_event()
    school = factory.create_org()
    tickets = [factory.create_ticket(first, factory.create_student(school)) for _ in range(3)]
    factory.create_ticket(first, factory.create_student(school), status=TicketStatus.CANCELLED)
    factory.create_ticket(first, factory.create_student(school), status=TicketStatus.WAITLISTED)
    factory.create_checkin(tickets[0])
    factory.create_checkin(tickets[1], undone_at=now_utc())
    factory.create_checkin(tickets[2], outcome=ScanOutcome.ALREADY_CHECKED_IN)
    second_ticket = factory.create_ticket(second, factory.create_student(school))
    factory.create_checkin(second_ticket)
    db.session.commit()
    ids = [first.id, second.id, empty.id]

    statements = []
    engine = db.engine

    def count(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    db.event.listen(engine, "before_cursor_execute", count)
    try:
        counts = svc.event_counts(ids)
    finally:
        db.event.remove(engine, "before_cursor_execute", count)
    assert counts == {ids[0]: (3, 1), ids[1]: (1, 1), ids[2]: (0, 0)}
    assert len(statements) == 1, statements


def test_create_category_admin_only(db, factory):
    organizer = factory.create_user(Role.ORGANIZER)
    with pytest.raises(PermissionDenied):
        svc.create_category(organizer, "open_day", "День открытых дверей")
    admin = factory.create_user(Role.ADMIN)
    category = svc.create_category(admin, "open_day", "Дни открытых дверей")
    assert category.code == "open_day" and category.active
    with pytest.raises(ServiceError) as info:
        svc.create_category(admin, "open_day", "Другое имя")
    assert "code" in info.value.fields
    with pytest.raises(ServiceError) as info:
        svc.create_category(admin, "Bad Code", "")
    assert set(info.value.fields) == {"code", "name"}
    event = svc.create_event(admin, **valid_fields(category="open_day",
                                                   organizer_id=organizer.organization_id))
    assert event.category.code == "open_day"


def test_audience_enum_accepted(db, organizer):
    event = svc.create_event(organizer, **valid_fields(audience=Audience.TEACHERS))
    assert event.audience == Audience.TEACHERS


def test_raising_capacity_promotes_the_waiting_list_in_order(app, db, factory):
    from checkin.seats.capacity import lock_event
    from checkin.seats.registration import allocate_ticket
    from models import Role, TicketKind, TicketStatus
    from webapp.events.services import update_event

    organizer = factory.create_user(Role.ORGANIZER)
    event = factory.create_event(organizer=organizer.organization, capacity=1)
    school = factory.create_org()
    students = [factory.create_student(school) for _ in range(3)]
    db.session.commit()
    tickets = []
    for student in students:
        lock_event(event.id)
        tickets.append(allocate_ticket(event, TicketKind.STUDENT, student=student,
                                       organization_id=school.id).id)
        db.session.commit()
    update_event(organizer, event, capacity=2)
    db.session.commit()
    from models import Ticket

    statuses = [db.session.get(Ticket, t).status for t in tickets]
    assert statuses == [TicketStatus.CONFIRMED, TicketStatus.CONFIRMED, TicketStatus.WAITLISTED]
