"""Serializing seat allocation for one event, on PostgreSQL and SQLite alike.

Every service that creates, confirms, cancels or promotes tickets of an event calls
:func:`lock_event` first, before any change in the transaction, then counts and writes:

- PostgreSQL: ``SELECT … FOR UPDATE`` on the event row. Concurrent allocations for the same
  event wait for each other; under READ COMMITTED each later statement sees what the previous
  holder committed.
- SQLite: the transaction is (re)started as ``BEGIN IMMEDIATE``, which takes the database's
  write lock up front, so no two allocations interleave (others wait up to ``busy_timeout``).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import Event, db

SQLITE_IMMEDIATE_OPTION = "profroute_sqlite_immediate"
#: A connection without transactions on SQLite: each statement commits by itself (the
#: engine's "begin" hook in webapp/__init__.py emits no BEGIN for it).
SQLITE_AUTOCOMMIT_OPTION = "profroute_sqlite_autocommit"


#: ``Session.info`` key: something was flushed in the session's current transaction.
_FLUSHED = "profroute_flushed_in_transaction"


@sa.event.listens_for(Session, "after_flush")
def _remember_flush(session, _flush_context) -> None:
    session.info[_FLUSHED] = True


@sa.event.listens_for(Session, "after_transaction_end")
def _forget_flush(session, transaction) -> None:
    if transaction.parent is None:  # the whole transaction ended, not a SAVEPOINT
        session.info.pop(_FLUSHED, None)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def begin_write_transaction() -> None:
    """Start the session's transaction so that it holds the write lock (SQLite only).

    Must be called before any change in the transaction; read-only work done before is
    discarded (objects are expired and reload on access).
    """
    if _dialect() != "sqlite":
        return
    session = db.session()  # the real Session behind the scoped proxy
    # Pending changes, or changes already flushed in this transaction, would be lost.
    if session.new or session.dirty or session.deleted or session.info.get(_FLUSHED):
        raise RuntimeError("begin_write_transaction() must come before any change")
    if session.in_transaction():
        session.rollback()
    session.connection(execution_options={SQLITE_IMMEDIATE_OPTION: True})


def lock_event(event_id: int) -> Event | None:
    """Take the allocation lock of one event and return it freshly loaded (None if missing)."""
    if _dialect() == "sqlite":
        begin_write_transaction()
        return db.session.get(Event, event_id, populate_existing=True)
    return db.session.execute(
        sa.select(Event).where(Event.id == event_id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
