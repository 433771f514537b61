"""Group registration as a coordinator does it in the browser, printing, and the organizer view."""

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from models import (
    Registration,
    RegistrationStatus,
    Role,
    Ticket,
    TicketStatus,
    db,
    now_utc,
)


@pytest.fixture
def school(factory):
    return factory.create_org(name="МАОУ СОШ № 7 г. Томска (тест)")


@pytest.fixture
def coordinator(factory, school):
    user = factory.create_user(Role.COORDINATOR, organization=school)
    db.session.commit()
    return user


@pytest.fixture
def event(factory):
    event = factory.create_event(title="День открытых дверей ТГУ", capacity=3,
                                 grades_min=7, grades_max=11)
    db.session.commit()
    return event


def test_event_page_offers_group_registration_to_coordinators(client, auth, coordinator,
                                                              event):
    auth.login(coordinator.email)
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "Записать группу" in page
    assert f"/events/{event.id}/register" in page


def test_register_page_shows_seats_quota_and_eligible_classes(client, auth, coordinator,
                                                              school, factory):
    event = factory.create_event(capacity=40, per_school_quota=10, grades_min=7, grades_max=9)
    factory.create_student(school, last_name="Младший", class_name="5А", grade=5)
    factory.create_student(school, last_name="Подходящий", class_name="7Б", grade=7)
    db.session.commit()
    auth.login(coordinator.email)
    page = client.get(f"/events/{event.id}/register").get_data(as_text=True)
    assert "Свободных мест: <strong>40</strong> из 40" in page
    assert "Квота вашей школы: <strong>10</strong>" in page
    assert "Подходящий" in page and "Младший" not in page
    assert "Не показаны классы, которым мероприятие не подходит (для 7–9 классов): 5А" in page


