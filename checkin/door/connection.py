"""The doors a scan runs on (``checkin.door.scans.scan``): a single scan on one Core
connection in autocommit, kept between scans (no pool checkout, no pre-ping), and replaced
when the server dropped it (:class:`DoorConnection`); batches, groups and walk-ins write in the
request's transaction instead (:class:`SessionDoor`, after :func:`start_scan_transaction`).

Both offer the same few operations: ``execute`` (a Core statement), ``execute_door`` (a
:class:`~checkin.door.statements.DoorStatement`), ``attempt()`` (the write of one scan, undone
alone when it fails), ``transaction`` and ``restart``."""

from __future__ import annotations

import contextlib
import os
import threading
import weakref

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from checkin.door.statements import DoorStatement
from checkin.seats.capacity import (
    SQLITE_AUTOCOMMIT_OPTION,
    SQLITE_IMMEDIATE_OPTION,
    begin_write_transaction,
)
from models import db


def start_scan_transaction() -> None:
    """Start the write transaction of a scan (SQLite: BEGIN IMMEDIATE; PostgreSQL: nothing).

    Call it first in a request that writes several scans (a batch, a group). A single scan
    runs on a :class:`DoorConnection` instead."""
    begin_write_transaction()


class _KeptConnections:
    """Idle door connections kept between scans, so that a scan starts without a pool
    checkout and, on PostgreSQL, without the pool's "pre-ping" round trip: up to
    :attr:`KEEP` autocommit Core connections per engine (a gunicorn sync worker needs one).

    A connection the server dropped meanwhile is noticed by the scan's first statement, which
    is then retried once on a new connection (:meth:`DoorConnection._run`). An engine's kept
    connections are closed when it is disposed; a forked child never uses (nor closes) its
    parent's. Only engines with a ``QueuePool`` keep connections (an in-memory SQLite
    database's single connection belongs to its thread)."""

    KEEP = 2

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._watched: weakref.WeakSet = weakref.WeakSet()

    def take(self, engine):
        """An idle kept connection of ``engine`` (now the caller's), or None."""
        with self._lock:
            idle = self._idle.get(engine)
            return idle.pop() if idle else None

    def keep(self, engine, conn) -> bool:
        """Keep ``conn`` for a later scan; False when there are enough (close it then)."""
        if not isinstance(engine.pool, sa.pool.QueuePool):
            return False
        with self._lock:
            if engine not in self._watched:
                self._watched.add(engine)
                sa.event.listen(engine, "engine_disposed", self._close_all)
            idle = self._idle.setdefault(engine, [])
            if len(idle) >= self.KEEP:
                return False
            idle.append(conn)
            return True

    def _close_all(self, engine) -> None:
        with self._lock:
            idle = self._idle.pop(engine, [])
        for conn in idle:
            # The engine has a new pool by now: give the connection back to no pool.
            conn.invalidate()
            conn.close()

    def forget_after_fork(self) -> None:
        # The parent's connections share its sockets: never close them here, just drop them
        # (kept referenced, so that no finalizer closes them either).
        _FORKED_AWAY.append(self._idle)
        self._idle = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()


_KEPT = _KeptConnections()
#: What forked children dropped of their parent's kept connections (never closed by them).
_FORKED_AWAY: list = []
os.register_at_fork(after_in_child=lambda: _KEPT.forget_after_fork())


class SessionDoor:
    """The request's session as a door: scans are written in its transaction, each in a
    SAVEPOINT, and committed with the request's other work (``webapp.transaction``)."""

    transaction = True

    def execute(self, statement, parameters=None):
        return db.session.execute(statement, parameters)

    def execute_door(self, statement: DoorStatement, parameters=None):
        dialect = db.session.get_bind().dialect.name
        return db.session.execute(statement.statement_for(dialect), parameters)

    def attempt(self):
        return db.session.begin_nested()

    def restart(self, *, transaction: bool) -> None:
        raise AssertionError("a session is always in a transaction")  # pragma: no cover


