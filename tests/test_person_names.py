"""A person's name is letters, spaces, hyphens, apostrophes and dots (formats.person_names):
markup is refused where a name is typed — the forms, the API and spreadsheet imports of
students, teachers, parents, walk-ins and users — with a clear Russian message, nothing saved."""

from __future__ import annotations

import pytest

from formats.person_names import person_name_error
from formats.spreadsheets import ImportProblems
from models import Audience, ParentSignup, Role, Student, Teacher, TeacherSignup, User, db
from tests.test_parent_signup import api_body, parent_event
from tests.test_scan_door import api, door  # noqa: F401 (the fixture)
from webapp.schools.roster import import_students_file

MARKUP = "<b>Иван</b>"
RULE = "только буквы, пробелы, дефисы, апострофы и точки"


@pytest.mark.parametrize("name", ["Анна-Мария", "Д’Артаньян", "О'Нил", "Иванова А. С.",
                                  "Ёлкина", "José Núñez", "Жан\u00a0Поль"])
def test_real_names_pass(name):
    assert person_name_error(name) is None


@pytest.mark.parametrize("name", [MARKUP, "Иван<script>", "Петров&amp;", 'Иван "Ваня"',
                                  "Иван2", "Анна (Аня)", "a@b", "-", ". .", "Иван;"])
def test_markup_digits_and_signs_are_refused(name):
    assert person_name_error(name, "Имя") == f"Имя: {RULE}."


@pytest.fixture
def coordinator(factory):
    school = factory.create_org()
    user = factory.create_user(Role.COORDINATOR, organization=school)
    db.session.commit()
    return user


def test_student_and_teacher_forms_refuse_markup(client, auth, coordinator):
    auth.login(coordinator.email)
    response = client.post_form("/school/students/new", {
        "last_name": MARKUP, "first_name": "Ева", "class_name": "9В"})
    page = response.get_data(as_text=True)
    assert f"Фамилия: {RULE.capitalize()}." in page
    assert "&lt;b&gt;Иван&lt;/b&gt;" in page   # given back in the field, as text
    response = client.post_form("/school/teachers/new", {
        "last_name": "Петрова", "first_name": "Анна", "middle_name": "<i>С</i>"})
    assert f"Отчество (если есть): {RULE.capitalize()}." in response.get_data(as_text=True)
    assert Student.query.count() == 0 and Teacher.query.count() == 0


def test_roster_import_names_the_row(coordinator):
    data = ("Фамилия;Имя;Отчество;Класс\r\nИванов;Пётр;;7Б\r\nПетров;<img src=x>;;7Б\r\n"
            ).encode()
    with pytest.raises(ImportProblems) as err:
        import_students_file(None, coordinator.organization, "a.csv", data)
    db.session.rollback()
    assert f"Строка 3: «Имя»: {RULE}." in " ".join(err.value.lines)
    assert Student.query.count() == 0


def test_roster_api_refuses_markup(client, factory, coordinator):
    token = factory.create_token(coordinator)
    db.session.commit()
    response = client.post(
        f"/api/v1/organizations/{coordinator.organization_id}/students",
        headers={"Authorization": f"Bearer {token}"},
        json={"students": [{"last_name": "Иванов", "first_name": MARKUP, "class_name": "7Б",
                            "ovz": False}]})
    assert response.status_code == 422
    assert RULE in response.get_data(as_text=True)
    assert Student.query.count() == 0


def test_parent_form_and_api_refuse_markup(client, factory, db):
    event = parent_event(factory)
    db.session.commit()
    response = client.post_form(f"/events/{event.id}/signup", {
        "name": "Петрова <a href=x>Анна</a>", "phone": "+7 913 000-11-22",
        "email": "petrova@mail.ru", "child_organization_id": "0", "consent": "y",
        "website": ""})
    assert response.status_code == 422
    assert f"Фамилия и имя: {RULE}." in response.get_data(as_text=True)
    response = client.post(f"/api/v1/events/{event.id}/parent-signups",
                           json=api_body(name="Петрова <Анна>"))
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["name"] == f"Фамилия и имя: {RULE}."
    assert ParentSignup.query.count() == 0


def test_teacher_signup_refuses_markup(client, factory, db):
    school = factory.create_org()
    event = factory.create_event(audience=Audience.TEACHERS, category_code="teacher_training",
                                 grades_min=None, grades_max=None)
    db.session.commit()
    response = client.post_form(f"/events/{event.id}/teacher-signup", {
        "last_name": "Сидорова", "first_name": "<svg onload=x>", "organization_id":
        str(school.id), "email": "s@school.ru", "phone": "", "consent": "y", "website": ""})
    assert response.status_code == 422
    assert f"Имя: {RULE}." in response.get_data(as_text=True)
    assert TeacherSignup.query.count() == 0


def test_walk_in_refuses_markup(client, door):  # noqa: F811
    response = api(client, door, "post", "walk-ins", json={
        "kind": "student", "organization_id": door["other_school"].id,
        "last_name": "Новикова", "first_name": MARKUP, "class_name": "9В"})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["first_name"] == f"Имя: {RULE}."
    response = api(client, door, "post", "walk-ins", json={
        "kind": "parent", "name": "Мама <b>", "phone": "+7 913 000-11-22"})
    assert response.get_json()["error"]["fields"]["name"] == f"Фамилия и имя: {RULE}."
    assert Student.query.filter_by(last_name="Новикова").count() == 0


def test_user_form_refuses_markup(client, auth, factory, db):
    factory.create_user(Role.ADMIN, email="admin@names.local")
    school = factory.create_org()
    db.session.commit()
    auth.login("admin@names.local")
    response = client.post_form("/admin/users/new", {
        "email": "c@school.ru", "full_name": "Иванова <b>М</b>", "role": "coordinator",
        "organization": str(school.id), "password": "long-enough-1",
        "password_confirm": "long-enough-1"})
    assert response.status_code == 422
    assert f"Фамилия, имя, отчество: {RULE}." in response.get_data(as_text=True)
    assert User.query.filter_by(email="c@school.ru").count() == 0


def test_cli_refuses_markup(runner, db):
    result = runner.invoke(args=["users", "create", "--email", "x@city.ru", "--password",
                                 "long-enough-1", "--role", "admin", "--name", "<b>X</b>"])
    assert result.exit_code != 0 and RULE in result.output
    assert User.query.filter_by(email="x@city.ru").count() == 0

