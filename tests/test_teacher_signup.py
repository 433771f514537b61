"""Teachers sign up alone for teacher events; the school's coordinator confirms against the
roster. Organizers see parents and teachers of their own events with contacts (page and XLSX)."""

from __future__ import annotations

import email
import io
import re
from email import policy

import pytest
from openpyxl import load_workbook

from models import (
    Audience,
    ParentSignup,
    Role,
    Teacher,
    Ticket,
    TicketKind,
    TicketStatus,
)
from models.outbox import OutboxMessage
from models.teacher_signup import TeacherSignup, TeacherSignupStatus
from tests.factories import mail_bytes


def teacher_event(factory, **overrides):
    values = {"audience": Audience.TEACHERS, "category_code": "teacher_training",
              "grades_min": None, "grades_max": None, "capacity": 5,
              "title": "КПК «Профориентация в школе»"}
    values.update(overrides)
    return factory.create_event(**values)


def teacher_form(school, **overrides):
    data = {"last_name": "Сидорова", "first_name": "Елена", "middle_name": "Павловна",
            "organization_id": str(school.id), "email": "Sidorova@School.ru", "phone": "",
            "consent": "y", "website": ""}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def setup(factory, db):
    school = factory.create_org()
    other_school = factory.create_org()
    coordinator = factory.create_user(Role.COORDINATOR, organization=school,
                                      email="coord@school.ru")
    other_coordinator = factory.create_user(Role.COORDINATOR, organization=other_school)
    roster_teacher = factory.create_teacher(school, last_name="Сидорова", first_name="Елена",
                                            middle_name="Павловна", email=None)
    event = teacher_event(factory)
    db.session.commit()
    return {"school": school, "other_school": other_school, "coordinator": coordinator,
            "other_coordinator": other_coordinator, "teacher": roster_teacher, "event": event}


def self_sign_up(client, setup, **overrides):
    response = client.post_form(f"/events/{setup['event'].id}/teacher-signup",
                                teacher_form(setup["school"], **overrides))
    return response


def test_teacher_signs_up_and_waits_for_the_school(client, setup, db):
    response = self_sign_up(client, setup)
    assert response.status_code == 302
    signup = TeacherSignup.query.one()
    assert signup.status == TeacherSignupStatus.PENDING
    assert signup.email == "sidorova@school.ru" and signup.consent_version
    assert Ticket.query.count() == 0  # no seat before the school confirms
    secret = re.search(r"/my/([A-Za-z0-9_-]+)", response.headers["Location"]).group(1)
    page = client.get(f"/my/{secret}").get_data(as_text=True)
    assert "Заявка ждёт подтверждения" in page
    subjects = {m.to_address: m.subject for m in OutboxMessage.query}
    assert subjects["sidorova@school.ru"].startswith("Заявка получена")
    assert subjects["coord@school.ru"].startswith("Педагог просит подтвердить запись")


def test_teacher_signup_needs_consent_school_and_email(client, setup, db):
    response = self_sign_up(client, setup, consent=None, organization_id="0", email="")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Без согласия на обработку персональных данных" in page
    assert "Выберите школу." in page
    assert "Введите адрес электронной почты" in page
    assert TeacherSignup.query.count() == 0


def test_duplicate_teacher_signup_is_refused(client, setup, db):
    assert self_sign_up(client, setup).status_code == 302
    response = self_sign_up(client, setup, email="SIDOROVA@school.ru")
    assert response.status_code == 409
    assert "уже есть заявка" in response.get_data(as_text=True)
    assert TeacherSignup.query.count() == 1


def test_teacher_page_only_for_teacher_events(client, factory, db):
    event = factory.create_event()
    db.session.commit()
    assert client.get(f"/events/{event.id}/teacher-signup").status_code == 404


