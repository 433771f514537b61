"""The city-scale demo data set (``flask --app wsgi demo --size city``), for benchmarks.

On top of the directory step (70 schools, 100 kindergartens, baselines, demo logins) it builds
about 64,000 school students and 22,000 kindergarten children, 4,000 school teachers (and the
kindergartens' teachers), and for each of three complete academic years before the current one
1,500 events and about 700,000 check-ins — plus the current year's events, with check-ins for
those already started. Noise the indicators must ignore is included: no-shows, cancelled
tickets, repeat scans, undone check-ins, wrong-event scans, cancelled events.

Rows go in bulk: ``COPY`` on PostgreSQL, ``executemany`` on SQLite, with explicit ids; events
(few) go through the ORM so their hooks run. Deterministic for a given seed. The same roster is
used for every year (a simplification: promotions between years do not matter to the queries).
"""

from __future__ import annotations

import math
import random
import secrets
import time
from datetime import UTC, datetime, timedelta

import click
import sqlalchemy as sa

from models import (
    Audience,
    Baseline,
    Category,
    Event,
    EventStatus,
    RoadmapItem,
    db,
    now_utc,
)
from models.academic_year import TOMSK, academic_year_period
from models.registration import SHORT_CODE_ALPHABET, SHORT_CODE_LENGTH
from webapp.demo import profminimum

CHECKINS_PER_YEAR = 700_000
EVENTS_PER_YEAR = 1_500
FULL_YEARS = 3
SHOW_RATE = 0.87
CHUNK = 50_000

LAST_NAMES = ["Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов",
              "Михайлов", "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев",
              "Семёнов", "Егоров", "Павлов", "Козлов", "Степанов", "Николаев", "Орлов",
              "Андреев", "Макаров", "Никитин", "Захаров", "Зайцев", "Соловьёв", "Борисов"]
FIRST_M = ["Александр", "Максим", "Иван", "Артём", "Дмитрий", "Никита", "Михаил", "Даниил",
           "Егор", "Андрей", "Кирилл", "Илья", "Матвей", "Тимофей", "Роман"]
FIRST_F = ["Анастасия", "Мария", "Анна", "Виктория", "Полина", "Елизавета", "Екатерина",
           "Дарья", "Алиса", "Софья", "Варвара", "Ксения", "Вероника", "Алёна", "Ульяна"]
LETTERS = "АБВГ"
TITLES = {
    "university": ["День открытых дверей", "Профпроба «Инженер будущего»",
                   "Профпроба «Юный химик»", "Олимпиадная школа", "Неделя науки"],
    "college": ["Профпроба в колледже", "День открытых дверей СПО", "Мастер-класс мастеров"],
    "professionals": ["Чемпионат «Профессионалы»: экскурсия", "Соревнования «Профессионалы»"],
    "abilympics": ["«Абилимпикс»: мастер-классы", "«Детский Абилимпикс»"],
    "ticket_to_future": ["«Билет в будущее»: профпроба", "«Билет в будущее»: тестирование"],
    "proektoria": ["Открытый урок «ПроеКТОриЯ»"],
    "digital_lesson": ["«Урок цифры»"],
    "technopark": ["Квантум-погружение", "Инженерная мастерская", "Робототехника: старт"],
    "cpc_program": ["«ПрофГид»: занятие", "«ТехноЛига»: этап", "«ПрофГид»: игра"],
    "campaign": ["Профориентационная кампания: ярмарка", "Профориентационный квест"],
    "teacher_training": ["КПК «Профориентация в школе»", "Семинар для педагогов"],
    "coordinators": ["Совещание профкоординаторов"],
    "conference": ["Конференция «Профориентация: маршрут из настоящего в успешное будущее»"],
    "school_internal": ["«Россия — мои горизонты»", "Внутришкольная профпроба",
                        "Экскурсия на предприятие"],
}
STUDENT_CATEGORIES = ["university", "university", "college", "professionals", "abilympics",
                      "ticket_to_future", "proektoria", "digital_lesson", "technopark",
                      "cpc_program", "cpc_program", "campaign", "conference"]


