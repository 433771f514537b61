"""Demo rosters (students and teachers) and group registrations with tickets.

The demo school (МАОУ СОШ № 7, coordinator ``school@demo.local``) gets a full roster: classes
from 2nd to 11th grade, a few students with ОВЗ, external ids as a school information system
would have them, and its teachers. A dozen other schools and two kindergartens get smaller
rosters so the organizer's pages and the indicators show several schools.

Registrations: every past student event gets groups from several schools (the check-in step then
marks who came); upcoming events get groups of the demo school, one of them beyond the school's
quota so the waiting list shows. Past events are filled directly (their registration window is
closed); tickets are allocated by the same rule as in production (``allocate_ticket``).
"""

from __future__ import annotations

from datetime import timedelta

from checkin.seats.registration import allocate_ticket, student_grade_problem
from models import (
    Audience,
    EventStatus,
    Registration,
    RegistrationStatus,
    Student,
    Teacher,
    TicketKind,
    db,
    now_utc,
)

MALE_SURNAMES = ["Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов",
                 "Михайлов", "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев",
                 "Семёнов", "Егоров", "Павлов", "Козлов", "Степанов", "Николаев", "Орлов",
                 "Андреев", "Макаров", "Никитин", "Захаров", "Зайцев", "Соловьёв", "Борисов",
                 "Яковлев", "Григорьев", "Романов", "Воробьёв", "Сергеев", "Кузьмин", "Фролов",
                 "Александров", "Дмитриев", "Королёв", "Гусев", "Киселёв", "Ильин", "Максимов",
                 "Поляков", "Сорокин", "Виноградов", "Ковалёв", "Белов", "Медведев", "Антонов",
                 "Тарасов", "Жуков", "Баранов", "Филиппов", "Комаров", "Давыдов", "Беляев"]
MALE_NAMES = ["Александр", "Максим", "Иван", "Артём", "Дмитрий", "Никита", "Михаил", "Даниил",
              "Егор", "Андрей", "Илья", "Алексей", "Матвей", "Кирилл", "Тимофей", "Роман",
              "Владимир", "Ярослав", "Фёдор", "Георгий", "Лев", "Марк", "Степан", "Глеб"]
FEMALE_NAMES = ["Анастасия", "Мария", "Анна", "Виктория", "Екатерина", "Дарья", "Полина",
                "Елизавета", "Софья", "Ксения", "Алиса", "Варвара", "Александра", "Вероника",
                "Арина", "Валерия", "Ульяна", "Василиса", "Ева", "Милана", "Кира", "Злата"]
MALE_PATRONYMICS = ["Александрович", "Сергеевич", "Дмитриевич", "Андреевич", "Алексеевич",
                    "Игоревич", "Олегович", "Викторович", "Николаевич", "Евгеньевич"]
FEMALE_PATRONYMICS = ["Александровна", "Сергеевна", "Дмитриевна", "Андреевна", "Алексеевна",
                      "Игоревна", "Олеговна", "Викторовна", "Николаевна", "Евгеньевна"]

#: The demo school's classes (grades 2–11) and how many other schools get a roster.
DEMO_SCHOOL_CLASSES = ["2А", "3Б", "4А", "5А", "5Б", "6А", "7А", "7Б", "8А", "8Б", "9А", "9Б",
                       "10А", "11А"]
OTHER_SCHOOL_CLASSES = ["4А", "6Б", "8А", "9В", "10А"]
OTHER_SCHOOLS = 12
PRESCHOOL_GROUPS = ["Старшая группа «Солнышко»", "Подготовительная группа «Звёздочки»"]
DEMO_TEACHERS = [
    ("Смирнова", "Ольга", "Викторовна"), ("Петрова", "Анна", "Сергеевна"),
    ("Кузнецова", "Елена", "Игоревна"), ("Волков", "Андрей", "Николаевич"),
    ("Лебедева", "Татьяна", "Олеговна"), ("Никитина", "Марина", "Александровна"),
    ("Орлов", "Сергей", "Дмитриевич"), ("Фёдорова", "Наталья", "Евгеньевна"),
    ("Соколова", "Ирина", "Андреевна"), ("Морозов", "Павел", "Алексеевич"),
]


def _female(surname: str) -> str:
    if surname.endswith(("ов", "ев", "ёв", "ин")):
        return surname + "а"
    return surname


