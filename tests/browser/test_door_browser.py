"""Issue #20 «The door», items 1–5, on a 390×844 phone in real Chromium: a ticket typed twice
offline, the group list's «Все пришли» and leaving it, a parent without a phone, undoing a
walk-in (the door list and the report), and a ticket scanned days before its event."""

from __future__ import annotations

import io
import os
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from checkin.door.links import create_scanner_link
from checkin.seats.tickets import group_url
from models import (
    OrgKind,
    ParentSignup,
    Registration,
    Role,
    Scan,
    ScanOutcome,
    Student,
    Ticket,
    TicketStatus,
    db,
    now_utc,
)
from tests.browser.pages import checkins, login

pytestmark = pytest.mark.browser


@pytest.fixture
def door(factory):
    """An event whose check-in is open now: a group of three from one school, one more pupil."""
    university = factory.create_org(kind=OrgKind.UNIVERSITY, name="ТПУ")
    school = factory.create_org(kind=OrgKind.SCHOOL, name="МАОУ СОШ № 7", short_name="СОШ № 7")
    organizer = factory.create_user(Role.ORGANIZER, organization=university)
    event = factory.create_event(organizer=university, title="Профпроба в ТПУ",
                                 starts_at=now_utc() + timedelta(minutes=30), capacity=5)
    registration = Registration(event_id=event.id, organization_id=school.id)
    db.session.add(registration)
    db.session.flush()
    names = [("Антонова", "Алина"), ("Борисов", "Борис"), ("Васильева", "Вера"),
             ("Громов", "Глеб")]
    tickets = []
    for n, (last, first) in enumerate(names):
        student = factory.create_student(school, last_name=last, first_name=first,
                                         class_name="8А", grade=8)
        tickets.append(factory.create_ticket(event, student,
                                             registration=registration if n < 3 else None))
    db.session.commit()
    return {"event": event, "organizer": organizer, "school": school, "tickets": tickets,
            "registration": registration}






def wait_answer(page, status: str, name: str = "", timeout: int = 30_000) -> str:
    answer = page.locator(f'#answer[data-status="{status}"]:not([hidden])', has_text=name)
    answer.wait_for(timeout=timeout)
    return answer.inner_text()


def type_code(page, code: str) -> None:
    page.fill("#code-input", code)
    page.press("#code-input", "Enter")


