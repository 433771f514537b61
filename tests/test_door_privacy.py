"""Issue #19 at the door: scans store references, not copies of personal data; link holders
learn nothing beyond their event; late syncs are bounded and flagged."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest

from checkin.links import create_scanner_link
from models import Role, Scan, now_utc
from tests.factories import bearer


@pytest.fixture(autouse=True)
def _caller_per_request(app):
    """Tests share one app context, so ``g`` (where the API caches its caller) outlives a
    request; forget the caller between requests as production does."""
    from flask import g

    @app.before_request
    def forget_caller():
        g.pop("api_caller", None)


@pytest.fixture
def door(factory, db):
    organizer = factory.create_user(Role.ORGANIZER)
    event = factory.create_event(organizer.organization,
                                 starts_at=now_utc() + timedelta(minutes=30))
    school = factory.create_org(short_name="СОШ № 7")
    student = factory.create_student(school, last_name="Смирнова", first_name="Алиса",
                                     class_name="7А", ovz=True)
    ticket = factory.create_ticket(event, student)
    link, token = create_scanner_link(organizer, event, label="Маша", gate="Вход А")
    user_token = factory.create_token(organizer)
    db.session.commit()
    return {"organizer": organizer, "event": event, "school": school, "student": student,
            "ticket": ticket, "link": link, "headers": bearer(token),
            "organizer_headers": bearer(user_token)}


def scan(client, door, code, headers=None, **extra):
    return client.post(f"/api/v1/events/{door['event'].id}/scans",
                       json={"code": code, **extra}, headers=headers or door["headers"])


# --------------------------------------------------------------------------- class 8

@pytest.mark.parametrize("endpoint", ["single", "batch"])
def test_scan_row_stores_no_copy_of_the_holder(client, door, endpoint):
    client_id = str(uuid.uuid4())
    if endpoint == "single":
        answer = scan(client, door, door["ticket"].token, client_scan_id=client_id).get_json()
    else:
        answer = client.post(f"/api/v1/events/{door['event'].id}/scans/batch",
                             json={"scans": [{"code": door["ticket"].token,
                                              "client_scan_id": client_id}]},
                             headers=door["headers"]).get_json()["results"][0]
    assert answer["status"] == "ok"
    assert answer["attendee"]["name"] == "Смирнова Алиса"
    assert answer["attendee"]["needs_assistance"] is True
    row = Scan.query.one()
    stored = json.dumps(row.response, ensure_ascii=False)
    assert "Смирнова" not in stored and "Алиса" not in stored
    assert "attendee" not in row.response and "needs_assistance" not in stored
    assert row.response["status"] == "ok" and row.ticket_id == door["ticket"].id


def test_replay_rebuilds_the_attendee_and_keeps_ids(client, door, db):
    client_id = str(uuid.uuid4())
    first = scan(client, door, door["ticket"].token, client_scan_id=client_id).get_json()
    again = scan(client, door, door["ticket"].token, client_scan_id=client_id).get_json()
    assert again == first
    assert Scan.query.count() == 1
    # The attendee block is rebuilt from current data (a corrected name shows the new one).
    door["student"].first_name = "Алиса-Мария"
    db.session.commit()
    third = scan(client, door, door["ticket"].token, client_scan_id=client_id).get_json()
    assert third["attendee"]["name"] == "Смирнова Алиса-Мария"
    assert (third["status"], third["checkin"], third["scan_id"]) == (
        first["status"], first["checkin"], first["scan_id"])


def test_replay_of_an_unknown_code_has_no_attendee(client, door):
    client_id = str(uuid.uuid4())
    first = scan(client, door, "nonsense", client_scan_id=client_id).get_json()
    again = scan(client, door, "nonsense", client_scan_id=client_id).get_json()
    assert first["status"] == again["status"] == "invalid"
    assert again["attendee"] is None and again == first


def test_door_pages_show_the_holder_from_the_ticket(client, door, auth):
    scan(client, door, door["ticket"].token)
    auth.login(door["organizer"].email)
    page = client.get(f"/organizer/events/{door['event'].id}/scans").get_data(as_text=True)
    assert "Смирнова Алиса" in page and "нужна помощь" in page
    board = client.get(f"/organizer/events/{door['event'].id}/board").get_data(as_text=True)
    assert "Смирнова Алиса" in board