def _person(rng) -> tuple[str, str, str | None]:
    surname = rng.choice(MALE_SURNAMES)
    if rng.random() < 0.5:
        return surname, rng.choice(MALE_NAMES), rng.choice(MALE_PATRONYMICS)
    return _female(surname), rng.choice(FEMALE_NAMES), rng.choice(FEMALE_PATRONYMICS)


def _students(rng, org, classes: list[str], size_range: tuple[int, int], prefix: str,
              ovz_rate: float) -> list[Student]:
    people = []
    counter = 0
    for class_name in classes:
        grade = int("".join(ch for ch in class_name if ch.isdigit()) or 0)
        for _ in range(rng.randint(*size_range)):
            counter += 1
            last, first, middle = _person(rng)
            student = Student(organization_id=org.id, last_name=last, first_name=first,
                              middle_name=middle if rng.random() < 0.9 else None,
                              class_name=class_name, grade=grade,
                              ovz=rng.random() < ovz_rate,
                              external_id=f"{prefix}-{counter:04d}" if prefix else None,
                              active=True)
            db.session.add(student)
            people.append(student)
    return people


def _teachers(rng, org, names: list[tuple[str, str, str]], domain: str) -> list[Teacher]:
    translit = str.maketrans({"а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e",
                              "ё": "e", "ж": "zh", "з": "z", "и": "i", "й": "y", "к": "k",
                              "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
                              "с": "s", "т": "t", "у": "u", "ф": "f", "х": "h", "ц": "ts",
                              "ч": "ch", "ш": "sh", "щ": "sch", "ы": "y", "ь": "", "ъ": "",
                              "э": "e", "ю": "yu", "я": "ya"})
    people = []
    for last, first, middle in names:
        email = f"{last.lower().translate(translit)}@{domain}"
        teacher = Teacher(organization_id=org.id, last_name=last, first_name=first,
                          middle_name=middle, email=email, active=True)
        db.session.add(teacher)
        people.append(teacher)
    return people


def _register(event, org, students, teachers, created_by=None, at=None) -> Registration:
    """A group written directly (demo): tickets allocated by the production rule."""
    registration = Registration(event_id=event.id, organization_id=org.id,
                                status=RegistrationStatus.ACTIVE,
                                created_by_id=getattr(created_by, "id", None))
    if at is not None:
        registration.created_at = at
    db.session.add(registration)
    db.session.flush()
    for teacher in teachers:
        ticket = allocate_ticket(event, TicketKind.TEACHER, teacher=teacher,
                                 registration=registration)
        if at is not None:
            ticket.queued_at = ticket.created_at = at
    for student in students:
        ticket = allocate_ticket(event, TicketKind.STUDENT, student=student,
                                 registration=registration)
        if at is not None:
            ticket.queued_at = ticket.created_at = at
    return registration


def register_past_groups(rng, event, candidates: list[int], orgs: dict, rosters: dict,
                         staff: dict, demo_school, coordinator) -> list[Registration]:
    """Groups (one or two classes and a teacher) of the ``candidates`` organizations for a past
    event, registered days before it, until its seats run out."""
    made = []
    at = event.starts_at - timedelta(days=rng.randint(3, 14))
    seats = event.capacity
    for org_id in candidates:
        limit = min(seats, event.per_school_quota or seats, rng.randint(6, 14))
        group = _group_for(rng, event, rosters[org_id], limit)
        if not group:
            continue
        teachers = staff.get(org_id, [])[:1]
        made.append(_register(event, orgs[org_id], group, teachers,
                              coordinator if org_id == demo_school.id else None, at))
        seats -= len(group) + len(teachers)
        if seats <= 2:
            break
    return made


def _eligible(event, students: list[Student]) -> list[Student]:
    return [s for s in students if student_grade_problem(event, s) is None]


def _group_for(rng, event, roster: list[Student], limit: int) -> list[Student]:
    """One or two classes that fit the event's grades, trimmed to ``limit``."""
    fit = _eligible(event, roster)
    if not fit:
        return []
    classes = sorted({s.class_name for s in fit})
    chosen = rng.sample(classes, k=min(len(classes), rng.choice((1, 1, 2))))
    group = [s for s in fit if s.class_name in chosen]
    rng.shuffle(group)
    return group[:limit]


