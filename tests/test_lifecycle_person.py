"""Anonymizing one student or teacher from the roster pages: confirmed, audited without names;
the name, external id and e-mail go, and so do their copies (stored scan answers, school
notices, the outbox); tickets, scans, school, grade and ОВЗ flag stay, so indicators stay."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from checkin.door.scans import replayed_attendee
from models import (
    AuditLog,
    Role,
    Scan,
    ScanOutcome,
    SchoolNotice,
    Student,
    Teacher,
    TeacherSignup,
    now_utc,
)
from models.academic_year import current_academic_year
from models.outbox import OutboxMessage, OutboxStatus
from reports.indicators import compute_indicators
from webapp.mail import queue_mail
from webapp.services.personal_data import message_text


@pytest.fixture
def school_day(factory, db):
    school = factory.create_org()
    coordinator = factory.create_user(Role.COORDINATOR, school)
    past = factory.create_event(starts_at=now_utc() - timedelta(days=3), early=True)
    student = factory.create_student(school, last_name="Ёлкина", first_name="Вера",
                                     middle_name="Павловна", class_name="8Б", grade=8,
                                     ovz=True, external_id="SCH-77")
    teacher = factory.create_teacher(school, last_name="Кузнецова", first_name="Ольга",
                                     email="kuznetsova@school.ru")
    scans = []
    for person in (student, teacher):
        ticket = factory.create_ticket(past, person)
        scan = factory.create_checkin(ticket)
        scan.response = {"status": "ok", "attendee": replayed_attendee(ticket.id, "ok"),
                         "flag": None}
        scans.append(scan)
    db.session.add(SchoolNotice(organization_id=school.id, event_id=past.id,
                                message=f"«{past.title}»: из листа ожидания подтверждены "
                                        "места — Ёлкина Вера Павловна (8Б), Андреев Илья (8Б)."))
    queue_mail("parent@mail.ru", "О поездке", "В группе: Ёлкина Вера Павловна, 8Б.")
    queue_mail("other@mail.ru", "Другое", "В группе: Андреев Илья.")
    queue_mail("kuznetsova@school.ru", "Билет", "Здравствуйте!")
    db.session.commit()
    return {"school": school, "coordinator": coordinator, "event": past, "student": student,
            "teacher": teacher, "scans": scans}


def indicators_json():
    return json.dumps(compute_indicators(current_academic_year()).to_json(), sort_keys=True)


def test_coordinator_anonymizes_a_student_and_every_copy(client, auth, school_day, db):
    student = school_day["student"]
    before = indicators_json()
    auth.login(school_day["coordinator"].email)
    listing = client.get("/school/students?status=all").get_data(as_text=True)
    assert f"/school/students/{student.id}/anonymize" in listing
    url = f"/school/students/{student.id}/anonymize"
    page = client.get(url)
    assert page.status_code == 200 and "Ёлкина Вера Павловна" in page.get_data(as_text=True)

    unconfirmed = client.post_form(url, {})
    assert unconfirmed.status_code == 422
    assert "Подтвердите обезличивание" in unconfirmed.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(Student, student.id).last_name == "Ёлкина"

    done = client.post_form(url, {"confirm": "y"})
    assert done.status_code == 303
    db.session.rollback()
    stored = db.session.get(Student, student.id)
    assert (stored.last_name, stored.first_name, stored.middle_name, stored.external_id) == (
        None, None, None, None)
    assert stored.anonymized_at is not None and stored.active is False
    assert (stored.organization_id, stored.grade, stored.ovz, stored.class_name) == (
        school_day["school"].id, 8, True, "8")
    attendee = db.session.get(Scan, school_day["scans"][0].id).response["attendee"]
    assert attendee == {"name": None, "kind": "student", "organization": None,
                        "class_name": None, "needs_assistance": None}
    notice = SchoolNotice.query.one().message
    assert "Ёлкина" not in notice and "(данные удалены) (8Б)" not in notice
    assert "Андреев Илья (8Б)" in notice
    mail = {m.subject: m for m in OutboxMessage.query}
    assert mail["О поездке"].message == b"" and mail["О поездке"].status == OutboxStatus.FAILED
    assert "Андреев Илья" in message_text(mail["Другое"].message)
    entry = AuditLog.query.filter_by(action="student.anonymize").one()
    assert entry.user_id == school_day["coordinator"].id
    assert entry.object_id == str(student.id)
    assert "Ёлкина" not in json.dumps(entry.details, ensure_ascii=False)
    assert indicators_json() == before
    # Gone from the roster pages; a second attempt finds nobody.
    assert "Ёлкина" not in client.get("/school/students?status=all").get_data(as_text=True)
    assert client.get(url).status_code == 404


def test_admin_anonymizes_a_teacher_with_their_sign_up_and_mail(client, auth, school_day,
                                                                  factory, db):
    teacher = school_day["teacher"]
    signup = TeacherSignup(event_id=school_day["event"].id,
                           organization_id=school_day["school"].id, last_name="Кузнецова",
                           first_name="Ольга", email="kuznetsova@school.ru",
                           phone="+79130001111", consent_version="2025-1",
                           consent_at=now_utc(), manage_secret_hash="a" * 64,
                           teacher_id=teacher.id, reject_reason=None)
    db.session.add(signup)
    admin = factory.create_user()
    db.session.commit()
    auth.login(admin.email)
    url = f"/school/teachers/{teacher.id}/anonymize?org={school_day['school'].id}"
    assert client.post_form(url, {"confirm": "y"}).status_code == 303
    db.session.rollback()
    stored = db.session.get(Teacher, teacher.id)
    assert stored.last_name is None and stored.email is None and stored.anonymized_at
    stored_signup = db.session.get(TeacherSignup, signup.id)
    assert "Кузнецова" not in stored_signup.full_name and stored_signup.phone is None
    assert stored_signup.email.endswith("@example.invalid")
    assert db.session.get(Scan, school_day["scans"][1].id).response["attendee"]["name"] is None
    ticket_mail = OutboxMessage.query.filter_by(subject="Билет").one()
    assert ticket_mail.to_address == "" and ticket_mail.message == b""
    assert AuditLog.query.filter_by(action="teacher.anonymize").one().user_id == admin.id


def test_a_person_with_an_upcoming_ticket_is_refused(client, auth, school_day, factory, db):
    student = school_day["student"]
    factory.create_ticket(factory.create_event(starts_at=now_utc() + timedelta(days=2)),
                          student)
    db.session.commit()
    auth.login(school_day["coordinator"].email)
    response = client.post_form(f"/school/students/{student.id}/anonymize", {"confirm": "y"})
    assert response.status_code == 409
    assert "билеты на предстоящие мероприятия" in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(Student, student.id).last_name == "Ёлкина"
    assert db.session.get(Scan, school_day["scans"][0].id).response["attendee"]["name"]
    assert AuditLog.query.filter_by(action="student.anonymize").count() == 0


def test_another_schools_coordinator_cannot(client, auth, school_day, factory, db):
    other = factory.create_user(Role.COORDINATOR, factory.create_org())
    organizer = factory.create_user(Role.ORGANIZER)
    db.session.commit()
    url = f"/school/students/{school_day['student'].id}/anonymize"
    auth.login(other.email)
    assert client.post_form(url, {"confirm": "y"}).status_code == 404
    auth.logout()
    auth.login(organizer.email)
    assert client.post_form(url, {"confirm": "y"}).status_code == 403
    db.session.rollback()
    assert db.session.get(Student, school_day["student"].id).last_name == "Ёлкина"


def test_repeated_anonymization_is_refused_by_the_service(school_day, db):
    from errors import ConflictError
    from webapp.services.personal_data import anonymize_person

    anonymize_person(None, school_day["student"], via="test")
    db.session.commit()
    with pytest.raises(ConflictError) as err:
        anonymize_person(None, db.session.get(Student, school_day["student"].id))
    assert err.value.code == "already_anonymized"
    assert Scan.query.filter_by(outcome=ScanOutcome.OK).count() == 2