class DoorConnection:
    """The one database connection a single scan runs on, from the scanner check to the
    answer: the door's hot path, in as few statements and round trips as each database allows
    (bench/scan_bench.py). Statements go to a Core connection of the engine directly, with no
    ORM session work around each one.

    - Autocommit (the default): the reads need no transaction and a check-in is one INSERT,
      atomic and durable by itself, guarded by the unique indexes (one check-in per ticket,
      one row per ``client_scan_id``). So no BEGIN and COMMIT round trips on PostgreSQL, and
      on SQLite the write lock is held only for the INSERT itself. This connection is kept
      for a next scan (:class:`_KeptConnections`).
    - ``transaction=True``: a scan that takes over an earlier check-in (an UPDATE and an
      INSERT together; SQLite: BEGIN IMMEDIATE), from the pool and back to it. Every commit
      waits until the scan is on disk: nothing acknowledged is lost.

    The ORM session must not be used while a door connection is open (tests share one SQLite
    connection between both): read-only work it did before is discarded, pending changes are
    refused."""

    def __init__(self, *, transaction: bool = False):
        if db.session.registry.has():  # else the request has no session to look after
            session = db.session()
            if session.new or session.dirty or session.deleted:
                raise RuntimeError("DoorConnection must come before any change in the session")
            if session.in_transaction():
                session.rollback()
        self.engine = db.engine
        self.conn = None
        #: A kept connection not yet used in this scan: its first statement may find that the
        #: server dropped it.
        self._unchecked = False
        self._connect(transaction)

    def _connect(self, transaction: bool, *, reuse: bool = True) -> None:
        dialect = self.engine.dialect.name
        #: Autocommit connections are kept between scans, transactions go back to the pool.
        self.transaction = transaction
        if not self.transaction and reuse:
            conn = _KEPT.take(self.engine)
            if conn is not None and not (conn.closed or conn.invalidated):
                self.conn, self._unchecked = conn, True
                return
        conn = self.engine.connect()
        if dialect == "sqlite":
            option = SQLITE_IMMEDIATE_OPTION if self.transaction else SQLITE_AUTOCOMMIT_OPTION
            conn = conn.execution_options(**{option: True})
        elif not self.transaction:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        self.conn, self._unchecked = conn, False

    def execute(self, statement, parameters=None):
        """A Core statement, through SQLAlchemy."""
        return self._run(lambda: self.conn.execute(statement, parameters))

    def execute_door(self, statement: DoorStatement, parameters=None):
        """One of the door's own statements: on the driver's cursor in autocommit, through
        SQLAlchemy in a transaction (its begin and commit hooks stay in charge)."""
        if self.transaction:
            return self.execute(statement.statement_for(self.engine.dialect.name), parameters)
        return self._run(lambda: statement.execute(self.conn, parameters))

    def _run(self, call):
        if self._unchecked:
            self._unchecked = False
            try:
                return call()
            except DBAPIError as err:
                if not err.connection_invalidated:
                    raise
            # The server dropped the kept connection (a restart, an idle timeout) before this
            # statement reached it: once more, on a new connection.
            self._drop()
            self._connect(self.transaction, reuse=False)
        return call()

    def restart(self, *, transaction: bool) -> None:
        """Throw away what this connection did (a lost race aborts a PostgreSQL transaction)
        and go on, in a transaction or not."""
        self.close()
        self._connect(transaction)

    @contextlib.contextmanager
    def attempt(self):
        """The write of one scan: committed when the block ends (in autocommit, each statement
        already is); when it fails, a transaction is thrown away and begun anew."""
        try:
            yield
        except BaseException:
            if self.transaction:
                self.restart(transaction=True)
            raise
        self.conn.commit()

    def _drop(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            conn.close()

    def __enter__(self) -> DoorConnection:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def close(self) -> None:
        conn = self.conn
        if conn is None:
            return
        if self.transaction or conn.closed or conn.invalidated:
            self._drop()  # rolls back anything not committed
            return
        self.conn = None
        if conn.in_transaction():
            conn.rollback()  # in autocommit: only ends SQLAlchemy's own bookkeeping
        if not _KEPT.keep(self.engine, conn):
            conn.close()