def test_whole_class_registration_with_waitlist(client, auth, coordinator, school, factory,
                                                event):
    kids = [factory.create_student(school, last_name=f"Ученик{i}", class_name="8А", grade=8)
            for i in range(4)]
    teacher = factory.create_teacher(school, last_name="Петрова")
    db.session.commit()
    auth.login(coordinator.email)
    response = client.post_form(f"/events/{event.id}/register",
                                {"classes": "8А", "teachers": str(teacher.id)},
                                follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Группа записана: подтверждено 3, в листе ожидания 2" in page
    registration = Registration.query.filter_by(event_id=event.id).one()
    held = {t.student_id or t.teacher_id: t.status for t in registration.tickets}
    assert held[teacher.id] == TicketStatus.CONFIRMED
    assert sorted(held[k.id].value for k in kids) == ["confirmed", "confirmed", "waitlisted",
                                                      "waitlisted"]
    assert "Петрова" in page and "лист ожидания" in page


def test_proposed_students_come_ticked_and_strangers_are_dropped(client, auth, coordinator,
                                                                 school, factory, event):
    """A «кого записать» link ticks the proposed students; anyone not free here is dropped."""
    behind = factory.create_student(school, last_name="Отстающий", class_name="8Б", grade=8)
    other = factory.create_student(school, last_name="Другой", class_name="8Б", grade=8)
    young = factory.create_student(school, last_name="Пятиклассник", class_name="5А", grade=5)
    stranger = factory.create_student(factory.create_org())
    db.session.commit()
    auth.login(coordinator.email)
    page = client.get(f"/events/{event.id}/register?student={behind.id}&student={young.id}"
                      f"&student={stranger.id}&student=x&student={behind.id}"
                      ).get_data(as_text=True)
    assert "Отмечены предложенные ученики: 1." in page
    assert f'value="{behind.id}" checked' in page
    assert f'value="{other.id}" checked' not in page and f'value="{other.id}"' in page
    plain = client.get(f"/events/{event.id}/register").get_data(as_text=True)
    assert "Отмечены предложенные" not in plain and f'value="{behind.id}" checked' not in plain


def test_register_page_error_keeps_nothing(client, auth, coordinator, school, factory, event):
    stranger = factory.create_student(factory.create_org())
    db.session.commit()
    auth.login(coordinator.email)
    page = client.post_form(f"/events/{event.id}/register",
                            {"students": str(stranger.id)}).get_data(as_text=True)
    assert "Исправьте ошибки" in page
    assert "нет учеников с номерами" in page
    assert Ticket.query.count() == 0


def test_register_page_with_nobody_selected(client, auth, coordinator, event):
    auth.login(coordinator.email)
    page = client.post_form(f"/events/{event.id}/register", {}).get_data(as_text=True)
    assert "Выберите хотя бы одного ученика или педагога." in page


def test_closed_window_page_has_no_form(client, auth, coordinator, factory, school):
    event = factory.create_event(registration_opens_at=now_utc() - timedelta(days=2),
                                 registration_closes_at=now_utc() - timedelta(days=1))
    student = factory.create_student(school)
    db.session.commit()
    auth.login(coordinator.email)
    page = client.get(f"/events/{event.id}/register").get_data(as_text=True)
    assert "Запись закрыта" in page and "Зарегистрировать группу" not in page
    client.post_form(f"/events/{event.id}/register", {"students": str(student.id)})
    assert Ticket.query.count() == 0


def _register(client, event, students=(), teachers=()):
    return client.post_form(f"/events/{event.id}/register",
                            {"students": [str(s.id) for s in students],
                             "teachers": [str(t.id) for t in teachers]})


def test_remove_person_and_cancel_registration_promote_the_waitlist(
        client, auth, coordinator, school, factory, event):
    kids = [factory.create_student(school, class_name="8А", grade=8) for _ in range(4)]
    db.session.commit()
    auth.login(coordinator.email)
    _register(client, event, kids)
    registration = Registration.query.one()
    first = registration.tickets[0]
    page = client.post_form(f"/school/registrations/{registration.id}/tickets/{first.id}/cancel",
                            follow_redirects=True).get_data(as_text=True)
    assert "убран(а) из группы. Из листа ожидания подтверждено мест: 1." in page
    db.session.expire_all()
    assert [t.status.value for t in registration.tickets] == [
        "cancelled", "confirmed", "confirmed", "confirmed"]
    client.post_form(f"/school/registrations/{registration.id}/cancel")
    db.session.expire_all()
    assert registration.status == RegistrationStatus.CANCELLED
    assert {t.status for t in registration.tickets} == {TicketStatus.CANCELLED}


def test_promotion_notice_on_the_schools_pages(client, auth, coordinator, school, factory,
                                               event):
    other = factory.create_org()
    theirs = [factory.create_student(other, class_name="9А", grade=9) for _ in range(3)]
    mine = factory.create_student(school, last_name="Ожидающий", class_name="9Б", grade=9)
    db.session.commit()
    from checkin.seats.registration import cancel_registration, register_group

    their_reg = register_group(None, event, other, [s.id for s in theirs], [])
    db.session.commit()
    register_group(coordinator, event, school, [mine.id], [])
    db.session.commit()
    cancel_registration(None, their_reg)
    db.session.commit()
    auth.login(coordinator.email)
    page = client.get("/school/registrations").get_data(as_text=True)
    assert "из листа ожидания подтверждены места — Ожидающий" in page
    assert "Ожидающий" in client.get("/dashboard").get_data(as_text=True)


def test_tickets_pdf_has_cyrillic_names_and_scannable_qr(client, auth, coordinator, school,
                                                        factory, event):
    import zxingcpp
    from PIL import Image

    kids = [factory.create_student(school, last_name="Щукина", first_name="Ярослава",
                                   class_name="9Б", grade=9)]
    teacher = factory.create_teacher(school, last_name="Жуковская", first_name="Эльвира")
    db.session.commit()
    auth.login(coordinator.email)
    _register(client, event, kids, [teacher])
    registration = Registration.query.one()
    response = client.get(f"/school/registrations/{registration.id}/tickets.pdf")
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    text = reader.pages[0].extract_text()
    assert "Щукина Ярослава" in text and "Жуковская Эльвира" in text
    assert "День открытых дверей" in text and "Класс 9Б" in text
    for ticket in registration.tickets:
        assert ticket.short_code in text
    # The embedded QR images decode to the ticket URLs.
    images = [Image.open(io.BytesIO(img.data)) for img in reader.pages[0].images]
    decoded = {r.text for img in images for r in zxingcpp.read_barcodes(img.convert("L"))}
    assert decoded == {f"http://profroute.test/t/{t.token}" for t in registration.tickets}

    sheet = client.get(f"/school/registrations/{registration.id}/group.pdf")
    sheet_text = PdfReader(io.BytesIO(sheet.data)).pages[0].extract_text()
    assert "Лист группы" in sheet_text and "Щукина Ярослава" in sheet_text
    images = [Image.open(io.BytesIO(i.data)) for i in PdfReader(io.BytesIO(sheet.data))
              .pages[0].images]
    assert {r.text for img in images for r in zxingcpp.read_barcodes(img.convert("L"))} == {
        f"http://profroute.test/g/{registration.group_code}"}

    html = client.get(f"/school/registrations/{registration.id}/print").get_data(as_text=True)
    assert "Щукина Ярослава" in html and registration.tickets[0].short_code in html


def test_another_school_cannot_open_a_registration(client, auth, factory, school, coordinator,
                                                   event):
    kid = factory.create_student(school)
    db.session.commit()
    auth.login(coordinator.email)
    _register(client, event, [kid])
    registration = Registration.query.one()
    auth.logout()
    stranger = factory.create_user(Role.COORDINATOR)
    db.session.commit()
    auth.login(stranger.email)
    for url in (f"/school/registrations/{registration.id}",
                f"/school/registrations/{registration.id}/tickets.pdf",
                f"/school/registrations/{registration.id}/group.pdf",
                f"/school/registrations/{registration.id}/print"):
        assert client.get(url).status_code == 404, url
    assert client.post_form(f"/school/registrations/{registration.id}/cancel").status_code == 404
    db.session.expire_all()
    assert registration.status == RegistrationStatus.ACTIVE


def test_organizer_sees_counts_by_school_and_door_list_without_ovz(client, auth, factory,
                                                                   school, coordinator):
    organizer_org = factory.create_org(name="ТГУ (тест)", kind=__import__(
        "models").OrgKind.UNIVERSITY)
    organizer = factory.create_user(Role.ORGANIZER, organization=organizer_org)
    event = factory.create_event(organizer=organizer_org, capacity=2)
    kids = [factory.create_student(school, last_name="Овзова", ovz=True, class_name="9А",
                                   grade=9),
            factory.create_student(school, last_name="Здоровый", class_name="9А", grade=9),
            factory.create_student(school, last_name="Ждущий", class_name="9А", grade=9)]
    db.session.commit()
    auth.login(coordinator.email)
    _register(client, event, kids)
    auth.logout()
    auth.login(organizer.email)
    page = client.get(f"/organizer/events/{event.id}").get_data(as_text=True)
    assert "Заявки школ" in page
    assert "Подтверждено: <strong>2</strong> из 2" in page
    assert "в листе ожидания: <strong>1</strong>" in page
    assert "ОВЗ" not in page
    response = client.get(f"/organizer/events/{event.id}/door-list.xlsx")
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=4)]
    assert rows[0] == ["Школа", "ФИО", "Класс", "Кто", "Статус", "Нужна помощь", "Код билета",
                       "Пришёл"]
    by_name = {r[1].split()[0]: r for r in rows[1:]}
    assert by_name["Овзова"][5] == "нужна помощь"
    assert by_name["Здоровый"][5] in (None, "")
    assert by_name["Ждущий"][4] == "В листе ожидания"
    flat = " ".join(str(v) for r in sheet.iter_rows(values_only=True) for v in r if v)
    assert "ОВЗ" not in flat
    # Another organizer gets nothing.
    auth.logout()
    other = factory.create_user(Role.ORGANIZER)
    db.session.commit()
    auth.login(other.email)
    assert client.get(f"/organizer/events/{event.id}/door-list.xlsx").status_code == 403
