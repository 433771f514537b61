"""Benchmark of «Аналитическая справка» (HTML and PDF) and of a 23-person tickets PDF at demo
scale (``flask demo``: 70 schools, the current and previous years).

For each database (SQLite file, PostgreSQL): a fresh database is migrated and filled with the
demo; a 23-person group of the demo school (22 students and a teacher) is registered for an
upcoming event; then each page is requested ``--runs`` times through the app in-process (Flask
test client, one request at a time, logged in as the demo admin or coordinator) and the median
and the 90th percentile are printed as a Markdown table (docs/performance.md, «Аналитическая
справка»). The goal: the справка's PDF in at most 2 s; past 0,3 s its link shows «PDF
готовится…» (webapp/static/js/busy_link.js), so every figure here is behind that notice.

    .venv/bin/python bench/spravka_bench.py [--runs 7] [--db sqlite|postgres|both]
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

PG_BASE = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
GROUP = 23


def run(url: str, *args: str) -> None:
    env = dict(os.environ, DATABASE_URL=url)
    subprocess.run([str(ROOT / ".venv/bin/flask"), "--app", "wsgi", *args], cwd=ROOT, env=env,
                   check=True, capture_output=True)


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def timed_get(client, url: str, runs: int) -> tuple[float, float, bytes]:
    times, body = [], b""
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        body = response.data
    return statistics.median(times), percentile(times, 0.9), body


def login(app, email: str):
    from webapp.demo.directory import DEMO_PASSWORD

    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD})
    assert response.status_code in (302, 303), response.status_code
    return client


def group_of_23(app) -> int:
    """A registration of the demo school with 22 students and a teacher, for an upcoming
    student event with room for them."""
    from checkin.seats.registration import register_group
    from models import (
        Audience,
        Event,
        EventStatus,
        Student,
        Teacher,
        User,
        db,
        now_utc,
    )

    with app.app_context():
        coordinator = User.query.filter_by(email="school@demo.local").one()
        school = coordinator.organization
        event = Event(**{c: getattr(Event.query.filter(
            Event.audience == Audience.STUDENTS, Event.status == EventStatus.PUBLISHED,
            Event.starts_at > now_utc()).order_by(Event.starts_at).first(), c) for c in (
            "organizer_id", "category_id", "audience", "venue_name", "venue_address",
            "starts_at", "ends_at")}, title="Бенчмарк: группа из 23 человек", capacity=100,
            status=EventStatus.PUBLISHED, published_at=now_utc(), grades_min=1, grades_max=11)
        db.session.add(event)
        db.session.commit()   # the registration locks the event first, in its own transaction
        students = [s.id for s in Student.query.filter_by(organization_id=school.id,
                                                         active=True).limit(GROUP - 1)]
        teacher = Teacher.query.filter_by(organization_id=school.id, active=True).first()
        assert len(students) == GROUP - 1 and teacher is not None
        registration = register_group(coordinator, event, school, students, [teacher.id])
        db.session.commit()
        return registration.id


def bench(url: str, runs: int) -> list[tuple[str, str, str]]:
    from pypdf import PdfReader

    from models.academic_year import current_academic_year
    from webapp import create_app

    run(url, "db", "upgrade")
    run(url, "demo", "--if-empty")
    from webapp.config import normalize_database_url

    # The PDF is made in full every time: the closed year's figures are not kept
    # (reports.cache) so the rows stay comparable with the earlier series.
    app = create_app({"SQLALCHEMY_DATABASE_URI": normalize_database_url(url),
                      "WTF_CSRF_ENABLED": False, "REPORT_CACHE": False})
    registration_id = group_of_23(app)
    year = current_academic_year()
    rows = []
    admin = login(app, "admin@demo.local")
    timed_get(admin, f"/reports/spravka.pdf?year={year}", 1)   # warm-up
    html_ms, html90, _ = timed_get(admin, f"/reports/spravka?year={year}", runs)
    rows.append((f"справка, HTML ({year}/{(year + 1) % 100:02d}, год идёт)",
                 f"{html_ms:.0f} (p90 {html90:.0f})", ""))
    pdf_ms, pdf90, body = timed_get(admin, f"/reports/spravka.pdf?year={year}", runs)
    pages = len(PdfReader(io.BytesIO(body)).pages)
    rows.append(("справка, PDF (год идёт)", f"{pdf_ms:.0f} (p90 {pdf90:.0f})",
                 f"{pages} стр., {len(body) // 1024} КБ; цель ≤ 2 000"))
    past_ms, past90, body = timed_get(admin, f"/reports/spravka.pdf?year={year - 1}", runs)
    rows.append(("справка, PDF (прошлый год целиком)", f"{past_ms:.0f} (p90 {past90:.0f})",
                 f"{len(PdfReader(io.BytesIO(body)).pages)} стр., {len(body) // 1024} КБ"))
    school = login(app, "school@demo.local")
    tickets_ms, tickets90, body = timed_get(
        school, f"/school/registrations/{registration_id}/tickets.pdf", runs)
    rows.append((f"PDF билетов группы из {GROUP} человек",
                 f"{tickets_ms:.0f} (p90 {tickets90:.0f})",
                 f"{len(PdfReader(io.BytesIO(body)).pages)} стр. A4, {len(body) // 1024} КБ"))
    with app.app_context():
        from models import db

        db.engine.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    targets = []
    if args.db in ("sqlite", "both"):
        targets.append("sqlite")
    if args.db in ("postgres", "both"):
        targets.append("postgres")
    for target in targets:
        if target == "sqlite":
            folder = tempfile.mkdtemp(prefix="spravka-bench-")
            url = f"sqlite:///{folder}/bench.db"
            rows = bench(url, args.runs)
        else:
            import sqlalchemy as sa

            name = f"spravka_bench_{uuid.uuid4().hex[:8]}"
            engine = sa.create_engine(PG_BASE, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            url = PG_BASE.rsplit("/", 1)[0] + f"/{name}"
            try:
                rows = bench(url, args.runs)
            finally:
                with engine.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        print(f"\n### {target}\n")
        print("| что | мс: медиана (p90) | примечание |\n|---|---:|---|")
        for what, ms, note in rows:
            print(f"| {what} | {ms} | {note} |")


if __name__ == "__main__":
    main()
