"""The door's hot path underneath the scan endpoint: statements run on the driver's cursor
(checkin.door.statements) and the connections kept between scans
(checkin.door.connection.DoorConnection).
Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import psycopg.sql
import pytest
import sqlalchemy as sa

from checkin.door import connection
from checkin.door import scans as services
from checkin.door.callers import LINK, caller_statement
from checkin.door.links import create_scanner_link
from checkin.door.statements import _Compiled
from models import Role, Scan, ScanOutcome, TicketKind, TicketStatus, db, now_utc
from models.user import hash_token
from tests.conftest import is_postgres
from tests.factories import bearer


@pytest.fixture
def door(factory, db):
    organizer = factory.create_user(Role.ORGANIZER, full_name="Орлова Вера")
    event = factory.create_event(organizer.organization, starts_at=now_utc() + timedelta(hours=1))
    school = factory.create_org(short_name="СОШ № 4")
    tickets = [factory.create_ticket(event, factory.create_student(school, last_name=name))
               for name in ("Петров", "Сидоров", "Козлов")]
    _link, token = create_scanner_link(organizer, event, label="Волонтёр", gate="Главный вход")
    db.session.commit()
    return {"event_id": event.id, "tokens": [t.token for t in tickets], "link_token": token}


def scan(client, door, code):
    response = client.post(f"/api/v1/events/{door['event_id']}/scans",
                           json={"code": code, "device_label": "Телефон 1"},
                           headers=bearer(door["link_token"]))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_door_statement_reads_what_sqlalchemy_reads(client, door):
    """The cursor path converts every column as SQLAlchemy does: enums, aware UTC datetimes,
    booleans, and the joined check-in with who made it."""
    scan(client, door, door["tokens"][0])
    statement = caller_statement(LINK, "token")
    params = {"who": hash_token(door["link_token"]), "code": door["tokens"][0]}
    # Through SQLAlchemy the plain join (on PostgreSQL the cursor runs its LATERAL form).
    expected = db.session.execute(statement.statement, params).one()
    db.session.rollback()
    with db.engine.connect() as conn:
        row = statement.execute(conn, params).one()
    assert tuple(row) == tuple(expected)
    assert row._fields == tuple(expected._fields)
    assert row.kind is TicketKind.STUDENT and row.status is TicketStatus.CONFIRMED
    assert isinstance(row.c_at, datetime) and row.c_at.utcoffset() == timedelta(0)
    assert row.ovz is False and row.s_last == "Петров" and row.c_link_gate == "Главный вход"


@pytest.mark.postgres_only
def test_postgresql_finds_the_checkin_by_ticket_with_a_plan_made_on_an_empty_table(client, door):
    """The plan PostgreSQL caches for the door's read, made while the scans table had no
    statistics yet (a fresh database, or an event day's first minutes), looks the ticket's
    check-in up by index, rather than reading every check-in of the table and filtering them
    (checkin.door.scans._build_door_query)."""
    for token in door["tokens"]:
        scan(client, door, token)
    statement = caller_statement(LINK, "token")
    compiled = _Compiled(statement.statement_for("postgresql"), db.engine.dialect)
    values = compiled.parameters({"who": hash_token(door["link_token"]),
                                  "code": door["tokens"][1]})
    names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", compiled.sql)))
    sql = re.sub(r"%\((\w+)\)s", lambda m: f"${names.index(m.group(1)) + 1}", compiled.sql)
    db.session.rollback()
    with db.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        raw.execute("SET plan_cache_mode = force_generic_plan")
        raw.execute(f"PREPARE door_read AS {sql}")
        arguments = psycopg.sql.SQL(", ").join(psycopg.sql.Literal(values[n]) for n in names)
        plan = raw.execute(psycopg.sql.SQL("EXPLAIN (FORMAT JSON) EXECUTE door_read({})")
                           .format(arguments)).fetchone()[0][0]["Plan"]
        raw.execute("DEALLOCATE door_read")
        raw.execute("RESET plan_cache_mode")

    def nodes(node):
        yield node
        for child in node.get("Plans", []):
            yield from nodes(child)

    reads = [n for n in nodes(plan) if n.get("Relation Name") == "scans"]
    assert len(reads) == 1
    assert "ticket_id = tickets.id" in reads[0].get("Index Cond", ""), reads[0]


def test_door_statement_turns_driver_errors_into_sqlalchemy_errors(client, door):
    """A lost race on a unique index is SQLAlchemy's IntegrityError, as the retry expects."""
    body = scan(client, door, door["tokens"][0])
    row = dict(db.session.execute(sa.select(Scan.__table__).where(
        Scan.id == body["scan_id"])).mappings().one())
    db.session.rollback()
    row.pop("id")
    with db.engine.connect() as conn, pytest.raises(sa.exc.IntegrityError):
        services._INSERT_SCAN.execute(conn, {**row, "client_scan_id": "another"})


def test_scans_reuse_one_kept_connection(client, door):
    """After the first scan, the next ones start without a pool checkout."""
    scan(client, door, door["tokens"][0])
    checkouts = []

    def count(*args):
        checkouts.append(args)

    sa.event.listen(db.engine, "checkout", count)
    try:
        bodies = [scan(client, door, token) for token in door["tokens"][1:]]
    finally:
        sa.event.remove(db.engine, "checkout", count)
    assert [b["status"] for b in bodies] == ["ok", "ok"]
    assert checkouts == []


def _kept_connection():
    conn = connection._KEPT.take(db.engine)
    assert conn is not None, "a scan keeps its connection for the next one"
    return conn


def test_scan_goes_on_when_the_kept_connection_was_dropped(client, door):
    """A kept connection lost meanwhile (database restart, idle timeout) costs nothing: the
    scan's first statement notices and the scan runs on a new connection."""
    scan(client, door, door["tokens"][0])
    conn = _kept_connection()
    if is_postgres():
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        conn.rollback()
        with db.engine.connect() as admin:
            admin.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            admin.commit()
    else:
        conn.connection.dbapi_connection.close()
    assert connection._KEPT.keep(db.engine, conn)

    body = scan(client, door, door["tokens"][1])
    assert body["status"] == "ok" and body["attendee"]["name"].startswith("Сидоров")
    replacement = _kept_connection()
    assert replacement is not conn and not replacement.invalidated
    assert conn.invalidated or conn.closed
    connection._KEPT.keep(db.engine, replacement)
    assert scan(client, door, door["tokens"][1])["status"] == "already_checked_in"
    assert Scan.query.filter_by(outcome=ScanOutcome.OK).count() == 2


def test_disposing_the_engine_closes_kept_connections(client, door):
    scan(client, door, door["tokens"][0])
    conn = _kept_connection()
    connection._KEPT.keep(db.engine, conn)
    db.engine.dispose()
    assert conn.closed
    assert connection._KEPT.take(db.engine) is None


def test_no_more_than_keep_connections_are_kept(app, door):
    """Threads scanning at once each use a connection; only KEEP of them stay afterwards."""
    conns = [connection.DoorConnection() for _ in range(connection._KeptConnections.KEEP + 2)]
    for conn in conns:
        conn.execute(sa.text("SELECT 1"))
    kept = [c.conn for c in conns]
    for conn in conns:
        conn.close()
    assert sum(not c.closed for c in kept) == connection._KeptConnections.KEEP
    idle = connection._KEPT._idle[db.engine]
    assert len(idle) == connection._KeptConnections.KEEP
