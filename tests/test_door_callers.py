"""One door for every caller (checkin.door.callers, checkin.door.scans.scan): a volunteer's
link, an organizer's token, the organizer's signed-in session and an offline batch all give
the same answer and the same scan row, and each credential is checked by the one rule it
has elsewhere (a revoked token, an ended session, an expired link)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from checkin.door.links import create_scanner_link
from models import ApiToken, Role, Scan, ScanOutcome, db, now_utc
from tests.factories import bearer


@pytest.fixture
def door(factory, db):
    organizer = factory.create_user(Role.ORGANIZER, email="org@test.local")
    event = factory.create_event(organizer.organization, starts_at=now_utc() + timedelta(hours=1))
    school = factory.create_org(short_name="СОШ № 7")
    tickets = [factory.create_ticket(event, factory.create_student(
        school, last_name=f"Смирнова{n}", first_name="Анна", class_name="9А", grade=9))
        for n in range(4)]
    token = factory.create_token(organizer)
    _link, link_token = create_scanner_link(organizer, event, label="Волонтёр", gate="Вход А")
    db.session.commit()
    return {"organizer": organizer, "event": event, "school": school, "tickets": tickets,
            "token": token, "link_token": link_token,
            "url": f"/api/v1/events/{event.id}/scans"}


def _session_headers(client, auth, door) -> dict:
    auth.login(door["organizer"].email)
    return {"X-CSRFToken": client.csrf_token()}


def _callers(client, auth, door) -> dict:
    return {"link": bearer(door["link_token"]), "token": bearer(door["token"]),
            "session": _session_headers(client, auth, door)}


def _scan(client, door, headers, code, **extra):
    return client.post(door["url"], json={"code": code, **extra}, headers=headers)


def test_every_caller_gets_the_same_answer_and_row(client, auth, door):
    """Each caller kind checks a ticket in, then gets the same «already» for the same ticket,
    and its scan row names who scanned (the user, or the link)."""
    callers = _callers(client, auth, door)
    answers = {}
    for (kind, headers), ticket in zip(callers.items(), door["tickets"], strict=False):
        first = _scan(client, door, headers, ticket.token, device_label=kind).get_json()
        again = _scan(client, door, headers, ticket.token).get_json()
        assert first["status"] == "ok", (kind, first)
        assert again["status"] == "already_checked_in", (kind, again)
        answers[kind] = (first, again)
        row = db.session.get(Scan, first["scan_id"])
        assert row.ticket_id == ticket.id and row.device_label == kind
        assert row.student_id == ticket.student_id and row.organization_id == door["school"].id
        if kind == "link":
            assert row.user_id is None and row.scanner_link_id is not None
            assert row.gate == "Вход А"
        else:
            assert row.user_id == door["organizer"].id and row.scanner_link_id is None
    shapes = {kind: (sorted(first), sorted(again)) for kind, (first, again) in answers.items()}
    assert len({repr(shape) for shape in shapes.values()}) == 1, shapes
    by = {kind: again["first_checkin"]["by"] for kind, (_first, again) in answers.items()}
    assert by["link"].startswith("сканер «Волонтёр»")
    assert by["token"].split(" (")[0] == by["session"].split(" (")[0] != by["link"]


def test_an_ended_session_scans_nothing(client, auth, door):
    """The door reads the session's login itself: a login ended elsewhere (logout on another
    device, a password change) is refused as on every page."""
    headers = _session_headers(client, auth, door)
    door["organizer"].end_sessions()
    db.session.commit()
    response = _scan(client, door, headers, door["tickets"][0].token)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert Scan.query.count() == 0


def test_a_login_older_than_its_limit_scans_nothing(client, auth, door, app, monkeypatch):
    headers = _session_headers(client, auth, door)
    later = now_utc() + timedelta(days=app.config["LOGIN_SESSION_MAX_DAYS"], hours=1)
    monkeypatch.setattr("models.user.now_utc", lambda: later)
    assert _scan(client, door, headers, door["tickets"][0].token).status_code == 401
    assert Scan.query.count() == 0


def test_an_inactive_users_token_and_a_revoked_token_scan_nothing(client, door):
    door["organizer"].active = False
    db.session.commit()
    refused = _scan(client, door, bearer(door["token"]), door["tickets"][0].token)
    assert refused.status_code == 401 and "отключён" in refused.get_json()["error"]["message"]
    door["organizer"].active = True
    ApiToken.query.one().revoked_at = now_utc()
    db.session.commit()
    assert _scan(client, door, bearer(door["token"]), door["tickets"][0].token).status_code == 401
    assert Scan.query.count() == 0


@pytest.mark.parametrize("token", ["pr_" + "x" * 43, "sl_" + "x" * 43, "неизвестный",
                                   "pr_" + "x" * 300])
def test_unknown_tokens_are_401(client, door, token):
    response = _scan(client, door, bearer(token), door["tickets"][0].token)
    assert response.status_code == 401 and Scan.query.count() == 0


def test_a_tokens_use_is_recorded_once_a_minute(client, door):
    row = ApiToken.query.one()
    assert row.last_used_at is None
    assert _scan(client, door, bearer(door["token"]), door["tickets"][0].token).status_code == 200
    db.session.expire_all()
    first_use = ApiToken.query.one().last_used_at
    assert first_use is not None
    _scan(client, door, bearer(door["token"]), door["tickets"][1].token)
    db.session.expire_all()
    assert ApiToken.query.one().last_used_at == first_use


def test_a_hash_code_of_another_event_is_not_looked_up_before_the_caller(client, door, factory):
    """A ``#hash`` names a ticket only among the event's tickets, and only for a caller the
    door accepted: an unknown token learns nothing."""
    digest = __import__("hashlib").sha256(door["tickets"][0].token.encode()).hexdigest()[:16]
    refused = _scan(client, door, bearer("sl_" + "y" * 43), "#" + digest)
    assert refused.status_code == 401
    accepted = _scan(client, door, bearer(door["link_token"]), "#" + digest).get_json()
    assert accepted["status"] == "ok" and accepted["attendee"]["name"] == "Смирнова0 Анна"


def test_batch_goes_through_the_same_door(client, auth, door):
    """An offline batch from each caller kind: the same answers as single scans."""
    callers = _callers(client, auth, door)
    at = (now_utc() - timedelta(minutes=10)).isoformat()
    for kind, headers in callers.items():
        response = client.post(door["url"] + "/batch", headers=headers, json={"scans": [
            {"code": door["tickets"][0].token, "client_scan_id": f"{kind}-1", "scanned_at": at},
            {"code": "мусор", "client_scan_id": f"{kind}-2", "scanned_at": at}]})
        assert response.status_code == 200, (kind, response.get_json())
        statuses = [r["status"] for r in response.get_json()["results"]]
        assert statuses == (["ok", "invalid"] if kind == "link"
                            else ["already_checked_in", "invalid"]), (kind, statuses)
    checkin = Scan.query.filter_by(outcome=ScanOutcome.OK).one()
    assert checkin.scanner_link_id is not None and checkin.user_id is None


def test_a_scan_made_as_an_object_copies_its_holder_explicitly(door):
    """No hidden ORM hook writes the holder's facts: the door's INSERT and ``Scan(ticket=…)``
    copy them through the one derivation (models.scan.holder_facts)."""
    assert not Scan.__mapper__.dispatch.before_insert
    ticket = door["tickets"][0]
    made = Scan(event_id=door["event"].id, ticket=ticket, raw_code="x",
                outcome=ScanOutcome.OK, scanned_at=now_utc(), received_at=now_utc())
    assert (made.student_id, made.teacher_id, made.organization_id) == (
        ticket.student_id, None, door["school"].id)
