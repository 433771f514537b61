"""Benchmark of the year-end forecast (reports/forecast.py) at city scale.

    .venv/bin/python bench/forecast_bench.py --database-url sqlite:////tmp/city.db
    .venv/bin/python bench/forecast_bench.py --database-url postgresql://postgres@127.0.0.1/city

On a database loaded with ``demo --size city`` (migrated to head), for the current academic
year (or ``--year``), it times the city's forecast (every school and the city), one school's
forecast (the school with the most students) — first of the day (nothing cached) and then (the
show rates and last year's pace kept for the day) — and their parts (the year's indicators, show
rates, bookings, last year's pace), printing medians of several runs after a warm-up. Results go
to docs/performance.md («Прогноз»).
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
        from reports.indicators import compute_indicators

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

        def cold(**kwargs):
            fc.clear_past_cache()
            return fc.compute_forecast(year, now=now, **kwargs)

        run("city forecast, first of the day", cold)
        run("one school's, first of the day", lambda: cold(organization_id=school_id))
        fc.compute_forecast(year, now=now)  # the day's past-only parts, as a page would leave
        run("city forecast (all schools)", lambda: fc.compute_forecast(year, now=now))
        run("one school's forecast", lambda: fc.compute_forecast(year, organization_id=school_id,
                                                                  now=now))
        run("  the year's indicators", lambda: compute_indicators(year, now=now))
        run("  the year's indicators, one school",
            lambda: compute_indicators(year, organization_id=school_id, now=now))
        run("  show rates", lambda: fc.show_rates(now, year, None))
        run("  bookings (people)", lambda: fc.booked_people(now, year, None))
        run("  bookings (events)", lambda: fc.booked_events(now, year, None))
        run("  last year's pace", lambda: fc.last_year_pace(now, year, None))
        run("  show rates, one school", lambda: fc.show_rates(now, year, school_id))
        run("  bookings (people), one school", lambda: fc.booked_people(now, year, school_id))
        run("  bookings (events), one school", lambda: fc.booked_events(now, year, school_id))
        run("  last year's pace, one school", lambda: fc.last_year_pace(now, year, school_id))


if __name__ == "__main__":
    main()