def test_coordinator_confirms_against_the_roster(client, auth, setup, db):
    self_sign_up(client, setup)
    signup = TeacherSignup.query.one()
    auth.login("coord@school.ru")
    page = client.get("/school/teacher-signups").get_data(as_text=True)
    assert "Сидорова Елена Павловна" in page
    assert f'value="{setup["teacher"].id}"' in page  # the roster match is offered
    response = client.post_form(f"/school/teacher-signups/{signup.id}/confirm",
                                {f"s{signup.id}-teacher": str(setup["teacher"].id)})
    assert response.status_code == 302
    db.session.rollback()
    signup = db.session.get(TeacherSignup, signup.id)
    assert signup.status == TeacherSignupStatus.CONFIRMED
    assert signup.teacher_id == setup["teacher"].id
    ticket = signup.ticket
    assert ticket.kind == TicketKind.TEACHER and ticket.status == TicketStatus.CONFIRMED
    assert db.session.get(Teacher, setup["teacher"].id).email == "sidorova@school.ru"
    mail = OutboxMessage.query.filter(OutboxMessage.subject.like("Школа подтвердила%")).one()
    msg = email.message_from_bytes(mail_bytes(mail), policy=policy.default)
    assert "bilet-qr.png" in [p.get_filename() for p in msg.walk()]


def test_coordinator_may_add_the_teacher_to_the_roster(client, auth, setup, db):
    self_sign_up(client, setup, last_name="Новикова", first_name="Ольга", middle_name="")
    signup = TeacherSignup.query.one()
    auth.login("coord@school.ru")
    page = client.get("/school/teacher-signups").get_data(as_text=True)
    assert "Похожих педагогов в списке школы не нашлось" in page
    client.post_form(f"/school/teacher-signups/{signup.id}/confirm",
                     {f"s{signup.id}-teacher": "new"})
    db.session.rollback()
    added = Teacher.query.filter_by(last_name="Новикова").one()
    assert added.organization_id == setup["school"].id
    assert added.email == "sidorova@school.ru"
    assert Ticket.query.one().teacher_id == added.id


def test_coordinator_rejects_with_a_reason(client, auth, setup, db):
    self_sign_up(client, setup)
    signup = TeacherSignup.query.one()
    auth.login("coord@school.ru")
    response = client.post_form(f"/school/teacher-signups/{signup.id}/reject",
                                {f"r{signup.id}-reason": ""})
    db.session.rollback()
    assert db.session.get(TeacherSignup, signup.id).status == TeacherSignupStatus.PENDING
    client.post_form(f"/school/teacher-signups/{signup.id}/reject",
                     {f"r{signup.id}-reason": "Не работает в нашей школе"})
    db.session.rollback()
    signup = db.session.get(TeacherSignup, signup.id)
    assert signup.status == TeacherSignupStatus.REJECTED
    assert Ticket.query.count() == 0
    mail = OutboxMessage.query.filter(OutboxMessage.subject.like("Заявка отклонена%")).one()
    assert "Не работает в нашей школе" in email.message_from_bytes(
        mail_bytes(mail), policy=policy.default).get_body(("plain",)).get_content()
    assert response.status_code == 302


def test_other_schools_coordinator_cannot_decide(client, auth, setup, db):
    self_sign_up(client, setup)
    signup = TeacherSignup.query.one()
    auth.login(setup["other_coordinator"].email)
    assert "Сидорова" not in client.get("/school/teacher-signups").get_data(as_text=True)
    response = client.post_form(f"/school/teacher-signups/{signup.id}/confirm",
                                {f"s{signup.id}-teacher": "new"})
    assert response.status_code == 403
    db.session.rollback()
    assert db.session.get(TeacherSignup, signup.id).status == TeacherSignupStatus.PENDING
    assert Teacher.query.filter_by(organization_id=setup["other_school"].id).count() == 0


def test_teacher_cancels_through_the_link(client, auth, setup, db):
    response = self_sign_up(client, setup)
    secret = re.search(r"/my/([A-Za-z0-9_-]+)", response.headers["Location"]).group(1)
    signup = TeacherSignup.query.one()
    auth.login("coord@school.ru")
    client.post_form(f"/school/teacher-signups/{signup.id}/confirm",
                     {f"s{signup.id}-teacher": str(setup["teacher"].id)})
    auth.logout()
    client.post_form(f"/my/{secret}/cancel")
    db.session.rollback()
    assert db.session.get(TeacherSignup, signup.id).status == TeacherSignupStatus.CANCELLED
    assert Ticket.query.one().status == TicketStatus.CANCELLED


# ---------------------------------------------------------------------------------------------
# Organizer: contacts


