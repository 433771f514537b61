"""Limits on guessing passwords, per account and per address, kept in the database (and the
same counters for a public form that checks a secret: ``count_public_attempt``).

Every login attempt is counted *before* its password is checked, in a short transaction of its
own that locks the two counters it touches (``login_throttles`` rows ``account:<e-mail>`` and
``ip:<address>``; PostgreSQL row locks taken by ``INSERT … ON CONFLICT DO UPDATE``, SQLite
``BEGIN IMMEDIATE``) and commits.
So the limits hold for parallel requests, in several processes and on several hosts sharing
one database: of N simultaneous guesses on one account, at most ``LOGIN_MAX_FAILURES`` reach
the password check.

- Per account (known or not: an unknown address is counted the same way, so the answers do not
  tell whether an account exists): ``LOGIN_MAX_FAILURES`` checks freely; beyond that the
  account is slowed, not locked: one check per delay, the delay doubling from
  ``LOGIN_ACCOUNT_DELAY_SECONDS`` up to ``LOGIN_ACCOUNT_MAX_DELAY_SECONDS``. Whoever guesses
  cannot keep the owner out for long, and cannot guess fast either.
- Per address: ``LOGIN_MAX_FAILURES_PER_IP`` failures, then the address is refused.
- A counter is forgotten after ``LOGIN_FAILURE_WINDOW_MINUTES`` without attempts on its key.
  A successful login forgets its account's counter and takes its own attempt off the
  address's count (many people behind one school's address can all sign in).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from checkin.seats.capacity import begin_write_transaction
from formats.text import plural
from models import LoginThrottle, db, now_utc
from webapp.transaction import commit_separately


@dataclass(frozen=True)
class Claim:
    """The answer to "may this attempt check a password?"."""

    allowed: bool
    #: Why not: "account" (slowed) or "address" (refused); None when allowed.
    limit: str | None = None
    #: How long until a new attempt may be checked, in whole seconds (0 when allowed).
    retry_after: int = 0


def account_key(email: str) -> str:
    return f"account:{email}"[:300]


def address_key(ip: str) -> str:
    return f"ip:{ip}"[:300]


def _window() -> timedelta:
    return timedelta(minutes=current_app.config["LOGIN_FAILURE_WINDOW_MINUTES"])


def account_delay(beyond: int) -> timedelta:
    """The wait after the ``beyond``-th check past the free ones (0 = the last free one)."""
    config = current_app.config
    base = config["LOGIN_ACCOUNT_DELAY_SECONDS"]
    cap = config["LOGIN_ACCOUNT_MAX_DELAY_SECONDS"]
    # 2**beyond grows without bound; stop doubling once past the cap.
    seconds = cap if beyond >= 32 else min(base * 2 ** beyond, cap)
    return timedelta(seconds=seconds)


def _lock_rows(keys: list[str], now) -> None:
    """Make sure the rows of ``keys`` exist and hold their locks until commit, in the order
    given: an INSERT … ON CONFLICT DO UPDATE (a no-op update) inserts or locks each row in one
    atomic step, even while another request deletes it (a successful login, the sweep)."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    rows = [{"key": key, "attempts": 0, "last_attempt_at": now, "next_check_at": now}
            for key in keys]
    db.session.execute(insert(LoginThrottle).values(rows).on_conflict_do_update(
        index_elements=["key"], set_={"attempts": LoginThrottle.attempts}))


def _seconds_until(moment, now) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def _forget(before) -> None:
    """Housekeeping in a transaction of its own: delete keys without attempts since
    ``before``. Rows another request holds are skipped (PostgreSQL ``SKIP LOCKED``), so this
    never waits while holding locks, and cannot deadlock with the claims."""
    begin_write_transaction()
    stale = (sa.select(LoginThrottle.key).where(LoginThrottle.last_attempt_at < before)
             .with_for_update(skip_locked=True))
    db.session.execute(sa.delete(LoginThrottle).where(LoginThrottle.key.in_(stale)))
    commit_separately("housekeeping of the login throttle, apart from the login itself")


def claim_attempt(email: str, ip: str) -> Claim:
    """Count one login attempt on ``email`` and ``ip`` if the limits let its password be
    checked. Commits its own transaction (call it first in the request, before any change)."""
    config = current_app.config
    now = now_utc()
    window = _window()
    forget_before = now - window
    _forget(forget_before)
    begin_write_transaction()  # SQLite: the write lock first, or a later write may fail
    keys = sorted({account_key(email), address_key(ip)})  # one lock order for everyone
    _lock_rows(keys, now)
    rows = {row.key: row for row in db.session.execute(
        sa.select(LoginThrottle).where(LoginThrottle.key.in_(keys))
        .execution_options(populate_existing=True)).scalars()}
    account, address = rows[account_key(email)], rows[address_key(ip)]
    for row in (account, address):
        if row.last_attempt_at < forget_before:  # a stale row not yet swept
            row.attempts = 0
            row.next_check_at = now

    claim = Claim(allowed=True)
    if address.attempts >= config["LOGIN_MAX_FAILURES_PER_IP"]:
        claim = Claim(False, "address", _seconds_until(address.last_attempt_at + window, now))
    elif account.attempts >= config["LOGIN_MAX_FAILURES"] and now < account.next_check_at:
        claim = Claim(False, "account", _seconds_until(account.next_check_at, now))
    else:
        for row in (account, address):
            row.attempts += 1
            row.last_attempt_at = now
        beyond = account.attempts - config["LOGIN_MAX_FAILURES"]
        if beyond >= 0:
            account.next_check_at = now + account_delay(beyond)
    commit_separately("the attempt is counted before the password is checked")
    return claim


def release_attempt(email: str, ip: str) -> None:
    """The password was right: forget the account's count and take this attempt off the
    address's count. Call inside the transaction that records the login (it flushes)."""
    begin_write_transaction()
    db.session.execute(sa.delete(LoginThrottle).where(
        LoginThrottle.key == account_key(email)))
    db.session.execute(sa.update(LoginThrottle).where(
        LoginThrottle.key == address_key(ip), LoginThrottle.attempts > 0)
        .values(attempts=LoginThrottle.attempts - 1))


def describe_wait(seconds: int) -> str:
    """«15 секунд», «2 минуты»: the wait in Russian, rounded up to whole minutes past one."""
    if seconds < 60:
        return f"{seconds} {plural(seconds, ('секунду', 'секунды', 'секунд'))}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} {plural(minutes, ('минуту', 'минуты', 'минут'))}"


def count_public_attempt(limits: dict[str, int], window: timedelta) -> bool:
    """One attempt at a public form without an account (the parent's link recovery), counted
    on every key of ``limits`` (``{key: most attempts per window}``) in the request's own
    transaction (it flushes; the route's unit of work commits). False, counting nothing, when
    any key is at its limit; a key forgets its attempts after ``window`` without one. Rows
    are locked like the login's, so parallel attempts cannot slip past the limit."""
    now = now_utc()
    begin_write_transaction()
    keys = sorted(limits)
    _lock_rows(keys, now)
    rows = db.session.execute(
        sa.select(LoginThrottle).where(LoginThrottle.key.in_(keys))
        .execution_options(populate_existing=True)).scalars().all()
    for row in rows:
        if row.last_attempt_at < now - window:
            row.attempts = 0
    if any(row.attempts >= limits[row.key] for row in rows):
        db.session.flush()
        return False
    for row in rows:
        row.attempts += 1
        row.last_attempt_at = now
        row.next_check_at = now
    db.session.flush()
    return True
