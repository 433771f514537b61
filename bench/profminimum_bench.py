"""Benchmark of «профминимум» at city scale (issue #14).

    .venv/bin/python bench/profminimum_bench.py --database-url sqlite:////tmp/pm_city.db --prepare
    .venv/bin/python bench/profminimum_bench.py \
        --database-url postgresql://postgres@127.0.0.1/pm_city --prepare

Run it on a COPY of a city-scale set (``demo --size city``). ``--prepare`` migrates the copy to
head and applies the generator's профминимум step (``webapp.demo.profminimum.apply_to_city``:
formats and levels), as a set built before issue #14 lacks them. Then, for one academic year
(default: the last complete one), it times through the Flask test client, as an admin and a
school's coordinator: the city page, the API for the city, the API for a school and the
school's page (the largest school), against the bare SQL they run (the hours per student
statement and the students of grades 6–11, executed and fetched), and, as a yardstick of the
machine's load in the same run, the indicators' ``compute_indicators`` for the year. Medians
of several runs after a warm-up. Results go to docs/performance.md («Профминимум»).
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
    parser.add_argument("--prepare", action="store_true",
                        help="migrate the copy and add formats and levels")
    parser.add_argument("--year", type=int, default=None)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not args.database_url:
        parser.error("--database-url (or DATABASE_URL) is required")

    from webapp import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        import random

        import sqlalchemy as sa

        from models import Organization, OrgKind, Role, Scan, Student, User, db
        from models.academic_year import current_academic_year
        from reports import profminimum as pm

        if args.prepare:
            from flask_migrate import upgrade

            started = time.perf_counter()
            upgrade()
            from webapp.demo.profminimum import apply_to_city

            year_now = current_academic_year()
            apply_to_city(random.Random(14), range(year_now - 3, year_now + 1))
            db.session.commit()
            print(f"prepare (upgrade + formats, levels): {time.perf_counter() - started:.1f} s")

        year = args.year or current_academic_year() - 1
        largest = db.session.execute(
            sa.select(Student.organization_id, sa.func.count()).join(
                Organization, Organization.id == Student.organization_id)
            .where(Organization.kind == OrgKind.SCHOOL, Student.grade.between(6, 11))
            .group_by(Student.organization_id).order_by(sa.func.count().desc()).limit(1)
        ).first()
        school_id = largest[0]
        admin = User.query.filter_by(role=Role.ADMIN, active=True).first()
        coordinator = User.query.filter_by(role=Role.COORDINATOR,
                                           organization_id=school_id).first()
        if coordinator is None:
            coordinator = User(email=f"bench-pm-{school_id}@bench.local", full_name="Замер",
                               role=Role.COORDINATOR, organization_id=school_id, active=True)
            coordinator.set_password("bench-pass-123")
            db.session.add(coordinator)
            db.session.commit()
        admin_id, coordinator_id = admin.id, coordinator.id
        checkins = db.session.execute(sa.select(sa.func.count()).select_from(Scan).where(
            Scan.outcome == "ok", Scan.undone_at.is_(None))).scalar()
        students = db.session.execute(sa.select(sa.func.count()).select_from(Student).where(
            Student.grade.between(6, 11), Student.active.is_(True))).scalar()
        print(f"{platform.platform()}, Python {platform.python_version()}, "
              f"{db.engine.dialect.name}; year {year}; check-ins (all years) {checkins}; "
              f"students 6–11 {students}; school {school_id} "
              f"({largest[1]} students 6–11)")

        def client_for(user_id):
            client = app.test_client()
            with client.session_transaction() as session:
                user = db.session.get(User, user_id)
                session["_user_id"] = user.get_id()
                session["_fresh"] = True
            return client

        admin_client, school_client = client_for(admin_id), client_for(coordinator_id)

        def get(client, url):
            def run():
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)
                db.session.remove()
            return run

        def bare_city():
            db.session.execute(pm.hours_statement(year)).all()
            db.session.execute(sa.select(Student.id, Student.organization_id, Student.grade,
                                         Student.ovz).where(Student.active.is_(True),
                                                            Student.grade.between(6, 11))).all()
            db.session.remove()

        def bare_school():
            db.session.execute(pm.hours_statement(year, school_id)).all()
            db.session.execute(sa.select(Student.id, Student.class_name, Student.grade).where(
                Student.organization_id == school_id, Student.active.is_(True),
                Student.grade.between(6, 11))).all()
            db.session.remove()

        from models.academic_year import academic_year_period
        from reports.indicators import compute_indicators

        rows = [
            ("(reference) compute_indicators, year", lambda: (
                compute_indicators(academic_year_period(year)), db.session.remove())),
            ("city page /reports/profminimum/", get(admin_client,
                                                    f"/reports/profminimum/?year={year}")),
            ("API, city", get(admin_client, f"/api/v1/reports/profminimum?year={year}")),
            ("bare SQL, city", bare_city),
            ("school page", get(school_client,
                                f"/reports/profminimum/schools/{school_id}?year={year}")),
            ("API, school", get(school_client, f"/api/v1/reports/profminimum?year={year}"
                                               f"&organization_id={school_id}")),
            ("bare SQL, school", bare_school),
        ]
        results = {}
        for title, fn in rows:
            median, walls = timed(fn, args.runs)
            results[title] = median
            print(f"{title:38s} median {median * 1000:7.0f} ms  "
                  f"(runs: {', '.join(f'{w * 1000:.0f}' for w in walls)})")
        print(f"ratio city page / bare SQL: "
              f"{results['city page /reports/profminimum/'] / results['bare SQL, city']:.2f}; "
              f"school page / bare SQL: "
              f"{results['school page'] / results['bare SQL, school']:.2f}")


if __name__ == "__main__":
    main()
