"""Seat allocation rules of checkin/seats/registration.py, one rule per test."""

import email
import email.policy
from datetime import timedelta

import pytest

from checkin.notifications import ticket_promoted, waitlist_promoted
from checkin.seats.capacity import lock_event
from checkin.seats.registration import (
    add_people,
    allocate_ticket,
    cancel_registration,
    cancel_ticket,
    promote_waitlist,
    register_group,
)
from errors import ServiceError
from models import (
    Audience,
    EventStatus,
    Registration,
    RegistrationStatus,
    Role,
    SchoolNotice,
    Ticket,
    TicketKind,
    TicketStatus,
    db,
    now_utc,
)


@pytest.fixture
def school(factory):
    return factory.create_org()


@pytest.fixture
def coordinator(factory, school):
    return factory.create_user(Role.COORDINATOR, organization=school)


def students(factory, school, n, **kw):
    return [factory.create_student(school, **kw) for _ in range(n)]


def statuses(registration):
    return [t.status for t in registration.tickets]


def ticket_count(event):
    return Ticket.query.filter_by(event_id=event.id).count()


def test_everyone_confirmed_within_capacity(factory, school, coordinator):
    event = factory.create_event(capacity=10)
    people = students(factory, school, 3)
    teacher = factory.create_teacher(school)
    db.session.commit()
    reg = register_group(coordinator, event, school, [s.id for s in people], [teacher.id])
    db.session.commit()
    assert reg.status == RegistrationStatus.ACTIVE
    assert len(reg.group_code) >= 22
    assert statuses(reg) == [TicketStatus.CONFIRMED] * 4
    assert {t.kind for t in reg.tickets} == {TicketKind.STUDENT, TicketKind.TEACHER}


def test_beyond_capacity_people_are_waitlisted_teachers_first(factory, school, coordinator):
    event = factory.create_event(capacity=2)
    people = students(factory, school, 3)
    teacher = factory.create_teacher(school)
    db.session.commit()
    reg = register_group(coordinator, event, school, [s.id for s in people], [teacher.id])
    by_holder = {t.teacher_id or t.student_id: t.status for t in reg.tickets}
    assert by_holder[teacher.id] == TicketStatus.CONFIRMED
    assert [by_holder[s.id] for s in people] == [TicketStatus.CONFIRMED,
                                                 TicketStatus.WAITLISTED,
                                                 TicketStatus.WAITLISTED]


def test_per_school_quota_waitlists_the_rest_but_not_other_schools(factory, school,
                                                                   coordinator):
    event = factory.create_event(capacity=10, per_school_quota=2)
    people = students(factory, school, 3)
    other = factory.create_org()
    other_people = students(factory, other, 2)
    db.session.commit()
    reg = register_group(coordinator, event, school, [s.id for s in people], [])
    db.session.commit()
    reg2 = register_group(None, event, other, [s.id for s in other_people], [])
    db.session.commit()
    assert statuses(reg).count(TicketStatus.CONFIRMED) == 2
    assert statuses(reg).count(TicketStatus.WAITLISTED) == 1
    assert statuses(reg2) == [TicketStatus.CONFIRMED] * 2


def test_duplicate_person_is_refused_and_nothing_written(factory, school, coordinator):
    event = factory.create_event()
    person, other = students(factory, school, 2)
    db.session.commit()
    register_group(coordinator, event, school, [person.id], [])
    db.session.commit()
    before = ticket_count(event)
    with pytest.raises(ServiceError) as err:
        register_group(coordinator, event, school, [other.id, person.id], [])
    db.session.rollback()
    assert err.value.code == "duplicate_ticket"
    assert err.value.status == 409
    assert person.last_name in err.value.message
    assert ticket_count(event) == before
    assert Registration.query.filter_by(event_id=event.id).count() == 1


