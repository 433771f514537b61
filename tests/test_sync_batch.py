"""POST /api/v1/events/{id}/scans/batch: offline sync and merging scans from many phones."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from models import Role, Scan, ScanOutcome, TicketStatus, now_utc
from tests.factories import bearer


@pytest.fixture
def door(factory, db):
    organizer = factory.create_user(Role.ORGANIZER)
    event = factory.create_event(organizer.organization,
                                 starts_at=now_utc() - timedelta(minutes=30))
    school = factory.create_org(short_name="СОШ № 4")
    tickets = [factory.create_ticket(event, factory.create_student(school)) for _ in range(5)]
    token = factory.create_token(organizer)
    db.session.commit()
    return {"event": event, "tickets": tickets, "headers": bearer(token), "school": school,
            "organizer": organizer}


def batch(client, door, scans, **extra):
    return client.post(f"/api/v1/events/{door['event'].id}/scans/batch",
                       json={"scans": scans, **extra}, headers=door["headers"])


def item(code, minutes_ago, device="A", **extra):
    return {"code": code, "client_scan_id": str(uuid.uuid4()), "device_label": device,
            "scanned_at": (now_utc() - timedelta(minutes=minutes_ago)).isoformat(), **extra}


def checkins(event):
    return Scan.query.filter_by(event_id=event.id, outcome=ScanOutcome.OK,
                                undone_at=None).all()


def test_results_in_request_order_with_offline_times(client, door):
    t = door["tickets"]
    scans = [item(t[0].token, 5), item(t[1].token, 20), item(t[2].token, 10)]
    response = batch(client, door, scans)
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == ["ok", "ok", "ok"]
    by_ticket = {s.ticket_id: s for s in checkins(door["event"])}
    for scan_item, ticket in zip(scans, t[:3], strict=True):
        assert by_ticket[ticket.id].scanned_at.isoformat() == scan_item["scanned_at"]
        assert by_ticket[ticket.id].device_label == "A"
        # Who the check-in counts for is copied from the ticket (the reports read it).
        assert (by_ticket[ticket.id].student_id, by_ticket[ticket.id].organization_id) == \
            (ticket.student_id, door["school"].id)


def test_reordered_scans_the_earliest_wins_within_a_batch(client, door):
    code = door["tickets"][0].token
    later, earlier = item(code, 2, "B"), item(code, 9, "A")
    results = batch(client, door, [later, earlier]).get_json()["results"]
    assert [r["status"] for r in results] == ["already_checked_in", "ok"]
    [checkin] = checkins(door["event"])
    assert checkin.device_label == "A"
    assert checkin.scanned_at.isoformat() == earlier["scanned_at"]


def test_same_ticket_from_three_devices_in_any_arrival_order(client, door):
    code = door["tickets"][0].token
    a, b, c = item(code, 3, "B"), item(code, 12, "A"), item(code, 7, "C")
    # Each phone syncs on its own, the latest-made first.
    assert batch(client, door, [a]).get_json()["results"][0]["status"] == "ok"
    assert batch(client, door, [c]).get_json()["results"][0]["status"] == "ok"
    assert batch(client, door, [b]).get_json()["results"][0]["status"] == "ok"
    [checkin] = checkins(door["event"])
    assert checkin.device_label == "A"
    assert checkin.scanned_at.isoformat() == b["scanned_at"]
    rows = Scan.query.filter_by(ticket_id=door["tickets"][0].id).all()
    assert len(rows) == 3
    assert sorted(r.outcome.value for r in rows) == ["already_checked_in", "already_checked_in",
                                                     "ok"]
    # Retried syncs change nothing: each phone gets its first answer back.
    for scan_item in (a, b, c):
        batch(client, door, [scan_item])
    assert Scan.query.filter_by(ticket_id=door["tickets"][0].id).count() == 3
    assert len(checkins(door["event"])) == 1


def test_online_scan_then_earlier_offline_scan_takes_over(client, door):
    code = door["tickets"][1].token
    online = client.post(f"/api/v1/events/{door['event'].id}/scans", json={"code": code},
                         headers=door["headers"]).get_json()
    assert online["status"] == "ok"
    offline = item(code, 15, "Офлайн")
    assert batch(client, door, [offline]).get_json()["results"][0]["status"] == "ok"
    [checkin] = checkins(door["event"])
    assert checkin.device_label == "Офлайн"
    first = Scan.query.filter_by(id=online["scan_id"]).one()
    assert first.outcome == ScanOutcome.ALREADY_CHECKED_IN


def test_retried_batch_records_nothing_new_and_returns_same_results(client, door):
    scans = [item(t.token, 5 + i) for i, t in enumerate(door["tickets"])]
    first = batch(client, door, scans).get_json()["results"]
    count = Scan.query.count()
    again = batch(client, door, scans).get_json()["results"]
    assert again == first
    assert Scan.query.count() == count == 5


def test_mixed_valid_and_invalid_items(client, door):
    t = door["tickets"]
    scans = [
        item(t[0].token, 4),
        {"code": ""},                                     # malformed: no code
        item("unknown-code", 3),                          # a scan with outcome invalid
        "not an object",                                  # malformed
        item(t[1].token, 2, scanned_at="когда-то"),       # malformed time
        item(t[2].token, 1),
    ]
    results = batch(client, door, scans).get_json()["results"]
    assert len(results) == 6
    assert results[0]["status"] == "ok"
    assert results[1]["status"] == "error" and "code" in results[1]["error"]["fields"]
    assert results[2]["status"] == "invalid"
    assert results[3]["status"] == "error"
    assert results[4]["status"] == "error" and "scanned_at" in results[4]["error"]["fields"]
    assert results[5]["status"] == "ok"
    assert {s.ticket_id for s in checkins(door["event"])} == {t[0].id, t[2].id}
    assert Scan.query.count() == 3


def test_offline_scan_of_ticket_cancelled_meanwhile_is_recorded_and_flagged(client, door, db):
    ticket = door["tickets"][3]
    ticket.status = TicketStatus.CANCELLED
    ticket.cancelled_at = now_utc() - timedelta(minutes=1)
    db.session.commit()
    [result] = batch(client, door, [item(ticket.token, 8)]).get_json()["results"]
    assert result["status"] == "cancelled" and result["flag"] == "cancelled_offline"
    row = Scan.query.filter_by(ticket_id=ticket.id).one()
    assert row.flag == "cancelled_offline" and row.outcome == ScanOutcome.CANCELLED


def test_clock_skew_in_batch(client, door):
    future = {"code": door["tickets"][0].token,
              "scanned_at": (now_utc() + timedelta(days=1)).isoformat()}
    [result] = batch(client, door, [future]).get_json()["results"]
    assert result["status"] == "ok" and result["flag"] == "clock_skew"
    assert checkins(door["event"])[0].scanned_at < now_utc() + timedelta(seconds=5)


def test_skewed_scan_does_not_take_over(client, door):
    code = door["tickets"][0].token
    batch(client, door, [item(code, 5, "A")])
    # A phone whose clock says last year: not believed, so it cannot be "earliest".
    batch(client, door, [{"code": code, "scanned_at": "2024-01-01T09:00:00+07:00",
                          "device_label": "B"}])
    [checkin] = checkins(door["event"])
    assert checkin.device_label == "A"


def test_hash_code_checks_in_a_ticked_person(client, door):
    import hashlib

    ticket = door["tickets"][4]
    digest = hashlib.sha256(ticket.token.encode()).hexdigest()[:16]
    [result] = batch(client, door, [item("#" + digest, 3)]).get_json()["results"]
    assert result["status"] == "ok"
    assert checkins(door["event"])[0].ticket_id == ticket.id


def test_hash_code_of_another_events_ticket_is_invalid(client, door, factory, db):
    import hashlib

    other = factory.create_event()
    ticket = factory.create_ticket(other, factory.create_student(door["school"]))
    db.session.commit()
    digest = hashlib.sha256(ticket.token.encode()).hexdigest()[:16]
    [result] = batch(client, door, [item("#" + digest, 3)]).get_json()["results"]
    assert result["status"] == "invalid"


def test_batch_of_the_phones_size(client, door, factory, db):
    """The phone sends at most 200 scans a request (BATCH_SIZE in the scanner's app.js)."""
    from checkin.door.sync import MAX_BATCH

    app_js = (Path(__file__).parents[1] / "webapp/static/js/scanner/app.js").read_text()
    assert f"var BATCH_SIZE = {MAX_BATCH};" in app_js
    event = door["event"]
    event.capacity = MAX_BATCH
    tickets = list(door["tickets"])
    for n in range(MAX_BATCH - len(tickets)):
        student = factory.create_student(door["school"], last_name=f"Ученик{n}")
        tickets.append(factory.create_ticket(event, student))
    db.session.commit()
    scans = [item(t.token, 1 + (i % 50), f"Телефон {i % 4}") for i, t in enumerate(tickets)]
    response = batch(client, door, scans)
    results = response.get_json()["results"]
    assert len(results) == MAX_BATCH and all(r["status"] == "ok" for r in results)
    assert len(checkins(event)) == MAX_BATCH
    again = batch(client, door, scans).get_json()["results"]
    assert again == results and Scan.query.count() == MAX_BATCH


def test_more_than_the_phones_batch_is_413_and_records_nothing(client, door):
    scans = [item(door["tickets"][0].token, 1) for _ in range(201)]
    response = batch(client, door, scans)
    assert response.status_code == 413
    error = response.get_json()["error"]
    assert error["code"] == "batch_too_large" and "200" in error["message"]
    assert set(error) == {"code", "message", "fields"}
    assert Scan.query.count() == 0


@pytest.mark.parametrize("bad", [
    {"code": "AB\x00CD"},
    {"code": "x" * 10_001},
    {"scanned_at": "2025-10-01T10:00:00+07:00" + "0" * 100_000},
    {"scanned_at": "0001-01-01T00:00:00+14:00"},
    {"client_scan_id": "id\x00"},
    {"device_label": "Телефон\x00"},
    {"gate": "x" * 101},
])
def test_one_bad_item_fails_alone(client, door, bad):
    """A NUL byte, a huge string or a malformed time in one item: that item gets its own
    error in its position, the others are checked in (PostgreSQL refuses NUL in text; it used
    to fail the whole batch, every time the phone retried it)."""
    t = door["tickets"]
    scans = [item(t[0].token, 3), {**item(t[1].token, 2), **bad}, item(t[2].token, 1)]
    response = batch(client, door, scans)
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == ["ok", "error", "ok"]
    assert results[1]["error"]["code"] == "validation_error"
    assert results[1]["error"]["fields"]
    assert {s.ticket_id for s in checkins(door["event"])} == {t[0].id, t[2].id}
    assert Scan.query.count() == 2


def test_nul_in_a_single_scan_is_refused(client, door):
    """The input guard refuses it before the door (only a batch judges items one by one)."""
    response = client.post(f"/api/v1/events/{door['event'].id}/scans",
                           json={"code": "AB\x00CD"}, headers=door["headers"])
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_characters" and "code" in error["fields"]
    assert Scan.query.count() == 0


@pytest.mark.parametrize("body", [{}, {"scans": "x"}, {"scans": {"code": "x"}}])
def test_malformed_batch_is_422(client, door, body):
    response = client.post(f"/api/v1/events/{door['event'].id}/scans/batch", json=body,
                           headers=door["headers"])
    assert response.status_code == 422 and Scan.query.count() == 0


def test_batch_level_device_and_gate(client, door):
    batch(client, door, [{"code": door["tickets"][0].token}], device_label="Планшет",
          gate="Вход Б")
    [row] = Scan.query.all()
    assert row.device_label == "Планшет" and row.gate == "Вход Б"



@pytest.mark.parametrize("caller", ["organizer", "scanner_link"])
def test_late_offline_scan_on_the_single_endpoint_takes_over(client, door, db, caller):
    """The single-scan endpoint runs in autocommit; a scan made offline earlier than the
    recorded check-in rewrites both rows, so it is redone in a transaction."""
    from checkin.door.links import create_scanner_link

    headers = door["headers"]
    if caller == "scanner_link":
        _link, link_token = create_scanner_link(door["organizer"], door["event"],
                                                label="Волонтёр", gate="Вход Б")
        db.session.commit()
        headers = bearer(link_token)
    code = door["tickets"][3].token
    url = f"/api/v1/events/{door['event'].id}/scans"
    online = client.post(url, json={"code": code}, headers=headers).get_json()
    assert online["status"] == "ok"
    late_scan = item(code, 15, "Офлайн")
    late = client.post(url, json=late_scan, headers=headers).get_json()
    assert late["status"] == "ok"
    [checkin] = checkins(door["event"])
    assert (checkin.id, checkin.device_label) == (late["scan_id"], "Офлайн")
    db.session.expire_all()
    assert db.session.get(Scan, online["scan_id"]).outcome == ScanOutcome.ALREADY_CHECKED_IN
    # The same client id again: the first answer, nothing new recorded.
    count = Scan.query.count()
    assert client.post(url, json=late_scan, headers=headers).get_json() == late
    assert Scan.query.count() == count


def test_take_over_on_the_single_endpoint_is_all_or_nothing(client, door, db, monkeypatch):
    """A failure after the take-over's UPDATE and INSERT leaves both rows as they were."""
    import checkin.door.scans as services

    code = door["tickets"][4].token
    url = f"/api/v1/events/{door['event'].id}/scans"
    online = client.post(url, json={"code": code}, headers=door["headers"]).get_json()
    count = Scan.query.count()

    def broken(*_args):
        raise RuntimeError("the server fell over after writing")

    monkeypatch.setattr(services, "_with_ids", broken)
    with pytest.raises(RuntimeError):
        client.post(url, json=item(code, 15, "Офлайн"), headers=door["headers"])
    db.session.rollback()
    assert Scan.query.count() == count
    assert db.session.get(Scan, online["scan_id"]).outcome == ScanOutcome.OK
