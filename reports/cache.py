"""Figures of closed academic years, kept while nothing they count has changed.

A report over a period whose academic years are all over (``models.report_changes``) is kept
with the counters of those years and of ``EVERY_YEAR`` read before it was computed. The next
request reads the counters again (one statement, a handful of rows) and gets the kept report
only when they are the same: any change to what the report counts from — a check-in, an undo,
an import or its withdrawal, a baseline, a plan, an event, an organization, a student's ОВЗ flag,
a parent's contacts — bumps a counter in the change's own transaction, in whichever worker or
app instance made it. So a kept report is always the one a fresh computation would give
(``tests/test_report_cache.py``); docs/reports.md «Kept figures of closed years».

Two places keep it: the worker's memory, and the table ``kept_reports`` that every worker and
app instance shares, so a worker that has just started (a restart, a deployment, a second
instance) does not compute again what another one already has. The table's copy is written on a
connection of its own and never waited for; its stamp also names the code that computed it
(:data:`CODE_DIGEST`), so a new release never reads an old release's figures.

The current year is never kept: check-ins arrive all the time and its figures are cheaper (part
of a year). ``REPORT_CACHE = False`` in the configuration turns keeping off (the tests do, except
those of this module).
"""

from __future__ import annotations

import hashlib
import pickle  # noqa: S403  (only this application writes kept_reports)
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from flask import current_app, has_app_context

from models import now_utc
from models.academic_year import Period, academic_year_of
from models.report_changes import (
    EVERY_YEAR,
    read_kept,
    report_versions,
    write_kept,
    year_is_closed,
)

T = TypeVar("T")

#: Reports kept per process (each a few tens of kilobytes): every closed year, its variants
#: (verified only, narrowed) and the month trends.
MAX_KEPT = 128

def _code_digest() -> str:
    """The code that computes reports: ``reports``, ``models`` and ``formats`` (a release that
    changes any of them names its copies differently)."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for package in ("reports", "models", "formats"):
        for path in sorted((root / package).rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


CODE_DIGEST = _code_digest()

_lock = threading.Lock()
_kept: OrderedDict[Hashable, tuple[tuple, object]] = OrderedDict()


def closed_years(period: Period, now: datetime | None = None) -> list[int] | None:
    """The academic years of the period when all of them are over (by ``now`` and by the
    clock), else None."""
    years = list(range(academic_year_of(period.first_day), academic_year_of(period.last_day) + 1))
    moments = [now_utc()] + ([now] if now is not None else [])
    if all(year_is_closed(year, moment) for year in years for moment in moments):
        return years
    return None


def enabled() -> bool:
    return has_app_context() and bool(current_app.config.get("REPORT_CACHE", True))


def kept(key: Hashable, period: Period, compute: Callable[[], T],
         now: datetime | None = None) -> T:
    """``compute()``, or the value kept for ``key`` when the period is closed and nothing it
    counts has changed since."""
    years = closed_years(period, now) if enabled() else None
    if years is None:
        return compute()
    versions = report_versions()
    stamp = (versions.get(EVERY_YEAR, 0), *(versions.get(year, 0) for year in years))
    with _lock:
        found = _kept.get(key)
        if found is not None and found[0] == stamp:
            _kept.move_to_end(key)
            return found[1]  # type: ignore[return-value]
    shared_key = hashlib.sha256(repr(key).encode()).hexdigest()
    shared_stamp = f"{CODE_DIGEST}:" + ",".join(map(str, stamp))
    body = read_kept(shared_key, shared_stamp)
    if body is not None:
        value = pickle.loads(body)  # noqa: S301  (written by this code: CODE_DIGEST)
    else:
        value = compute()
        write_kept(shared_key, shared_stamp, pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
    _remember(key, stamp, value)
    return value


def _remember(key: Hashable, stamp: tuple, value) -> None:
    with _lock:
        _kept[key] = (stamp, value)
        _kept.move_to_end(key)
        while len(_kept) > MAX_KEPT:
            _kept.popitem(last=False)


def forget_all() -> None:
    """Drop every report kept in this process's memory (tests: as if the worker had just
    started; a process never needs it)."""
    with _lock:
        _kept.clear()
