"""E-mail: the outbox, delivery through a real SMTP server on loopback (aiosmtpd), retries while
the server is down, nothing sent twice, and the contents of the parents' messages."""

from __future__ import annotations

import email
import io
import socket
import threading
from datetime import timedelta
from email import policy

import icalendar
import pytest
import zxingcpp
from aiosmtpd.controller import Controller
from PIL import Image

from models import Audience, Role, Ticket, TicketStatus, now_utc
from models.outbox import OutboxMessage, OutboxStatus
from tests.factories import mail_bytes
from webapp.mail import deliver_outbox, queue_mail


class Collector:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_port(app):
    port = free_port()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT=5)
    return port


@pytest.fixture
def smtp_server(smtp_port):
    handler = Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield handler
    controller.stop()


def parent_event(factory, **overrides):
    values = {"audience": Audience.PARENTS, "category_code": "parents", "grades_min": None,
              "grades_max": None, "capacity": 5, "title": "Как выбрать профиль обучения"}
    values.update(overrides)
    return factory.create_event(**values)


def sign_up(client, event, email_address="ivanova@mail.ru", **extra):
    data = {"name": "Иванова Мария", "email": email_address, "phone": "", "consent": "y",
            "child_organization_id": "0", "child_grade": "", "website": ""}
    data.update(extra)
    response = client.post_form(f"/events/{event.id}/signup", data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"].split("/my/")[1].split("?")[0]


def test_queue_mail_stores_a_complete_message(db):
    row = queue_mail("a@mail.ru", "Проверка", "Текст письма")
    db.session.commit()
    assert row.status == OutboxStatus.PENDING and row.attempts == 0
    parsed = email.message_from_bytes(mail_bytes(row), policy=policy.default)
    assert parsed["To"] == "a@mail.ru" and parsed["Subject"] == "Проверка"
    assert "Текст письма" in parsed.get_body(("plain",)).get_content()


def test_mail_goes_out_through_smtp_once(db, smtp_server):
    queue_mail("a@mail.ru", "Первое", "Один")
    queue_mail("b@mail.ru", "Второе", "Два")
    db.session.commit()
    report = deliver_outbox()
    assert report.sent == 2
    assert sorted(m["Subject"] for m in smtp_server.messages) == ["Второе", "Первое"]
    assert smtp_server.envelopes[0][0] == "noreply@profroute.local"
    # A second run sends nothing again.
    assert deliver_outbox().sent == 0
    assert len(smtp_server.messages) == 2
    db.session.rollback()
    assert {m.status for m in OutboxMessage.query} == {OutboxStatus.SENT}


def test_smtp_down_keeps_messages_queued_until_the_next_run(db, app, smtp_port):
    queue_mail("a@mail.ru", "Ждёт сервер", "Текст")
    db.session.commit()
    report = deliver_outbox()  # nothing listens on the port
    assert report.sent == 0 and report.deferred == 1
    assert "недоступен" in report.errors[0]
    db.session.rollback()
    row = OutboxMessage.query.one()
    assert row.status == OutboxStatus.PENDING and row.sent_at is None

    handler = Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        assert deliver_outbox().sent == 1
        assert deliver_outbox().sent == 0
    finally:
        controller.stop()
    assert [m["Subject"] for m in handler.messages] == ["Ждёт сервер"]
    db.session.rollback()
    assert OutboxMessage.query.one().status == OutboxStatus.SENT


def test_refused_message_is_retried_later_then_given_up(db, app, smtp_port):
    class Refusing(Collector):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            return "550 no such user"

    app.config["MAIL_MAX_ATTEMPTS"] = 3
    queue_mail("nobody@mail.ru", "Не дойдёт", "Текст")
    db.session.commit()
    controller = Controller(Refusing(), hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        report = deliver_outbox()
        assert report.deferred == 1 and report.sent == 0
        db.session.rollback()
        row = OutboxMessage.query.one()
        assert row.status == OutboxStatus.PENDING and row.attempts == 1
        assert row.next_attempt_at > now_utc()  # backoff: not tried again at once
        assert deliver_outbox().deferred == 0
        for _ in range(2):
            row.next_attempt_at = now_utc() - timedelta(seconds=1)
            db.session.commit()
            deliver_outbox()
            db.session.rollback()
            row = OutboxMessage.query.one()
    finally:
        controller.stop()
    assert row.status == OutboxStatus.FAILED and row.attempts == 3
    assert "550" in row.last_error


def test_parallel_senders_send_each_message_once(db, app, smtp_server):
    for n in range(6):
        queue_mail(f"p{n}@mail.ru", f"Письмо {n}", "Текст")
    db.session.commit()
    reports = []

    def run():
        with app.app_context():
            reports.append(deliver_outbox())

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.sent for r in reports) == 6
    assert sorted(m["Subject"] for m in smtp_server.messages) == [f"Письмо {n}"
                                                                  for n in range(6)]


def test_development_folder_and_send_mail_command(db, app, runner, tmp_path):
    queue_mail("a@mail.ru", "В папку", "Текст")
    db.session.commit()
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 0, result.output
    assert "Отправлено: 1" in result.output
    files = list((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 1
    parsed = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert parsed["Subject"] == "В папку"
    result = runner.invoke(args=["send-mail"])
    assert "Отправлено: 0" in result.output
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 1


def test_confirmation_email_has_russian_text_scannable_qr_and_ics(client, db, factory,
                                                                 smtp_server, app):
    event = parent_event(factory)
    db.session.commit()
    secret = sign_up(client, event)
    # Delivered right after the response, through SMTP.
    assert len(smtp_server.messages) == 1
    msg = smtp_server.messages[0]
    ticket = Ticket.query.one()
    assert msg["To"] == "ivanova@mail.ru"
    assert msg["Subject"] == "Вы записаны: Как выбрать профиль обучения"
    text = msg.get_body(("plain",)).get_content()
    assert "Здравствуйте, Иванова Мария!" in text
    assert "Вы записаны на мероприятие для родителей" in text
    assert f"http://profroute.test/my/{secret}" in text
    assert ticket.short_code in text
    html = msg.get_body(("html",)).get_content()
    assert 'src="cid:ticket-qr"' in html

    parts = {part.get_filename(): part for part in msg.walk() if part.get_filename()}
    qr_part = parts["bilet-qr.png"]
    assert qr_part["Content-ID"] == "<ticket-qr>"
    image = Image.open(io.BytesIO(qr_part.get_content()))
    decoded = zxingcpp.read_barcodes(image)
    assert [r.text for r in decoded] == [f"http://profroute.test/t/{ticket.token}"]

    ics = icalendar.Calendar.from_ical(parts["meropriyatie.ics"].get_content())
    vevent = next(iter(ics.walk("VEVENT")))
    assert str(vevent["summary"]) == "Как выбрать профиль обучения"
    assert vevent.decoded("dtstart") == event.starts_at.replace(microsecond=0)
    assert vevent.decoded("dtend") == event.ends_at.replace(microsecond=0)
    assert "г. Томск" in str(vevent["location"])


def test_waitlisted_confirmation_has_no_qr(client, db, factory, app, tmp_path):
    event = parent_event(factory, capacity=1)
    db.session.commit()
    sign_up(client, event, "first@mail.ru")
    sign_up(client, event, "second@mail.ru")
    row = OutboxMessage.query.filter_by(to_address="second@mail.ru").one()
    msg = email.message_from_bytes(mail_bytes(row), policy=policy.default)
    assert msg["Subject"].startswith("Лист ожидания")
    assert "вы в листе ожидания" in msg.get_body(("plain",)).get_content()
    assert "bilet-qr.png" not in [p.get_filename() for p in msg.walk()]


def test_reminders_the_day_before_nobody_gets_two(client, db, factory, app, runner):
    tomorrow = parent_event(factory, starts_at=now_utc() + timedelta(days=1))
    later = parent_event(factory, starts_at=now_utc() + timedelta(days=5))
    db.session.commit()
    sign_up(client, tomorrow, "soon@mail.ru")
    sign_up(client, later, "later@mail.ru")
    cancelled_secret = sign_up(client, tomorrow, "gone@mail.ru")
    client.post_form(f"/my/{cancelled_secret}/cancel")

    from formats.timefmt import to_local
    from webapp.parents.emails import queue_reminders

    # Run as if it is noon in Tomsk the day before the event.
    local_start = to_local(tomorrow.starts_at)
    at = local_start.replace(hour=12, minute=0) - timedelta(days=1)
    assert queue_reminders(at=at) == 1
    db.session.commit()
    assert queue_reminders(at=at) == 0
    db.session.commit()
    reminders = OutboxMessage.query.filter(OutboxMessage.dedupe_key.like("reminder:%")).all()
    assert [r.to_address for r in reminders] == ["soon@mail.ru"]
    msg = email.message_from_bytes(mail_bytes(reminders[0]), policy=policy.default)
    assert msg["Subject"].startswith("Напоминание: завтра")
    assert "bilet-qr.png" in [p.get_filename() for p in msg.walk()]
    result = runner.invoke(args=["send-reminders"])
    assert result.exit_code == 0, result.output
    assert OutboxMessage.query.filter(OutboxMessage.dedupe_key.like("reminder:%")).count() == 1


def test_parallel_reminder_runs_queue_one_each(app, db, factory, client):
    event = parent_event(factory, starts_at=now_utc() + timedelta(days=1))
    db.session.commit()
    sign_up(client, event, "soon@mail.ru")
    from formats.timefmt import to_local
    from webapp.parents.emails import queue_reminders

    at = to_local(event.starts_at).replace(hour=12, minute=0) - timedelta(days=1)
    errors = []

    def run():
        with app.app_context():
            from models import db as _db

            try:
                queue_reminders(at=at)
                _db.session.commit()
            except Exception as err:  # noqa: BLE001 - reported below
                errors.append(err)
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    db.session.rollback()
    assert OutboxMessage.query.filter(OutboxMessage.dedupe_key.like("reminder:%")).count() == 1


def test_event_cancellation_mails_parents_and_coordinators(client, db, factory, app):
    from webapp.parents.emails import event_cancelled

    event = parent_event(factory)
    school = factory.create_org()
    coordinator = factory.create_user(Role.COORDINATOR, organization=school,
                                      email="coord@school.ru")
    db.session.commit()
    sign_up(client, event, "parent@mail.ru")
    # A school's group registered for the same event.
    from models import Registration

    registration = Registration(event_id=event.id, organization_id=school.id)
    db.session.add(registration)
    db.session.flush()
    student = factory.create_student(school)
    factory.create_ticket(event, student, registration=registration)
    event.status = event.status.CANCELLED
    event.cancel_reason = "Болезнь лектора"
    event.cancelled_at = now_utc()
    db.session.flush()
    event_cancelled(event)
    event_cancelled(event)  # called again: nobody gets a second copy
    db.session.commit()
    rows = OutboxMessage.query.filter(OutboxMessage.subject.like("Мероприятие отменено%")).all()
    assert sorted(r.to_address for r in rows) == ["coord@school.ru", "parent@mail.ru"]
    for row in rows:
        msg = email.message_from_bytes(mail_bytes(row), policy=policy.default)
        assert "Причина: Болезнь лектора" in msg.get_body(("plain",)).get_content()
    assert coordinator.email == "coord@school.ru"


def test_promotion_hook_mails_the_promoted_parent(client, db, factory):
    event = parent_event(factory, capacity=1)
    db.session.commit()
    first = sign_up(client, event, "first@mail.ru")
    sign_up(client, event, "second@mail.ru")
    client.post_form(f"/my/{first}/cancel")
    rows = OutboxMessage.query.filter_by(to_address="second@mail.ru").order_by(
        OutboxMessage.id).all()
    assert rows[-1].subject == f"Место подтверждено: {event.title}"
    msg = email.message_from_bytes(mail_bytes(rows[-1]), policy=policy.default)
    assert "ваша запись из листа ожидания подтверждена" in msg.get_body(("plain",)).get_content()
    ticket = Ticket.query.filter(Ticket.status == TicketStatus.CONFIRMED).one()
    image = Image.open(io.BytesIO(next(p for p in msg.walk()
                                       if p.get_filename() == "bilet-qr.png").get_content()))
    assert zxingcpp.read_barcodes(image)[0].text.endswith(f"/t/{ticket.token}")


def test_cancelling_through_the_events_api_mails_the_parents(client, db, factory, tmp_path):
    """The events area's cancel calls our hook: the parent gets a Russian message with a
    cancelled .ics, delivered to the development folder right after the request."""
    organizer = factory.create_user(Role.ORGANIZER, email="org@uni.ru")
    event = parent_event(factory, organizer=organizer.organization)
    token = factory.create_token(organizer)
    db.session.commit()
    sign_up(client, event, "parent@mail.ru")
    response = client.post(f"/api/v1/events/{event.id}/cancel", json={"reason": "Карантин"},
                           headers=factory.bearer(token))
    assert response.status_code == 200, response.get_data(as_text=True)
    db.session.rollback()
    row = OutboxMessage.query.filter_by(to_address="parent@mail.ru").filter(
        OutboxMessage.subject.like("Мероприятие отменено%")).one()
    assert row.status == OutboxStatus.SENT
    msg = email.message_from_bytes(mail_bytes(row), policy=policy.default)
    assert "Причина: Карантин" in msg.get_body(("plain",)).get_content()
    ics = next(p for p in msg.walk() if p.get_filename() == "meropriyatie.ics")
    cal = icalendar.Calendar.from_ical(ics.get_content())
    assert str(cal["method"]) == "CANCEL"
    assert str(next(iter(cal.walk("VEVENT")))["status"]) == "CANCELLED"
    assert len(list((tmp_path / "mail").glob("*parent@mail.ru.eml"))) == 2


def test_api_rate_limit_is_429(client, db, factory, app):
    app.config["SIGNUP_MAX_PER_IP"] = 1
    event = parent_event(factory)
    db.session.commit()
    url = f"/api/v1/events/{event.id}/parent-signups"
    assert client.post(url, json={"name": "А Б", "email": "a@mail.ru",
                                  "consent": True}).status_code == 201
    response = client.post(url, json={"name": "В Г", "email": "b@mail.ru", "consent": True})
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limited"


def test_admin_sees_the_outbox_and_sends_or_retries(client, auth, db, factory, tmp_path):
    admin = factory.create_user(Role.ADMIN, email="admin@city.ru")
    coordinator = factory.create_user(Role.COORDINATOR, email="coord@school.ru")
    failed = queue_mail("bad@mail.ru", "Не дошло", "Текст")
    failed.status = OutboxStatus.FAILED
    failed.attempts = 8
    failed.last_error = "(550, b'no such user')"
    queue_mail("ok@mail.ru", "Ждёт", "Текст")
    db.session.commit()
    auth.login(coordinator.email)
    assert client.get("/admin/mail").status_code == 403
    auth.logout()
    auth.login(admin.email)
    page = client.get("/admin/mail").get_data(as_text=True)
    assert "Не дошло" in page and "no such user" in page and "Ждёт" in page
    client.post_form("/admin/mail/send")
    db.session.rollback()
    assert OutboxMessage.query.filter_by(to_address="ok@mail.ru").one().status == \
        OutboxStatus.SENT
    client.post_form("/admin/mail/retry-failed")
    db.session.rollback()
    row = OutboxMessage.query.filter_by(to_address="bad@mail.ru").one()
    assert row.status == OutboxStatus.PENDING and row.attempts == 0
    client.post_form("/admin/mail/send")
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 2


def test_long_cyrillic_subject_keeps_its_spaces_and_lines_stay_short(db):
    subject = ("Педагог просит подтвердить запись: КПК «Профориентационная работа в школе: "
               "современные практики»")
    row = queue_mail("a@mail.ru", subject, "Текст " * 400)
    too_long = queue_mail("a@mail.ru", "Отменено: " + "очень длинное название " * 20, "Текст")
    parsed = email.message_from_bytes(mail_bytes(row), policy=policy.default)
    assert parsed["Subject"] == subject
    assert max(len(line) for line in row.message.split(b"\r\n")) < 998
    assert len(too_long.subject) == 150 and too_long.subject.endswith("…")
