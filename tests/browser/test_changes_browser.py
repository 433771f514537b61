"""Issue #20 «changes reach people», as the people meet it on a phone (390×844): a parent with
a phone only signs up for a full event, keeps the page, loses the link and finds the sign-up
again; an organizer sees who will be told, is asked about a date in the past, then moves the
event and the school sees the notice."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from formats.timefmt import TOMSK
from models import Audience, Registration, Role, SchoolNotice, Ticket, TicketStatus, now_utc
from tests.browser.pages import login

pytestmark = pytest.mark.browser




def test_a_phone_only_parent_gets_back_to_the_ticket(live_server, browser, factory, db):
    event = factory.create_event(audience=Audience.PARENTS, category_code="parents",
                                 grades_min=None, grades_max=None, capacity=1,
                                 title="Собрание о выборе профессии")
    db.session.commit()
    page = browser.phone(live_server).new_page()
    # Someone takes the only seat first.
    page.goto(f"{live_server.url}/events/{event.id}/signup")
    assert page.locator("#event-full").count() == 0
    page.get_by_label("Фамилия и имя").fill("Первая Анна")
    page.get_by_label("Телефон").fill("8 913 100-00-01")
    page.locator("#consent").check()
    page.get_by_role("button", name="Записаться").click()
    page.wait_for_url(re.compile(r"/my/"))

    # The next parent is told before the form that it is the waiting list.
    page.goto(f"{live_server.url}/events/{event.id}")
    page.get_by_role("link", name="Записаться в лист ожидания (родителям)").click()
    full = page.locator("#event-full")
    assert "Мест нет, запись в лист ожидания" in full.inner_text()
    assert full.bounding_box()["y"] < page.get_by_label("Фамилия и имя").bounding_box()["y"]
    page.get_by_label("Фамилия и имя").fill("Орлова Светлана")
    page.get_by_label("Телефон").fill("8 (913) 555-12-34")
    page.locator("#consent").check()
    page.get_by_role("button", name="Записаться в лист ожидания").click()
    page.wait_for_url(re.compile(r"/my/"))
    lost_link = page.url.split("?")[0]
    save = page.locator("#save-this-page")
    assert "Сохраните эту страницу" in save.inner_text()
    assert "письма с билетом не будет" in save.inner_text()
    assert "Вы в листе ожидания" in page.locator(".alert-warning").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    db.session.rollback()
    code = Ticket.query.filter_by(status=TicketStatus.WAITLISTED).one().short_code
    assert code in save.inner_text()

    # The link is lost: the parent finds the sign-up by the code and the phone.
    save.get_by_role("link", name="Найти мою запись").click()
    page.get_by_label("Код билета").fill(code)
    page.get_by_label("Телефон, указанный при записи").fill("8 913 000-00-00")
    page.get_by_role("button", name="Открыть мою запись").click()
    assert "Не удалось найти запись" in page.locator(".error-summary").inner_text()
    page.get_by_label("Телефон, указанный при записи").fill("+7 913 555 12 34")
    page.get_by_role("button", name="Открыть мою запись").click()
    page.wait_for_url(re.compile(r"/my/[A-Za-z0-9_-]{32}$"))
    assert page.url != lost_link
    assert "ссылка на эту страницу теперь новая" in page.locator(".alert-success").first \
        .inner_text().lower()
    assert "Орлова Светлана" in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_an_organizer_moves_an_event_and_the_school_sees_it(live_server, browser, factory, db):
    organizer = factory.create_user(Role.ORGANIZER, email="org@uni.ru")
    day = (now_utc() + timedelta(days=9)).astimezone(TOMSK).date()
    start = datetime(day.year, day.month, day.day, 10, 0, tzinfo=TOMSK)
    event = factory.create_event(organizer.organization, starts_at=start,
                                 ends_at=start + timedelta(hours=2), title="Профпроба")
    school = factory.create_org()
    factory.create_user(Role.COORDINATOR, organization=school, email="coord@school.ru")
    registration = Registration(event_id=event.id, organization_id=school.id)
    db.session.add(registration)
    db.session.flush()
    factory.create_ticket(event, factory.create_student(school), registration=registration)
    db.session.commit()

    page = browser.phone(live_server).new_page()
    login(page, live_server, "org@uni.ru")
    page.goto(f"{live_server.url}/organizer/events/{event.id}/edit")
    assert page.locator("#who-is-told").inner_text().startswith(
        "Об изменении узнают: 1 школа, 0 родителей, 0 педагогов")
    past = start - timedelta(days=30)
    page.fill("#starts_at", past.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#ends_at", (past + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Сохранить изменения").click()
    assert "в прошлом" in page.locator(".error-summary").inner_text()
    assert page.get_by_label("Да, дата в прошлом — так и задумано").is_visible()
    # A typo after all: the organizer moves it to the afternoon instead.
    page.fill("#starts_at", start.replace(hour=15).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#ends_at", start.replace(hour=17).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Сохранить изменения").click()
    page.wait_for_url(re.compile(rf"/organizer/events/{event.id}$"))
    db.session.rollback()
    assert SchoolNotice.query.count() == 1

    school_page = browser.phone(live_server).new_page()
    login(school_page, live_server, "coord@school.ru")
    school_page.goto(f"{live_server.url}/school/registrations")
    notice = school_page.locator(".alert-warning", has_text="Изменено мероприятие")
    assert "стало" in notice.inner_text() and "15:00–17:00" in notice.inner_text()
