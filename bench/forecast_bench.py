"""Benchmark of the year-end forecast (reports/forecast.py) at city scale.

    .venv/bin/python bench/forecast_bench.py --database-url sqlite:////tmp/city.db
    .venv/bin/python bench/forecast_bench.py --database-url postgresql://postgres@127.0.0.1/city

On a database loaded with ``demo --size city`` (migrated to head), for the current academic
year (or ``--year``), it times the city's forecast (every school and the city) and one school's
forecast (the school with the most students), each three ways:

- *nothing kept*: ``REPORT_CACHE`` off, every part computed, last year's too (what the first
  request pays after a change to last year);
- *cold*: a worker that has just started: its memory empty, the closed year's parts (last year's
  show counts and reach, ``reports.cache``) read from the shared ``kept_reports``;
- *warm*: the closed year's parts in the worker's memory (checked against the counters).

This year's parts (indicators, this year's show counts, bookings) are computed on every request
in all three. Then the parts, printing medians of several runs after a warm-up. Results go to
docs/performance.md («Прогноз»).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def timed(fn, runs: int) -> tuple[float, list[float]]:
    fn()  # warm-up: caches, plans
    walls = []
    for _ in range(runs):
        wall = time.perf_counter()
        fn()
        walls.append(time.perf_counter() - wall)
    return statistics.median(walls), walls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--year", type=int, default=None)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not args.database_url:
        parser.error("--database-url (or DATABASE_URL) is required")

    from webapp import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url})
    with app.app_context():
        import sqlalchemy as sa

        from models import Baseline, Scan, db, now_utc
        from models.academic_year import current_academic_year
        from reports import forecast as fc
        from reports.indicators import compute_indicators, organization_indicators

        year = args.year or current_academic_year()
        now = now_utc()
        school_id = db.session.execute(
            sa.select(Baseline.organization_id).where(Baseline.year == year)
            .order_by(Baseline.students_total.desc()).limit(1)).scalar_one()
        scans = db.session.execute(sa.select(sa.func.count()).select_from(Scan)).scalar_one()
        dialect = db.session.get_bind().dialect.name
        print(f"{dialect}; {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
              f"scans: {scans}; year {year}; runs {args.runs}")

        def run(label, fn):
            median, walls = timed(fn, args.runs)
            db.session.rollback()
            print(f"{label:<34} median {median:.3f} s  ({', '.join(f'{w:.3f}' for w in walls)})")

        from reports import cache

        # Each call is a request of its own: a new transaction (on SQLite in WAL a transaction
        # left open would never see the shared copy written after it began).
        def nothing_kept(**kwargs):
            db.session.rollback()
            app.config["REPORT_CACHE"] = False
            try:
                return fc.compute_forecast(year, now=now, **kwargs)
            finally:
                app.config["REPORT_CACHE"] = True

        def cold(**kwargs):
            db.session.rollback()
            cache.forget_all()
            return fc.compute_forecast(year, now=now, **kwargs)

        def warm(**kwargs):
            db.session.rollback()
            return fc.compute_forecast(year, now=now, **kwargs)

        one = {"organization_id": school_id}
        run("city forecast, nothing kept", nothing_kept)
        run("one school's, nothing kept", lambda: nothing_kept(**one))
        run("city forecast, cold", cold)
        run("one school's, cold", lambda: cold(**one))
        run("city forecast, warm", warm)
        run("one school's, warm", lambda: warm(**one))
        run("  the year's indicators", lambda: compute_indicators(year, now=now))
        run("  the year's indicators, one school",
            lambda: organization_indicators(year, school_id, now=now))
        run("  show rates (warm)", lambda: fc.show_rates(now, year, None, now))
        run("  bookings (people)", lambda: fc.booked_people(now, year, None))
        run("  bookings (events)", lambda: fc.booked_events(now, year, None))
        run("  last year's reach (computed)", lambda: fc._year_reach(year - 1))
        run("  last year's pace (warm)", lambda: fc.last_year_pace(now, year, None, now))
        run("  show rates, one school (warm)", lambda: fc.show_rates(now, year, school_id, now))
        run("  bookings (people), one school", lambda: fc.booked_people(now, year, school_id))
        run("  bookings (events), one school", lambda: fc.booked_events(now, year, school_id))

if __name__ == "__main__":
    main()
