"""Issue #20 items 8 and 12: a parent who signed up with a phone only can get back to the
ticket (the confirmation page says to save it; a public form opens it again by the ticket's
code and the phone, neutral and throttled), and a full event says so before the form."""

from __future__ import annotations

import re

import pytest

from models import Audience, ParentSignup, Ticket, db
from models.outbox import OutboxMessage

PHONE = "+7 913 555-12-34"


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def event(factory):
    event = factory.create_event(audience=Audience.PARENTS, category_code="parents",
                                 grades_min=None, grades_max=None, capacity=5)
    db.session.commit()
    return event


def sign_up(client, event, *, phone=PHONE, email="", name="Кондратьева Людмила"):
    response = client.post_form(f"/events/{event.id}/signup", {
        "name": name, "email": email, "phone": phone, "consent": "y",
        "child_organization_id": "0", "child_grade": "", "website": ""})
    assert response.status_code == 302, text(response)
    return response.headers["Location"]


def recover(client, code, phone=PHONE):
    return client.post_form("/my/recover", {"code": code, "phone": phone, "website": ""})


def error_summary(page: str) -> str:
    match = re.search(r'data-error-summary>(.*?)</div>', page, re.S)
    return re.sub(r"\s+", " ", match.group(1)).strip() if match else ""


def test_phone_only_confirmation_page_says_save_it_with_link_qr_and_code(client, event):
    location = sign_up(client, event)
    assert OutboxMessage.query.count() == 0  # no e-mail: the page is all they have
    page = text(client.get(location))
    ticket = Ticket.query.one()
    save = page[page.index('id="save-this-page"'):]
    assert "Сохраните эту страницу" in save
    assert "письма с билетом не будет" in save
    assert ticket.short_code in save and "/my/recover" in save
    assert 'alt="QR-код билета для входа"' in page
    secret = location.split("/my/")[1].split("?")[0]
    assert f'value="http://localhost/my/{secret}"' in page or f"/my/{secret}" in page
    # Opened again later (not just signed up), the page does not nag.
    assert 'id="save-this-page"' not in text(client.get(location.split("?")[0]))


def test_recovery_by_code_and_phone_gives_a_new_link(client, event):
    old = sign_up(client, event).split("?")[0]
    code = Ticket.query.one().short_code
    response = recover(client, f" {code.lower()[:4]}-{code.lower()[4:]} ", "8 (913) 555-12-34")
    assert response.status_code == 303
    new = response.headers["Location"]
    assert "/my/" in new and new != old
    page = text(client.get(new))
    assert "Кондратьева Людмила" in page and code in page
    assert client.get(old).status_code == 404  # the lost link no longer opens it
    assert response.headers["Cache-Control"] == "no-store"


def test_a_wrong_code_or_phone_gets_the_same_neutral_answer(client, event, factory):
    sign_up(client, event)
    code = Ticket.query.one().short_code
    other_code = "ABCDEFGH" if code != "ABCDEFGH" else "HGFEDCBA"
    wrong_phone = recover(client, code, "+7 913 000-00-00")
    unknown_code = recover(client, other_code)
    assert wrong_phone.status_code == unknown_code.status_code == 422
    assert error_summary(text(wrong_phone)) == error_summary(text(unknown_code))
    assert "Не удалось найти запись с таким кодом и телефоном" in error_summary(
        text(unknown_code))
    # A withdrawn sign-up cannot be opened either, and answers the same.
    signup = ParentSignup.query.one()
    signup.withdrawn_at, signup.name, signup.phone = signup.consent_at, None, None
    db.session.commit()
    assert error_summary(text(recover(client, code))) == error_summary(text(unknown_code))


def test_the_form_checks_the_shape_of_its_fields(client, event):
    page = text(recover(client, "12", "abc"))
    assert "Код билета — 8 латинских букв и цифр" in page
    assert "Номер телефона может содержать только цифры" in page


def test_recovery_is_throttled_per_address(client, event, app):
    app.config["SIGNUP_MAX_PER_IP"] = 3
    sign_up(client, event)
    code = Ticket.query.one().short_code
    for _ in range(3):
        assert recover(client, "ABCDEFGH" if code != "ABCDEFGH" else "HGFEDCBA").status_code \
            == 422
    blocked = recover(client, code)  # even the right pair: the address is over its limit
    assert blocked.status_code == 429
    assert "Слишком много попыток" in text(blocked)


def test_recovery_is_throttled_per_code(client, event, app):
    sign_up(client, event)
    code = Ticket.query.one().short_code
    for n in range(5):  # five wrong phones for one code, each from another address
        client.post_form("/my/recover",
                         {"code": code, "phone": f"+7 913 000-00-0{n}", "website": ""},
                         environ_base={"REMOTE_ADDR": f"10.0.0.{n + 1}"})
    blocked = client.post_form("/my/recover", {"code": code, "phone": PHONE, "website": ""},
                               environ_base={"REMOTE_ADDR": "10.0.0.99"})
    assert blocked.status_code == 429


def test_a_full_event_says_waiting_list_before_the_form(client, factory):
    event = factory.create_event(audience=Audience.PARENTS, category_code="parents",
                                 grades_min=None, grades_max=None, capacity=1)
    db.session.commit()
    page = text(client.get(f"/events/{event.id}/signup"))
    assert "Мест нет, запись в лист ожидания" not in page
    assert "Записаться в лист ожидания" not in page
    sign_up(client, event, phone="+7 913 111-11-11", name="Первая")
    page = text(client.get(f"/events/{event.id}/signup"))
    assert "Мест нет, запись в лист ожидания" in page
    assert page.index("Мест нет, запись в лист ожидания") < page.index("<form")
    assert "Записаться в лист ожидания</button>" in page
    assert "Записаться в лист ожидания" in text(client.get(f"/events/{event.id}"))