def _log(message: str) -> None:
    click.echo(f"[city] {message}", err=True)


class BulkWriter:
    """Insert rows fast: COPY on PostgreSQL, executemany on SQLite (values pre-converted)."""

    def __init__(self):
        self.connection = db.session.connection()
        self.postgres = self.connection.dialect.name == "postgresql"
        self.raw = self.connection.connection.driver_connection

    def value(self, v):
        if isinstance(v, datetime):
            v = v.astimezone(UTC).replace(tzinfo=None)
            return v if self.postgres else v.strftime("%Y-%m-%d %H:%M:%S.%f")
        if isinstance(v, bool) and not self.postgres:
            return int(v)
        return v

    def insert(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if not rows:
            return
        if self.postgres:
            with self.raw.cursor() as cur, cur.copy(
                    f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in columns)
            cur = self.raw.cursor()
            cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                            rows)
            cur.close()

    def convert(self, rows):
        value = self.value
        return [tuple(value(v) for v in row) for row in rows]

    def fix_sequences(self, tables: list[str]) -> None:
        if not self.postgres:
            return
        for table in tables:
            self.connection.execute(sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))


def _short_codes():
    """Distinct 8-character codes: a permutation of the counter, so no two collide."""
    modulus = len(SHORT_CODE_ALPHABET) ** SHORT_CODE_LENGTH
    multiplier = 2_654_435_761  # odd and not a multiple of 31: a bijection modulo 31**8
    base = len(SHORT_CODE_ALPHABET)
    counter = 1
    while True:
        n = (counter * multiplier) % modulus
        chars = []
        for _ in range(SHORT_CODE_LENGTH):
            n, r = divmod(n, base)
            chars.append(SHORT_CODE_ALPHABET[r])
        yield "".join(chars)
        counter += 1


def _local(day, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TOMSK).astimezone(UTC)


