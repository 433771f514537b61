"""One transaction per request: the only place a route commits.

Pages::

    with unit_of_work(form) as uow:        # or unit_of_work(flash_errors=True)
        saved = directory.save_organization(...)
    if uow.ok:
        flash(...)
        return redirect(...)
    # uow.error is the ServiceError (already shown on the form / flashed)

    with unit_of_work(catch=ServiceError) as uow:   # the caller shows uow.error itself
        ...
    with unit_of_work():                            # a ServiceError propagates
        ...

API views use ``with unit_of_work():`` the same way; a ``ServiceError`` they do not map
themselves propagates (rolled back) to the API blueprint's handler (``webapp/api/__init__.py``),
which answers with the JSON error shape. The block ends where the hand-written commit used to
be: a response built after it reads the committed rows (timestamps in UTC, as stored).

The rules, both enforced:
- success commits once; a ``ServiceError`` rolls back and is mapped (form field errors or the
  summary, a flash message, or the JSON error); any other exception rolls back and propagates;
- a request commits at most once. Under ``TESTING`` a second commit in one request, or a
  commit outside this module, raises ``SecondCommitError`` (``tests/test_transaction.py`` also
  fails on a ``db.session.commit()`` written in a route module). Work that must persist apart
  from the request's own transaction (the login throttle's claim, an API token's last use)
  commits through ``commit_separately(reason)``. The door's scan path commits on its own Core
  connection (``checkin.door.connection.DoorConnection``), not the session; CLI commands and the
  demo loader run outside requests and commit as they need.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

from flask import current_app, flash, has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Session

from errors import ServiceError
from models import db
from webapp.forms import apply_service_error

#: Keys in the WSGI environ of the request being served (``g`` can outlive one request).
_COMMITS = "profroute.commits"
_ALLOWED = "profroute.commit_allowed"


class SecondCommitError(RuntimeError):
    """A request committed more than once, or outside ``webapp.transaction`` (TESTING only)."""


@dataclass
class UnitOfWork:
    """What happened in a ``unit_of_work`` block: ``error`` is the shown/caught error it ended
    with, None when it committed."""

    error: ServiceError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@contextmanager
def _commit_permitted():
    if not has_request_context():
        yield
        return
    environ = request.environ
    environ[_ALLOWED] = True
    try:
        yield
    finally:
        environ.pop(_ALLOWED, None)


def _commit() -> None:
    if has_request_context():
        environ = request.environ
        environ[_COMMITS] = environ.get(_COMMITS, 0) + 1
        if environ[_COMMITS] > 1 and current_app.config.get("TESTING"):
            db.session.rollback()
            raise SecondCommitError("A request commits once: this is its second commit.")
    with _commit_permitted():
        db.session.commit()


def _commit_or_roll_back() -> None:
    try:
        _commit()
    except BaseException:
        db.session.rollback()
        raise


@contextmanager
def unit_of_work(form=None, *, flash_errors: bool = False, catch=()):
    """Run the block as the request's one transaction: commit at its end, roll back on any
    exception.

    A ``ServiceError`` is then shown: with ``form``, on the form (``apply_service_error``);
    with ``flash_errors``, as a flash message (category "danger"). ``catch`` names the
    exception class(es) the caller shows itself, reading ``uow.error`` after the block. Those
    are not re-raised; everything else (a ``ServiceError`` nobody asked to show included)
    propagates after the rollback.
    """
    handled = ServiceError if form is not None or flash_errors else catch
    uow = UnitOfWork()
    try:
        yield uow
    except BaseException as exc:
        db.session.rollback()
        if not handled or not isinstance(exc, handled):
            raise
        uow.error = exc
        if form is not None:
            apply_service_error(form, exc)
        elif flash_errors:
            flash(exc.message, "danger")
        return
    _commit_or_roll_back()


def commit_separately(reason: str) -> None:
    """Commit work that must persist apart from the request's unit of work (and whatever the
    request does afterwards). ``reason`` says why, for the reader; keep such uses rare:
    the login throttle counts an attempt before the password check, an API token records
    its last use without ever failing the call."""
    assert reason, "say why this commit cannot wait for the request's unit of work"
    with _commit_permitted():
        db.session.commit()


@event.listens_for(Session, "before_commit")
def _guard_commit(session) -> None:
    """Under TESTING, refuse a commit made during a request outside this module. (The event
    also fires when a savepoint is released: those are not commits.)"""
    if not has_request_context() or not current_app.config.get("TESTING"):
        return
    if session is not db.session() or session.in_nested_transaction():
        return  # another session, or a savepoint released (begin_nested), not a commit
    if not request.environ.get(_ALLOWED):
        raise SecondCommitError("Routes commit through webapp.transaction (unit_of_work "
                                "or commit_separately), not db.session.commit().")