def test_same_id_twice_in_one_request_is_refused(factory, school, coordinator):
    event = factory.create_event()
    person = factory.create_student(school)
    db.session.commit()
    with pytest.raises(ServiceError) as err:
        register_group(coordinator, event, school, [person.id, person.id], [])
    assert err.value.code == "duplicate_person"


def test_students_outside_the_grades_are_refused_with_the_reason(factory, school, coordinator):
    event = factory.create_event(grades_min=9, grades_max=11)
    young = factory.create_student(school, class_name="7Б", grade=7)
    old = factory.create_student(school, class_name="10А", grade=10)
    db.session.commit()
    with pytest.raises(ServiceError) as err:
        register_group(coordinator, event, school, [old.id, young.id], [])
    db.session.rollback()
    assert err.value.code == "grade_not_allowed"
    assert "7Б" in err.value.message and "для 9–11 классов" in err.value.message
    assert ticket_count(event) == 0


def test_another_schools_student_id_is_refused(factory, school, coordinator):
    event = factory.create_event()
    stranger = factory.create_student(factory.create_org())
    mine = factory.create_student(school)
    db.session.commit()
    with pytest.raises(ServiceError) as err:
        register_group(coordinator, event, school, [mine.id, stranger.id], [])
    db.session.rollback()
    assert err.value.code == "unknown_student"
    assert str(stranger.id) in err.value.message
    assert stranger.last_name not in err.value.message  # no data about other schools leaks
    assert ticket_count(event) == 0


def test_inactive_students_are_refused(factory, school, coordinator):
    event = factory.create_event()
    gone = factory.create_student(school, active=False)
    db.session.commit()
    with pytest.raises(ServiceError) as err:
        register_group(coordinator, event, school, [gone.id], [])
    assert err.value.code == "inactive_person"


@pytest.mark.parametrize("window", ["closed", "not_open", "draft", "cancelled", "started"])
def test_closed_registration_window_refused(factory, school, coordinator, window):
    now = now_utc()
    overrides = {
        "closed": {"registration_closes_at": now - timedelta(hours=1),
                   "registration_opens_at": now - timedelta(days=3)},
        "not_open": {"registration_opens_at": now + timedelta(days=1)},
        "draft": {"status": EventStatus.DRAFT, "published_at": None},
        "cancelled": {"status": EventStatus.CANCELLED, "cancel_reason": "Карантин"},
        "started": {"starts_at": now - timedelta(minutes=5)},
    }[window]
    event = factory.create_event(**overrides)
    person = factory.create_student(school)
    db.session.commit()
    with pytest.raises(ServiceError) as err:
        register_group(coordinator, event, school, [person.id], [])
    db.session.rollback()
    assert err.value.code == "registration_closed"
    assert err.value.message
    assert ticket_count(event) == 0


def test_parent_events_take_no_groups(factory, school, coordinator):
    event = factory.create_event(audience=Audience.PARENTS, grades_min=None, grades_max=None)
    person = factory.create_student(school)
    db.session.commit()
    with pytest.raises(ServiceError) as err:
        register_group(coordinator, event, school, [person.id], [])
    assert err.value.code == "wrong_audience"


def test_empty_group_refused(factory, school, coordinator):
    event = factory.create_event()
    db.session.commit()
    with pytest.raises(ServiceError) as err:
        register_group(coordinator, event, school, [], [])
    assert err.value.code == "empty_group"


def test_cancelling_a_registration_promotes_the_waitlist_in_order(factory, school,
                                                                   coordinator):
    event = factory.create_event(capacity=2)
    first = students(factory, school, 2)
    other = factory.create_org()
    waiting = students(factory, other, 3)
    db.session.commit()
    reg1 = register_group(coordinator, event, school, [s.id for s in first], [])
    db.session.commit()
    reg2 = register_group(None, event, other, [s.id for s in waiting], [])
    db.session.commit()
    assert statuses(reg2) == [TicketStatus.WAITLISTED] * 3
    promoted = cancel_registration(coordinator, reg1)
    db.session.commit()
    assert [t.student_id for t in promoted] == [waiting[0].id, waiting[1].id]
    assert statuses(reg1) == [TicketStatus.CANCELLED] * 2
    assert statuses(reg2) == [TicketStatus.CONFIRMED, TicketStatus.CONFIRMED,
                              TicketStatus.WAITLISTED]
    notice = SchoolNotice.query.filter_by(organization_id=other.id).one()
    assert waiting[0].last_name in notice.message and waiting[2].last_name not in notice.message


