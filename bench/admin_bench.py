"""Benchmark of the admin's directory pages at city scale.

For each database (SQLite file, PostgreSQL): a fresh database is migrated and seeded with the
city's directory (70 schools, 100 kindergartens, 15 organizers), four academic years of
baselines and 50,000 audit-log rows; then each request is made ``--runs`` times through the app
in-process (Flask test client, one at a time) and the median and 90th percentile are printed as
a Markdown table (docs/performance.md, section «Справочник и базовые показатели»).

    .venv/bin/python bench/admin_bench.py [--runs 9] [--db sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCHOOLS, PRESCHOOLS, ORGANIZERS, AUDIT_ROWS = 70, 100, 15, 50_000
YEAR = 2025
PG_BASE = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def migrate(url: str) -> None:
    env = dict(os.environ, DATABASE_URL=url)
    subprocess.run([str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "db", "upgrade"],
                   cwd=ROOT, env=env, check=True, capture_output=True)


def seed() -> list:
    import random

    from models import AuditLog, Baseline, Organization, OrgKind, Role, User, db

    rng = random.Random(7)
    orgs = [Organization(name=f"МАОУ СОШ № {n} г. Томска", kind=OrgKind.SCHOOL,
                         external_id=f"S-{n}") for n in range(1, SCHOOLS + 1)]
    orgs += [Organization(name=f"МАДОУ № {n} г. Томска", kind=OrgKind.PRESCHOOL,
                          external_id=f"D-{n}") for n in range(1, PRESCHOOLS + 1)]
    orgs += [Organization(name=f"Организатор {n}", kind=OrgKind.PARTNER)
             for n in range(1, ORGANIZERS + 1)]
    db.session.add_all(orgs)
    admin = User(email="admin@bench.local", role=Role.ADMIN, full_name="Админ")
    admin.set_password("bench-pass")
    db.session.add(admin)
    db.session.flush()
    for year in range(YEAR - 3, YEAR + 1):
        for org in orgs[:SCHOOLS + PRESCHOOLS]:
            total = rng.randint(100, 1500)
            db.session.add(Baseline(organization_id=org.id, year=year, students_total=total,
                                    students_ovz=total // 20, teachers_total=total // 15))
    db.session.flush()
    db.session.bulk_insert_mappings(AuditLog, [
        {"user_id": admin.id, "action": "baseline.save", "object_type": "baselines",
         "object_id": str(n % 680), "details": {"year": YEAR}} for n in range(AUDIT_ROWS)])
    db.session.commit()
    return [o.id for o in orgs[:SCHOOLS + PRESCHOOLS]]


def table_form(org_ids: list, bump: int) -> dict:
    data = {}
    for n, org_id in enumerate(org_ids):
        total = 500 + n + bump
        data.update({f"b{org_id}-students_total": str(total),
                     f"b{org_id}-students_ovz": str(total // 20),
                     f"b{org_id}-teachers_total": str(total // 15),
                     f"b{org_id}-planned_events": "", f"b{org_id}-planned_early_events": ""})
    return data


def import_file(org_ids: list, bump: int) -> bytes:
    from openpyxl import Workbook

    from models import Organization, db

    book = Workbook()
    sheet = book.active
    sheet.append(["Внешний ID", "Организация", "Обучающихся", "С ОВЗ", "Педагогов"])
    for n, org_id in enumerate(org_ids):
        org = db.session.get(Organization, org_id)
        total = 900 + n + bump
        sheet.append([org.external_id, org.name, total, total // 20, total // 15])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def measure(label: str, runs: int, call) -> tuple[str, float, float]:
    call(0)  # warm-up
    times = []
    for n in range(1, runs + 1):
        start = time.perf_counter()
        response = call(n)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code in (200, 302), (label, response.status_code)
    times.sort()
    return label, statistics.median(times), times[int(0.9 * (len(times) - 1) + 0.5)]


def run(url: str, runs: int) -> list:
    from webapp import create_app

    migrate(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False,
                      "TESTING": True})
    results = []
    with app.app_context():
        org_ids = seed()
        client = app.test_client()
        client.post("/login", data={"email": "admin@bench.local", "password": "bench-pass"})
        rows = len(org_ids)
        results.append(measure(f"GET /admin/baselines ({rows} строк)", runs,
                               lambda n: client.get(f"/admin/baselines?year={YEAR}")))
        results.append(measure(f"POST /admin/baselines (все {rows} строк изменены)", runs,
                               lambda n: client.post(f"/admin/baselines?year={YEAR}",
                                                     data=table_form(org_ids, n))))
        files = {n: import_file(org_ids, n) for n in range(runs + 1)}
        results.append(measure(f"POST /admin/baselines/import (XLSX, {rows} строк)", runs,
                               lambda n: client.post(
                                   "/admin/baselines/import", content_type="multipart/form-data",
                                   data={"year": str(YEAR),
                                         "file": (io.BytesIO(files[n]), "b.xlsx")})))
        results.append(measure("GET /admin/baselines/template.xlsx", runs,
                               lambda n: client.get(f"/admin/baselines/template.xlsx?year={YEAR}")))
        results.append(measure(f"GET /admin/audit (1-я страница из {AUDIT_ROWS:,})".replace(
            ",", "\u00a0"), runs, lambda n: client.get("/admin/audit")))
        results.append(measure("GET /admin/audit?page=900", runs,
                               lambda n: client.get("/admin/audit?page=900")))
        results.append(measure("GET /admin/audit?object_type=baselines&object_id=7", runs,
                               lambda n: client.get("/admin/audit?object_type=baselines"
                                                    "&object_id=7")))
        results.append(measure("GET /admin/organizations (185)", runs,
                               lambda n: client.get("/admin/organizations")))
        from models import db

        db.session.remove()
        db.engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    columns = {}
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            columns["SQLite"] = run(f"sqlite:///{tmp}/bench.db", args.runs)
    if args.db in ("postgres", "both"):
        import sqlalchemy as sa

        from webapp.config import normalize_database_url

        base = normalize_database_url(PG_BASE)
        name = f"bench_admin_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = sa.engine.make_url(base).set(database=name).render_as_string(hide_password=False)
        try:
            columns["PostgreSQL"] = run(url, args.runs)
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    names = list(columns)
    print("| запрос | " + " | ".join(f"{n}: медиана | {n}: p90" for n in names) + " |")
    print("|---|" + "---:|---:|" * len(names))
    for index, (label, _m, _p) in enumerate(columns[names[0]]):
        cells = []
        for n in names:
            _l, median, p90 = columns[n][index]
            cells += [f"{median:.0f}", f"{p90:.0f}"]
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
