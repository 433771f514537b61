"""Who may open the parents area's staff pages: a matrix of roles × pages."""

from __future__ import annotations

import pytest

from models import Audience, Role

PAGES = ["contacts", "contacts_xlsx", "teacher_signups", "outbox"]
#: role → the pages it may open (200); anonymous visitors are sent to the login page.
ALLOWED = {
    "admin": {"contacts", "contacts_xlsx", "teacher_signups", "outbox"},
    "own_organizer": {"contacts", "contacts_xlsx"},
    "other_organizer": set(),
    "coordinator": {"teacher_signups"},
}


@pytest.fixture
def world(factory, db):
    own = factory.create_user(Role.ORGANIZER, email="own@uni.ru")
    users = {
        "admin": factory.create_user(Role.ADMIN, email="admin@city.ru"),
        "own_organizer": own,
        "other_organizer": factory.create_user(Role.ORGANIZER, email="other@uni.ru"),
        "coordinator": factory.create_user(Role.COORDINATOR, email="coord@school.ru"),
    }
    event = factory.create_event(organizer=own.organization, audience=Audience.PARENTS,
                                 category_code="parents", grades_min=None, grades_max=None)
    db.session.commit()
    urls = {
        "contacts": f"/organizer/events/{event.id}/contacts",
        "contacts_xlsx": f"/organizer/events/{event.id}/contacts.xlsx",
        "teacher_signups": "/school/teacher-signups",
        "outbox": "/admin/mail",
    }
    return users, urls


@pytest.mark.parametrize("role", sorted(ALLOWED))
@pytest.mark.parametrize("page", PAGES)
def test_staff_pages_by_role(client, auth, world, role, page):
    users, urls = world
    auth.login(users[role].email)
    status = client.get(urls[page]).status_code
    assert status == (200 if page in ALLOWED[role] else 403)


@pytest.mark.parametrize("page", PAGES)
def test_staff_pages_need_login(client, world, page):
    _users, urls = world
    response = client.get(urls[page])
    assert response.status_code == 302 and "/login" in response.headers["Location"]
