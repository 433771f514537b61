"""The personal-data lifecycle of parents and of the mail outbox: consent withdrawal and the
retention job leave no name, address or private link in the stored scan answers or the outbox;
a delivered message keeps no body; undelivered and old messages are emptied."""

from __future__ import annotations

import email
from datetime import timedelta
from email import policy

import sqlalchemy as sa

from checkin.door.scans import replayed_attendee
from models import (
    Audience,
    ParentSignup,
    Scan,
    ScanOutcome,
    Ticket,
    TicketStatus,
    db,
    now_utc,
)
from models.outbox import OutboxMessage, OutboxStatus
from webapp.mail import deliver_outbox, prune_outbox, queue_mail
from webapp.services.personal_data import message_text

NAME = "Кондратьева Людмила"


def parent_event(factory, **overrides):
    values = {"audience": Audience.PARENTS, "category_code": "parents", "grades_min": None,
              "grades_max": None, "capacity": 5}
    values.update(overrides)
    return factory.create_event(**values)


def sign_up(client, event, address, name=NAME) -> str:
    response = client.post_form(f"/events/{event.id}/signup", {
        "name": name, "email": address, "phone": "+7 913 555-12-34", "consent": "y",
        "child_organization_id": "0", "child_grade": "", "website": ""})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"].split("/my/")[1].split("?")[0]


def scan_with_stored_answer(ticket, outcome=ScanOutcome.OK) -> Scan:
    """A scan row as the door wrote it until now: the answer holds the attendee's name."""
    scan = Scan(event_id=ticket.event_id, ticket=ticket, raw_code=ticket.token,
                outcome=outcome, scanned_at=ticket.event.starts_at,
                received_at=ticket.event.starts_at,
                response={"status": outcome.value, "message": "…",
                          "attendee": replayed_attendee(ticket.id, "ok"), "flag": None,
                          "forced": False})
    db.session.add(scan)
    db.session.flush()
    return scan


def everything_stored_as_text(*, except_mail: int | None = None) -> str:
    """Scan answers and outbox rows (decoded messages, addresses, keys, errors) as one text."""
    parts = [str(r) for r in db.session.execute(sa.select(Scan.response)).scalars()]
    for row in OutboxMessage.query.filter(OutboxMessage.id != (except_mail or 0)):
        parts += [message_text(row.message), row.to_address, row.dedupe_key or "",
                  row.last_error or "", row.subject]
    return "\n".join(parts)


def test_withdrawal_removes_the_name_from_scans_and_the_link_from_the_outbox(
        app, client, factory, db):
    app.config["MAIL_DELIVER_ON_REQUEST"] = "0"  # the confirmation waits in the outbox
    event = parent_event(factory)
    other_event = parent_event(factory)
    db.session.commit()
    secret = sign_up(client, event, "kondr@mail.ru")
    sign_up(client, other_event, "kondr@mail.ru")  # the same parent, another sign-up
    db.session.rollback()
    signup = ParentSignup.query.filter_by(event_id=event.id).one()
    ticket = Ticket.query.filter_by(parent_signup_id=signup.id).one()
    # A volunteer scanned the ticket too early: the answer stored the parent's name.
    scan = scan_with_stored_answer(ticket, ScanOutcome.NOT_OPEN)
    db.session.commit()
    assert NAME in everything_stored_as_text() and secret in everything_stored_as_text()

    response = client.post_form(f"/my/{secret}/withdraw")
    assert response.status_code == 302
    db.session.rollback()

    stored = db.session.get(Scan, scan.id)
    assert stored.response["attendee"]["name"] is None
    assert stored.response["attendee"]["kind"] == "parent"
    assert stored.outcome == ScanOutcome.NOT_OPEN and stored.ticket_id == ticket.id
    mine = OutboxMessage.query.filter(OutboxMessage.subject.contains(event.title)).one()
    assert mine.message == b"" and mine.to_address == ""
    assert mine.status == OutboxStatus.FAILED  # never sent without its body
    # The other sign-up's confirmation is untouched (its consent stands); nothing else is left.
    other = OutboxMessage.query.filter(OutboxMessage.subject.contains(other_event.title)).one()
    text = everything_stored_as_text(except_mail=other.id)
    assert NAME not in text and secret not in text and "kondr@mail.ru" not in text
    assert other.to_address == "kondr@mail.ru" and other.status == OutboxStatus.PENDING
    assert NAME in message_text(other.message)
    assert deliver_outbox().sent == 1  # only the other one goes out