def load(rng, size: str, ctx: dict) -> None:
    started = time.monotonic()
    writer = BulkWriter()
    now = now_utc()
    year = ctx["year"]
    schools, preschools = ctx["schools"], ctx["preschools"]
    organizers = list(ctx["organizers"].values())
    categories = {c.code: c for c in Category.query.all()}
    roadmap = RoadmapItem.query.all()
    years = [year - FULL_YEARS + i for i in range(FULL_YEARS)] + [year]

    # Baselines of the oldest year (the directory step makes the last three).
    have = {b.organization_id: b for b in Baseline.query.filter_by(year=year - 2)}
    for org in schools + preschools:
        if not Baseline.query.filter_by(organization_id=org.id, year=years[0]).first():
            src = have.get(org.id)
            if src is not None:
                db.session.add(Baseline(organization_id=org.id, year=years[0],
                                        students_total=src.students_total,
                                        students_ovz=src.students_ovz,
                                        teachers_total=src.teachers_total, locked=True))
    db.session.flush()

    # --- rosters -----------------------------------------------------------------------------
    baselines = {b.organization_id: b for b in Baseline.query.filter_by(year=year - 1)}
    student_rows, teacher_rows = [], []
    students_of: dict[int, list[tuple[int, int]]] = {}   # org → [(student id, grade)]
    teachers_of: dict[int, list[int]] = {}
    sid = tid = 0
    created = now
    for org in schools + preschools:
        b = baselines[org.id]
        preschool = org in preschools
        ovz_left = b.students_ovz
        people = []
        for n in range(b.students_total):
            sid += 1
            grade = 0 if preschool else 1 + n * 11 // b.students_total
            cls = ("Группа " + str(1 + n % 8)) if preschool else f"{grade}{LETTERS[n % 4]}"
            female = rng.random() < 0.5
            last = rng.choice(LAST_NAMES) + ("а" if female else "")
            first = rng.choice(FIRST_F if female else FIRST_M)
            ovz = ovz_left > 0 and rng.random() < b.students_ovz / b.students_total * 1.5
            ovz_left -= ovz
            student_rows.append((sid, org.id, last, first, None, cls, grade, ovz, None, True,
                                 None, created))
            people.append((sid, grade))
        rng.shuffle(people)
        students_of[org.id] = people
        for _ in range(b.teachers_total):
            tid += 1
            female = rng.random() < 0.8
            teacher_rows.append((tid, org.id, rng.choice(LAST_NAMES) + ("а" if female else ""),
                                 rng.choice(FIRST_F if female else FIRST_M), None, None, True,
                                 None, created))
            teachers_of.setdefault(org.id, []).append(tid)
    writer.insert("students", ("id", "organization_id", "last_name", "first_name",
                               "middle_name", "class_name", "grade", "ovz", "external_id",
                               "active", "anonymized_at", "created_at"),
                  writer.convert(student_rows))
    writer.insert("teachers", ("id", "organization_id", "last_name", "first_name",
                               "middle_name", "email", "active", "anonymized_at",
                               "created_at"), writer.convert(teacher_rows))
    _log(f"{sid} обучающихся, {tid} педагогов ({time.monotonic() - started:.0f} с)")
    del student_rows, teacher_rows

    # How keen each school is: the share of its students who ever come.
    keen = {org.id: rng.uniform(0.35, 0.95) for org in schools + preschools}
    active = {org_id: people[:max(1, int(len(people) * keen[org_id]))]
              for org_id, people in students_of.items()}
    young = {org_id: [p for p in people if p[1] <= 6] or people
             for org_id, people in active.items()}

    codes = _short_codes()
    ids = {"ticket": 0, "scan": 0, "registration": 0, "staff": 0, "attendance_import": 0}
    totals = {"events": 0, "tickets": 0, "checkins": 0}
    for y in years:
        _year(rng, writer, y, now, schools, preschools, organizers, categories, roadmap,
              active, young, teachers_of, codes, ids, totals, full=y != year)
        db.session.flush()
        _log(f"{y}/{y + 1}: готово ({time.monotonic() - started:.0f} с)")
    writer.fix_sequences(["students", "teachers", "registrations", "tickets", "scans",
                          "event_staff", "attendance_imports"])
    profminimum.apply_to_city(rng, years)  # formats and levels (issue #14)
    if writer.postgres:  # fresh statistics, so plans do not wait for autovacuum
        db.session.flush()
        writer.connection.exec_driver_sql("ANALYZE")
    ctx["city_totals"] = totals
    _log(f"итого: мероприятий {totals['events']}, билетов {totals['tickets']}, отметок "
         f"{totals['checkins']} за {time.monotonic() - started:.0f} с")


