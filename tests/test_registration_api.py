"""The roster and registration endpoints exactly as docs/api.md describes them."""

import pytest
from flask import g

from models import OrgKind, Registration, Role, Student, Teacher, Ticket, db


@pytest.fixture
def school(factory):
    return factory.create_org()


@pytest.fixture
def headers(factory, school):
    user = factory.create_user(Role.COORDINATOR, organization=school)
    token = factory.create_token(user)
    db.session.commit()
    return factory.bearer(token)


def test_post_students_all_or_nothing(client, school, headers):
    body = {"students": [
        {"last_name": "Иванов", "first_name": "Пётр", "class_name": "7 б", "ovz": False,
         "external_id": "A1"},
        {"last_name": "Смирнова", "first_name": "Анна", "middle_name": "Игоревна",
         "class_name": "7Б", "ovz": True},
    ]}
    response = client.post(f"/api/v1/organizations/{school.id}/students", json=body,
                           headers=headers)
    assert response.status_code == 201
    ids = response.get_json()["ids"]
    students = [db.session.get(Student, i) for i in ids]
    assert [(s.last_name, s.class_name, s.grade, s.ovz) for s in students] == [
        ("Иванов", "7Б", 7, False), ("Смирнова", "7Б", 7, True)]
    # Re-sending the same people updates them: same ids, nothing duplicated.
    body["students"][0]["class_name"] = "8Б"
    again = client.post(f"/api/v1/organizations/{school.id}/students", json=body,
                        headers=headers)
    assert again.get_json()["ids"] == ids
    assert Student.query.filter_by(organization_id=school.id).count() == 2


def test_post_students_bad_item_writes_nothing(client, school, headers):
    response = client.post(f"/api/v1/organizations/{school.id}/students", json={"students": [
        {"last_name": "Иванов", "first_name": "Пётр", "class_name": "7Б", "ovz": False},
        {"last_name": "Петров", "first_name": "Иван", "class_name": "седьмой", "ovz": False},
        {"last_name": "", "first_name": "Иван", "class_name": "7Б", "ovz": "нет"},
    ]}, headers=headers)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert error["fields"]["students[2].last_name"] == "Обязательное поле."
    assert "true или false" in error["fields"]["students[2].ovz"]
    assert Student.query.count() == 0
    response = client.post(f"/api/v1/organizations/{school.id}/students", json={"students": [
        {"last_name": "Петров", "first_name": "Иван", "class_name": "седьмой", "ovz": False},
    ]}, headers=headers)
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["students[0]"] == (
        "Класс: не понятен класс «седьмой»: укажите номер и букву, например «7Б».")
    assert Student.query.count() == 0


def test_post_teachers(client, school, headers):
    response = client.post(f"/api/v1/organizations/{school.id}/teachers", json={"teachers": [
        {"last_name": "Петрова", "first_name": "Анна", "email": "petrova@school.ru"}]},
        headers=headers)
    assert response.status_code == 201
    teacher = db.session.get(Teacher, response.get_json()["ids"][0])
    assert (teacher.last_name, teacher.organization_id) == ("Петрова", school.id)


def test_another_schools_roster_is_forbidden(client, factory, headers):
    other = factory.create_org()
    db.session.commit()
    for kind in ("students", "teachers"):
        response = client.post(f"/api/v1/organizations/{other.id}/{kind}",
                               json={kind: [{"last_name": "Х", "first_name": "Y",
                                             "class_name": "7Б", "ovz": False}]},
                               headers=headers)
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "forbidden"
    assert Student.query.count() == Teacher.query.count() == 0


def test_organizer_cannot_post_a_roster(client, factory, school):
    organizer = factory.create_user(Role.ORGANIZER)
    token = factory.create_token(organizer)
    db.session.commit()
    response = client.post(f"/api/v1/organizations/{school.id}/students",
                           json={"students": []}, headers=factory.bearer(token))
    assert response.status_code == 403


def test_post_registration_and_delete(client, factory, school, headers):
    event = factory.create_event(capacity=2)
    kids = [factory.create_student(school) for _ in range(2)]
    teacher = factory.create_teacher(school)
    db.session.commit()
    response = client.post(f"/api/v1/events/{event.id}/registrations", json={
        "student_ids": [k.id for k in kids], "teacher_ids": [teacher.id]}, headers=headers)
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) >= {"id", "group_code", "tickets"}
    by_person = {(t["kind"], t["person_id"]): t["status"] for t in body["tickets"]}
    assert by_person == {("teacher", teacher.id): "confirmed",
                         ("student", kids[0].id): "confirmed",
                         ("student", kids[1].id): "waitlisted"}
    codes = {t["code"] for t in body["tickets"]}
    assert codes == {t.token for t in Ticket.query.all()}
    deleted = client.delete(f"/api/v1/registrations/{body['id']}", headers=headers)
    assert deleted.status_code == 200
    assert deleted.get_json()["status"] == "cancelled"
    assert db.session.get(Registration, body["id"]).status.value == "cancelled"
    again = client.delete(f"/api/v1/registrations/{body['id']}", headers=headers)
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "already_cancelled"