def load(rng, size: str, ctx: dict) -> None:
    if size == "city":  # the city-scale data set builds its own people in bulk
        return
    schools = ctx.get("schools") or []
    demo_school = ctx.get("demo_school")
    if demo_school is None or not schools:
        return
    coordinator = ctx.get("coordinator")

    rosters: dict[int, list[Student]] = {}
    staff: dict[int, list[Teacher]] = {}
    rosters[demo_school.id] = _students(rng, demo_school, DEMO_SCHOOL_CLASSES, (18, 24),
                                        "SCH7", 0.05)
    staff[demo_school.id] = _teachers(rng, demo_school, DEMO_TEACHERS, "school7.tomsk.ru")
    others = [s for s in schools if s.id != demo_school.id][:OTHER_SCHOOLS]
    for number, school in enumerate(others, start=1):
        rosters[school.id] = _students(rng, school, OTHER_SCHOOL_CLASSES, (12, 18), "",
                                       0.04)
        names = [(_female(rng.choice(MALE_SURNAMES)), rng.choice(FEMALE_NAMES),
                  rng.choice(FEMALE_PATRONYMICS)) for _ in range(3)]
        staff[school.id] = _teachers(rng, school, names, f"school{number}.tomsk.ru")
    preschools = (ctx.get("preschools") or [])[:2]
    for preschool in preschools:
        rosters[preschool.id] = []
        for group in PRESCHOOL_GROUPS:
            for _ in range(rng.randint(12, 16)):
                last, first, _middle = _person(rng)
                child = Student(organization_id=preschool.id, last_name=last,
                                first_name=first, class_name=group, grade=0,
                                ovz=rng.random() < 0.05, active=True)
                db.session.add(child)
                rosters[preschool.id].append(child)
        staff[preschool.id] = _teachers(rng, preschool, [
            (_female(rng.choice(MALE_SURNAMES)), rng.choice(FEMALE_NAMES),
             rng.choice(FEMALE_PATRONYMICS))], f"dou{preschool.id}.tomsk.ru")
    db.session.flush()

    orgs = {o.id: o for o in [demo_school, *others, *preschools]}
    now = now_utc()
    registrations: list[Registration] = []
    student_events = [e for e in (ctx.get("student_events") or [])
                      if e.status == EventStatus.PUBLISHED]

    # Past events: several schools came to each (own internal events: only the demo school).
    for event in sorted((e for e in student_events if e.ends_at <= now),
                        key=lambda e: e.starts_at):
        candidates = [demo_school.id] if event.school_internal else \
            rng.sample(list(orgs), k=min(len(orgs), rng.randint(2, 4)))
        if event.school_internal and event.organizer_id != demo_school.id:
            continue
        registrations += register_past_groups(rng, event, candidates, orgs, rosters, staff,
                                              demo_school, coordinator)

    # Upcoming events: the demo school's groups, plus other schools at today's event.
    upcoming = sorted((e for e in student_events if e.starts_at > now - timedelta(hours=3)
                       and e.ends_at > now), key=lambda e: e.starts_at)
    today_event = ctx.get("today_event")
    for index, event in enumerate(upcoming[:6]):
        if event.school_internal and event.organizer_id != demo_school.id:
            continue
        roster = rosters[demo_school.id]
        limit = (event.per_school_quota + 3) if event is today_event and event.per_school_quota \
            else rng.randint(8, 16)
        group = _group_for(rng, event, roster, limit)
        if not group:
            continue
        registrations.append(_register(event, demo_school, group,
                                       staff[demo_school.id][index % 3: index % 3 + 1],
                                       coordinator))
    internal = [e for e in upcoming[6:] if e.school_internal
                and e.organizer_id == demo_school.id]
    for event in internal[:2]:
        group = _group_for(rng, event, rosters[demo_school.id], 25)
        if group:
            registrations.append(_register(event, demo_school, group,
                                           staff[demo_school.id][6:7], coordinator))
    if today_event is not None:
        for org_id in list(orgs)[1:5]:
            group = _group_for(rng, today_event, rosters[org_id], 10)
            if group:
                registrations.append(_register(today_event, orgs[org_id], group,
                                               staff[org_id][:1]))

    # Teacher events: the demo school's teachers go to the upcoming course.
    for event in (ctx.get("teacher_events") or [])[:3]:
        if event.audience == Audience.TEACHERS and event.status == EventStatus.PUBLISHED:
            registrations.append(_register(event, demo_school, [],
                                           staff[demo_school.id][3:6], coordinator,
                                           min(event.starts_at - timedelta(days=5), now)))
    db.session.flush()
    ctx.update(rosters=rosters, teachers=staff, registrations=registrations)
