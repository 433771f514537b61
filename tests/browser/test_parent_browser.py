"""As a new parent would, on a phone: find the sign-up from the event page, forget the consent
first, sign up, open the e-mail from the development folder, cancel through its link."""

from __future__ import annotations

import email
import re
from email import policy

import pytest

from models import Audience, ParentSignup, Ticket, TicketStatus

pytestmark = pytest.mark.browser


def test_parent_signs_up_on_a_phone_and_cancels_from_the_email(live_server, browser, factory,
                                                               db, app, tmp_path):
    event = factory.create_event(audience=Audience.PARENTS, category_code="parents",
                                 grades_min=None, grades_max=None,
                                 title="Как помочь ребёнку выбрать профессию")
    school = factory.create_org(short_name="СОШ № 7")
    db.session.commit()
    page = browser.phone(live_server).new_page()
    page.goto(f"{live_server.url}/events/{event.id}")
    page.get_by_role("link", name="Записаться (родителям)").click()
    assert not page.locator("#consent").is_checked()
    page.get_by_label("Фамилия и имя").fill("Орлова Светлана")
    page.get_by_label("Электронная почта").fill("orlova@mail.ru")
    page.get_by_label("Телефон").fill("8 (913) 555-12-34")
    page.get_by_label("Школа или детский сад ребёнка (необязательно)").select_option(
        str(school.id))
    page.get_by_role("button", name="Записаться").click()
    summary = page.locator(".error-summary")
    assert "Без согласия на обработку персональных данных" in summary.inner_text()
    # The focus moves once the page's script has run: wait for it (fails after 5 s).
    page.wait_for_function(
        "() => document.activeElement && document.activeElement.hasAttribute("
        "'data-error-summary')",
        timeout=5000)
    db.session.rollback()
    assert ParentSignup.query.count() == 0

    page.locator("#consent").check()
    page.get_by_role("button", name="Записаться").click()
    assert "Вы записаны" in page.locator(".alert-success").inner_text()
    assert page.locator("img[alt='QR-код билета для входа']").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    private_link = page.locator("#private-link").input_value()
    assert re.fullmatch(r"http://profroute\.test/my/[A-Za-z0-9_-]{32}", private_link)

    # The e-mail, written to the development folder right after the sign-up.
    files = list((tmp_path / "mail").glob("*orlova@mail.ru.eml"))
    assert len(files) == 1
    msg = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
    text = msg.get_body(("plain",)).get_content()
    assert private_link in text
    # Follow the link from the e-mail (on the live server's host) and cancel.
    page.goto(private_link.replace("http://profroute.test", live_server.url))
    page.get_by_role("link", name="Отменить запись").click()
    page.get_by_role("button", name="Да, отменить запись").click()
    assert "Запись отменена" in page.locator("main").inner_text()
    db.session.rollback()
    assert Ticket.query.one().status == TicketStatus.CANCELLED
