"""Another school cannot read a roster (pages, exports, API); organizers never see ОВЗ."""

import io

import pytest
from openpyxl import load_workbook

from models import Role, db


@pytest.fixture
def two_schools(factory):
    mine = factory.create_org()
    theirs = factory.create_org()
    factory.create_student(mine, last_name="Моя", ovz=True)
    factory.create_student(theirs, last_name="Чужая", ovz=True)
    factory.create_teacher(theirs, last_name="Чужой")
    me = factory.create_user(Role.COORDINATOR, organization=mine)
    db.session.commit()
    return mine, theirs, me


def test_coordinator_pages_show_only_the_own_school(client, auth, two_schools):
    mine, theirs, me = two_schools
    auth.login(me.email)
    for url in ("/school/students", f"/school/students?org={theirs.id}",
                f"/school/teachers?org={theirs.id}"):
        page = client.get(url).get_data(as_text=True)
        assert "Чужая" not in page and "Чужой" not in page, url
    export = client.get(f"/school/students.xlsx?org={theirs.id}")
    names = [r[0] for r in load_workbook(io.BytesIO(export.data)).active.iter_rows(
        min_row=2, values_only=True)]
    assert names == ["Моя"]


def test_another_schools_student_cannot_be_edited(client, auth, factory, two_schools):
    from models import Student

    _mine, theirs, me = two_schools
    stranger = Student.query.filter_by(organization_id=theirs.id).one()
    auth.login(me.email)
    assert client.get(f"/school/students/{stranger.id}/edit").status_code == 404
    assert client.post_form(f"/school/students/{stranger.id}/deactivate").status_code == 404
    db.session.expire_all()
    assert stranger.active is True


@pytest.mark.parametrize("role", [Role.ORGANIZER])
def test_organizers_cannot_open_rosters(client, auth, factory, two_schools, role):
    user = factory.create_user(role)
    db.session.commit()
    auth.login(user.email)
    for url in ("/school/students", "/school/teachers", "/school/students.xlsx",
                "/school/registrations"):
        assert client.get(url).status_code == 403, url


def test_anonymous_is_sent_to_login(client, two_schools):
    response = client.get("/school/students")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_admin_chooses_a_school_and_sees_ovz(client, auth, factory, two_schools):
    _mine, theirs, _me = two_schools
    admin = factory.create_user(Role.ADMIN)
    db.session.commit()
    auth.login(admin.email)
    chooser = client.get("/school/students").get_data(as_text=True)
    assert "Выберите школу" in chooser and theirs.name in chooser
    page = client.get(f"/school/students?org={theirs.id}").get_data(as_text=True)
    assert "Чужая" in page