def shot(page, name: str) -> None:
    """With DOOR_SHOTS=<dir>, keep a picture of the phone screen (manual review)."""
    folder = os.environ.get("DOOR_SHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, f"door-{name}.png"))


def organizer_scanner(browser, live_server, door):
    context = browser.phone(live_server)
    page = context.new_page()
    login(page, live_server, door["organizer"].email)
    page.goto(f"{live_server.url}/checkin/{door['event'].id}")
    page.wait_for_selector('body[data-ready="1"][data-tickets="4"]')
    return context, page


# --------------------------------------------------------------------------- item 1

def test_offline_the_same_ticket_typed_twice_is_already_checked_in(browser, live_server, door):
    _link, token = create_scanner_link(door["organizer"], door["event"], label="Маша")
    db.session.commit()
    a, b = door["tickets"][:2]
    context = browser.phone(live_server)
    page = context.new_page()
    page.goto(f"{live_server.url}/s/{token}")
    page.wait_for_selector('body[data-ready="1"][data-tickets="4"]')
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")

    with live_server.offline(context):
        page.wait_for_selector('body[data-online="0"]')
        type_code(page, a.short_code.lower())
        assert "Билет принят" in wait_answer(page, "ok", "Антонова Алина")
        page.click("#answer-close")
        # the same code typed again, as a tired volunteer does
        type_code(page, a.short_code[:4] + " " + a.short_code[4:])
        again = wait_answer(page, "already_checked_in", "Антонова Алина")
        shot(page, "1-typed-twice-offline")
        assert "Уже отмечен" in again and "этот телефон" in again
        assert re.search(r"Отмечен \d\d:\d\d · этот телефон", again), again
        assert page.get_attribute("#answer", "data-tone") == "warn"
        # the offline search shows the mark made by typing the code
        page.click("#answer-close")
        page.click("#search-btn")
        page.fill("#search-input", "антон")
        row = page.locator("#search-list li", has_text="Антонова Алина")
        row.wait_for()
        assert "уже отмечен" in row.inner_text()
        shot(page, "1-search-offline")
        page.click("#search-dialog [data-close]")
        assert checkins(door["event"].id) == []
    page.wait_for_selector('body[data-online="1"][data-queue="0"]', timeout=60_000)
    assert [r.ticket_id for r in checkins(door["event"].id)] == [a.id]

    # checked in online by its short code, then read offline by its QR: known on the phone
    type_code(page, b.short_code)
    wait_answer(page, "ok", "Борисов Борис")
    page.click("#answer-close")
    with live_server.offline(context):
        page.wait_for_selector('body[data-online="0"]')
        type_code(page, f"http://profroute.test/t/{b.token}")
        assert "этот телефон" in wait_answer(page, "already_checked_in", "Борисов Борис")


# --------------------------------------------------------------------------- item 2

def test_group_all_came_checks_everyone_in_and_leaving_asks(browser, live_server, door, factory):
    a, b, c, _d = door["tickets"]
    context, page = organizer_scanner(browser, live_server, door)
    type_code(page, group_url(door["registration"].group_code))
    page.wait_for_selector("#group-dialog[open]")
    assert page.inner_text("#group-all").startswith("Все пришли")
    shot(page, "2-group-list")
    page.click("#group-all")
    assert "отмечено 3 из 3" in wait_answer(page, "group_ok")
    assert sorted(r.ticket_id for r in checkins(door["event"].id)) == sorted(
        [a.id, b.id, c.id])

    # A second group: the list is closed with people ticked — it asks, and checks in nobody
    # unless told to.
    second = Registration(event_id=door["event"].id, organization_id=door["school"].id)
    db.session.add(second)
    db.session.flush()
    people = [factory.create_ticket(door["event"], factory.create_student(
        door["school"], last_name=last, first_name="Иван", class_name="9Б", grade=9),
        registration=second) for last in ("Дмитриев", "Егоров")]
    db.session.commit()
    page.click("#answer-close")
    type_code(page, group_url(second.group_code))
    page.wait_for_selector("#group-dialog[open]")
    page.wait_for_selector("#group-list li:has-text('Дмитриев Иван')")
    page.click("#group-close")
    warning = page.locator("#group-leave")
    warning.wait_for()
    shot(page, "2-group-leave-warning")
    assert "Никто ещё не отмечен. Выбрано: 2." in warning.inner_text()
    assert page.locator("#group-dialog[open]").count() == 1
    assert len(checkins(door["event"].id)) == 3
    page.click("#group-leave-discard")
    page.wait_for_selector("#group-dialog", state="hidden")
    assert len(checkins(door["event"].id)) == 3

    # Escape asks too; «Отметить выбранных» from the warning checks the ticked ones in.
    type_code(page, group_url(second.group_code))
    page.wait_for_selector("#group-dialog[open]")
    page.wait_for_selector("#group-list li:has-text('Егоров Иван')")
    page.uncheck("#group-list li:has-text('Егоров Иван') input")
    page.keyboard.press("Escape")
    page.wait_for_selector("#group-leave:not([hidden])")
    assert "Выбрано: 1." in page.inner_text("#group-leave")
    assert page.inner_text("#group-leave-save") == "Отметить выбранных (1)"
    page.click("#group-leave-save")
    assert "отмечено 1 из 1" in wait_answer(page, "group_ok")
    assert people[0].id in [r.ticket_id for r in checkins(door["event"].id)]
    assert len(checkins(door["event"].id)) == 4


# --------------------------------------------------------------------------- item 3

def test_walk_in_parent_without_a_phone(browser, live_server, door):
    _context, page = organizer_scanner(browser, live_server, door)
    page.click("#walkin-btn")
    page.check("#walkin-form input[value=parent]")
    assert page.inner_text("label[for=walkin-phone]") == "Телефон (необязательно)"
    page.fill("#walkin-name", "Петрова Ольга")
    shot(page, "3-walk-in-parent")
    page.click("#walkin-form button[type=submit]")
    answer = wait_answer(page, "ok", "Петрова Ольга")
    assert "Билет принят" in answer
    db.session.rollback()
    signup = db.session.execute(sa.select(ParentSignup)).scalar_one()
    assert signup.phone is None and signup.name == "Петрова Ольга"
    assert len(checkins(door["event"].id)) == 1


# --------------------------------------------------------------------------- item 4

def test_undoing_a_walk_in_frees_the_seat_and_leaves_the_lists(browser, live_server, door):
    from openpyxl import load_workbook

    context, page = organizer_scanner(browser, live_server, door)
    page.click("#walkin-btn")
    page.select_option("#walkin-org", str(door["school"].id))
    page.fill("#walkin-last", "Новиков")
    page.fill("#walkin-first", "Никита")
    page.fill("#walkin-class", "9в")
    page.click("#walkin-form button[type=submit]")
    wait_answer(page, "ok", "Новиков Никита")
    page.click("#answer-close")
    page.click("#undo-btn")
    page.fill("#undo-reason", "Ушёл, не дождавшись начала")
    shot(page, "4-undo-walk-in")
    page.click("#undo-form button[type=submit]")
    page.wait_for_selector("#recent-list li:has-text('Отметка отменена')")

    db.session.rollback()
    walk_in = db.session.execute(sa.select(Ticket).join(Student).where(
        Student.last_name == "Новиков")).scalar_one()
    assert walk_in.status == TicketStatus.CANCELLED
    # the door list (XLSX) no longer has him
    response = context.request.get(
        f"{live_server.url}/organizer/events/{door['event'].id}/door-list.xlsx")
    assert response.ok
    sheet = load_workbook(io.BytesIO(response.body())).active
    names = [str(cell.value) for row in sheet.iter_rows() for cell in row if cell.value]
    assert not [n for n in names if "Новиков" in n]
    assert [n for n in names if "Антонова" in n]
    # the report counts four registered, none came: no walk-in, no no-show for him
    report = context.new_page()
    report.goto(f"{live_server.url}/reports/events/{door['event'].id}")
    facts = report.inner_text("dl")
    shot(report, "4-report-after-undo")
    assert re.search(r"Записано\s+4\b", facts), facts
    assert re.search(r"Пришли\s+0:", facts), facts
    # the event is still on: no no-show yet, the four registered wait as «на предстоящее»
    assert re.search(r"записано на предстоящее 4\b", facts), facts


# --------------------------------------------------------------------------- item 5

def test_ticket_of_a_future_event_says_check_in_is_not_open(browser, live_server, door, factory):
    later = factory.create_event(organizer=door["event"].organizer, title="Завод будущего",
                                 starts_at=now_utc() + timedelta(days=3))
    ticket = factory.create_ticket(later, factory.create_student(door["school"]))
    db.session.commit()
    page = browser.phone(live_server).new_page()
    login(page, live_server, door["organizer"].email)
    page.goto(f"{live_server.url}/checkin/{later.id}")
    page.wait_for_selector('body[data-ready="1"]')
    type_code(page, ticket.short_code)
    answer = wait_answer(page, "not_open")
    shot(page, "5-future-event")
    assert "Отметка сейчас закрыта" in answer and "Вход открыт с" in answer
    assert "Время телефона" not in answer
    db.session.rollback()
    scan = db.session.execute(sa.select(Scan).where(Scan.ticket_id == ticket.id)).scalar_one()
    assert scan.outcome == ScanOutcome.NOT_OPEN and scan.flag is None
