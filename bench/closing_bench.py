"""Benchmark of «what closes the gap» (issue #15 items 4 and 6) at city scale.

    .venv/bin/python bench/closing_bench.py --database-url sqlite:////tmp/city.db
    .venv/bin/python bench/closing_bench.py --database-url postgresql://postgres@127.0.0.1/city

On a database already holding ``demo --size city`` (migrated to head), inside one transaction
that is rolled back at the end (nothing is written), it sets the city's targets for the current
academic year (indicator 1 at 60 %, 3 at 50 %, 8 at 90 %, 6 at 40 %: most schools are then at
risk), and times, as medians of several runs after a warm-up:

- the school page's block for the school with the most students: the forecast's
  ``school_gaps`` and then ``reports.closing.school_plans`` (events, whom to send);
- the city dashboard's block: ``city_gaps`` and then ``city_plans``;
- the organizer's event page: ``schools_for_event`` for the soonest open event (given the city
  gaps, as the page asks for them);

each split into the forecast's part (issue #15 items 1–3) and this one. Results go to
docs/performance.md («Что поможет достичь цели»).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def timed(fn, runs: int) -> tuple[float, object]:
    result = fn()  # warm-up: caches, plans
    walls = []
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        walls.append(time.perf_counter() - start)
    return statistics.median(walls), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not args.database_url:
        parser.error("--database-url (or DATABASE_URL) is required")

    from webapp import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url})
    with app.app_context():
        import sqlalchemy as sa

        from models import Student, Target, db
        from models.academic_year import current_academic_year
        from reports import closing
        from reports.forecast import city_gaps, school_gaps

        year = current_academic_year()
        db.session.execute(sa.delete(Target).where(Target.year == year))
        db.session.add(Target(year=year, students=Decimal(60), students_ovz=Decimal(50),
                              events=Decimal(90), teachers=Decimal(40)))
        db.session.flush()
        biggest = db.session.execute(
            sa.select(Student.organization_id, sa.func.count())
            .group_by(Student.organization_id).order_by(sa.func.count().desc()).limit(1)).first()
        school_id, roster = biggest
        print(f"{platform.node()} {platform.python_version()} "
              f"{db.engine.dialect.name}; year {year}/{year + 1}; school {school_id} "
              f"({roster} students)")

        t_gaps, gaps = timed(lambda: school_gaps(year, school_id), args.runs)
        t_plans, plans = timed(lambda: closing.school_plans(gaps, school_id, year), args.runs)
        print(f"school page: school_gaps {t_gaps * 1000:.0f} ms ({len(gaps)} gaps), "
              f"school_plans {t_plans * 1000:.0f} ms "
              f"({sum(len(p.options) for p in plans)} events offered)")

        t_city, all_gaps = timed(lambda: city_gaps(year), args.runs)
        t_city_plans, at_risk = timed(lambda: closing.city_plans(all_gaps), args.runs)
        print(f"city dashboard: city_gaps {t_city * 1000:.0f} ms ({len(all_gaps)} gaps), "
              f"city_plans {t_city_plans * 1000:.0f} ms ({len(at_risk)} schools)")

        open_now = closing.open_events()
        if open_now:
            event = open_now[0].event
            t_event, demand = timed(lambda: closing.schools_for_event(event, all_gaps),
                                    args.runs)
            print(f"organizer's event page: schools_for_event {t_event * 1000:.0f} ms "
                  f"({len(demand)} schools; plus city_gaps as above); open events "
                  f"{len(open_now)}")
        db.session.rollback()


if __name__ == "__main__":
    main()
