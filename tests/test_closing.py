"""What closes the gap to a target (issue #15, items 4 and 6): which events fit a school's gap,
whom to send (never someone already registered, never beyond the free seats or the school's
quota), schools at risk for the city and for an organizer's event."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from models import Audience, EventStatus, Registration, RegistrationStatus, TicketStatus, now_utc
from reports.closing import (
    GROUP_SIZE,
    MAX_SELECTION,
    candidates,
    city_plans,
    event_fits,
    need_text,
    open_events,
    school_plans,
    schools_for_event,
)
from reports.forecast import TargetGap
from tests.factories import (
    create_checkin,
    create_event,
    create_org,
    create_student,
    create_ticket,
)


def gap(org, indicator="students", needed=10, target="60.0", high="40.0"):
    high = Decimal(high)
    return TargetGap(organization_id=org.id, indicator=indicator, target=Decimal(target),
                     forecast_low=high - 10, forecast=high - 5, forecast_high=high,
                     people_needed=needed)


def plan_for(org, indicator="students", needed=10):
    (plan,) = school_plans([gap(org, indicator, needed)], org.id)
    return plan


def offered(plan) -> list[int]:
    return [o.event.id for o in plan.options]


def students(org, n, **overrides):
    return [create_student(org, **overrides) for _ in range(n)]


def involve(student, *, early=False):
    """A check-in of the student this academic year (an event that has already happened)."""
    start = now_utc() - timedelta(days=1)
    past = create_event(starts_at=start, early=early)
    return create_checkin(create_ticket(past, student))


@pytest.fixture
def school(db):
    return create_org()


def test_event_fits_by_audience_grades_early_and_ovz(db, school):
    kids = students(school, 3, grade=7, class_name="7А")
    for_students = create_event(grades_min=5, grades_max=9)
    too_old = create_event(grades_min=9, grades_max=11)
    for_parents = create_event(audience=Audience.PARENTS, grades_min=None, grades_max=None)
    for_teachers = create_event(audience=Audience.TEACHERS, grades_min=None, grades_max=None)
    early = create_event(early=True)
    adapted = create_event(ovz_adapted=True)
    other_internal = create_event(organizer=create_org(), school_internal=True)
    own_internal = create_event(organizer=school, school_internal=True)
    draft = create_event(status=EventStatus.DRAFT)
    not_yet_open = create_event(registration_opens_at=now_utc() + timedelta(days=1))

    plan = plan_for(school)
    assert set(offered(plan)) == {for_students.id, early.id, adapted.id, own_internal.id}
    assert plan.helpful == 3
    assert set(offered(plan_for(school, "students_early"))) == {early.id}
    assert offered(plan_for(school, "students_ovz")) == []  # nobody with ОВЗ to send
    kids[0].ovz = True
    assert offered(plan_for(school, "students_ovz")) == [adapted.id]
    teachers = plan_for(school, "teachers")
    assert offered(teachers)[0] == for_teachers.id  # events for teachers first
    # Teachers also count as a group's companions, whatever the grades; never parents' events.
    assert for_parents.id not in offered(teachers) and too_old.id in offered(teachers)
    for event in (too_old, for_parents, draft, not_yet_open, other_internal):
        assert not any(event.id == o.event.id for o in plan.options)
    assert not event_fits(too_old, "students", school.id, {7})
    assert event_fits(too_old, "students", school.id, {7, 10})


def test_no_free_seats_or_no_quota_left_means_not_offered(db, school):
    students(school, 2)
    other = create_org()
    full = create_event(capacity=1)
    create_ticket(full, create_student(other))
    quota_used = create_event(per_school_quota=1)
    create_ticket(quota_used, create_student(school, class_name="11А", grade=11))
    quota_free = create_event(per_school_quota=1)
    create_ticket(quota_free, create_student(other))  # another school's seat: not ours
    waitlisted_only = create_event(per_school_quota=1)  # a waitlisted ticket takes no quota
    create_ticket(waitlisted_only, create_student(school, class_name="11А", grade=11),
                  status=TicketStatus.WAITLISTED)

    plan = plan_for(school)
    assert set(offered(plan)) == {quota_free.id, waitlisted_only.id}
    assert full.id not in [e.event.id for e in open_events()]


def test_selection_never_exceeds_free_seats(db, school):
    students(school, 6)
    event = create_event(capacity=5)
    create_ticket(event, create_student(create_org()))
    create_ticket(event, create_student(create_org()))
    (option,) = plan_for(school).options
    assert option.seats_left == 3 and option.quota_left is None
    assert len(option.selection) == 3  # free seats bind (needed 10, quota none)


def test_selection_never_exceeds_the_schools_quota(db, school):
    students(school, 6)
    event = create_event(capacity=30, per_school_quota=4)
    create_ticket(event, create_student(school, class_name="11А", grade=11))
    (option,) = plan_for(school).options
    assert option.seats_left == 29 and option.quota_left == 3
    assert len(option.selection) == 3  # the quota binds


def test_selection_never_exceeds_what_the_gap_needs(db, school):
    students(school, 6)
    create_event()
    (option,) = plan_for(school, needed=2).options
    assert len(option.selection) == 2


def test_selection_never_proposes_someone_registered_for_the_event(db, school):
    kids = students(school, 4)
    event = create_event()
    create_ticket(event, kids[0])
    create_ticket(event, kids[1], status=TicketStatus.WAITLISTED)
    gone = create_ticket(event, kids[2], status=TicketStatus.CANCELLED)
    assert gone.status == TicketStatus.CANCELLED
    # Registered for this event (live ticket) is also booked for an upcoming event: even for
    # the events indicator, where anyone may be sent, they are never proposed for it again.
    (option,) = plan_for(school, "events", needed=1).options
    assert set(option.student_ids) == {kids[2].id, kids[3].id}
    (option,) = plan_for(school).options
    assert set(option.student_ids) == {kids[2].id, kids[3].id}


def test_not_yet_involved_first_by_class(db, school):
    a2 = create_student(school, class_name="7Б", grade=7, last_name="Андреев")
    b1 = create_student(school, class_name="7А", grade=7, last_name="Борисов")
    a1 = create_student(school, class_name="7А", grade=7, last_name="Алексеев")
    seen = create_student(school, class_name="5А", grade=5, last_name="Аарон")
    involve(seen)
    elsewhere = create_student(school, class_name="5А", grade=5, last_name="Абрамов")
    create_ticket(create_event(), elsewhere)  # booked for an upcoming event
    pool = candidates(school.id, "students")
    assert [c.id for c in pool][:3] == [a1.id, b1.id, a2.id]
    assert {c.id for c in pool[3:]} == {seen.id, elsewhere.id}

    event = create_event()
    # People indicator: only those who would raise it (not involved, not already booked).
    option = next(o for o in plan_for(school).options if o.event.id == event.id)
    assert option.student_ids == [a1.id, b1.id, a2.id]
    assert option.by_class == [("7А", 2), ("7Б", 1)]
    # Events indicator: anyone helps, the not yet involved first.
    option = next(o for o in plan_for(school, "events").options if o.event.id == event.id)
    assert option.student_ids[:3] == [a1.id, b1.id, a2.id]
    assert seen.id in option.student_ids


def test_early_indicator_counts_involvement_in_early_guidance_only(db, school):
    at_early = create_student(school, grade=3, class_name="3А")
    involve(at_early, early=True)
    at_other = create_student(school, grade=3, class_name="3А")
    involve(at_other)
    early = create_event(early=True)
    (option,) = plan_for(school, "students_early").options
    assert option.event.id == early.id
    assert option.student_ids == [at_other.id]


def test_ovz_indicator_proposes_only_students_with_ovz(db, school):
    ovz = students(school, 2, ovz=True)
    students(school, 3)
    involve(ovz[0])
    adapted = create_event(ovz_adapted=True)
    plan = plan_for(school, "students_ovz")
    (option,) = plan.options
    assert option.event.id == adapted.id and option.student_ids == [ovz[1].id]
    assert plan.helpful == 1


def test_events_indicator_leaves_out_events_already_registered(db, school):
    students(school, 3)
    registered = create_event()
    db.session.add(Registration(event_id=registered.id, organization_id=school.id,
                                status=RegistrationStatus.ACTIVE))
    free = create_event()
    db.session.flush()
    plan = plan_for(school, "events", needed=1)
    assert offered(plan) == [free.id]
    assert len(plan.options[0].selection) == 3 <= GROUP_SIZE


def test_selection_is_capped_for_the_link(db, school):
    for i in range(MAX_SELECTION + 5):
        create_student(school, last_name=f"Ученик{i:04d}")
    create_event(capacity=1000)
    (option,) = plan_for(school, needed=500).options
    assert len(option.selection) == MAX_SELECTION


def test_need_text_in_russian():
    assert need_text("students", 1) == "вовлечь ещё 1 обучающегося"
    assert need_text("students_ovz", 3) == "вовлечь ещё 3 обучающихся с ОВЗ"
    assert need_text("schools_early", 2) == "вовлечь в раннюю профориентацию ещё 2 обучающихся"
    assert need_text("events", 5) == "принять участие ещё в 5 мероприятиях"


def test_city_plans_keep_the_order_of_gaps_and_offer_events_with_seats(db):
    far, near = create_org(name="СОШ № 2"), create_org(name="СОШ № 10")
    students(far, 2, grade=9, class_name="9А")
    students(near, 2, grade=3, class_name="3А")
    for_nine = create_event(grades_min=8, grades_max=11)
    early = create_event(early=True, grades_min=1, grades_max=4)
    full = create_event(capacity=1)
    create_ticket(full, create_student(create_org()))
    plans = city_plans([gap(far, high="10.0"), gap(near, high="50.0"),
                        gap(near, "students_early", high="55.0")])
    assert [p.organization.id for p in plans] == [far.id, near.id]
    assert [o.event.id for o, _ in plans[0].events] == [for_nine.id]
    # The early event helps both of near's gaps: first.
    assert [(o.event.id, helps) for o, helps in plans[1].events] == [
        (early.id, ["Обучающиеся", "Ранняя профориентация"])]


def test_schools_for_event_fit_not_registered_quota_and_names_only(db):
    organizer = create_org(name="ТГУ")
    event = create_event(organizer=organizer, grades_min=8, grades_max=11, per_school_quota=2)
    fits, young, registered, quota_used = (create_org(name=f"СОШ № {n}") for n in (1, 2, 3, 4))
    students(fits, 2, grade=9, class_name="9А")
    students(young, 2, grade=3, class_name="3А")
    students(registered, 2, grade=9, class_name="9А")
    kids = students(quota_used, 3, grade=10, class_name="10А")
    db.session.add(Registration(event_id=event.id, organization_id=registered.id,
                                status=RegistrationStatus.ACTIVE))
    create_ticket(event, kids[0])
    create_ticket(event, kids[1])
    db.session.flush()
    gaps = [gap(o, needed=7) for o in (fits, young, registered, quota_used)]
    gaps.append(gap(fits, "students_early"))  # the event is not early: not this gap
    demand = schools_for_event(event, gaps)
    assert [d.organization.id for d in demand] == [fits.id]
    assert demand[0].needs == [("Обучающиеся", "вовлечь ещё 7 обучающихся")]
    assert demand[0].can_take == 2
    internal = create_event(organizer=organizer, school_internal=True)
    assert schools_for_event(internal, gaps) == []
    closed = create_event(organizer=organizer,
                          registration_closes_at=now_utc() - timedelta(minutes=1))
    assert schools_for_event(closed, gaps) == []


def test_a_school_without_a_roster_gets_events_for_every_grade_and_nobody_proposed(db):
    empty = create_org(name="СОШ без списка")
    event = create_event(grades_min=9, grades_max=11)
    plan = plan_for(empty)
    assert plan.no_roster and offered(plan) == [event.id]
    assert plan.options[0].selection == []
    (at_risk,) = city_plans([gap(empty)])
    assert [o.event.id for o, _ in at_risk.events] == [event.id]
    assert [d.organization.id for d in schools_for_event(event, [gap(empty)])] == [empty.id]
