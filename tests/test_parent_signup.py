"""Parents sign up without an account: consent, contacts, duplicates, abuse protection, the
private /my/<secret> link, cancellation and withdrawal of consent; and the API endpoint."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from errors import ServiceError
from formats.phones import normalize_phone
from models import (
    Audience,
    AuditLog,
    ParentSignup,
    Scan,
    Ticket,
    TicketKind,
    TicketStatus,
    now_utc,
)
from models.outbox import OutboxMessage
from webapp.parents.consent import CURRENT_CONSENT_VERSION
from webapp.parents.services import hash_secret


def parent_event(factory, **overrides):
    values = {"audience": Audience.PARENTS, "category_code": "parents", "grades_min": None,
              "grades_max": None, "capacity": 5}
    values.update(overrides)
    return factory.create_event(**values)


def form_data(**overrides):
    data = {"name": "Иванова Мария", "phone": "8 (913) 123-45-67", "email": "Ivanova@Mail.ru",
            "child_organization_id": "0", "child_grade": "", "consent": "y", "website": ""}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def signup(client, event, **overrides):
    return client.post_form(f"/events/{event.id}/signup", form_data(**overrides))


def secret_from(response) -> str:
    match = re.search(r"/my/([A-Za-z0-9_-]+)", response.headers["Location"])
    assert match
    return match.group(1)


@pytest.mark.parametrize("raw, expected", [
    ("8 (913) 123-45-67", "+79131234567"),
    ("+7 913 123 45 67", "+79131234567"),
    ("+7(3822)12-34-56", "+73822123456"),
    ("79131234567", "+79131234567"),
    ("8.913.123.45.67", "+79131234567"),
    ("", None),
])
def test_phone_numbers_are_normalized(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", ["12345", "+1 202 555 0100", "9131234567", "8913123456a",
                                 "+7 913 123 45 678", "8-913-123-45-6", "7+9131234567"])
def test_other_phone_numbers_are_refused(raw):
    with pytest.raises(ServiceError) as err:
        normalize_phone(raw)
    assert err.value.code == "invalid_phone"
    assert "phone" in err.value.fields


def test_form_shows_consent_unticked_with_its_text(client, factory, db):
    event = parent_event(factory)
    db.session.commit()
    page = client.get(f"/events/{event.id}/signup").get_data(as_text=True)
    checkbox = re.search(r'<input[^>]*name="consent"[^>]*>', page).group(0)
    assert "checked" not in checkbox
    assert "Согласие на обработку персональных данных" in page
    assert f"Редакция согласия: {CURRENT_CONSENT_VERSION}" in page


def test_without_consent_the_form_refuses_and_stores_nothing(client, factory, db):
    event = parent_event(factory)
    db.session.commit()
    response = signup(client, event, consent=None)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Без согласия на обработку персональных данных записаться нельзя" in page
    assert "Исправьте ошибки" in page
    assert ParentSignup.query.count() == 0
    assert Ticket.query.count() == 0
    assert OutboxMessage.query.count() == 0


def test_signup_records_consent_and_gives_a_ticket(client, factory, db, app, tmp_path):
    school = factory.create_org()
    event = parent_event(factory)
    db.session.commit()
    response = signup(client, event, child_organization_id=str(school.id), child_grade="7")
    assert response.status_code == 302
    secret = secret_from(response)
    row = ParentSignup.query.one()
    assert row.name == "Иванова Мария"
    assert row.phone == "+79131234567"
    assert row.email == "ivanova@mail.ru"
    assert row.child_organization_id == school.id and row.child_grade == 7
    assert row.consent_version == CURRENT_CONSENT_VERSION
    assert row.consent_ip == "127.0.0.1"
    assert abs((now_utc() - row.consent_at).total_seconds()) < 60
    assert row.manage_secret_hash == hash_secret(secret)
    ticket = Ticket.query.one()
    assert ticket.kind == TicketKind.PARENT and ticket.status == TicketStatus.CONFIRMED
    # The confirmation page: the QR and the private link.
    page = client.get(f"/my/{secret}?new=1").get_data(as_text=True)
    assert "Вы записаны" in page
    assert 'src="data:image/png;base64,' in page
    assert f"http://profroute.test/my/{secret}" in page
    assert ticket.short_code in page
    # The e-mail went to the development folder at once.
    files = list((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 1 and "ivanova@mail.ru" in files[0].name


def test_grade_and_school_are_optional_and_phone_alone_is_enough(client, factory, db):
    event = parent_event(factory)
    db.session.commit()
    response = signup(client, event, email="")
    assert response.status_code == 302
    row = ParentSignup.query.one()
    assert row.email is None and row.child_organization_id is None and row.child_grade is None
    assert OutboxMessage.query.count() == 0  # nothing to send without an address


def test_neither_phone_nor_email_is_refused(client, factory, db):
    event = parent_event(factory)
    db.session.commit()
    response = signup(client, event, email="", phone="")
    assert response.status_code == 422
    assert "Укажите телефон или электронную почту" in response.get_data(as_text=True)
    assert ParentSignup.query.count() == 0


def test_bad_email_and_phone_get_messages(client, factory, db):
    event = parent_event(factory)
    db.session.commit()
    response = signup(client, event, email="ivanova@", phone="12-34")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "name@example.ru" in page
    assert "российский номер" in page
    assert ParentSignup.query.count() == 0


@pytest.mark.parametrize("second", [
    {"phone": "", "email": "IVANOVA@mail.ru"},
    {"phone": "+7 913 123-45-67", "email": "other@mail.ru"},
])
def test_second_signup_with_same_email_or_phone_is_refused(client, factory, db, second):
    event = parent_event(factory)
    db.session.commit()
    assert signup(client, event).status_code == 302
    response = signup(client, event, name="Иванов Пётр", **second)
    assert response.status_code == 409
    assert "уже есть запись на это мероприятие" in response.get_data(as_text=True)
    assert ParentSignup.query.count() == 1


def test_the_same_person_may_sign_up_for_another_event(client, factory, db):
    one, two = parent_event(factory), parent_event(factory)
    db.session.commit()
    assert signup(client, one).status_code == 302
    assert signup(client, two).status_code == 302
    assert ParentSignup.query.count() == 2


def test_honeypot_refuses_with_a_message_for_a_person(client, factory, db):
    event = parent_event(factory)
    db.session.commit()
    response = signup(client, event, website="http://spam.example")
    assert response.status_code == 422
    assert "Если вы человек, очистите это поле" in response.get_data(as_text=True)
    assert ParentSignup.query.count() == 0


def test_rate_limit_per_address(client, factory, db, app):
    app.config["SIGNUP_MAX_PER_IP"] = 2
    event = parent_event(factory)
    db.session.commit()
    assert signup(client, event, phone="", email="a1@mail.ru").status_code == 302
    assert signup(client, event, phone="", email="a2@mail.ru").status_code == 302
    response = signup(client, event, phone="", email="a3@mail.ru")
    assert response.status_code == 429
    assert "Подождите 10 минут" in response.get_data(as_text=True)
    assert ParentSignup.query.count() == 2


def test_waiting_list_and_promotion_on_cancel(client, factory, db):
    event = parent_event(factory, capacity=1)
    db.session.commit()
    first = secret_from(signup(client, event, phone="", email="first@mail.ru"))
    second = secret_from(signup(client, event, phone="", email="second@mail.ru"))
    statuses = [t.status for t in Ticket.query.order_by(Ticket.id)]
    assert statuses == [TicketStatus.CONFIRMED, TicketStatus.WAITLISTED]
    assert "Вы в листе ожидания" in client.get(f"/my/{second}").get_data(as_text=True)
    # Cancel through the private link: confirm page, then the POST.
    assert "Отменить запись?" in client.get(f"/my/{first}/cancel").get_data(as_text=True)
    response = client.post_form(f"/my/{first}/cancel")
    assert response.status_code == 302
    db.session.expire_all()
    statuses = [t.status for t in Ticket.query.order_by(Ticket.id)]
    assert statuses == [TicketStatus.CANCELLED, TicketStatus.CONFIRMED]
    promoted = OutboxMessage.query.filter_by(to_address="second@mail.ru").order_by(
        OutboxMessage.id).all()
    assert [m.subject for m in promoted][-1].startswith("Место подтверждено")
    assert "Запись отменена" in client.get(f"/my/{first}").get_data(as_text=True)


def test_manage_link_cannot_be_enumerated(client, factory, db):
    event = parent_event(factory)
    db.session.commit()
    secrets_ = [secret_from(signup(client, event, phone="", email=f"p{n}@mail.ru"))
                for n in range(3)]
    rows = ParentSignup.query.order_by(ParentSignup.id).all()
    for secret in secrets_:
        assert len(secret) >= 32  # 24 random bytes, 192 bits
    assert len(set(secrets_)) == 3
    # Only the hash is stored: neither the id, the hash nor a near-miss opens a page.
    stored = {r.manage_secret_hash for r in rows}
    assert not stored & set(secrets_)
    for guess in [str(rows[0].id), rows[0].manage_secret_hash, secrets_[0][:-1] + "A",
                  secrets_[0].upper(), "a" * 32, "0" * 43]:
        if guess == secrets_[0]:
            continue
        assert client.get(f"/my/{guess}").status_code == 404
        assert client.post_form(f"/my/{guess}/cancel").status_code == 404
        assert client.post_form(f"/my/{guess}/withdraw").status_code == 404
    response = client.get(f"/my/{secrets_[0]}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert AuditLog.query.filter_by(action="parent_signup.cancel").count() == 0


def test_withdrawal_erases_personal_data_and_keeps_the_count(client, factory, db):
    event = parent_event(factory, starts_at=now_utc() + timedelta(days=2))
    db.session.commit()
    secret = secret_from(signup(client, event))
    ticket = Ticket.query.one()
    # The parent came (check-in), then the event is over.
    factory.create_checkin(ticket, at=event.starts_at)
    event.starts_at = now_utc() - timedelta(hours=3)
    event.ends_at = now_utc() - timedelta(hours=1)
    db.session.commit()

    def parents_attended():
        return (Scan.query.join(Ticket, Scan.ticket_id == Ticket.id)
                .filter(Ticket.event_id == event.id, Ticket.kind == TicketKind.PARENT,
                        Scan.undone_at.is_(None)).count())

    from reports.queries import attendance_by_event

    before = parents_attended()
    report_before = attendance_by_event([event.id])[event.id].parents
    assert "Отозвать согласие" in client.get(f"/my/{secret}/withdraw").get_data(as_text=True)
    response = client.post_form(f"/my/{secret}/withdraw")
    assert response.status_code == 302
    db.session.expire_all()
    row = ParentSignup.query.one()
    assert row.name is None and row.phone is None and row.email is None
    assert row.consent_ip is None and row.withdrawn_at is not None
    assert Ticket.query.one().status == TicketStatus.CONFIRMED
    assert parents_attended() == before == 1
    # The reports' count of parents who came stays the same (tickets and scans, not names).
    assert attendance_by_event([event.id])[event.id].parents == report_before == 1
    page = client.get(f"/my/{secret}").get_data(as_text=True)
    assert "Иванова" not in page and "+79131234567" not in page
    assert "Персональные данные удалены" in page
    # Withdrawing twice changes nothing and says so.
    client.post_form(f"/my/{secret}/withdraw", follow_redirects=True)
    assert ParentSignup.query.one().withdrawn_at == row.withdrawn_at


def test_withdrawal_before_the_event_frees_the_seat(client, factory, db):
    event = parent_event(factory, capacity=1)
    db.session.commit()
    first = secret_from(signup(client, event, phone="", email="first@mail.ru"))
    signup(client, event, phone="", email="second@mail.ru")
    client.post_form(f"/my/{first}/withdraw")
    db.session.expire_all()
    statuses = [t.status for t in Ticket.query.order_by(Ticket.id)]
    assert statuses == [TicketStatus.CANCELLED, TicketStatus.CONFIRMED]
    assert ParentSignup.query.order_by(ParentSignup.id).first().email is None


def test_signup_page_only_for_parent_events(client, factory, db):
    event = factory.create_event()
    db.session.commit()
    assert client.get(f"/events/{event.id}/signup").status_code == 404


def test_closed_registration_is_refused(client, factory, db):
    event = parent_event(factory, registration_closes_at=now_utc() - timedelta(hours=1))
    db.session.commit()
    page = client.get(f"/events/{event.id}/signup").get_data(as_text=True)
    assert "Запись на это мероприятие закрыта" in page
    response = signup(client, event)
    assert response.status_code == 409
    assert ParentSignup.query.count() == 0


# ---------------------------------------------------------------------------------------------
# API


def api_body(**overrides):
    body = {"name": "Петрова Анна", "phone": "+7 913 000-11-22", "email": "petrova@mail.ru",
            "consent": True}
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def test_api_signup_returns_code_and_manage_url(client, factory, db):
    school = factory.create_org()
    event = parent_event(factory)
    db.session.commit()
    response = client.post(f"/api/v1/events/{event.id}/parent-signups",
                           json=api_body(child_organization_id=school.id, child_grade=3))
    assert response.status_code == 201
    body = response.get_json()
    ticket = Ticket.query.one()
    assert body["code"] == ticket.token
    assert body["manage_url"].startswith("http://profroute.test/my/")
    secret = body["manage_url"].rsplit("/", 1)[1]
    assert ParentSignup.query.one().manage_secret_hash == hash_secret(secret)
    assert client.get(f"/my/{secret}").status_code == 200


@pytest.mark.parametrize("consent", [None, False, "true"])
def test_api_without_consent_is_422_and_stores_nothing(client, factory, db, consent):
    event = parent_event(factory)
    db.session.commit()
    response = client.post(f"/api/v1/events/{event.id}/parent-signups",
                           json=api_body(consent=consent) if consent is not None
                           else {k: v for k, v in api_body().items() if k != "consent"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert "consent" in error["fields"]
    assert ParentSignup.query.count() == 0 and Ticket.query.count() == 0
    assert OutboxMessage.query.count() == 0


def test_api_duplicate_is_409(client, factory, db):
    event = parent_event(factory)
    db.session.commit()
    assert client.post(f"/api/v1/events/{event.id}/parent-signups",
                       json=api_body()).status_code == 201
    response = client.post(f"/api/v1/events/{event.id}/parent-signups",
                           json=api_body(phone=None))
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "duplicate_signup"
    assert ParentSignup.query.count() == 1


def test_api_bad_fields_and_wrong_events(client, factory, db):
    event = parent_event(factory)
    students = factory.create_event()
    db.session.commit()
    response = client.post(f"/api/v1/events/{event.id}/parent-signups",
                           json=api_body(phone="123", email="x", child_grade=14))
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) >= {"phone", "email", "child_grade"}
    response = client.post(f"/api/v1/events/{students.id}/parent-signups", json=api_body())
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "wrong_audience"
    assert client.post("/api/v1/events/999999/parent-signups",
                       json=api_body()).status_code == 404
    assert ParentSignup.query.count() == 0


def test_api_is_in_openapi(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    op = doc["paths"]["/api/v1/events/{event_id}/parent-signups"]["post"]
    assert "consent" in str(op)


# ---------------------------------------------------------------------------------------------
# Concurrency: real parallel connections


def _parallel(app, calls):
    import threading

    from models import db as _db
    from webapp.parents.services import sign_up_parent

    results = []
    barrier = threading.Barrier(len(calls))

    def run(kwargs):
        with app.app_context():
            try:
                barrier.wait()
                sign_up_parent(**kwargs)
                _db.session.commit()
                results.append("ok")
            except ServiceError as err:
                _db.session.rollback()
                results.append(err.code)
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(results)


def test_parallel_duplicates_give_one_signup(app, factory, db):
    event = parent_event(factory)
    db.session.commit()
    call = {"event_id": event.id, "name": "Иванова Мария", "phone": None,
            "email": "same@mail.ru", "consent": True}
    assert _parallel(app, [dict(call, ip=f"10.0.0.{n}") for n in range(4)]) == [
        "duplicate_signup"] * 3 + ["ok"]
    db.session.rollback()
    assert ParentSignup.query.count() == 1


def test_parallel_signups_never_exceed_capacity(app, factory, db):
    event = parent_event(factory, capacity=2)
    db.session.commit()
    calls = [{"event_id": event.id, "name": f"Родитель {'АБВГД'[n]}", "phone": None,
              "email": f"p{n}@mail.ru", "consent": True, "ip": f"10.0.1.{n}"}
             for n in range(5)]
    assert _parallel(app, calls) == ["ok"] * 5
    db.session.rollback()
    statuses = sorted(t.status.value for t in Ticket.query)
    assert statuses == ["confirmed"] * 2 + ["waitlisted"] * 3


def test_retention_erases_old_parents_but_keeps_counts(client, factory, db, runner):
    old = parent_event(factory)
    recent = parent_event(factory)
    db.session.commit()
    signup(client, old, phone="", email="old@mail.ru")
    signup(client, recent, phone="", email="recent@mail.ru")
    db.session.rollback()
    factory.create_checkin(Ticket.query.filter_by(event_id=old.id).one(), at=old.starts_at)
    old.starts_at = now_utc() - timedelta(days=400)
    old.ends_at = old.starts_at + timedelta(hours=2)
    db.session.commit()
    result = runner.invoke(args=["erase-parent-data", "--days", "365"])
    assert result.exit_code == 0, result.output
    assert "Удалены имена и контакты родителей: 1." in result.output
    db.session.rollback()
    erased = ParentSignup.query.filter_by(event_id=old.id).one()
    assert erased.name is None and erased.email is None and erased.withdrawn_at is not None
    assert ParentSignup.query.filter_by(event_id=recent.id).one().email == "recent@mail.ru"
    assert Scan.query.count() == 1 and Ticket.query.count() == 2


from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@given(digits=st.text(alphabet="0123456789", min_size=10, max_size=10),
       prefix=st.sampled_from(["8", "+7", "7", "+7 ", "8 "]),
       separators=st.lists(st.sampled_from(["", " ", "-", "(", ")", "."]), min_size=10,
                           max_size=10))
def test_any_russian_number_with_separators_normalizes(digits, prefix, separators):
    raw = prefix + "".join(sep + d for sep, d in zip(separators, digits, strict=True))
    assert normalize_phone(raw) == "+7" + digits


def test_email_addresses_are_checked_and_idn_domains_converted():
    from webapp.parents.services import normalize_email_address

    assert normalize_email_address(" Ivanova@Mail.RU ") == "ivanova@mail.ru"
    assert normalize_email_address("ivan@почта.рф") == "ivan@xn--80a1acny.xn--p1ai"
    for bad in ["иван@mail.ru", "ivanova@", "@mail.ru", "ivan ova@mail.ru", "a@b", "a@@b.ru",
                "Иванова <ivanova@mail.ru>"]:
        with pytest.raises(ServiceError) as err:
            normalize_email_address(bad)
        assert err.value.fields["email"]


def test_ticket_page_works_for_a_parent_before_and_after_withdrawal(client, factory, db):
    event = parent_event(factory)
    db.session.commit()
    secret = secret_from(signup(client, event))
    token = Ticket.query.one().token
    page = client.get(f"/t/{token}")
    assert page.status_code == 200
    assert "Иванова Мария" not in page.get_data(as_text=True)  # strangers see «Имя Ф.» only
    client.post_form(f"/my/{secret}/withdraw")
    page = client.get(f"/t/{token}")
    assert page.status_code == 200
    assert "Иванова" not in page.get_data(as_text=True)


def test_tampered_fields_get_russian_messages_and_store_nothing(client, factory, db):
    event = parent_event(factory)
    db.session.commit()
    response = signup(client, event, child_grade="14", child_organization_id="abc",
                      name="Я" * 201)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Класс — число от 0 до 11" in page
    assert "Не длиннее 200 символов." in page
    assert "Invalid" not in page and "Not a valid" not in page
    response = signup(client, event, child_organization_id="999999")
    assert "Выберите школу или детский сад из списка." in response.get_data(as_text=True)
    assert ParentSignup.query.count() == 0
