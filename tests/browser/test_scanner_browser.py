"""The scanner in real Chromium with a fake camera: online check-in from a camera frame for the
organizer's page and for a scanner link, and a whole offline session synced afterwards."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from checkin.door.links import create_scanner_link
from checkin.seats.tickets import ticket_url
from models import OrgKind, Role, Scan, ScanOutcome, db, now_utc
from tests.browser.pages import checkins, login

pytestmark = pytest.mark.browser


@pytest.fixture
def door(factory):
    """An event whose check-in is open now, with four confirmed student tickets."""
    university = factory.create_org(kind=OrgKind.UNIVERSITY, name="ТПУ")
    school = factory.create_org(kind=OrgKind.SCHOOL, name="МАОУ СОШ № 7", short_name="СОШ № 7")
    organizer = factory.create_user(Role.ORGANIZER, organization=university)
    event = factory.create_event(organizer=university, title="Профпроба в ТПУ",
                                 starts_at=now_utc() + timedelta(minutes=30))
    names = [("Антонова", "Алина"), ("Борисов", "Борис"), ("Васильева", "Вера"),
             ("Громов", "Глеб")]
    tickets = []
    for last, first in names:
        student = factory.create_student(school, last_name=last, first_name=first,
                                         class_name="8А", grade=8)
        tickets.append(factory.create_ticket(event, student))
    db.session.commit()
    return {"event": event, "organizer": organizer, "tickets": tickets}






def wait_answer(page, status: str, name: str = ""):
    """The big answer with this status (and, when given, this person's name)."""
    answer = page.locator(f'#answer[data-status="{status}"]:not([hidden])', has_text=name)
    answer.wait_for(timeout=30_000)
    return answer.inner_text()


def test_organizer_scans_a_ticket_with_the_camera(browser, live_server, make_y4m, door):
    ticket = door["tickets"][0]
    camera = make_y4m([ticket_url(ticket.token)])
    context = browser.phone(live_server, camera)
    page = context.new_page()
    login(page, live_server, door["organizer"].email)
    page.goto(f"{live_server.url}/checkin/{door['event'].id}")
    answer = wait_answer(page, "ok", "Антонова Алина")
    assert "Билет принят" in answer
    assert "8А класс · СОШ № 7" in answer
    assert page.get_attribute("#answer", "data-tone") == "ok"
    # screen readers hear the same answer from the live region
    page.wait_for_function("() => document.getElementById('answer-live').textContent"
                           ".startsWith('Билет принят. Антонова Алина. 8А класс')")
    rows = checkins(door["event"].id)
    assert [(r.ticket_id, r.user_id, r.scanner_link_id) for r in rows] == [
        (ticket.id, door["organizer"].id, None)]
    assert rows[0].device_label.startswith("Телефон ")
    # the same code keeps showing in the camera: ignored for a few seconds, never a 2nd check-in
    page.wait_for_timeout(1500)
    assert len(checkins(door["event"].id)) == 1


def test_volunteer_link_scans_a_ticket_with_the_camera(browser, live_server, make_y4m, door):
    link, token = create_scanner_link(door["organizer"], door["event"], label="Волонтёр",
                                      gate="Вход со двора")
    db.session.commit()
    ticket = door["tickets"][1]
    context = browser.phone(live_server, make_y4m([ticket_url(ticket.token)]))
    page = context.new_page()
    page.goto(f"{live_server.url}/s/{token}")
    wait_answer(page, "ok", "Борисов Борис")
    rows = checkins(door["event"].id)
    assert [(r.ticket_id, r.user_id, r.scanner_link_id, r.gate) for r in rows] == [
        (ticket.id, None, link.id, "Вход со двора")]


def test_offline_session_reload_and_sync(browser, live_server, make_y4m, door):
    _link, token = create_scanner_link(door["organizer"], door["event"], label="Волонтёр")
    db.session.commit()
    a, b, c, d = door["tickets"]
    # The fake camera's file does not exist yet: the camera fails to start, so nothing is
    # scanned before the phone goes offline. Chromium opens the file when the camera starts.
    camera = make_y4m.path("offline.y4m")
    context = browser.phone(live_server, camera)
    page = context.new_page()
    page.goto(f"{live_server.url}/s/{token}")
    page.wait_for_selector('body[data-ready="1"][data-tickets="4"]')
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    assert page.get_attribute("body", "data-camera") == "unavailable"

    with live_server.offline(context):
        went_offline = now_utc()
        make_y4m([ticket_url(a.token), ticket_url(b.token)], name="offline.y4m")
        page.click("#camera-start")
        page.wait_for_selector('body[data-online="0"]')
        # A and B through the camera, C typed (short code) while offline
        page.wait_for_selector('body[data-queue="2"]', timeout=40_000)
        assert page.inner_text("#net-label") == "офлайн"
        assert "не отправлено: 2" in page.inner_text("#queue-count")
        page.fill("#code-input", c.short_code.lower())
        page.press("#code-input", "Enter")
        answer = wait_answer(page, "ok", "Васильева Вера")
        assert "офлайн" in answer.lower()
        page.wait_for_selector('body[data-queue="3"]')

        # Reload with no network: the service worker serves the scanner, the queue survives.
        page.reload()
        page.wait_for_selector('body[data-online="0"][data-tickets="4"]')
        # (the looping camera may add repeats of A and B after the reload: judged "already")
        assert int(page.get_attribute("body", "data-queue")) >= 3
        assert "не отправлено:" in page.inner_text("#queue-count")
        page.fill("#code-input", d.short_code)
        page.press("#code-input", "Enter")
        wait_answer(page, "ok", "Громов Глеб")
        # A again (the camera loops): already checked in on this phone, judged offline
        page.fill("#code-input", a.short_code)
        page.press("#code-input", "Enter")
        assert "этот телефон" in wait_answer(page, "already_checked_in", "Антонова Алина")
        assert checkins(door["event"].id) == []  # nothing reached the server yet

        back_online = now_utc()
    page.wait_for_selector('body[data-online="1"][data-queue="0"]', timeout=60_000)
    rows = checkins(door["event"].id)
    assert sorted(r.ticket_id for r in rows) == sorted(t.id for t in (a, b, c, d))
    for row in rows:
        # the phone's time of the scan, not the time of the sync
        assert went_offline - timedelta(seconds=2) <= row.scanned_at <= back_online, row
        assert row.received_at >= back_online - timedelta(seconds=1)
    repeats = db.session.execute(sa.select(sa.func.count()).select_from(Scan).where(
        Scan.event_id == door["event"].id,
        Scan.outcome == ScanOutcome.ALREADY_CHECKED_IN)).scalar_one()
    assert repeats >= 1


def test_server_errors_leave_the_saved_scanner_working(browser, live_server, door):
    """The phone has a network but the server answers 503 (down behind its proxy): a reload
    still opens the saved scanner, scans are judged on the phone, and sent once it answers."""
    _link, token = create_scanner_link(door["organizer"], door["event"], label="Волонтёр")
    db.session.commit()
    a = door["tickets"][0]
    context = browser.phone(live_server)
    page = context.new_page()
    page.goto(f"{live_server.url}/s/{token}")
    page.wait_for_selector('body[data-ready="1"][data-online="1"][data-tickets="4"]')
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")

    live_server.network_down = True
    page.reload()
    page.wait_for_selector('body[data-ready="1"][data-online="0"][data-tickets="4"]')
    assert "network down" not in page.inner_text("body")
    page.fill("#code-input", a.short_code)
    page.press("#code-input", "Enter")
    assert "офлайн" in wait_answer(page, "ok", "Антонова Алина").lower()
    assert checkins(door["event"].id) == []

    live_server.network_down = False
    page.wait_for_selector('body[data-online="1"][data-queue="0"]', timeout=60_000)
    assert [r.ticket_id for r in checkins(door["event"].id)] == [a.id]


def test_group_list_search_offline_undo_and_walk_in(browser, live_server, factory, door):
    from checkin.seats.tickets import group_url
    from models import Registration, Ticket

    a, b, c, d = door["tickets"]
    school_id = b.student.organization_id
    registration = Registration(event_id=door["event"].id, organization_id=school_id)
    db.session.add(registration)
    db.session.flush()
    b.registration_id = c.registration_id = registration.id
    db.session.commit()
    context = browser.phone(live_server)
    page = context.new_page()
    login(page, live_server, door["organizer"].email)
    page.goto(f"{live_server.url}/checkin/{door['event'].id}")
    page.wait_for_selector('body[data-ready="1"][data-tickets="4"]')

    # The accompanying teacher's group QR (typed here by a USB scanner): the group's list.
    page.fill("#code-input", group_url(registration.group_code))
    page.press("#code-input", "Enter")
    page.wait_for_selector("#group-dialog[open]")
    assert page.inner_text("#group-title") == "Группа: СОШ № 7"
    page.uncheck("#group-list li:has-text('Васильева Вера') input")  # absent today
    assert page.inner_text("#group-confirm") == "Отметить выбранных (1)"
    page.click("#group-confirm")
    assert "отмечено 1 из 1" in wait_answer(page, "group_ok")
    assert [r.ticket_id for r in checkins(door["event"].id)] == [b.id]

    # Offline: found by surname in the phone's data, checked in, synced on reconnect.
    with live_server.offline(context):
        page.click("#answer-close")
        page.click("#search-btn")
        page.fill("#search-input", "гром")
        page.wait_for_selector("#search-list li:has-text('Громов Глеб')")
        assert "офлайн" in page.inner_text("#search-status")
        page.click("#search-list button")
        assert "офлайн" in wait_answer(page, "ok", "Громов Глеб").lower()
    page.wait_for_selector('body[data-online="1"][data-queue="0"]', timeout=60_000)
    assert sorted(r.ticket_id for r in checkins(door["event"].id)) == sorted([b.id, d.id])

    # Undo the last check-in (Громов): a reason is required, then he counts as not come.
    page.click("#answer-close")
    page.click("#undo-btn")
    page.click("#undo-form button[type=submit]")
    assert page.inner_text("#undo-error") == "Укажите причину отмены."
    page.fill("#undo-reason", "Отметили по ошибке")
    page.click("#undo-form button[type=submit]")
    page.wait_for_selector("#undo-dialog", state="hidden")
    page.wait_for_selector("#recent-list li:has-text('Отметка отменена')")
    assert [r.ticket_id for r in checkins(door["event"].id)] == [b.id]
    undone = db.session.execute(sa.select(Scan).where(Scan.ticket_id == d.id,
                                                      Scan.undone_at.is_not(None))).scalar_one()
    assert undone.undo_reason == "Отметили по ошибке"

    # A walk-in: errors first (nothing written), then a pupil of a known school.
    tickets_before = db.session.execute(sa.select(sa.func.count()).select_from(Ticket)).scalar_one()
    page.click("#walkin-btn")
    page.click("#walkin-form button[type=submit]")
    page.wait_for_selector("#walkin-errors:not([hidden])")
    assert page.locator("#walkin-errors li").all_inner_texts() == [
        "Выберите школу.", "Укажите фамилию.", "Укажите имя.", "Укажите класс, например 7Б."]
    assert page.get_attribute("#walkin-last", "aria-invalid") == "true"
    page.select_option("#walkin-org", str(school_id))
    page.fill("#walkin-last", "Новиков")
    page.fill("#walkin-first", "Никита")
    page.fill("#walkin-class", "9в")
    page.click("#walkin-form button[type=submit]")
    assert "9В класс" in wait_answer(page, "ok", "Новиков Никита")
    db.session.rollback()
    assert db.session.execute(sa.select(sa.func.count()).select_from(Ticket)).scalar_one() == (
        tickets_before + 1)
    assert len(checkins(door["event"].id)) == 2


def test_slow_server_switches_to_offline_and_back_by_itself(browser, live_server, door):
    slow = threading.Event()

    def slow_scans(environ):  # a venue's weak mobile signal: the answer takes longer than 3 s
        scan = environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"].endswith("/scans")
        return 3.5 if slow.is_set() and scan else 0

    live_server.delay = slow_scans
    _link, token = create_scanner_link(door["organizer"], door["event"], label="Волонтёр")
    db.session.commit()
    ticket = door["tickets"][0]
    page = browser.phone(live_server).new_page()
    page.goto(f"{live_server.url}/s/{token}")
    page.wait_for_selector('body[data-ready="1"][data-tickets="4"]')
    slow.set()
    page.fill("#code-input", ticket.short_code)
    page.press("#code-input", "Enter")
    answer = wait_answer(page, "ok", "Антонова Алина")
    assert "офлайн" in answer.lower()  # judged on the phone after ~3 s, not waiting longer
    assert page.get_attribute("body", "data-online") == "0"
    slow.clear()
    page.wait_for_selector('body[data-online="1"][data-queue="0"]', timeout=60_000)
    # the slow request and the retried batch carry one client_scan_id: recorded once
    db.session.rollback()
    scans = db.session.execute(sa.select(Scan).where(Scan.ticket_id == ticket.id)).scalars().all()
    assert [(s.outcome, s.undone_at) for s in scans] == [(ScanOutcome.OK, None)]


def _shot(page, name: str) -> None:
    """With SCANNER_SCREENSHOTS=<dir>, keep a picture of the phone screen (manual review)."""
    import os

    folder = os.environ.get("SCANNER_SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, name + ".png"))


def test_volunteer_link_search_walk_in_pending_and_offline(browser, live_server, door):
    """A volunteer's link: search gives no ticket tokens but still checks in (online and
    offline), and a pupil who came without a ticket waits for the organizer's confirmation."""
    from models import Student, Ticket, WalkIn

    a, b, c, d = door["tickets"]
    school_id = a.student.organization_id
    _link, token = create_scanner_link(door["organizer"], door["event"], label="Маша")
    db.session.commit()
    context = browser.phone(live_server)
    page = context.new_page()
    secrets = [t.token for t in door["tickets"]] + [t.short_code for t in door["tickets"]]
    api_answers = []

    def keep_answer(response):
        if "/api/" in response.url and "json" in (response.headers.get("content-type") or ""):
            api_answers.append(response)

    page.on("response", keep_answer)
    page.goto(f"{live_server.url}/s/{token}")
    page.wait_for_selector('body[data-ready="1"][data-tickets="4"]')

    page.click("#search-btn")
    page.fill("#search-input", "антон")
    page.wait_for_selector("#search-list li:has-text('Антонова Алина')")
    _shot(page, "link-search")
    page.click("#search-list button")
    wait_answer(page, "ok", "Антонова Алина")
    assert [r.ticket_id for r in checkins(door["event"].id)] == [a.id]

    with live_server.offline(context):
        page.click("#answer-close")
        page.click("#search-btn")
        page.fill("#search-input", "борис")
        page.wait_for_selector("#search-list li:has-text('Борисов Борис')")
        page.click("#search-list button")
        wait_answer(page, "ok", "Борисов Борис")
        _shot(page, "link-offline-ok")
    page.wait_for_selector('body[data-online="1"][data-queue="0"]', timeout=60_000)
    assert sorted(r.ticket_id for r in checkins(door["event"].id)) == sorted([a.id, b.id])

    students_before = db.session.execute(
        sa.select(sa.func.count()).select_from(Student)).scalar_one()
    # The answer closes by itself after a few seconds; waiting for the sync may outlast it.
    page.evaluate("() => { const b = document.getElementById('answer-close');"
                  " if (b && b.offsetParent !== null) b.click(); }")
    page.wait_for_selector("#answer-close", state="hidden")
    page.click("#walkin-btn")
    page.select_option("#walkin-org", str(school_id))
    page.fill("#walkin-last", "Новиков")
    page.fill("#walkin-first", "Никита")
    page.fill("#walkin-class", "9в")
    page.click("#walkin-form button[type=submit]")
    text = wait_answer(page, "pending", "Новиков Никита")
    _shot(page, "link-walk-in-pending")
    assert "Ждёт подтверждения" in text and "подтвердит" in text
    db.session.rollback()
    assert db.session.execute(sa.select(sa.func.count()).select_from(Student)).scalar_one() == (
        students_before)
    assert db.session.execute(sa.select(sa.func.count()).select_from(Ticket)).scalar_one() == 4
    assert db.session.execute(sa.select(WalkIn.last_name)).scalars().all() == ["Новиков"]
    assert len(checkins(door["event"].id)) == 2
    # Search, offline data, batch and walk-in answers: no ticket token or short code.
    paths = {r.url.split("/api/v1")[1].split("?")[0] for r in api_answers}
    assert {f"/events/{door['event'].id}/{p}" for p in ("tickets", "scanner-data", "scans",
                                                        "scans/batch", "walk-ins")} <= paths
    bodies = [r.body().decode() for r in api_answers]
    assert not [s for s in secrets for body in bodies if s in body]

    # The organizer confirms on the door review page: now the pupil is in the school's list,
    # has a ticket and counts.
    organizer_page = browser.phone(live_server).new_page()
    login(organizer_page, live_server, door["organizer"].email)
    organizer_page.goto(f"{live_server.url}/organizer/events/{door['event'].id}/door-review")
    row = organizer_page.locator("tr", has_text="Новиков Никита, 9В")
    row.wait_for()
    _shot(organizer_page, "organizer-door-review")
    row.get_by_role("button", name="Подтвердить").click()
    organizer_page.wait_for_selector(".alert:has-text('подтверждён(а)')")
    _shot(organizer_page, "organizer-door-review-confirmed")
    db.session.rollback()
    assert db.session.execute(sa.select(WalkIn)).first() is None
    assert len(checkins(door["event"].id)) == 3
