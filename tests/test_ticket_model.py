"""The Ticket model's own rules: which school a ticket belongs to (in Python and in SQL)."""

import sqlalchemy as sa

from checkin.seats.registration import register_group
from models import ParentSignup, Role, Ticket, db, now_utc


def _school_ids_in_sql(tickets) -> dict:
    rows = db.session.execute(
        Ticket.join_school(sa.select(Ticket.id, Ticket.school_id_sql().label("school_id"))
                           .select_from(Ticket))
        .where(Ticket.id.in_([t.id for t in tickets]))).all()
    return {row.id: row.school_id for row in rows}


def test_school_is_the_registrations_else_the_holders_and_none_for_parents(db, factory):
    school, other = factory.create_org(name="СОШ № 1"), factory.create_org(name="СОШ № 2")
    coordinator = factory.create_user(Role.COORDINATOR, organization=school)
    event = factory.create_event(capacity=50)
    registered = factory.create_student(school, last_name="Иванов", first_name="Иван")
    db.session.commit()
    in_group = register_group(coordinator, event, school, [registered.id], []).tickets[0]
    # a walk-in student of another school and a teacher, without any registration
    walk_in = factory.create_ticket(event, factory.create_student(other, last_name="Петров",
                                                                  first_name="Пётр"))
    teacher = factory.create_ticket(event, factory.create_teacher(other))
    # a parent's child's school does not make the parent's ticket a school's ticket
    parent = ParentSignup(event=event, name="Сидорова Анна", email="anna@example.org",
                          child_organization_id=school.id, consent_version="1",
                          consent_at=now_utc(), manage_secret_hash="a" * 64)
    db.session.add(parent)
    db.session.flush()
    parent_ticket = factory.create_ticket(event, parent)

    expected = {in_group.id: school.id, walk_in.id: other.id, teacher.id: other.id,
                parent_ticket.id: None}
    assert {t.id: t.school_id for t in (in_group, walk_in, teacher, parent_ticket)} == expected
    assert _school_ids_in_sql([in_group, walk_in, teacher, parent_ticket]) == expected


def test_holder_names_for_each_kind_and_after_removal(db, factory):
    school = factory.create_org(name="СОШ № 3")
    event = factory.create_event()
    student = factory.create_student(school, last_name="Иванова", first_name="Мария",
                                     middle_name="Петровна")
    teacher = factory.create_teacher(school, last_name="Орлов", first_name="Олег",
                                     middle_name=None)
    parent = ParentSignup(event=event, name="Сидорова Анна Ильинична", email="a@example.org",
                          consent_version="1", consent_at=now_utc(), manage_secret_hash="b" * 64)
    db.session.add(parent)
    db.session.flush()
    tickets = [factory.create_ticket(event, h) for h in (student, teacher, parent)]
    assert [t.holder_name for t in tickets] == [
        "Иванова Мария Петровна", "Орлов Олег", "Сидорова Анна Ильинична"]
    assert [t.holder_short_name for t in tickets] == ["Мария И.", "Олег О.", "Анна С."]

    student.anonymized_at = now_utc()
    parent.name = None
    assert tickets[0].holder_name == tickets[0].holder_short_name == "(данные удалены)"
    assert tickets[2].holder_name == tickets[2].holder_short_name == "(данные удалены)"
    parent.name = "Анна"
    assert tickets[2].holder_short_name == "Анна"