@pytest.mark.parametrize("payload, status, code", [
    ({"student_ids": "1"}, 422, "validation_error"),
    ({"student_ids": []}, 422, "empty_group"),
    ({"student_ids": [999999]}, 422, "unknown_student"),
])
def test_post_registration_bad_input(client, factory, headers, payload, status, code):
    event = factory.create_event()
    db.session.commit()
    response = client.post(f"/api/v1/events/{event.id}/registrations", json=payload,
                           headers=headers)
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code
    assert Registration.query.count() == 0


def test_post_registration_duplicate_is_409(client, factory, school, headers):
    event = factory.create_event()
    kid = factory.create_student(school)
    db.session.commit()
    client.post(f"/api/v1/events/{event.id}/registrations", json={"student_ids": [kid.id]},
                headers=headers)
    response = client.post(f"/api/v1/events/{event.id}/registrations",
                           json={"student_ids": [kid.id]}, headers=headers)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "duplicate_ticket"
    assert Registration.query.count() == 1


def test_coordinator_cannot_register_for_another_school(client, factory, headers):
    event = factory.create_event()
    other = factory.create_org()
    kid = factory.create_student(other)
    db.session.commit()
    response = client.post(f"/api/v1/events/{event.id}/registrations",
                           json={"organization_id": other.id, "student_ids": [kid.id]},
                           headers=headers)
    assert response.status_code == 403
    assert Registration.query.count() == 0


def test_admin_must_name_the_school(client, factory, school):
    admin = factory.create_user(Role.ADMIN)
    token = factory.create_token(admin)
    event = factory.create_event()
    kid = factory.create_student(school)
    db.session.commit()
    response = client.post(f"/api/v1/events/{event.id}/registrations",
                           json={"student_ids": [kid.id]}, headers=factory.bearer(token))
    assert response.status_code == 422
    assert "organization_id" in response.get_json()["error"]["fields"]
    response = client.post(f"/api/v1/events/{event.id}/registrations",
                           json={"organization_id": school.id, "student_ids": [kid.id]},
                           headers=factory.bearer(token))
    assert response.status_code == 201


def test_another_school_cannot_delete_or_read_a_registration(client, factory, school,
                                                              headers):
    event = factory.create_event()
    kid = factory.create_student(school)
    db.session.commit()
    reg_id = client.post(f"/api/v1/events/{event.id}/registrations",
                         json={"student_ids": [kid.id]}, headers=headers).get_json()["id"]
    other = factory.create_user(Role.COORDINATOR, organization=factory.create_org(
        kind=OrgKind.SCHOOL))
    token = factory.create_token(other)
    db.session.commit()
    g.pop("api_caller", None)  # the tests share one app context (and so ``g``) across requests
    assert client.get(f"/api/v1/registrations/{reg_id}",
                      headers=factory.bearer(token)).status_code == 404
    assert client.delete(f"/api/v1/registrations/{reg_id}",
                         headers=factory.bearer(token)).status_code == 404
    assert db.session.get(Registration, reg_id).status.value == "active"


def test_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "post" in paths["/api/v1/organizations/{org_id}/students"]
    assert "post" in paths["/api/v1/organizations/{org_id}/teachers"]
    assert "post" in paths["/api/v1/events/{event_id}/registrations"]
    assert "delete" in paths["/api/v1/registrations/{registration_id}"]


def test_get_students_only_for_the_own_school(client, factory, school, headers):
    mine = factory.create_student(school, last_name="Своя", class_name="7Б", ovz=True)
    factory.create_student(school, last_name="Выбывший", active=False)
    other = factory.create_org()
    factory.create_student(other, last_name="Чужая")
    organizer = factory.create_user(Role.ORGANIZER)
    organizer_token = factory.create_token(organizer)
    db.session.commit()
    body = client.get(f"/api/v1/organizations/{school.id}/students",
                      headers=headers).get_json()
    assert [(s["id"], s["last_name"], s["ovz"]) for s in body["students"]] == [
        (mine.id, "Своя", True)]
    response = client.get(f"/api/v1/organizations/{other.id}/students", headers=headers)
    assert response.status_code == 403 and "Чужая" not in response.get_data(as_text=True)
    assert client.get(f"/api/v1/organizations/{other.id}/teachers",
                      headers=headers).status_code == 403
    g.pop("api_caller", None)
    response = client.get(f"/api/v1/organizations/{school.id}/students",
                          headers=factory.bearer(organizer_token))
    assert response.status_code == 403
    g.pop("api_caller", None)
    assert client.get(f"/api/v1/organizations/{school.id}/students").status_code == 401


def test_post_registration_after_the_window_is_409(client, factory, school, headers):
    from datetime import timedelta

    from models import now_utc

    event = factory.create_event(registration_opens_at=now_utc() - timedelta(days=5),
                                 registration_closes_at=now_utc() - timedelta(days=1))
    kid = factory.create_student(school)
    db.session.commit()
    response = client.post(f"/api/v1/events/{event.id}/registrations",
                           json={"student_ids": [kid.id]}, headers=headers)
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "registration_closed" and "Запись закрыта" in error["message"]
    assert Registration.query.count() == 0 and Ticket.query.count() == 0
