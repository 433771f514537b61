"""Benchmark of an attendance import: 1,000 rows of a school of 3,000 students.

A fresh database (SQLite file or PostgreSQL) is migrated and seeded with one school of 3,000
students in 33 classes and ``--runs`` events that are over. For each event the school's
coordinator imports a CSV of 1,000 students who attended (half named by external id, half by
surname, name and class; none has a ticket yet, so each gets one) in one request's
transaction, committed once, as the page does; then the same file again (everyone skipped).
Printed: median and max, ms, as a Markdown table (docs/performance.md, «Загрузка списка
присутствовавших»).

    .venv/bin/python bench/attendance_bench.py [--runs 5] [--db sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_BASE = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
STUDENTS, ROWS = 3000, 1000
LAST_NAMES = ["Иванов", "Смирнова", "Кузнецов", "Попова", "Васильев", "Петрова", "Соколов",
              "Михайлова", "Новиков", "Фёдорова"]
LETTERS = "абвгдежзиклмнопрстуфхцчшщэюя"


def unique_first_name(n: int) -> str:
    """A name no other student of the bench shares (letters only, as names are)."""
    word = ""
    while True:
        word += LETTERS[n % len(LETTERS)]
        n //= len(LETTERS)
        if n == 0:
            return "Имя" + word


def run(url: str, runs: int) -> dict:
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
        User,
        db,
        now_utc,
    )
    from webapp import create_app
    from webapp.attendance.imports import import_attendance_file

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        from flask_migrate import upgrade
        upgrade()
        school = Organization(name="МАОУ СОШ № 1 г. Томска", kind=OrgKind.SCHOOL)
        organizer = Organization(name="ТГУ", kind=OrgKind.UNIVERSITY)
        db.session.add_all([school, organizer])
        db.session.flush()
        user = User(email="c@bench.local", role=Role.COORDINATOR, organization=school,
                    full_name="Координатор", active=True)
        user.set_password("bench-pass")
        db.session.add(user)
        classes = [(grade, f"{grade}{letter}") for grade in range(1, 12) for letter in "АБВ"]
        students = []
        for n in range(STUDENTS):
            grade, class_name = classes[n % len(classes)]
            students.append({"organization_id": school.id, "last_name": LAST_NAMES[n % 10],
                             "first_name": unique_first_name(n), "class_name": class_name,
                             "grade": grade, "ovz": False, "active": True,
                             "external_id": f"E{n}"})
        db.session.execute(sa.insert(Student), students)
        category = db.session.scalars(sa.select(Category)).first()
        start = now_utc() - timedelta(days=3)
        events = []
        for n in range(runs):
            event = Event(organizer_id=organizer.id, title=f"Замер {n}", category=category,
                          audience=Audience.STUDENTS, grades_min=1, grades_max=11,
                          starts_at=start, ends_at=start + timedelta(hours=2),
                          venue_name="ТГУ", venue_address="Томск", capacity=100,
                          status=EventStatus.PUBLISHED, published_at=start)
            db.session.add(event)
            events.append(event)
        db.session.commit()
        lines = ["Фамилия;Имя;Отчество;Класс;Идентификатор;Школа"]
        for s in students[:ROWS // 2]:
            lines.append(f";;;;{s['external_id']};")
        for s in students[ROWS // 2:ROWS]:
            lines.append(f"{s['last_name']};{s['first_name']};;{s['class_name']};;")
        data = ("\r\n".join(lines) + "\r\n").encode("utf-8")
        event_ids = [e.id for e in events]
        user_id = user.id
        first, again = [], []
        for event_id in event_ids:
            for timings in (first, again):
                db.session.remove()
                actor = db.session.get(User, user_id)
                event = db.session.get(Event, event_id)
                started = time.perf_counter()
                outcome = import_attendance_file(actor, event, "был.csv", data)
                db.session.commit()
                timings.append((time.perf_counter() - started) * 1000)
                assert outcome.checked_in + outcome.already == ROWS, outcome
        db.session.remove()
        db.engine.dispose()
    return {"first": first, "again": again}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    results = {}
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            results["SQLite"] = run(f"sqlite:///{tmp}/bench.db", args.runs)
    if args.db in ("postgres", "both"):
        import sqlalchemy as sa
        name = f"bench_attendance_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(PG_BASE, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
        try:
            results["PostgreSQL"] = run(PG_BASE.rsplit("/", 1)[0] + f"/{name}", args.runs)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            admin.dispose()
    print(f"| база | {ROWS} строк, впервые: медиана | макс. | тот же файл снова: медиана | макс. |")
    print("|---|---:|---:|---:|---:|")
    for db_name, r in results.items():
        print(f"| {db_name} | {statistics.median(r['first']):.0f} | {max(r['first']):.0f} | "
              f"{statistics.median(r['again']):.0f} | {max(r['again']):.0f} |")


if __name__ == "__main__":
    main()
