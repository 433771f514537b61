"""As a new coordinator would, on a phone: import a class from a spreadsheet, register it for an
event from the event page (whole class at once, a teacher), and open the printable tickets."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from pypdf import PdfReader

from models import Registration, Role, Student, TicketStatus

pytestmark = pytest.mark.browser


def _xlsx(path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Фамилия", "Имя", "Отчество", "Класс", "ОВЗ", "Идентификатор"])
    for row in (["Абрамова", "Вера", "Павловна", "6 в", "нет", "N-1"],
                ["Белов", "Гордей", "", "6-В", "", "N-2"],
                ["Горелова", "Дина", "Игоревна", "6v", "да", "N-3"]):
        sheet.append(row)
    workbook.save(path)
    return path


def test_coordinator_imports_registers_and_prints(live_server, browser, factory, db, tmp_path):
    school = factory.create_org(name="МАОУ СОШ № 7 г. Томска (браузер)")
    user = factory.create_user(Role.COORDINATOR, organization=school)
    teacher = factory.create_teacher(school, last_name="Петрова", first_name="Анна")
    event = factory.create_event(title="Фестиваль профессий", capacity=3, grades_min=6,
                                 grades_max=11)
    db.session.commit()
    page = browser.phone(live_server).new_page()
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Электронная почта").fill(user.email)
    page.get_by_label("Пароль").fill("secret-pass")
    page.get_by_role("button", name="Войти").click()

    page.goto(f"{live_server.url}/school/students/import")
    page.get_by_label("Файл XLSX или CSV").set_input_files(str(_xlsx(tmp_path / "6в.xlsx")))
    page.get_by_role("button", name="Загрузить список").click()
    assert "Добавлено: 3" in page.locator(".alert-success").inner_text()
    db.session.rollback()
    assert {s.class_name for s in Student.query.filter_by(organization_id=school.id)} == {"6В"}

    page.goto(f"{live_server.url}/events/{event.id}")
    page.get_by_role("link", name="Записать группу").click()
    page.get_by_label("Весь класс 6В").check()
    page.get_by_label("Петрова Анна").check()
    assert "Выбрано: 4. Будет подтверждено: 3, в лист ожидания: 1." in page.locator(
        "[data-selection-summary]").inner_text()
    page.get_by_role("button", name="Зарегистрировать группу").click()
    assert "Группа записана: подтверждено 3, в листе ожидания 1" in page.locator(
        ".alert-success").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    db.session.rollback()
    registration = Registration.query.one()
    statuses = {(t.teacher_id == teacher.id): t.status for t in registration.tickets
                if t.teacher_id}
    assert statuses == {True: TicketStatus.CONFIRMED}

    href = page.get_by_role("link", name="Билеты (PDF)").get_attribute("href")
    response = page.request.get(f"{live_server.url}{href}")
    text = PdfReader(io.BytesIO(response.body())).pages[0].extract_text()
    assert "Абрамова Вера" in text and "Петрова Анна" in text and "Класс 6В" in text


def _actions_on_screen(page, selector: str) -> list[str]:
    """Labels of the buttons and links in ``selector`` that are not fully within the 390 px
    viewport (empty: every action can be tapped without scrolling sideways)."""
    return page.evaluate("""(selector) => Array.from(document.querySelectorAll(selector))
        .filter(el => { const r = el.getBoundingClientRect();
                        return r.width === 0 || r.left < 0 || r.right > window.innerWidth; })
        .map(el => el.textContent.trim())""", selector)


def test_roster_and_group_on_a_phone_keep_every_action_on_screen(live_server, browser, factory,
                                                                  db):
    school = factory.create_org(name="МАОУ СОШ № 7 г. Томска (телефон)")
    user = factory.create_user(Role.COORDINATOR, organization=school)
    kids = [factory.create_student(school, last_name=last, first_name="Александра",
                                   middle_name="Константиновна", class_name="6В", grade=6,
                                   external_id=f"SCH7-{i:04d}")
            for i, last in enumerate(("Ёлкина", "Константинопольская", "Егорова"))]
    event = factory.create_event(title="Фестиваль профессий", capacity=10, grades_min=6,
                                 grades_max=11)
    db.session.commit()
    page = browser.phone(live_server).new_page()
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Электронная почта").fill(user.email)
    page.get_by_label("Пароль").fill("secret-pass")
    page.get_by_role("button", name="Войти").click()

    page.goto(f"{live_server.url}/school/students?q=елкина")
    assert page.locator(".table-cards tbody tr").count() == 1
    assert "Ёлкина Александра" in page.locator(".table-cards tbody").inner_text()
    page.goto(f"{live_server.url}/school/students")
    assert page.locator(".table-cards .card-actions .btn").count() == 9
    assert _actions_on_screen(page, ".table-cards .card-actions .btn") == []
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    # Each card reads as «Класс: 6В», the column's name beside the value.
    assert page.evaluate("""() => getComputedStyle(
        document.querySelector(".table-cards tbody td[data-label='Класс']"), "::before")
        .content""") == '"Класс: "'
    assert page.locator(".table-cards thead").bounding_box()["height"] <= 1  # cards, no header

    page.goto(f"{live_server.url}/events/{event.id}/register")
    page.get_by_label("Весь класс 6В").check()
    page.get_by_role("button", name="Зарегистрировать группу").click()
    assert page.locator(".table-cards .card-actions .btn").count() == len(kids)
    assert _actions_on_screen(page, ".table-cards .card-actions .btn, .table-cards a") == []
    names = page.locator(".table-cards .card-title-cell").all_inner_texts()
    assert [n.split()[0] for n in names] == ["Егорова", "Ёлкина", "Константинопольская"]
