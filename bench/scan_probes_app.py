"""The app of bench/scan_floor_bench.py: the real application plus probe endpoints that do part
of a scan's work each, to show where the scan's time goes. Served only by that benchmark."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify

from checkin.door.connection import DoorConnection
from checkin.door.scans import prefetch_lookup, prepare_scan, scanner_fields
from checkin.door.statements import DoorStatement
from webapp import create_app
from webapp.api.scans import _bearer, link_access
from webapp.api.validation import json_body
from webapp.extensions import csrf

#: A scan's answer of the usual size.
ANSWER = {"attendee": {"class_name": "8А", "kind": "student", "name": "Иванов1234 Пётр",
                       "needs_assistance": False, "organization": "СОШ № 12"},
          "checkin": {"at": "2026-12-02T06:48:38.491000+00:00", "id": 1234}, "flag": None,
          "forced": False, "message": "Билет принят", "scan_id": 1234, "status": "ok"}
SELECT_ONE = DoorStatement(sa.select(sa.literal_column("1").label("one")))
#: The cheapest durable write: one integer into a table without indexes (made by the benchmark).
WRITE_INT = DoorStatement(sa.text("INSERT INTO bench_probe (x) VALUES (1) RETURNING x")
                          .columns(sa.column("x", sa.Integer)))

probes = Blueprint("probes", __name__, url_prefix="/probe")
csrf.exempt(probes)


def _door_work(statements: list[DoorStatement]):
    json_body()
    door = DoorConnection()
    try:
        for statement in statements:
            door.execute_door(statement).first()
    finally:
        door.close()
    return jsonify(ANSWER)


@probes.post("/echo")
def echo():
    json_body()
    return jsonify(ANSWER)


@probes.post("/door")
def door_only():
    return _door_work([])


@probes.post("/select/<int:count>")
def select(count: int):
    return _door_work([SELECT_ONE] * count)


@probes.post("/events/<int:event_id>/read-then/<what>")
def read_then(event_id: int, what: str):
    """The scan's real read (link, event, ticket) and decision, then ``what``: ``select``
    (a ``SELECT 1`` instead of the scan's INSERT) or ``write-int``."""
    code = json_body()["code"]
    door = DoorConnection()
    try:
        event, caller, ticket = link_access(_bearer(), event_id, door, prefetch_lookup(code))
        scanner = scanner_fields(event, actor_user=caller.user, scanner_link=caller.scanner_link)
        decision = prepare_scan(event, code, scanner, conn=door, ticket=ticket)
        door.execute_door(SELECT_ONE if what == "select" else WRITE_INT).first()
        return jsonify({"status": decision.outcome.value, **decision.body})
    finally:
        door.close()


app = create_app()
app.register_blueprint(probes)