def _year(rng, writer, y, now, schools, preschools, organizers, categories, roadmap, active,
          young, teachers_of, codes, ids, totals, *, full: bool) -> None:
    period = academic_year_period(y)
    school_ids = [s.id for s in schools]
    preschool_ids = [p.id for p in preschools]
    # Event days: September–May mostly, a few in June.
    days = [period.first_day + timedelta(days=d) for d in range(300)]
    days = [d for d in days if d.weekday() < 6]

    specs = []
    for _n in range(EVENTS_PER_YEAR):
        roll = rng.random()
        if roll < 0.08:
            audience, category = Audience.PRESCHOOL, rng.choice(["abilympics", "technopark",
                                                                 "cpc_program"])
        elif roll < 0.15:
            audience, category = Audience.TEACHERS, rng.choice(["teacher_training",
                                                                "coordinators"])
        elif roll < 0.25:
            audience, category = Audience.STUDENTS, "school_internal"
        else:
            audience, category = Audience.STUDENTS, rng.choice(STUDENT_CATEGORIES)
        internal = category == "school_internal"
        organizer_id = rng.choice(school_ids) if internal else rng.choice(organizers).id
        day = rng.choice(days)
        start = _local(day, rng.choice([9, 10, 11, 12, 13, 14, 15]), rng.choice([0, 30]))
        early = audience == Audience.PRESCHOOL or (audience == Audience.STUDENTS
                                                   and rng.random() < 0.25)
        cancelled = rng.random() < 0.03
        event = Event(
            organizer_id=organizer_id, title=rng.choice(TITLES[category]),
            description="Мероприятие городского плана профориентации.",
            category_id=categories[category].id, audience=audience,
            grades_min=(0 if audience == Audience.PRESCHOOL else (1 if early else 5))
            if audience in (Audience.STUDENTS, Audience.PRESCHOOL) else None,
            grades_max=(0 if audience == Audience.PRESCHOOL else (6 if early else 11))
            if audience in (Audience.STUDENTS, Audience.PRESCHOOL) else None,
            starts_at=start, ends_at=start + timedelta(hours=2), venue_name="Площадка",
            venue_address="г. Томск", capacity=100, early=early,
            ovz_adapted=rng.random() < 0.1, school_internal=internal,
            roadmap_item_id=rng.choice(roadmap).id if roadmap and rng.random() < 0.6 else None,
            status=EventStatus.CANCELLED if cancelled else EventStatus.PUBLISHED,
            cancel_reason="Перенос по решению организатора" if cancelled else None,
            cancelled_at=start - timedelta(days=3) if cancelled else None,
            published_at=start - timedelta(days=30), created_at=start - timedelta(days=31),
            updated_at=start - timedelta(days=30),
        )
        specs.append(event)
    db.session.add_all(specs)
    db.session.flush()
    totals["events"] += len(specs)

    # Sizes: a few big festivals, many class-sized events; scaled to the check-in target.
    weights = [math.exp(rng.gauss(0, 0.9)) for _ in specs]
    # 0.88: groups are capped by the size of schools, so ask for more than the target.
    scale = CHECKINS_PER_YEAR / SHOW_RATE / 0.88 / sum(weights)
    ticket_rows, scan_rows, registration_rows, staff_rows = [], [], [], []
    import_rows = []
    started_events = [e for e in specs if e.starts_at < now]
    # How check-ins came about (models.scan.ScanSource), drawn from a generator of its own so
    # the people and events stay what they were: most at a door, some offline or by a group's
    # list; a few events' attendance declared — a class list, an uploaded file.
    sources_rng = random.Random(rng.random())

    def flush_rows(final=False):
        if final or len(ticket_rows) >= CHUNK:
            writer.insert("attendance_imports", ("id", "event_id", "file_name", "uploaded_at",
                                                 "rows"), writer.convert(import_rows))
            writer.insert("registrations", ("id", "event_id", "organization_id", "group_code",
                                            "status", "created_at"),
                          writer.convert(registration_rows))
            writer.insert("tickets", ("id", "event_id", "registration_id", "kind",
                                      "student_id", "teacher_id", "token", "short_code",
                                      "status", "queued_at", "created_at", "cancelled_at"),
                          writer.convert(ticket_rows))
            writer.insert("scans", ("id", "event_id", "ticket_id", "raw_code", "outcome",
                                    "scanned_at", "received_at", "forced", "undone_at",
                                    "undo_reason", "student_id", "teacher_id",
                                    "organization_id", "source", "attendance_import_id"),
                          writer.convert(scan_rows))
            writer.insert("event_staff", ("id", "event_id", "teacher_id"), staff_rows)
            import_rows.clear()
            registration_rows.clear()
            ticket_rows.clear()
            scan_rows.clear()
            staff_rows.clear()

    for event, weight in zip(specs, weights, strict=True):
        size = max(10, int(weight * scale))
        held = event.status == EventStatus.PUBLISHED and event.starts_at < now
        declared, import_id, imported = None, None, 0
        roll = sources_rng.random()
        if held and event.school_internal and roll < 0.3:
            declared = "class_list"
        elif held and not event.school_internal and roll < 0.04:
            declared = "import"
            ids["attendance_import"] += 1
            import_id = ids["attendance_import"]
        created = event.starts_at - timedelta(days=10)
        if event.audience == Audience.PRESCHOOL:
            pool_orgs = preschool_ids
        elif event.school_internal:
            pool_orgs = [event.organizer_id]
        else:
            pool_orgs = school_ids
        groups = []
        if event.audience == Audience.TEACHERS:
            for org_id in rng.sample(school_ids, min(len(school_ids), max(3, size // 15))):
                picked = rng.sample(teachers_of[org_id], min(len(teachers_of[org_id]), 3))
                groups.append((org_id, [], picked))
        else:
            group_count = max(1, min(len(pool_orgs), size // 25))
            per_group = max(5, size // group_count)
            for org_id in rng.sample(pool_orgs, group_count):
                source = young[org_id] if event.early else active[org_id]
                people = rng.sample(source, min(len(source), per_group))
                teacher = rng.sample(teachers_of[org_id], 1) if teachers_of.get(org_id) else []
                groups.append((org_id, [p[0] for p in people], teacher))
        for org_id, student_ids, teacher_ids in groups:
            ids["registration"] += 1
            reg_id = ids["registration"]
            registration_rows.append((reg_id, event.id, org_id, secrets.token_urlsafe(24),
                                      "active", created))
            for kind, person_ids in (("student", student_ids), ("teacher", teacher_ids)):
                for person in person_ids:
                    ids["ticket"] += 1
                    ticket_id = ids["ticket"]
                    token = secrets.token_urlsafe(24)
                    cancelled = rng.random() < 0.02
                    ticket_rows.append((
                        ticket_id, event.id, reg_id, kind,
                        person if kind == "student" else None,
                        person if kind == "teacher" else None,
                        token, next(codes), "cancelled" if cancelled else "confirmed",
                        created, created, created + timedelta(days=2) if cancelled else None))
                    totals["tickets"] += 1
                    if not held or cancelled:
                        continue
                    shows = rng.random() < (0.95 if kind == "teacher" else SHOW_RATE)
                    if not shows:
                        continue
                    at = event.starts_at - timedelta(minutes=rng.randint(0, 40))
                    # Who the scan counts for (models.scan.Scan.student_id).
                    if declared:
                        how = (declared, import_id)
                        imported += 1
                    else:
                        how = (sources_rng.choices(("door", "offline", "group"),
                                                   (0.89, 0.05, 0.06))[0], None)
                    holder = (person if kind == "student" else None,
                              person if kind == "teacher" else None, org_id, *how)
                    noise = rng.random()
                    if noise < 0.005:  # a mistaken check-in, undone, then the real one
                        ids["scan"] += 1
                        scan_rows.append((ids["scan"], event.id, ticket_id, token, "ok", at,
                                          at, False, at + timedelta(minutes=1),
                                          "Отмечен по ошибке", *holder))
                    ids["scan"] += 1
                    scan_rows.append((ids["scan"], event.id, ticket_id, token, "ok", at, at,
                                      False, None, None, *holder))
                    totals["checkins"] += 1
                    if noise > 0.98:  # scanned again
                        ids["scan"] += 1
                        later = at + timedelta(minutes=5)
                        scan_rows.append((ids["scan"], event.id, ticket_id, token,
                                          "already_checked_in", later, later, False, None,
                                          None, *holder))
                    elif noise > 0.977 and started_events:  # shown at another event's door
                        other = rng.choice(started_events)
                        if other.id != event.id:
                            ids["scan"] += 1
                            scan_rows.append((ids["scan"], other.id, ticket_id, token,
                                              "wrong_event", other.starts_at, other.starts_at,
                                              False, None, None, *holder[:3], "door",
                                              None))
        if import_id is not None:
            import_rows.append((import_id, event.id, "Билет в будущее — присутствовали.xlsx",
                                event.starts_at + timedelta(days=1), imported))
        if rng.random() < 0.15:
            owner = event.organizer_id if event.organizer_id in teachers_of \
                else rng.choice(school_ids)
            for teacher_id in rng.sample(teachers_of[owner], min(2, len(teachers_of[owner]))):
                ids["staff"] += 1
                staff_rows.append((ids["staff"], event.id, teacher_id))
        flush_rows()
    flush_rows(final=True)