def test_promotion_skips_a_school_at_its_quota(factory, school, coordinator):
    event = factory.create_event(capacity=3, per_school_quota=2)
    mine = students(factory, school, 3)  # 2 confirmed, 1 waitlisted (quota)
    other = factory.create_org()
    theirs = students(factory, other, 2)  # 1 confirmed (capacity), 1 waitlisted
    db.session.commit()
    reg_mine = register_group(coordinator, event, school, [s.id for s in mine], [])
    db.session.commit()
    reg_theirs = register_group(None, event, other, [s.id for s in theirs], [])
    db.session.commit()
    assert statuses(reg_theirs) == [TicketStatus.CONFIRMED, TicketStatus.WAITLISTED]
    # The other school's confirmed person leaves: my waitlisted student is earlier in the
    # queue but my school is at its quota, so their second student moves up instead.
    promoted = cancel_ticket(None, reg_theirs.tickets[0])
    db.session.commit()
    assert [t.student_id for t in promoted] == [theirs[1].id]
    assert reg_mine.tickets[2].status == TicketStatus.WAITLISTED


def test_removing_a_person_needs_an_open_window(factory, school, coordinator):
    event = factory.create_event(capacity=5)
    person = factory.create_student(school)
    db.session.commit()
    reg = register_group(coordinator, event, school, [person.id], [])
    db.session.commit()
    event.registration_closes_at = now_utc() - timedelta(minutes=1)
    event.registration_opens_at = now_utc() - timedelta(days=1)
    db.session.commit()
    with pytest.raises(ServiceError) as err:
        cancel_ticket(coordinator, reg.tickets[0])
    db.session.rollback()
    assert err.value.code == "registration_closed"
    assert reg.tickets[0].status == TicketStatus.CONFIRMED


def test_removing_the_last_person_cancels_the_registration(factory, school, coordinator):
    event = factory.create_event()
    person = factory.create_student(school)
    db.session.commit()
    reg = register_group(coordinator, event, school, [person.id], [])
    db.session.commit()
    cancel_ticket(coordinator, reg.tickets[0])
    db.session.commit()
    assert reg.status == RegistrationStatus.CANCELLED


def test_add_people_to_a_registration(factory, school, coordinator):
    event = factory.create_event(capacity=2)
    a, b, c = students(factory, school, 3)
    db.session.commit()
    reg = register_group(coordinator, event, school, [a.id], [])
    db.session.commit()
    added = add_people(coordinator, reg, [b.id, c.id], [])
    db.session.commit()
    assert [t.status for t in added] == [TicketStatus.CONFIRMED, TicketStatus.WAITLISTED]
    assert len(reg.tickets) == 3
    with pytest.raises(ServiceError) as err:
        add_people(coordinator, reg, [a.id], [])
    assert err.value.code == "duplicate_ticket"


def test_a_person_may_register_again_after_cancelling(factory, school, coordinator):
    event = factory.create_event()
    person = factory.create_student(school)
    db.session.commit()
    reg = register_group(coordinator, event, school, [person.id], [])
    db.session.commit()
    cancel_registration(coordinator, reg)
    db.session.commit()
    again = register_group(coordinator, event, school, [person.id], [])
    db.session.commit()
    assert statuses(again) == [TicketStatus.CONFIRMED]


