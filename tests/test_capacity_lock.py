"""The allocation lock serializes writers of one event (threads with their own connections)."""

import threading

import pytest

from checkin.seats.capacity import begin_write_transaction, lock_event
from models import Event, db


def test_lock_event_serializes_read_modify_write(app, factory):
    event = factory.create_event(capacity=1000)
    db.session.commit()
    event_id = event.id
    barrier = threading.Barrier(8)
    errors = []

    def worker():
        try:
            with app.app_context():
                barrier.wait()
                for _ in range(5):
                    locked = lock_event(event_id)
                    # A deliberate read-modify-write: lost updates would show without the lock.
                    locked.capacity = locked.capacity + 1
                    db.session.commit()
                db.session.remove()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    db.session.rollback()  # end this thread's read transaction (WAL keeps its old snapshot)
    assert db.session.get(Event, event_id).capacity == 1000 + 8 * 5


def test_lock_event_refuses_to_run_after_changes(app, factory):
    import pytest

    event = factory.create_event()
    db.session.commit()
    event_id = event.id
    if db.session.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL locks the row mid-transaction; no restart needed")
    event.title = "changed"
    with pytest.raises(RuntimeError):  # pending change
        lock_event(event_id)
    db.session.flush()
    with pytest.raises(RuntimeError):  # flushed, not committed
        lock_event(event_id)
    db.session.rollback()


def test_write_transaction_refuses_to_drop_flushed_changes(app, db, factory):
    """On SQLite BEGIN IMMEDIATE restarts the transaction: work already flushed in it would
    be lost, so that is refused (also after a SAVEPOINT ended); after a commit it starts
    cleanly."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL needs no restart (lock_event takes a row lock)")
    org = factory.create_org(short_name="СОШ № 3")
    db.session.flush()
    with pytest.raises(RuntimeError):
        begin_write_transaction()
    db.session.commit()
    begin_write_transaction()  # nothing flushed since the commit
    org.short_name = "СОШ № 4"
    db.session.flush()
    with db.session.begin_nested():
        pass
    with pytest.raises(RuntimeError):
        begin_write_transaction()
    db.session.rollback()
