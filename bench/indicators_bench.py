"""Benchmark of the nine indicators at city scale.

    .venv/bin/python bench/indicators_bench.py --database-url sqlite:////tmp/city.db --build
    .venv/bin/python bench/indicators_bench.py --database-url postgresql://postgres@127.0.0.1/city \
        --build

``--build`` migrates an empty database and loads ``demo --size city`` (timed). Then, for one
academic year (default: the last complete one), it times ``compute_indicators`` (the whole
report: six queries and the Python that assembles every school's A, B and X) against the bare
aggregate SQL it runs (the same statements, executed and fetched, nothing else), and prints
medians of several runs after a warm-up, plus the size of the data set. Results go to
docs/performance.md («Reports»).
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


def timed(fn, runs: int) -> tuple[float, float, list[float]]:
    fn()  # warm-up: caches, plans
    walls, cpus = [], []
    for _ in range(runs):
        cpu, wall = time.process_time(), time.perf_counter()
        fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), walls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), required=False)
    parser.add_argument("--build", action="store_true", help="migrate and load demo --size city")
    parser.add_argument("--year", type=int, default=None)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    if not args.database_url:
        parser.error("--database-url (or DATABASE_URL) is required")

    from webapp import create_app

    # The computation itself, every run: a closed year's report is otherwise kept after the
    # first (reports.cache; bench/reports_http_bench.py measures the pages with it).
    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url, "REPORT_CACHE": False})
    with app.app_context():
        import sqlalchemy as sa

        from models import CityPlan, Event, Scan, Student, Teacher, db, now_utc
        from models.academic_year import academic_year_period, current_academic_year
        from reports import indicators as ind

        if args.build:
            from flask_migrate import upgrade

            from webapp.demo import database_is_empty, load_demo

            upgrade()
            if not database_is_empty():
                sys.exit("the database is not empty: --build needs an empty one")
            started = time.perf_counter()
            load_demo("city")
            print(f"build: demo --size city loaded in {time.perf_counter() - started:.0f} s")
            if db.engine.dialect.name == "postgresql":
                # What autovacuum does within minutes of a bulk load: the visibility map lets
                # the report read check-ins from the index alone (index-only scans).
                started = time.perf_counter()
                with db.engine.connect().execution_options(
                        isolation_level="AUTOCOMMIT") as conn:
                    conn.exec_driver_sql("VACUUM (ANALYZE)")
                print(f"build: VACUUM (ANALYZE) in {time.perf_counter() - started:.0f} s")

        year = args.year if args.year is not None else current_academic_year() - 1
        period = academic_year_period(year)
        session = db.session
        checkins = session.execute(
            sa.select(sa.func.count()).select_from(ind.scans)
            .where(*ind.checkin_facts_conditions(period, ind.ReportFilters()))).scalar_one()
        sizes = {
            "students": session.query(sa.func.count(Student.id)).scalar(),
            "teachers": session.query(sa.func.count(Teacher.id)).scalar(),
            "events in the year": session.query(sa.func.count(Event.id)).filter(
                Event.starts_at >= period.starts_at, Event.starts_at < period.ends_before)
            .scalar(),
            "check-ins in the year": checkins,
            "scans (all years)": session.query(sa.func.count(Scan.id)).scalar(),
        }

        def report():
            return ind.compute_indicators(year)

        def report_verified():
            return ind.compute_indicators(year, verified_only=True)

        def both():
            # What the school page and the справка do: all check-ins, then those verified at
            # a door (one computation, called twice).
            return ind.compute_indicators(year), ind.compute_indicators(year, verified_only=True)

        filters, now = ind.ReportFilters(), now_utc()
        statements = list(ind.report_statements(period, filters, year, now).values())

        def bare_sql():
            ind.tune_for_reports()  # the same session settings the report uses (PostgreSQL)
            for statement in statements:
                session.execute(statement).all()
            session.get(CityPlan, year)
            session.expire_all()

        def trend():
            return ind.monthly_trend(year)

        dialect = db.engine.dialect.name
        result = report()
        report_wall, report_cpu, report_runs = timed(report, args.runs)
        sql_wall, sql_cpu, sql_runs = timed(bare_sql, args.runs)
        verified_wall, verified_cpu, verified_runs = timed(report_verified, args.runs)
        both_wall, _both_cpu, both_runs = timed(both, args.runs)
        verified = report_verified()
        by_source = dict(session.execute(
            sa.select(Scan.source, sa.func.count()).select_from(ind.scans)
            .where(*ind.checkin_facts_conditions(period, ind.ReportFilters()))
            .group_by(Scan.source)).all())
        trend_wall, _trend_cpu, _ = timed(trend, max(3, args.runs // 2))
        print(f"machine: {platform.node()} · {os.cpu_count()} cores · {platform.python_version()}"
              f" · {dialect} · {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} · load "
              f"average {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
        print("data: " + ", ".join(f"{k} {v:,}".replace(",", " ") for k, v in sizes.items()))
        print(f"year {year}/{year + 1}: city students {result.city['students'].a} of "
              f"{result.city['students'].b}, schools {len(result.schools)}, kindergartens "
              f"{len(result.kindergartens)}")
        print(f"compute_indicators: median {report_wall:.3f} s wall ({report_cpu:.3f} s CPU in "
              f"this process); runs {', '.join(f'{w:.3f}' for w in report_runs)}")
        print(f"bare aggregate SQL: median {sql_wall:.3f} s wall ({sql_cpu:.3f} s CPU); runs "
              f"{', '.join(f'{w:.3f}' for w in sql_runs)}")
        print(f"ratio report / bare SQL: {report_wall / sql_wall:.2f}")
        print("check-ins by source: " + ", ".join(
            f"{getattr(k, 'value', k)} {v:,} ({v * 100 / checkins:.1f} %)".replace(",", " ")
            for k, v in sorted(by_source.items(), key=lambda kv: -kv[1])))
        print(f"verified only: city students {verified.city['students'].a} of "
              f"{verified.city['students'].b}")
        print(f"compute_indicators(verified_only=True): median {verified_wall:.3f} s wall "
              f"({verified_cpu:.3f} s CPU); runs {', '.join(f'{w:.3f}' for w in verified_runs)}")
        print(f"both (all + verified_only, as the school page and the справка): median "
              f"{both_wall:.3f} s wall; runs {', '.join(f'{w:.3f}' for w in both_runs)}")
        print(f"monthly_trend (dashboard chart): median {trend_wall:.3f} s")


if __name__ == "__main__":
    main()
