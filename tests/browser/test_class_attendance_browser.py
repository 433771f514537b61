"""Issue #13 items 2 and 3 on a 390×844 phone in real Chromium: a coordinator records a
«Россия — мои горизонты» lesson for two classes with three absent, then sees it on the school
page."""

from __future__ import annotations

from datetime import timedelta

import pytest

from formats.timefmt import TOMSK
from models import Event, OrgKind, Role, ScanSource, db, now_utc
from tests.browser.pages import checkins, login

pytestmark = pytest.mark.browser


def test_coordinator_records_a_lesson_for_two_classes_on_a_phone(browser, live_server, factory):
    school = factory.create_org(kind=OrgKind.SCHOOL, name="МАОУ СОШ № 7")
    coordinator = factory.create_user(Role.COORDINATOR, organization=school)
    names = {}
    for class_name, people in (("7А", ("Антонова", "Борисов", "Волков", "Гришина")),
                               ("7Б", ("Дмитриев", "Егорова", "Жуков")),
                               ("8А", ("Зайцев",))):
        for last in people:
            names[last] = factory.create_student(school, last_name=last, first_name="Алекс",
                                                 class_name=class_name, grade=int(class_name[0]))
    db.session.commit()
    when = (now_utc() - timedelta(days=1)).astimezone(TOMSK).replace(hour=9, minute=0)

    page = browser.phone(live_server).new_page()
    login(page, live_server, coordinator.email)
    page.goto(f"{live_server.url}/dashboard")
    page.get_by_role("link", name="Отметить классы").click()
    page.get_by_role("link", name="Записать новое занятие").click()
    page.get_by_label("Название").fill("Россия — мои горизонты, урок 12")
    page.get_by_label("Дата и время начала (время томское)").fill(when.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Длительность, минут").fill("45")
    page.get_by_label("Категория").select_option("school_internal")
    page.get_by_role("button", name="Записать занятие и перейти к отметке").click()
    page.get_by_text("Занятие «Россия — мои горизонты, урок 12» записано.").wait_for()

    page.get_by_label("7А").check()
    page.get_by_label("7Б").check()
    page.get_by_role("button", name="Показать учеников выбранных классов").click()
    for last in ("Антонова", "Волков", "Жуков"):
        page.get_by_label(f"{last} Алекс").uncheck()
    assert page.get_by_label("Зайцев Алекс").count() == 0  # 8А was not chosen
    page.get_by_role("button", name="Сохранить отметку: 7А, 7Б").click()
    page.get_by_text("Присутствовали: 4, отсутствовали: 3.").wait_for()
    page.get_by_role("link", name="Повторить для следующего урока").wait_for()

    db.session.rollback()
    event = Event.query.filter_by(title="Россия — мои горизонты, урок 12").one()
    scans = checkins(event.id)
    assert {s.student_id for s in scans} == {names[n].id for n in (
        "Борисов", "Гришина", "Дмитриев", "Егорова")}
    assert {s.source for s in scans} == {ScanSource.CLASS_LIST}

    page.goto(f"{live_server.url}/reports/schools/{school.id}")
    row = page.locator("#ev-h ~ div table tr", has_text="Россия — мои горизонты, урок 12")
    assert row.locator("td.num").first.inner_text() == "4"
