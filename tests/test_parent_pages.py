"""What the parents area adds to the events pages (through the events area's hooks)."""

from __future__ import annotations

from models import Audience, Role


def test_event_pages_offer_the_right_sign_up(client, factory, db):
    parents = factory.create_event(audience=Audience.PARENTS, category_code="parents",
                                   grades_min=None, grades_max=None)
    teachers = factory.create_event(audience=Audience.TEACHERS, category_code="teacher_training",
                                    grades_min=None, grades_max=None)
    students = factory.create_event()
    db.session.commit()
    page = client.get(f"/events/{parents.id}").get_data(as_text=True)
    assert "Записаться (родителям)" in page and f"/events/{parents.id}/signup" in page
    page = client.get(f"/events/{teachers.id}").get_data(as_text=True)
    assert "Записаться (педагогам)" in page and f"/events/{teachers.id}/teacher-signup" in page
    page = client.get(f"/events/{students.id}").get_data(as_text=True)
    assert "Записаться (родителям)" not in page and "Записаться (педагогам)" not in page


def test_organizer_event_page_shows_parents_and_teachers_section(client, auth, factory, db):
    organizer = factory.create_user(Role.ORGANIZER, email="org@uni.ru")
    event = factory.create_event(organizer=organizer.organization, audience=Audience.PARENTS,
                                 category_code="parents", grades_min=None, grades_max=None)
    db.session.commit()
    client.post_form(f"/events/{event.id}/signup", {
        "name": "Иванова Мария", "phone": "", "email": "ivanova@mail.ru",
        "child_organization_id": "0", "child_grade": "", "consent": "y", "website": ""})
    auth.login("org@uni.ru")
    page = client.get(f"/organizer/events/{event.id}").get_data(as_text=True)
    assert "Родители и педагоги" in page
    assert "Родителей записано: <strong>1</strong>" in page
    assert f"/organizer/events/{event.id}/contacts" in page