def test_retention_removes_names_and_links_from_scans_and_the_outbox(
        app, client, factory, db, runner):
    app.config["MAIL_DELIVER_ON_REQUEST"] = "0"
    old = parent_event(factory)
    db.session.commit()
    secret = sign_up(client, old, "old-parent@mail.ru")
    db.session.rollback()
    ticket = Ticket.query.filter_by(event_id=old.id).one()
    scan = scan_with_stored_answer(ticket)
    old.starts_at = now_utc() - timedelta(days=400)
    old.ends_at = old.starts_at + timedelta(hours=2)
    db.session.commit()
    # Sent long ago, when delivered messages still kept their body.
    OutboxMessage.query.update({"status": OutboxStatus.SENT, "sent_at": old.starts_at})
    db.session.commit()

    result = runner.invoke(args=["erase-parent-data", "--days", "365"])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    assert db.session.get(ParentSignup, ticket.parent_signup_id).name is None
    assert db.session.get(Scan, scan.id).response["attendee"] == {
        "name": None, "kind": "parent", "organization": None, "class_name": None,
        "needs_assistance": None}
    text = everything_stored_as_text()
    assert NAME not in text and secret not in text and "old-parent@mail.ru" not in text
    assert db.session.get(Scan, scan.id).outcome == ScanOutcome.OK
    assert Ticket.query.filter_by(status=TicketStatus.CONFIRMED).count() == 1


def test_a_delivered_message_keeps_no_body(db):
    row = queue_mail("reader@mail.ru", "Проверка", "Ссылка: http://profroute.test/my/secret")
    db.session.commit()
    assert deliver_outbox().sent == 1
    db.session.expire_all()
    row = db.session.get(OutboxMessage, row.id)
    assert row.status == OutboxStatus.SENT and row.sent_at is not None
    assert row.message == b""


def test_outbox_retention_periods(app, db, runner):
    now = now_utc()
    sent_old = queue_mail("a@mail.ru", "Старое отправленное", "тело")
    sent_new = queue_mail("b@mail.ru", "Новое отправленное", "тело")
    stuck = queue_mail("c@mail.ru", "Не ушло две недели", "тело со ссылкой")
    queue_mail("d@mail.ru", "Ждёт отправки", "тело")
    failed_old = queue_mail("e@mail.ru", "Отказ сервера", "тело")
    sent_old.status = sent_new.status = OutboxStatus.SENT
    sent_old.sent_at, sent_new.sent_at = now - timedelta(days=31), now - timedelta(days=29)
    stuck.created_at = now - timedelta(days=15)
    stuck.next_attempt_at = now + timedelta(hours=1)  # not due: send-mail leaves it alone
    failed_old.status, failed_old.created_at = OutboxStatus.FAILED, now - timedelta(days=20)
    failed_old.last_error = "550 <e@mail.ru>: no such user"
    db.session.commit()

    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 0, result.output
    assert "удалены адреса отправленных писем — 1, недоставленные письма — 2" in result.output
    db.session.expire_all()
    rows = {r.subject: r for r in OutboxMessage.query}
    assert rows["Старое отправленное"].to_address == ""
    assert rows["Новое отправленное"].to_address == "b@mail.ru"
    for subject in ("Не ушло две недели", "Отказ сервера"):
        assert rows[subject].status == OutboxStatus.FAILED
        assert rows[subject].message == b"" and rows[subject].to_address == ""
    assert "e@mail.ru" not in (rows["Отказ сервера"].last_error or "")
    assert rows["Ждёт отправки"].status == OutboxStatus.SENT  # fresh: sent by this run
    assert prune_outbox().unsent == 0  # nothing left to prune


def test_retrying_failed_mail_skips_emptied_messages(app, client, db, factory, auth):
    admin = factory.create_user()
    gone = queue_mail("gone@mail.ru", "Удалено", "тело")
    kept = queue_mail("kept@mail.ru", "Отказ", "тело")
    gone.status = kept.status = OutboxStatus.FAILED
    gone.created_at = now_utc() - timedelta(days=20)
    db.session.commit()
    prune_outbox()
    db.session.commit()
    auth.login(admin.email)
    assert client.post_form("/admin/mail/retry-failed").status_code == 302
    db.session.expire_all()
    assert db.session.get(OutboxMessage, gone.id).status == OutboxStatus.FAILED
    assert db.session.get(OutboxMessage, kept.id).status == OutboxStatus.PENDING
    parsed = email.message_from_bytes(db.session.get(OutboxMessage, kept.id).message,
                                      policy=policy.default)
    assert parsed["To"] == "kept@mail.ru"
