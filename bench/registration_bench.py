"""Benchmark of the schools area: parallel group registrations, roster import, PDFs, door list.

For each database (SQLite file, PostgreSQL) a fresh database is migrated, then:

1. a burst of ``--groups`` parallel API requests (threads, each with its own app context and
   connection), each registering one class of 25 students for one festival event (capacity
   600, quota 20 a school): wall time, latency median / p90, and the invariants checked
   (confirmed ≤ capacity, ≤ quota per school);
2. importing a whole school's roster from XLSX (1,000 rows), then re-importing it (updates);
3. the A4 ticket PDF and the group sheet of one 30-person group;
4. the organizer's XLSX door list and counts by school for an event of 6,000 tickets
   (the city festival).

Results are printed as Markdown rows for docs/performance.md (section «Заявки школ»).

    .venv/bin/python bench/registration_bench.py [--db sqlite|postgres|both] [--runs 5]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_BASE = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
CLASS_SIZE = 30
FESTIVAL_TICKETS = 6000


def migrate(url: str) -> None:
    env = dict(os.environ, DATABASE_URL=url)
    subprocess.run([str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "db", "upgrade"],
                   cwd=ROOT, env=env, check=True, capture_output=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def timed(fn, runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), percentile(samples, 0.9)


def bench(url: str, groups: int, runs: int) -> list[tuple[str, str, str]]:
    from openpyxl import Workbook

    from models import (
        Category,
        Event,
        Organization,
        OrgKind,
        Registration,
        Role,
        Student,
        Ticket,
        TicketStatus,
        User,
        db,
        now_utc,
    )
    from models.user import ApiToken
    from webapp import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True,
                      "PROFROUTE_BASE_URL": "http://bench.local"})
    rows = []
    with app.app_context():
        from datetime import timedelta

        from models import Audience, EventStatus

        organizer = Organization(name="ЦПК (bench)", kind=OrgKind.DEPARTMENT)
        db.session.add(organizer)
        start = now_utc() + timedelta(days=10)
        category = Category.query.filter_by(code="campaign").first()
        festival = Event(organizer=organizer, title="Фестиваль профессий", category=category,
                         audience=Audience.STUDENTS, grades_min=1, grades_max=11,
                         starts_at=start, ends_at=start + timedelta(hours=6),
                         venue_name="Дворец спорта", capacity=600, per_school_quota=20,
                         status=EventStatus.PUBLISHED, published_at=now_utc())
        db.session.add(festival)
        jobs = []
        for n in range(groups):
            school = Organization(name=f"Школа {n} (bench)", kind=OrgKind.SCHOOL)
            db.session.add(school)
            db.session.flush()
            user = User(email=f"c{n}@bench.local", role=Role.COORDINATOR,
                        organization_id=school.id, full_name="Bench", active=True)
            user.set_password("bench-password")
            db.session.add(user)
            db.session.flush()
            _row, token = ApiToken.issue(user, "bench")
            students = [Student(organization_id=school.id, last_name=f"Фамилия{i}",
                                first_name="Имя", class_name="8А", grade=8)
                        for i in range(CLASS_SIZE)]
            db.session.add_all(students)
            db.session.flush()
            jobs.append((token, [s.id for s in students]))
        db.session.commit()
        event_id = festival.id

    # 1. The burst.
    latencies, statuses, errors = [], [], []
    barrier = threading.Barrier(len(jobs))

    def worker(token, ids):
        with app.app_context():
            client = app.test_client()
            barrier.wait()
            t0 = time.perf_counter()
            try:
                response = client.post(f"/api/v1/events/{event_id}/registrations",
                                       json={"student_ids": ids},
                                       headers={"Authorization": f"Bearer {token}"})
                statuses.append(response.status_code)
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
            latencies.append((time.perf_counter() - t0) * 1000)
            db.session.remove()

    threads = [threading.Thread(target=worker, args=job) for job in jobs]
    wall = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = (time.perf_counter() - wall) * 1000
    with app.app_context():
        confirmed = Ticket.query.filter_by(event_id=event_id,
                                           status=TicketStatus.CONFIRMED).count()
        waitlisted = Ticket.query.filter_by(event_id=event_id,
                                            status=TicketStatus.WAITLISTED).count()
        per_school = max(
            sum(t.status == TicketStatus.CONFIRMED for t in r.tickets)
            for r in Registration.query.filter_by(event_id=event_id))
    ok = not errors and statuses.count(201) == len(jobs) and confirmed <= 600 and \
        per_school <= 20
    rows.append((f"{len(jobs)} параллельных заявок по {CLASS_SIZE} учеников (API), "
                 f"вся пачка / одна заявка",
                 f"{wall:.0f} / {statistics.median(latencies):.0f} "
                 f"(p90 {percentile(latencies, 0.9):.0f})",
                 f"подтверждено {confirmed}, ожидают {waitlisted}, максимум на школу "
                 f"{per_school}; {'инварианты соблюдены' if ok else 'ОШИБКА'}"))

    # 2. Import of a whole school.
    with app.app_context():
        from webapp.schools.roster import import_students_file

        school = Organization(name=f"Большая школа {uuid.uuid4().hex[:6]}",
                              kind=OrgKind.SCHOOL)
        db.session.add(school)
        db.session.commit()
        workbook = Workbook()
        sheet = workbook.active
        sheet.append(["Фамилия", "Имя", "Отчество", "Класс", "ОВЗ", "Идентификатор"])
        for i in range(1000):
            sheet.append([f"Фамилия{i}", "Имя", "Отчество", f"{i % 11 + 1} {'абвг'[i % 4]}",
                          "нет", f"X{i:05d}"])
        buffer = io.BytesIO()
        workbook.save(buffer)
        data = buffer.getvalue()

        def do_import():
            import_students_file(None, school, "школа.xlsx", data)
            db.session.commit()

        first, _ = timed(do_import, 1)
        again, again90 = timed(do_import, runs)
        rows.append(("Загрузка списка школы, 1 000 строк XLSX: первая / повторная (обновление)",
                     f"{first:.0f} / {again:.0f} (p90 {again90:.0f})", "всё или ничего, "
                     "сопоставление по идентификатору"))

        # 3. PDFs of one 30-person group.
        from checkin.seats.printing import group_sheet_pdf, tickets_pdf

        registration = Registration.query.filter_by(event_id=event_id).first()
        tickets = [t for t in registration.tickets][:30]
        pdf_ms, pdf90 = timed(lambda: tickets_pdf(registration, tickets), runs)
        sheet_ms, sheet90 = timed(lambda: group_sheet_pdf(registration, tickets), runs)
        size = len(tickets_pdf(registration, tickets)) // 1024
        pages = -(-len(tickets) // 8)
        rows.append((f"PDF билетов группы ({len(tickets)} карточек, {pages} стр. A4)",
                     f"{pdf_ms:.0f} (p90 {pdf90:.0f})", f"{size} КБ, шрифт DejaVu встроен"))
        rows.append(("PDF листа группы", f"{sheet_ms:.0f} (p90 {sheet90:.0f})", ""))

        # 4. The festival: 6,000 tickets.
        from sqlalchemy import insert

        from models import TicketKind
        from models.registration import new_short_code, new_ticket_token
        from webapp.checkin_admin.door_list import door_list_xlsx
        from webapp.schools.school_counts import registrations_by_school

        big = Event(organizer_id=festival_organizer_id(Event, event_id), title="Город профессий",
                    category_id=category_id(Event, event_id), audience=Audience.STUDENTS,
                    starts_at=start, ends_at=start + timedelta(hours=8), venue_name="Стадион",
                    capacity=FESTIVAL_TICKETS, status=EventStatus.PUBLISHED,
                    published_at=now_utc())
        db.session.add(big)
        db.session.flush()
        schools = Organization.query.filter(Organization.kind == OrgKind.SCHOOL).all()
        per = FESTIVAL_TICKETS // len(schools) + 1
        made = 0
        for school in schools:
            if made >= FESTIVAL_TICKETS:
                break
            reg = Registration(event_id=big.id, organization_id=school.id)
            db.session.add(reg)
            db.session.flush()
            students = Student.query.filter_by(organization_id=school.id).limit(per).all()
            if len(students) < per:
                extra = [Student(organization_id=school.id, last_name=f"Доп{i}",
                                 first_name="Имя", class_name="9Б", grade=9,
                                 ovz=i % 40 == 0) for i in range(per - len(students))]
                db.session.add_all(extra)
                db.session.flush()
                students += extra
            values = [{"event_id": big.id, "registration_id": reg.id,
                       "kind": TicketKind.STUDENT, "student_id": s.id,
                       "token": new_ticket_token(), "short_code": new_short_code(),
                       "status": TicketStatus.CONFIRMED, "queued_at": now_utc(),
                       "created_at": now_utc()} for s in students[:FESTIVAL_TICKETS - made]]
            db.session.execute(insert(Ticket), values)
            made += len(values)
        db.session.commit()
        door_ms, door90 = timed(lambda: door_list_xlsx(big), runs)
        counts_ms, counts90 = timed(lambda: registrations_by_school(big), runs)
        rows.append((f"Список на входе XLSX, {made} билетов",
                     f"{door_ms:.0f} (p90 {door90:.0f})", ""))
        rows.append((f"Заявки по школам на странице организатора, {made} билетов",
                     f"{counts_ms:.0f} (p90 {counts90:.0f})", "один сгруппированный запрос"))
        db.session.remove()
        db.engine.dispose()
    return rows


def festival_organizer_id(Event, event_id):  # noqa: N803 - model class passed in
    from models import db

    return db.session.get(Event, event_id).organizer_id


def category_id(Event, event_id):  # noqa: N803
    from models import db

    return db.session.get(Event, event_id).category_id


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--groups", type=int, default=40)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    targets = []
    if args.db in ("sqlite", "both"):
        targets.append("sqlite")
    if args.db in ("postgres", "both"):
        targets.append("postgres")
    for target in targets:
        if target == "sqlite":
            directory = tempfile.mkdtemp()
            url = f"sqlite:///{directory}/bench.db"
            migrate(url)
            rows = bench(url, args.groups, args.runs)
        else:
            import sqlalchemy as sa

            from webapp.config import normalize_database_url

            name = f"bench_reg_{uuid.uuid4().hex[:8]}"
            admin = sa.create_engine(normalize_database_url(PG_BASE),
                                     isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            url = sa.engine.make_url(normalize_database_url(PG_BASE)).set(
                database=name).render_as_string(hide_password=False)
            try:
                migrate(url)
                rows = bench(url, args.groups, args.runs)
            finally:
                with admin.connect() as conn:
                    conn.execute(sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :n"), {"n": name})
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
                admin.dispose()
        print(f"\n### {target}\n")
        print("| что | мс: медиана (p90) | примечание |\n|---|---:|---|")
        for what, ms, note in rows:
            print(f"| {what} | {ms} | {note} |")


if __name__ == "__main__":
    main()