def test_allocate_ticket_contract_for_other_areas(factory, school):
    event = factory.create_event(capacity=1)
    teacher = factory.create_teacher(school)
    other_teacher = factory.create_teacher(school)
    db.session.commit()
    locked = lock_event(event.id)
    first = allocate_ticket(locked, "teacher", teacher=teacher)
    second = allocate_ticket(locked, TicketKind.TEACHER, teacher=other_teacher)
    db.session.commit()
    assert (first.status, second.status) == (TicketStatus.CONFIRMED, TicketStatus.WAITLISTED)
    locked = lock_event(event.id)
    with pytest.raises(ServiceError) as err:
        allocate_ticket(locked, "teacher", teacher=teacher)
    assert err.value.code == "duplicate_ticket"
    db.session.rollback()


def test_promotion_signals_are_sent(factory, school, coordinator):
    calls = []

    def per_ticket(ticket):
        calls.append(("ticket", ticket.id))

    def per_run(event, *, tickets):
        calls.append(("run", [t.id for t in tickets]))

    with ticket_promoted.connected_to(per_ticket), waitlist_promoted.connected_to(per_run):
        event = factory.create_event(capacity=1)
        a, b = students(factory, school, 2)
        db.session.commit()
        reg = register_group(coordinator, event, school, [a.id, b.id], [])
        db.session.commit()
        cancel_ticket(coordinator, reg.tickets[0])
        db.session.commit()
    assert calls == [("ticket", reg.tickets[1].id), ("run", [reg.tickets[1].id])]


def test_coordinators_are_emailed_when_promoted(app, factory, school, coordinator):
    from models.outbox import OutboxMessage

    event = factory.create_event(capacity=1, title="День открытых дверей ТГУ")
    a, b = students(factory, school, 2)
    db.session.commit()
    reg = register_group(coordinator, event, school, [a.id, b.id], [])
    db.session.commit()
    cancel_ticket(coordinator, reg.tickets[0])
    db.session.commit()
    mail = OutboxMessage.query.filter_by(to_address=coordinator.email).one()
    assert "День открытых дверей ТГУ" in mail.subject
    parsed = email.message_from_bytes(mail.message, policy=email.policy.default)
    assert b.last_name in parsed.get_body(("plain",)).get_content()


def test_promote_waitlist_does_nothing_when_full(factory, school, coordinator):
    event = factory.create_event(capacity=1)
    a, b = students(factory, school, 2)
    db.session.commit()
    register_group(coordinator, event, school, [a.id, b.id], [])
    db.session.commit()
    assert promote_waitlist(lock_event(event.id)) == []
    db.session.rollback()


def test_kindergarten_groups_go_to_preschool_events_only(factory):
    from models import OrgKind

    kindergarten = factory.create_org(kind=OrgKind.PRESCHOOL)
    child = factory.create_student(kindergarten, class_name="Старшая группа «Солнышко»",
                                   grade=0)
    preschool_event = factory.create_event(audience=Audience.PRESCHOOL, grades_min=None,
                                           grades_max=None, capacity=5)
    school_event = factory.create_event(grades_min=1, grades_max=4)
    db.session.commit()
    reg = register_group(None, preschool_event, kindergarten, [child.id], [])
    db.session.commit()
    assert statuses(reg) == [TicketStatus.CONFIRMED]
    with pytest.raises(ServiceError) as err:
        register_group(None, school_event, kindergarten, [child.id], [])
    assert err.value.code == "grade_not_allowed"
    assert "для 1–4 классов" in err.value.message


def test_teacher_events_take_teachers_but_not_students(factory, school, coordinator):
    event = factory.create_event(audience=Audience.TEACHERS, grades_min=None, grades_max=None)
    teacher = factory.create_teacher(school)
    student = factory.create_student(school)
    db.session.commit()
    with pytest.raises(ServiceError) as err:
        register_group(coordinator, event, school, [student.id], [teacher.id])
    db.session.rollback()
    assert err.value.code == "grade_not_allowed" and "для педагогов" in err.value.message
    reg = register_group(coordinator, event, school, [], [teacher.id])
    db.session.commit()
    assert [t.kind for t in reg.tickets] == [TicketKind.TEACHER]
