"""Benchmark of the events pages at city scale: catalogue, search, feed, API list, own list.

For each database (SQLite file, PostgreSQL): a fresh database is migrated and seeded with four
academic years of events (2,000 a year, as in Tomsk), 200,000 tickets and 120,000 check-ins on
them, then each page is requested ``--runs`` times through the app in-process (Flask test
client, one request at a time) and the median and 90th percentile are printed as a Markdown
table (docs/performance.md, section «Мероприятия»).

    .venv/bin/python bench/events_bench.py [--runs 15] [--db sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

YEARS = 4
EVENTS_PER_YEAR = 2000
TICKETS = 200_000
CHECKINS = 120_000
SCHOOLS = 70
STUDENTS_PER_SCHOOL = 300
PG_BASE = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

WORDS = ["профпроба", "экскурсия", "мастер-класс", "день открытых дверей", "квест",
         "олимпиада", "лекция", "фестиваль", "соревнования", "урок"]
TOPICS = ["химия", "робототехника", "медицина", "педагогика", "архитектура", "IT",
          "энергетика", "биотехнологии", "журналистика", "право"]


def migrate(url: str) -> None:
    env = dict(os.environ, DATABASE_URL=url)
    subprocess.run([str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "db", "upgrade"],
                   cwd=ROOT, env=env, check=True, capture_output=True)


def seed(app) -> dict:
    import sqlalchemy as sa

    from models import (
        Audience,
        Category,
        Event,
        EventStatus,
        Organization,
        OrgKind,
        Role,
        Scan,
        ScanOutcome,
        Student,
        Ticket,
        TicketKind,
        TicketStatus,
        User,
        db,
    )
    from models.event import event_search_key

    rng = random.Random(7)
    with app.app_context():
        organizers = [Organization(name=f"Организатор {n}", short_name=f"Орг {n}",
                                   kind=OrgKind.UNIVERSITY) for n in range(30)]
        schools = [Organization(name=f"Школа {n}", kind=OrgKind.SCHOOL) for n in range(SCHOOLS)]
        db.session.add_all(organizers + schools)
        db.session.flush()
        user = User(email="bench@demo.local", role=Role.ORGANIZER,
                    organization_id=organizers[0].id, full_name="Bench")
        user.set_password("bench-pass")
        db.session.add(user)
        categories = [c.id for c in Category.query.all()]
        db.session.execute(sa.insert(Student), [
            {"organization_id": school.id, "last_name": f"Фамилия{n}", "first_name": "Имя",
             "class_name": "7А", "grade": 7, "ovz": False}
            for school in schools for n in range(STUDENTS_PER_SCHOOL)])
        student_ids = [row[0] for row in db.session.execute(sa.select(Student.id))]

        now = datetime.now(UTC)
        first = now - timedelta(days=365 * (YEARS - 1))
        rows = []
        for n in range(YEARS * EVENTS_PER_YEAR):
            start = first + timedelta(minutes=rng.randrange(365 * YEARS * 24 * 60))
            start = start.replace(second=0, microsecond=0)
            title = f"{rng.choice(WORDS).capitalize()}: {rng.choice(TOPICS)} № {n}"
            description = "Описание мероприятия " + " ".join(rng.sample(TOPICS, 3))
            grades = sorted(rng.sample(range(1, 12), 2))
            rows.append({
                "organizer_id": rng.choice(organizers).id, "title": title,
                "description": description, "category_id": rng.choice(categories),
                "audience": Audience.STUDENTS, "grades_min": grades[0],
                "grades_max": grades[1], "starts_at": start,
                "ends_at": start + timedelta(hours=2), "venue_name": "Корпус",
                "venue_address": "г. Томск", "capacity": 200, "early": grades[1] <= 4,
                "ovz_adapted": rng.random() < 0.1, "status": EventStatus.PUBLISHED,
                "published_at": start - timedelta(days=30), "school_internal": False,
                "search_key": event_search_key(title, description, "Корпус", "г. Томск"),
                "created_at": now, "updated_at": now,
            })
        db.session.execute(sa.insert(Event), rows)
        event_ids = [row[0] for row in db.session.execute(sa.select(Event.id))]

        tickets, seen = [], set()
        while len(tickets) < TICKETS:
            pair = (rng.choice(event_ids), rng.choice(student_ids))
            if pair in seen:
                continue
            seen.add(pair)
            tickets.append({"event_id": pair[0], "student_id": pair[1],
                            "kind": TicketKind.STUDENT, "status": TicketStatus.CONFIRMED,
                            "token": uuid.uuid4().hex, "short_code": uuid.uuid4().hex[:16],
                            "queued_at": now, "created_at": now})
        db.session.execute(sa.insert(Ticket), tickets)
        ticket_rows = db.session.execute(sa.select(Ticket.id, Ticket.event_id)).all()
        db.session.execute(sa.insert(Scan), [
            {"event_id": event_id, "ticket_id": ticket_id, "raw_code": "x",
             "outcome": ScanOutcome.OK, "scanned_at": now, "received_at": now}
            for ticket_id, event_id in rng.sample(ticket_rows, CHECKINS)])
        db.session.commit()
        return {"organizer_email": user.email}


def measure(app, runs: int, seeded: dict) -> list[tuple[str, float, float]]:
    today = datetime.now(UTC).date()
    pages = [
        ("GET /events (каталог, 1-я страница)", "/events", False),
        ("GET /events?page=10", "/events?page=10", False),
        ("GET /events?q=робототехника&grade=7", "/events?q=%D1%80%D0%BE%D0%B1%D0%BE%D1%82%D0%BE"
                                                "%D1%82%D0%B5%D1%85%D0%BD%D0%B8%D0%BA%D0%B0&grade=7",
         False),
        ("GET /events?early=y&ovz=y&date_from=…", f"/events?early=y&ovz=y&date_from={today}",
         False),
        ("GET /events/feed.ics (вся подписка, сборка)", "/events/feed.ics?run={n}", False),
        ("GET /events/feed.ics (повтор, из кэша)", "/events/feed.ics", False),
        ("GET /api/v1/events?from=…&limit=100", f"/api/v1/events?from={today}&limit=100",
         False),
        ("GET /organizer/events (организатор, ~270 событий)", "/organizer/events", True),
        ("GET /events/{id}", "/events/1", False),
    ]
    results = []
    client = app.test_client()
    logged_in = app.test_client()
    with app.app_context():
        logged_in.post("/login", data={"email": seeded["organizer_email"],
                                       "password": "bench-pass"})
    for label, url, auth in pages:
        who = logged_in if auth else client
        who.get(url.format(n="warm"))  # warm-up
        times = []
        for n in range(runs):
            t0 = time.perf_counter()
            response = who.get(url.format(n=n))
            times.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        times.sort()
        results.append((label, statistics.median(times), times[int(len(times) * 0.9) - 1]))
    return results


def run(kind: str, runs: int) -> list:
    from webapp import create_app

    if kind == "sqlite":
        tmp = tempfile.mkdtemp()
        url = f"sqlite:///{tmp}/bench.db"
        cleanup = None
    else:
        import sqlalchemy as sa

        name = f"bench_events_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(PG_BASE, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = sa.engine.make_url(PG_BASE).set(database=name).render_as_string(
            hide_password=False)

        def cleanup():
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    try:
        migrate(url)
        from webapp.config import normalize_database_url

        app = create_app({"SQLALCHEMY_DATABASE_URI": normalize_database_url(url),
                          "WTF_CSRF_ENABLED": False})
        t0 = time.perf_counter()
        seeded = seed(app)
        print(f"[{kind}] seeded in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        if kind == "postgres":
            with app.app_context():
                from models import db

                db.session.execute(db.text("ANALYZE"))
                db.session.commit()
        results = measure(app, runs, seeded)
        with app.app_context():
            from models import db

            db.engine.dispose()
        return results
    finally:
        if cleanup:
            cleanup()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    print(f"Machine: {platform.platform()}, Python {platform.python_version()}, "
          f"{os.cpu_count()} CPU; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; "
          f"{YEARS * EVENTS_PER_YEAR} events, {TICKETS} tickets, {CHECKINS} check-ins; "
          f"{args.runs} runs each")
    print()
    print("| запрос | " + " | ".join(f"{k}: медиана, мс | {k}: p90, мс" for k in kinds) + " |")
    print("|---|" + "---:|---:|" * len(kinds))
    table: dict[str, list] = {}
    for kind in kinds:
        for label, median, p90 in run(kind, args.runs):
            table.setdefault(label, []).extend([median, p90])
    for label, values in table.items():
        print(f"| {label} | " + " | ".join(f"{v:.0f}" for v in values) + " |")


if __name__ == "__main__":
    main()
