"""Size of the offline scanner data (GET /api/v1/events/{id}/scanner-data) for a festival.

A 6,000-ticket event: 240 school groups of 23 students and 2 teachers from 70 schools,
patronymics for a third of the students, ОВЗ for 3 %, half of them already checked in, plus
120 parent tickets. Measures the JSON as served (compact, UTF-8) and gzip-compressed (what
the phone downloads), and the time to build it. Goal: at most 400 KB compressed.

    .venv/bin/python bench/scanner_data_size.py
"""

from __future__ import annotations

import gzip
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TICKETS = 6000
GOAL_BYTES = 400 * 1024


def main() -> None:
    from flask_migrate import upgrade

    from checkin.door.scanner_data import build_scanner_data
    from models import (
        Audience,
        Category,
        Event,
        EventStatus,
        Organization,
        OrgKind,
        ParentSignup,
        Registration,
        Scan,
        ScanOutcome,
        Student,
        Teacher,
        Ticket,
        TicketKind,
        TicketStatus,
        db,
        now_utc,
    )
    from webapp import create_app
    from webapp.demo.city import FIRST_F, FIRST_M, LAST_NAMES

    rng = random.Random(6000)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/size.db"})
        with app.app_context():
            upgrade()
            organizer = Organization(name="ЦПК (замер)", kind=OrgKind.DEPARTMENT)
            schools = [Organization(name=f"МАОУ СОШ № {n} г. Томска", short_name=f"СОШ № {n}",
                                    kind=OrgKind.SCHOOL) for n in range(1, 71)]
            db.session.add_all([organizer, *schools])
            db.session.flush()
            start = now_utc() + timedelta(days=1)
            event = Event(organizer=organizer, title="Фестиваль «Профессии будущего»",
                          category=Category.query.filter_by(code="campaign").one(),
                          audience=Audience.STUDENTS, starts_at=start,
                          ends_at=start + timedelta(days=3), capacity=TICKETS,
                          status=EventStatus.PUBLISHED, published_at=now_utc())
            db.session.add(event)
            db.session.flush()

            def person_name():
                female = rng.random() < 0.5
                return (rng.choice(LAST_NAMES) + ("а" if female else ""),
                        rng.choice(FIRST_F if female else FIRST_M))

            tickets = []
            groups = (TICKETS - 120) // 25
            for g in range(groups):
                school = schools[g % len(schools)]
                registration = Registration(event_id=event.id, organization_id=school.id)
                db.session.add(registration)
                db.session.flush()
                grade = rng.randint(5, 11)
                letter = rng.choice("АБВГ")
                for _ in range(23):
                    last, first = person_name()
                    middle = rng.choice(["Александрович", "Сергеевна", "Дмитриевич",
                                         "Андреевна"]) if rng.random() < 0.33 else None
                    student = Student(organization_id=school.id, last_name=last,
                                      first_name=first, middle_name=middle,
                                      class_name=f"{grade}{letter}", grade=grade,
                                      ovz=rng.random() < 0.03)
                    db.session.add(student)
                    db.session.flush()
                    tickets.append(Ticket(event_id=event.id, kind=TicketKind.STUDENT,
                                          student_id=student.id, registration_id=registration.id,
                                          status=TicketStatus.CONFIRMED))
                for _ in range(2):
                    last, first = person_name()
                    teacher = Teacher(organization_id=school.id, last_name=last,
                                      first_name=first, middle_name="Ивановна")
                    db.session.add(teacher)
                    db.session.flush()
                    tickets.append(Ticket(event_id=event.id, kind=TicketKind.TEACHER,
                                          teacher_id=teacher.id,
                                          registration_id=registration.id,
                                          status=TicketStatus.CONFIRMED))
            while len(tickets) < TICKETS:
                last, first = person_name()
                signup = ParentSignup(event_id=event.id, name=f"{first} {last}",
                                      phone=f"+7913{rng.randint(0, 9999999):07d}",
                                      child_organization_id=rng.choice(schools).id,
                                      consent_version="1", consent_at=now_utc(),
                                      manage_secret_hash=f"{len(tickets):064d}")
                db.session.add(signup)
                db.session.flush()
                tickets.append(Ticket(event_id=event.id, kind=TicketKind.PARENT,
                                      parent_signup_id=signup.id,
                                      status=TicketStatus.CONFIRMED))
            db.session.add_all(tickets)
            db.session.flush()
            for ticket in tickets[: TICKETS // 2]:
                at = start + timedelta(seconds=rng.randint(0, 3 * 3600))
                db.session.add(Scan(event_id=event.id, ticket=ticket,
                                    raw_code=ticket.token, outcome=ScanOutcome.OK,
                                    scanned_at=at, received_at=at))
            db.session.commit()

            timings = []
            for _ in range(5):
                t0 = time.perf_counter()
                data = build_scanner_data(event)
                payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
                packed = gzip.compress(payload, compresslevel=6)
                timings.append(time.perf_counter() - t0)
            db.session.remove()
            db.engine.dispose()

    print(f"Билетов: {len(data['tickets'])}, школ: {len(data['schools'])}, "
          f"групп: {len(data['groups'])}")
    verdict = "OK" if len(packed) <= GOAL_BYTES else "ПРЕВЫШЕНО"
    print(f"JSON: {len(payload) / 1024:.0f} КБ; gzip: {len(packed) / 1024:.0f} КБ "
          f"(цель ≤ {GOAL_BYTES // 1024} КБ) — {verdict}")
    print(f"Сборка и сжатие: медиана {statistics.median(timings) * 1000:.0f} мс из 5")


if __name__ == "__main__":
    main()
