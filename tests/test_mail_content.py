"""Mail to an address an anonymous visitor typed carries nothing the visitor typed but the
name: escaped in HTML, on one line in plain text (no line breaks, control or bidi characters),
and no header can be injected through a subject (an event's title)."""

from __future__ import annotations

import email
from email import policy

from models import Audience, ParentSignup, Ticket
from models.outbox import OutboxMessage
from tests.factories import mail_bytes
from webapp.mail import one_line, queue_mail
from webapp.parents.emails import send_reminder

EVIL_NAME = ("Иванова Мария\r\n\r\nВаш билет аннулирован. Перейдите: http://evil.example/pay\n"
             "<a href=\"http://evil.example\">Оплатить</a>\u202e")
TYPED_PHONE = "8 (913) 555-12-34"


def _parent_event(factory, **overrides):
    values = {"audience": Audience.PARENTS, "category_code": "parents", "grades_min": None,
              "grades_max": None, "capacity": 5, "title": "Собрание для родителей"}
    values.update(overrides)
    return factory.create_event(**values)


def _message(to: str):
    row = OutboxMessage.query.filter_by(to_address=to).one()
    return email.message_from_bytes(mail_bytes(row), policy=policy.default)


def _parts(msg) -> tuple[str, str]:
    return msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()


def _parent_signup(client, event, **overrides):
    data = {"name": EVIL_NAME, "phone": TYPED_PHONE, "email": "orlova@mail.ru",
            "child_organization_id": "0", "child_grade": "", "consent": "y", "website": ""}
    data.update(overrides)
    return client.post_form(f"/events/{event.id}/signup", data)


def test_a_name_with_markup_is_refused_before_any_mail(client, factory, db):
    """Markup and line breaks are no name (formats.person_names): refused at the form."""
    event = _parent_event(factory)
    db.session.commit()
    response = _parent_signup(client, event)
    assert response.status_code == 422
    assert ("Фамилия и имя: только буквы, пробелы, дефисы, апострофы и точки."
            in response.get_data(as_text=True))
    assert OutboxMessage.query.count() == 0


def test_parent_mail_has_the_name_on_one_line_and_nothing_else_typed(client, factory, db):
    """A name stored before names were checked at input still cannot break a letter."""
    event = _parent_event(factory)
    db.session.commit()
    response = _parent_signup(client, event, name="Орлова Светлана")
    assert response.status_code == 302
    signup = ParentSignup.query.one()
    signup.name = EVIL_NAME
    db.session.flush()
    assert send_reminder(Ticket.query.filter_by(parent_signup_id=signup.id).one())
    msg = email.message_from_bytes(mail_bytes(
        OutboxMessage.query.filter(OutboxMessage.dedupe_key.like("reminder:%")).one()),
        policy=policy.default)
    text, html = _parts(msg)
    flat = one_line(EVIL_NAME)
    assert "\u202e" not in flat and one_line("a\x07b") == "a b"
    # Plain text: the whole name stays in the greeting line; it adds no line of its own.
    greeting = next(line for line in text.splitlines() if line.startswith("Здравствуйте"))
    assert greeting == f"Здравствуйте, {flat}!"
    assert not any(line.startswith(("Ваш билет аннулирован", "<a href")) for line in
                   text.splitlines())
    assert "\u202e" not in text and "\x07" not in text
    # HTML: the name is text, never markup.
    assert '<a href="http://evil.example">' not in html
    assert "&lt;a href=&#34;http://evil.example&#34;&gt;Оплатить&lt;/a&gt;" in html
    assert "\u202e" not in html
    # Nothing else the visitor typed: not the phone, as typed or normalized.
    for typed in (TYPED_PHONE, "+79135551234", "+7 913 555-12-34", "555-12-34"):
        assert typed not in text and typed not in html


def test_a_name_with_a_control_character_is_refused_before_any_mail(client, factory, db):
    """The input guard (webapp.input_guard) refuses C0 controls other than line breaks."""
    event = _parent_event(factory)
    db.session.commit()
    response = _parent_signup(client, event, name="Орлова\x07 Светлана")
    assert response.status_code == 400
    assert "Недопустимые символы" in response.get_data(as_text=True)
    assert OutboxMessage.query.count() == 0


def test_teacher_mail_has_only_the_name(client, factory, db):
    school = factory.create_org()
    event = factory.create_event(audience=Audience.TEACHERS, category_code="teacher_training",
                                 grades_min=None, grades_max=None, title="КПК")
    db.session.commit()
    form = {"last_name": "Сидорова", "first_name": "Елена\r\n<b>Срочно</b>",
            "middle_name": "Павловна", "organization_id": str(school.id),
            "email": "sidorova@school.ru", "phone": TYPED_PHONE, "consent": "y", "website": ""}
    refused = client.post_form(f"/events/{event.id}/teacher-signup", form)
    assert refused.status_code == 422
    assert "Имя: только буквы, пробелы" in refused.get_data(as_text=True)
    assert OutboxMessage.query.count() == 0
    response = client.post_form(f"/events/{event.id}/teacher-signup",
                                dict(form, first_name="Елена"))
    assert response.status_code == 302
    text, html = _parts(_message("sidorova@school.ru"))
    greeting = next(line for line in text.splitlines() if line.startswith("Здравствуйте"))
    assert greeting == "Здравствуйте, Елена Павловна!"
    for typed in (TYPED_PHONE, "+79135551234"):
        assert typed not in text and typed not in html


def test_an_event_title_cannot_inject_a_header(client, factory, db):
    event = _parent_event(factory, title="Собрание\r\nBcc: victim@evil.example")
    db.session.commit()
    response = _parent_signup(client, event, name="Орлова Светлана")
    assert response.status_code == 302
    msg = _message("orlova@mail.ru")
    assert msg["Bcc"] is None
    assert msg["Subject"] == "Вы записаны: Собрание Bcc: victim@evil.example"
    assert len(msg.get_all("Subject")) == 1
    raw = mail_bytes(OutboxMessage.query.one())
    assert b"\r\nBcc:" not in raw


def test_queue_mail_keeps_a_subject_on_one_line(app, db):
    row = queue_mail("someone@mail.ru", "Тема\nTo: other@evil.example\r\nX-Evil: 1", "текст")
    db.session.flush()
    msg = email.message_from_bytes(row.message, policy=policy.default)
    assert msg["X-Evil"] is None
    assert msg.get_all("To") == ["someone@mail.ru"]
    assert row.subject == msg["Subject"] == "Тема To: other@evil.example X-Evil: 1"
