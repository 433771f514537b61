"""Parallel scans through real parallel connections (threads, each request with its own app
context and database session). Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.

The phones authenticate with a scanner link's token, as volunteers at the door do.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from checkin.door.links import create_scanner_link
from models import Role, Scan, ScanOutcome, db, now_utc
from tests.factories import bearer

PARALLEL = 50


@pytest.fixture
def door(factory, db):
    organizer = factory.create_user(Role.ORGANIZER)
    event = factory.create_event(organizer.organization, starts_at=now_utc() + timedelta(hours=1))
    school = factory.create_org()
    ticket = factory.create_ticket(event, factory.create_student(school))
    _link, token = create_scanner_link(organizer, event, label="Волонтёр", gate="Главный вход")
    db.session.commit()
    return {"event_id": event.id, "ticket_id": ticket.id, "token": ticket.token,
            "headers": bearer(token)}


def run_parallel(app, requests: list[tuple[str, dict, dict]]) -> list:
    barrier = threading.Barrier(len(requests))

    def one(args):
        url, body, headers = args
        client = app.test_client()
        barrier.wait(timeout=30)
        response = client.post(url, json=body, headers=headers)
        return response.status_code, response.get_json()

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(one, requests))


def test_fifty_parallel_scans_of_one_ticket_give_exactly_one_ok(app, door):
    url = f"/api/v1/events/{door['event_id']}/scans"
    results = run_parallel(app, [(url, {"code": door["token"], "device_label": f"Т{i}"},
                                  door["headers"]) for i in range(PARALLEL)])
    assert all(code == 200 for code, _ in results), results
    statuses = [body["status"] for _, body in results]
    assert statuses.count("ok") == 1
    assert statuses.count("already_checked_in") == PARALLEL - 1
    db.session.remove()
    rows = Scan.query.filter_by(ticket_id=door["ticket_id"]).all()
    assert len(rows) == PARALLEL
    assert sum(r.outcome == ScanOutcome.OK for r in rows) == 1
    ok_id = next(body["scan_id"] for _, body in results if body["status"] == "ok")
    assert {body["first_checkin"]["id"] for _, body in results
            if body["status"] == "already_checked_in"} == {ok_id}


def test_parallel_retries_of_one_client_scan_id_record_one_scan(app, door):
    url = f"/api/v1/events/{door['event_id']}/scans"
    results = run_parallel(app, [(url, {"code": door["token"], "client_scan_id": "same-id"},
                                  door["headers"]) for _ in range(20)])
    assert all(code == 200 for code, _ in results), results
    bodies = [body for _, body in results]
    assert all(b == bodies[0] for b in bodies) and bodies[0]["status"] == "ok"
    db.session.remove()
    assert Scan.query.filter_by(ticket_id=door["ticket_id"]).count() == 1


def test_parallel_batches_from_three_phones_keep_the_earliest(app, door):
    url = f"/api/v1/events/{door['event_id']}/scans/batch"
    times = [now_utc() - timedelta(minutes=m) for m in (4, 11, 7)]
    requests = [(url, {"scans": [{"code": door["token"], "client_scan_id": f"p{i}",
                                  "scanned_at": at.isoformat()}], "device_label": f"P{i}"},
                 door["headers"]) for i, at in enumerate(times)]
    results = run_parallel(app, requests)
    assert all(code == 200 for code, _ in results), results
    db.session.remove()
    [checkin] = Scan.query.filter_by(ticket_id=door["ticket_id"], outcome=ScanOutcome.OK).all()
    assert checkin.device_label == "P1" and checkin.scanned_at == times[1]
    assert Scan.query.filter_by(ticket_id=door["ticket_id"]).count() == 3