def test_organizer_sees_contacts_and_exports_xlsx(client, auth, factory, db, setup):
    organizer = factory.create_user(Role.ORGANIZER, email="org@uni.ru")
    event = factory.create_event(organizer=organizer.organization, audience=Audience.PARENTS,
                                 category_code="parents", grades_min=None, grades_max=None)
    db.session.commit()
    client.post_form(f"/events/{event.id}/signup", {
        "name": "Иванова Мария", "phone": "8 913 123 45 67", "email": "ivanova@mail.ru",
        "child_organization_id": str(setup["school"].id), "child_grade": "5", "consent": "y",
        "website": ""})
    client.post_form(f"/events/{event.id}/signup", {
        "name": "Петров Олег", "phone": "", "email": "petrov@mail.ru",
        "child_organization_id": "0", "child_grade": "", "consent": "y", "website": ""})
    # A teacher accompanying a school's group is listed too.
    factory.create_ticket(event, setup["teacher"])
    db.session.commit()
    # Petrov withdraws his consent.
    petrov = ParentSignup.query.filter_by(email="petrov@mail.ru").one()
    from webapp.parents.services import withdraw_parent_consent

    withdraw_parent_consent(petrov)
    db.session.commit()

    auth.login("org@uni.ru")
    page = client.get(f"/organizer/events/{event.id}/contacts").get_data(as_text=True)
    assert "Иванова Мария" in page and "+79131234567" in page and "ivanova@mail.ru" in page
    assert "petrov@mail.ru" not in page and "(данные удалены по просьбе)" in page
    assert "Сидорова Елена Павловна" in page
    response = client.get(f"/organizer/events/{event.id}/contacts.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.data))
    parents = list(workbook["Родители"].iter_rows(values_only=True))
    assert parents[0][:3] == ("ФИО", "Телефон", "Эл. почта")
    assert ("Иванова Мария", "+79131234567", "ivanova@mail.ru") in [r[:3] for r in parents]
    assert not any("petrov" in str(r) for r in parents)
    teachers = list(workbook["Педагоги"].iter_rows(values_only=True))
    assert teachers[1][0] == "Сидорова Елена Павловна"
    from models import AuditLog

    assert AuditLog.query.filter_by(action="event.contacts_export",
                                    object_id=str(event.id)).count() == 1


def test_contacts_are_only_for_the_events_organizer(client, auth, factory, db, setup):
    organizer = factory.create_user(Role.ORGANIZER, email="org@uni.ru")
    stranger = factory.create_user(Role.ORGANIZER, email="other@uni.ru")
    event = factory.create_event(organizer=organizer.organization)
    db.session.commit()
    assert client.get(f"/organizer/events/{event.id}/contacts").status_code == 302  # login
    auth.login(stranger.email)
    assert client.get(f"/organizer/events/{event.id}/contacts").status_code == 403
    assert client.get(f"/organizer/events/{event.id}/contacts.xlsx").status_code == 403
    auth.logout()
    auth.login("coord@school.ru")
    assert client.get(f"/organizer/events/{event.id}/contacts").status_code == 403


def test_waitlisted_teacher_gets_mail_when_promoted(client, auth, factory, db, setup):
    event = setup["event"]
    event.capacity = 1
    other = factory.create_teacher(setup["school"], email="first@school.ru")
    db.session.commit()
    self_sign_up(client, setup)
    signup = TeacherSignup.query.one()
    # The only seat goes to a teacher the school registered first.
    from checkin.seats.capacity import lock_event
    from checkin.seats.registration import allocate_ticket

    locked = lock_event(event.id)
    first = allocate_ticket(locked, TicketKind.TEACHER, teacher=other)
    db.session.commit()
    auth.login("coord@school.ru")
    client.post_form(f"/school/teacher-signups/{signup.id}/confirm",
                     {f"s{signup.id}-teacher": str(setup["teacher"].id)})
    db.session.rollback()
    assert db.session.get(TeacherSignup, signup.id).ticket.status == TicketStatus.WAITLISTED
    from checkin.seats.registration import cancel_ticket

    cancel_ticket(setup["coordinator"], db.session.get(Ticket, first.id))
    db.session.commit()
    assert db.session.get(TeacherSignup, signup.id).ticket.status == TicketStatus.CONFIRMED
    promoted = OutboxMessage.query.filter_by(to_address="sidorova@school.ru").filter(
        OutboxMessage.subject.like("Место подтверждено%")).one()
    assert promoted.dedupe_key.startswith("promoted:ticket:")
