"""Issue #13 item 1 on a 390×844 phone in real Chromium: the organizer uploads a list of who
attended a past event from the event's page, sees the result, and withdraws it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models import AttendanceImport, OrgKind, Role, ScanSource, db, now_utc
from tests.browser.pages import checkins, login

pytestmark = pytest.mark.browser


def test_organizer_uploads_and_withdraws_on_a_phone(browser, live_server, factory, tmp_path):
    university = factory.create_org(kind=OrgKind.UNIVERSITY, name="ТПУ")
    school = factory.create_org(kind=OrgKind.SCHOOL, name="МАОУ СОШ № 7")
    organizer = factory.create_user(Role.ORGANIZER, organization=university)
    event = factory.create_event(organizer=university, title="Профпроба в ТПУ",
                                 starts_at=now_utc() - timedelta(days=1))
    for last, first in (("Антонова", "Алина"), ("Борисов", "Борис")):
        factory.create_ticket(event, factory.create_student(
            school, last_name=last, first_name=first, class_name="8А", grade=8))
    db.session.commit()
    upload = tmp_path / "был.csv"
    upload.write_bytes("Фамилия;Имя;Класс\r\nАнтонова;Алина;8 а\r\nборисов;борис;8А\r\n"
                       .encode("cp1251"))

    page = browser.phone(live_server).new_page()
    login(page, live_server, organizer.email)
    page.goto(f"{live_server.url}/organizer/events/{event.id}")
    section = page.locator("section[aria-labelledby=attendance-h]")
    section.locator("input[type=file]").set_input_files(str(upload))
    section.get_by_role("button", name="Загрузить список присутствовавших").click()
    page.get_by_text("Отмечено: 2, уже были отмечены: 0, новых билетов: 0.").wait_for()
    scans = checkins(event.id)
    assert len(scans) == 2 and {s.source for s in scans} == {ScanSource.IMPORT}

    page.get_by_text("Отозвать", exact=True).click()
    page.get_by_label("Причина отзыва").fill("Список не того дня")
    page.get_by_role("button", name="Отозвать список и его отметки").click()
    page.get_by_text("отозван: его отметки больше не учитываются").wait_for()
    assert "Список не того дня" in page.locator(".attendance-imports").inner_text()
    assert checkins(event.id) == []
    db.session.rollback()
    assert AttendanceImport.query.one().withdrawn_at is not None
