"""Issue #19 at the door: scans store references, not copies of personal data; link holders
learn nothing beyond their event; late syncs are bounded and flagged."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest

from checkin.door.links import create_scanner_link
from models import Role, Scan, now_utc
from tests.factories import bearer


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


# --------------------------------------------------------------------------- class 1: links

@pytest.fixture
def roster(factory, db, door):
    """A school registered at the event (one group) and a child of another school, with ОВЗ,
    who is not registered at this event at all."""
    from models import Registration

    registration = Registration(event_id=door["event"].id, organization_id=door["school"].id)
    db.session.add(registration)
    db.session.flush()
    door["ticket"].registration_id = registration.id
    outsider_school = factory.create_org(short_name="Лицей № 9")
    outsider = factory.create_student(outsider_school, last_name="Тайнова", first_name="Ева",
                                      class_name="6А", grade=6, ovz=True)
    db.session.commit()
    return {"registration": registration, "outsider_school": outsider_school,
            "outsider": outsider}


def walk_in(client, door, headers=None, **body):
    return client.post(f"/api/v1/events/{door['event'].id}/walk-ins", json=body,
                       headers=headers or door["headers"])


def counts():
    from models import Student, Ticket, WalkIn

    return {"students": Student.query.count(), "tickets": Ticket.query.count(),
            "scans": Scan.query.count(), "walk_ins": WalkIn.query.count()}


def test_link_walk_in_neither_matches_nor_writes_a_roster(client, door, roster):
    """A link cannot learn that a child of another school exists (or has ОВЗ), nor create a
    roster row, a ticket or a counted check-in: the person waits for confirmation."""
    before = counts()
    known = walk_in(client, door, kind="student", organization_id=roster["outsider_school"].id,
                    last_name="Тайнова", first_name="Ева", class_name="6А",
                    client_scan_id="w-1")
    unknown = walk_in(client, door, kind="student",
                      organization_id=roster["outsider_school"].id, last_name="Выдумкина",
                      first_name="Ева", class_name="6А", client_scan_id="w-2")
    assert known.status_code == unknown.status_code == 202
    a, b = known.get_json(), unknown.get_json()
    assert a["status"] == b["status"] == "pending"
    assert a["checkin"] is None and a["scan_id"] is None
    assert a["attendee"] == {"name": "Тайнова Ева", "kind": "student",
                             "organization": "Лицей № 9", "class_name": "6А",
                             "needs_assistance": False}
    # The same answer whether the child is in a roster or not (no oracle).
    assert set(a) == set(b) and a["attendee"]["needs_assistance"] == b["attendee"][
        "needs_assistance"]
    assert counts() == {**before, "walk_ins": before["walk_ins"] + 2}
    assert Scan.query.filter_by(outcome="ok").count() == 0
    # A retry gives the first answer and writes nothing.
    again = walk_in(client, door, kind="student", organization_id=roster["outsider_school"].id,
                    last_name="Тайнова", first_name="Ева", class_name="6А",
                    client_scan_id="w-1")
    assert again.get_json() == a and counts()["walk_ins"] == before["walk_ins"] + 2


def test_link_walk_in_counts_in_indicators_only_after_confirmation(client, door, roster, auth,
                                                                  db):
    from models import AuditLog, Student, Ticket, WalkIn

    body = walk_in(client, door, kind="student", organization_id=roster["outsider_school"].id,
                   last_name="тайнова", first_name="ева", class_name="6а").get_json()
    walk_in_id = body["walk_in"]["id"]
    auth.login(door["organizer"].email)
    page = client.get(f"/organizer/events/{door['event'].id}/door-review")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "тайнова ева, 6А" in text and "Лицей № 9" in text
    response = client.post_form(
        f"/organizer/events/{door['event'].id}/walk-ins/{walk_in_id}/confirm")
    assert response.status_code == 303
    # The organizer's confirmation finds the roster's child (no duplicate) and checks her in
    # at the time she came.
    assert Student.query.filter_by(last_name="Тайнова").count() == 1
    ticket = Ticket.query.filter_by(student_id=roster["outsider"].id).one()
    checkin = Scan.query.filter_by(ticket_id=ticket.id, outcome="ok").one()
    assert checkin.scanned_at.isoformat() == body["walk_in"]["arrived_at"]
    assert checkin.student_id == roster["outsider"].id
    assert checkin.organization_id == roster["outsider_school"].id and not checkin.forced
    assert db.session.get(WalkIn, walk_in_id) is None
    assert AuditLog.query.filter_by(action="checkin.walk_in_confirm").count() == 1
    follow = client.get(f"/organizer/events/{door['event'].id}/door-review")
    assert "подтверждён(а)" in follow.get_data(as_text=True)


def test_rejected_walk_in_writes_nothing(client, door, roster, auth):
    before = counts()
    body = walk_in(client, door, kind="teacher", organization_id=door["school"].id,
                   last_name="Ложкина", first_name="Анна").get_json()
    auth.login(door["organizer"].email)
    response = client.post_form(
        f"/organizer/events/{door['event'].id}/walk-ins/{body['walk_in']['id']}/reject")
    assert response.status_code == 303
    assert counts() == before


def test_organizer_walk_in_is_still_checked_in_at_once(client, door, roster):
    response = walk_in(client, door, headers=door["organizer_headers"], kind="student",
                       organization_id=roster["outsider_school"].id, last_name="Тайнова",
                       first_name="Ева", class_name="6А")
    assert response.status_code == 201 and response.get_json()["status"] == "ok"


def _secrets(door) -> list[str]:
    from models import Ticket

    found = []
    for t in Ticket.query.all():
        found += [t.token, t.short_code]
    return found


def test_no_ticket_token_in_any_link_answer(client, door, roster):
    event_id = door["event"].id
    group_code = roster["registration"].group_code
    answers = {
        "search": client.get(f"/api/v1/events/{event_id}/tickets?q=Смир",
                             headers=door["headers"]),
        "group": client.get(f"/api/v1/events/{event_id}/groups/{group_code}",
                            headers=door["headers"]),
        "offline": client.get(f"/api/v1/events/{event_id}/scanner-data",
                              headers=door["headers"]),
    }
    for name, response in answers.items():
        assert response.status_code == 200, name
        text = response.get_data(as_text=True)
        assert all(secret not in text for secret in _secrets(door)), name
    [person] = answers["search"].get_json()["tickets"]
    [member] = answers["group"].get_json()["tickets"]
    assert person["code"] == member["code"] and person["code"].startswith("#")
    # The code found by search checks the person in through the link (and the answer holds
    # no token either).
    result = scan(client, door, person["code"])
    assert result.get_json()["status"] == "ok"
    assert all(secret not in result.get_data(as_text=True) for secret in _secrets(door))
    replay = scan(client, door, door["ticket"].token)
    assert all(secret not in replay.get_data(as_text=True) for secret in _secrets(door))
    # The organizer signed in keeps seeing what they saw (the ticket's token).
    own = client.get(f"/api/v1/events/{event_id}/tickets?q=Смир",
                     headers=door["organizer_headers"]).get_json()["tickets"]
    assert own[0]["code"] == door["ticket"].token


def test_hash_code_of_a_link_works_for_its_event_only(client, door, factory, db):
    other = factory.create_event(door["organizer"].organization,
                                 starts_at=now_utc() + timedelta(minutes=30))
    db.session.commit()
    [person] = client.get(f"/api/v1/events/{door['event'].id}/tickets?q=Смир",
                          headers=door["headers"]).get_json()["tickets"]
    response = client.post(f"/api/v1/events/{other.id}/scans", json={"code": person["code"]},
                           headers=door["organizer_headers"])
    assert response.get_json()["status"] == "invalid"


@pytest.fixture
def closed_door(factory, db):
    """An event whose check-in closed an hour ago, with a link still valid for two days."""
    organizer = factory.create_user(Role.ORGANIZER)
    event = factory.create_event(organizer.organization,
                                 starts_at=now_utc() - timedelta(hours=3))
    school = factory.create_org(short_name="СОШ № 7")
    tickets = [factory.create_ticket(event, factory.create_student(school)) for _ in range(3)]
    link, token = create_scanner_link(organizer, event, label="Волонтёр",
                                      expires_at=now_utc() + timedelta(days=2))
    db.session.commit()
    return {"organizer": organizer, "event": event, "tickets": tickets, "link": link,
            "headers": bearer(token)}


@pytest.mark.parametrize("path", ["scanner-data", "tickets?q=Ив", "groups/abc"])
def test_link_downloads_stop_when_checkin_closes(client, closed_door, path):
    response = client.get(f"/api/v1/events/{closed_door['event'].id}/{path}",
                          headers=closed_door["headers"])
    assert response.status_code == 403
    error = response.get_json()["error"]
    assert error["code"] == "checkin_closed" and "закрыт" in error["message"]


# --------------------------------------------------------------------------- class 2: late

def test_late_sync_within_grace_counts_flagged_and_listed(client, closed_door, auth):
    event = closed_door["event"]
    made = event.effective_checkin_closes_at - timedelta(minutes=20)
    ticket = closed_door["tickets"][0]
    response = client.post(f"/api/v1/events/{event.id}/scans/batch", json={"scans": [
        {"code": ticket.token, "client_scan_id": "late-1", "scanned_at": made.isoformat()}]},
        headers=closed_door["headers"])
    [result] = response.get_json()["results"]
    assert result["status"] == "ok" and result["flag"] == "late_sync"
    row = Scan.query.one()
    assert row.outcome.value == "ok" and row.flag == "late_sync" and row.scanned_at == made
    auth.login(closed_door["organizer"].email)
    page = client.get(f"/organizer/events/{event.id}/door-review").get_data(as_text=True)
    assert f'id="late-{row.id}"' in page and "Поздняя синхронизация" in page


def test_late_sync_after_grace_is_recorded_as_refused(client, factory, db, app):
    organizer = factory.create_user(Role.ORGANIZER)
    event = factory.create_event(organizer.organization,
                                 starts_at=now_utc() - timedelta(hours=30))
    ticket = factory.create_ticket(event, factory.create_student(factory.create_org()))
    _link, token = create_scanner_link(organizer, event, label="Волонтёр",
                                       expires_at=now_utc() + timedelta(days=2))
    db.session.commit()
    made = event.effective_checkin_closes_at - timedelta(minutes=20)
    response = client.post(f"/api/v1/events/{event.id}/scans", json={
        "code": ticket.token, "scanned_at": made.isoformat()}, headers=bearer(token))
    body = response.get_json()
    assert response.status_code == 200
    assert body["status"] == "not_open" and body["flag"] == "late_sync_refused"
    assert body["checkin"] is None
    row = Scan.query.one()  # nothing lost: the scan is stored with its outcome
    assert row.outcome.value == "not_open" and row.flag == "late_sync_refused"
    # The grace period is configuration.
    app.config["SCAN_LATE_SYNC_GRACE_HOURS"] = 48
    again = client.post(f"/api/v1/events/{event.id}/scans", json={
        "code": ticket.token, "scanned_at": made.isoformat()}, headers=bearer(token))
    assert again.get_json()["status"] == "ok" and again.get_json()["flag"] == "late_sync"


def test_scan_in_the_window_is_not_flagged_late(client, door):
    body = scan(client, door, door["ticket"].token).get_json()
    assert body["status"] == "ok" and body["flag"] is None


def test_the_school_confirms_its_own_walk_ins_only(client, door, roster, auth, factory, db):
    from models import Student, Ticket, WalkIn

    mine = walk_in(client, door, kind="student", organization_id=roster["outsider_school"].id,
                   last_name="Новикова", first_name="Дарья", class_name="6А").get_json()
    other = walk_in(client, door, kind="teacher", organization_id=door["school"].id,
                    last_name="Чужая", first_name="Анна").get_json()
    coordinator = factory.create_user(Role.COORDINATOR, organization=roster["outsider_school"])
    db.session.commit()
    auth.login(coordinator.email)
    page = client.get("/school/walk-ins").get_data(as_text=True)
    assert "Новикова Дарья, 6А" in page and "Чужая" not in page
    # Another school's walk-in: not found, nothing changes.
    response = client.post_form(f"/school/walk-ins/{other['walk_in']['id']}/confirm")
    assert response.status_code == 404
    assert db.session.get(WalkIn, other["walk_in"]["id"]) is not None
    response = client.post_form(f"/school/walk-ins/{mine['walk_in']['id']}/confirm")
    assert response.status_code == 303
    student = Student.query.filter_by(last_name="Новикова").one()
    assert student.organization_id == roster["outsider_school"].id and student.grade == 6
    ticket = Ticket.query.filter_by(student_id=student.id).one()
    assert Scan.query.filter_by(ticket_id=ticket.id, outcome="ok").count() == 1
    assert "подтверждён(а)" in client.get("/school/walk-ins").get_data(as_text=True)
