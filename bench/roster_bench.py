"""Benchmark of a coordinator's pages for a school of 3,000 students, as a phone loads them.

A fresh database (SQLite file or PostgreSQL) is migrated and seeded with one school of 3,000
students in 33 classes, 40 teachers and an event open to every grade; the app is served by
gunicorn (``gunicorn.conf.py``) on 127.0.0.1, and Chromium (Playwright, 390×844, a phone) logs
in as the school's coordinator and opens each page ``--runs`` times after a warm-up. From the
browser's Navigation Timing: time to first byte (``responseStart``) and full load
(``loadEventEnd``: HTML, styles and scripts, laid out), median and 90th percentile, in ms, plus
the HTML size; printed as a Markdown table (docs/performance.md, «Списки школы на телефоне»).

    .venv/bin/python bench/roster_bench.py [--runs 9] [--db sqlite|postgres|both] [--root DIR]

``--root`` serves another checkout (e.g. an older commit unpacked with ``git archive``) with
this checkout's virtualenv, to compare before and after.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv/bin"
PG_BASE = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
STUDENTS, TEACHERS = 3000, 40
EMAIL, PASSWORD = "coordinator@bench.local", "bench-pass"
LAST_NAMES = ["Иванов", "Смирнова", "Кузнецов", "Попова", "Васильев", "Петрова", "Соколов",
              "Михайлова", "Новиков", "Фёдорова", "Морозов", "Волкова", "Алексеев", "Лебедева",
              "Семёнов", "Егорова", "Павлов", "Козлова", "Степанов", "Николаева", "Орлов",
              "Андреева", "Макаров", "Захарова", "Зайцев", "Соловьёва", "Борисов", "Яковлева",
              "Ёлкин", "Григорьева"]
FIRST_NAMES = ["Александр", "Мария", "Дмитрий", "Анна", "Максим", "Елена", "Артём", "Ольга",
               "Иван", "Дарья", "Михаил", "Полина"]


def seed(url: str, root: Path) -> None:
    """Runs in a child process with ``root`` first on sys.path (see ``--seed``)."""
    sys.path.insert(0, str(root))
    import sqlalchemy as sa

    from models import (
        Audience,
        Category,
        Event,
        EventStatus,
        Organization,
        OrgKind,
        Role,
        Student,
        Teacher,
        User,
        db,
        now_utc,
    )
    from webapp import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        school = Organization(name="МАОУ СОШ № 1 г. Томска", kind=OrgKind.SCHOOL)
        organizer = Organization(name="ТГУ", kind=OrgKind.UNIVERSITY)
        db.session.add_all([school, organizer])
        db.session.flush()
        user = User(email=EMAIL, role=Role.COORDINATOR, organization=school,
                    full_name="Координатор", active=True)
        user.set_password(PASSWORD)
        db.session.add(user)
        classes = [(grade, f"{grade}{letter}") for grade in range(1, 12) for letter in "АБВ"]
        rows = []
        for n in range(STUDENTS):
            grade, class_name = classes[n % len(classes)]
            rows.append({"organization_id": school.id, "last_name": LAST_NAMES[n % 30],
                         "first_name": FIRST_NAMES[n % 12], "middle_name": "Сергеевич",
                         "class_name": class_name, "grade": grade, "ovz": n % 40 == 0,
                         "external_id": f"S1-{n:05d}", "active": True})
        db.session.execute(sa.insert(Student), rows)
        db.session.execute(sa.insert(Teacher), [
            {"organization_id": school.id, "last_name": LAST_NAMES[n % 30],
             "first_name": FIRST_NAMES[n % 12], "active": True} for n in range(TEACHERS)])
        start = now_utc().replace(microsecond=0) + __import__("datetime").timedelta(days=14)
        event = Event(organizer=organizer, title="День открытых дверей",
                      category=Category.query.filter_by(code="university").one(),
                      audience=Audience.STUDENTS, grades_min=1, grades_max=11,
                      starts_at=start, ends_at=start + __import__("datetime").timedelta(hours=2),
                      venue_name="Главный корпус", capacity=5000,
                      status=EventStatus.PUBLISHED, published_at=now_utc())
        db.session.add(event)
        db.session.commit()
        print(event.id)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(url: str, root: Path, port: int) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=url, PYTHONPATH=str(root),
               SECRET_KEY="bench-" + "x" * 40)
    process = subprocess.Popen([str(VENV / "gunicorn"), "-b", f"127.0.0.1:{port}", "wsgi:app"],
                               cwd=root, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise RuntimeError("gunicorn did not start")


def percentile(values: list[float], share: float) -> float:
    values = sorted(values)
    return values[int(share * (len(values) - 1) + 0.5)]


def measure_pages(base: str, event_id: int, runs: int) -> list[tuple]:
    from playwright.sync_api import sync_playwright

    pages = [
        ("/school/students", "Ученики, 1-я страница"),
        ("/school/students?page=30", "Ученики, последняя страница"),
        ("/school/students?class=7Б", "Ученики одного класса (7Б)"),
        ("/school/students?q=елкин", "Поиск «елкин» (находит «Ёлкин»)"),
        (f"/events/{event_id}/register", "Записать группу (все классы)"),
    ]
    results = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                      has_touch=True)
        page = context.new_page()
        page.goto(f"{base}/login")
        page.fill("input[name=email]", EMAIL)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("load")
        for path, label in pages:
            ttfb, load, size = [], [], 0
            for run in range(runs + 1):
                page.goto(base + path, wait_until="load")
                timing = page.evaluate("""() => { const t = performance
                    .getEntriesByType('navigation')[0];
                    return [t.responseStart - t.startTime, t.loadEventEnd - t.startTime,
                            t.transferSize, t.decodedBodySize]; }""")
                if run:  # the first is the warm-up
                    ttfb.append(timing[0])
                    load.append(timing[1])
                size = timing[3]
            rows = page.locator("table tbody tr, input[data-person]").count()
            results.append((label, statistics.median(ttfb), percentile(ttfb, 0.9),
                            statistics.median(load), percentile(load, 0.9), size, rows))
        browser.close()
    return results


def run(url: str, root: Path, runs: int) -> list[tuple]:
    env = dict(os.environ, DATABASE_URL=url, PYTHONPATH=str(root))
    subprocess.run([str(VENV / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=root, env=env,
                   check=True, capture_output=True)
    seeded = subprocess.run([str(VENV / "python"), str(Path(__file__).resolve()), "--seed", url,
                             "--root", str(root)], cwd=root, env=env, check=True,
                            capture_output=True, text=True)
    event_id = int(seeded.stdout.strip().splitlines()[-1])
    port = free_port()
    server = serve(url, root, port)
    try:
        return measure_pages(f"http://127.0.0.1:{port}", event_id, runs)
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--seed", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed:
        seed(args.seed, args.root.resolve())
        return
    root = args.root.resolve()
    columns = {}
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            columns["SQLite"] = run(f"sqlite:///{tmp}/bench.db", root, args.runs)
    if args.db in ("postgres", "both"):
        import sqlalchemy as sa

        name = f"bench_roster_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(PG_BASE, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = sa.engine.make_url(PG_BASE).set(database=name).render_as_string(
            hide_password=False)
        try:
            columns["PostgreSQL"] = run(url, root, args.runs)
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    for name, results in columns.items():
        print(f"\n{name}\n")
        print("| страница | строк (людей) в HTML | HTML, КБ | TTFB: медиана | TTFB: p90 "
              "| полная загрузка: медиана | полная загрузка: p90 |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for label, ttfb, ttfb90, load, load90, size, rows in results:
            print(f"| {label} | {rows} | {size / 1024:.0f} | {ttfb:.0f} | {ttfb90:.0f} "
                  f"| {load:.0f} | {load90:.0f} |")


if __name__ == "__main__":
    main()
