"""Demo directory: the city's real organizers, schools, kindergartens, users and baselines."""

from __future__ import annotations

from models import Baseline, CityPlan, Organization, OrgKind, Role, User, db
from models.academic_year import current_academic_year

#: The password of every demo account (`make run` prints it).
DEMO_PASSWORD = "demo"

ORGANIZERS = [
    # (name, short name, kind, address, description)
    ("МАУ «Информационно-методический центр» г. Томска", "ИМЦ", OrgKind.DEPARTMENT,
     "г. Томск, ул. Киевская, 89", "Муниципальный координатор профориентационной работы."),
    ("МАОУ «Планирование карьеры» (Центр планирования карьеры)", "ЦПК", OrgKind.DEPARTMENT,
     "г. Томск, ул. Тимакова, 9", "Городские программы «ПрофГид» и «ТехноЛига», "
     "профориентационные кампании, курсы для педагогов."),
    ("Национальный исследовательский Томский государственный университет", "ТГУ",
     OrgKind.UNIVERSITY, "г. Томск, пр. Ленина, 36", "Дни открытых дверей, профпробы."),
    ("Национальный исследовательский Томский политехнический университет", "ТПУ",
     OrgKind.UNIVERSITY, "г. Томск, пр. Ленина, 30", "Инженерные профпробы и олимпиады."),
    ("Томский государственный университет систем управления и радиоэлектроники", "ТУСУР",
     OrgKind.UNIVERSITY, "г. Томск, пр. Ленина, 40", "IT- и радиотехнические мастер-классы."),
    ("Томский государственный педагогический университет", "ТГПУ", OrgKind.UNIVERSITY,
     "г. Томск, ул. Киевская, 60", "Педагогические классы и профпробы."),
    ("Сибирский государственный медицинский университет", "СибГМУ", OrgKind.UNIVERSITY,
     "г. Томск, Московский тракт, 2", "Медицинские профпробы для старшеклассников."),
    ("Томский государственный архитектурно-строительный университет", "ТГАСУ",
     OrgKind.UNIVERSITY, "г. Томск, пл. Соляная, 2", "Строительные и архитектурные профпробы."),
    ("ОГБПОУ «Томский техникум социальных технологий»", "ОГБОУ «ТТСТ»", OrgKind.COLLEGE,
     "г. Томск, ул. Розы Люксембург, 107", "Профориентация для обучающихся с ОВЗ, "
     "«Абилимпикс»."),
    ("АНО ДО «Детский технопарк «Кванториум»", "Детский технопарк", OrgKind.PARTNER,
     "г. Томск, ул. Вершинина, 17", "Инженерные мастерские для детей."),
    ("Детский технопарк «Кванториум» ТГУ", "«Кванториум»", OrgKind.PARTNER,
     "г. Томск, пр. Ленина, 49", "Квантумы: IT, робототехника, биотехнологии."),
]

ADDRESS_STREETS = ["ул. Ленина", "пр. Фрунзе", "ул. Иркутский тракт", "ул. Сибирская",
                   "пр. Кирова", "ул. Красноармейская", "ул. Учебная", "ул. Елизаровых",
                   "ул. Льва Толстого", "ул. Никитина"]

SCHOOL_COUNT = {"small": 70, "city": 70}
PRESCHOOL_COUNT = {"small": 12, "city": 100}
#: Mean students per school, so that the city totals about 64,000.
MEAN_STUDENTS = 914


def load(rng, size: str, ctx: dict) -> None:
    year = current_academic_year()
    organizers = {}
    for name, short, kind, address, description in ORGANIZERS:
        org = Organization(name=name, short_name=short, kind=kind, address=address,
                           description=description, active=True)
        db.session.add(org)
        organizers[short] = org

    schools = []
    for number in range(1, SCHOOL_COUNT[size] + 1):
        org = Organization(
            name=f"МАОУ СОШ № {number} г. Томска", short_name=f"СОШ № {number}",
            kind=OrgKind.SCHOOL, external_id=f"TOMSK-SCH-{number:03d}", active=True,
            address=f"г. Томск, {rng.choice(ADDRESS_STREETS)}, {rng.randint(1, 120)}",
        )
        db.session.add(org)
        schools.append(org)
    preschools = []
    for number in range(1, PRESCHOOL_COUNT[size] + 1):
        org = Organization(name=f"МАДОУ № {number} г. Томска", short_name=f"ДОО № {number}",
                           kind=OrgKind.PRESCHOOL, external_id=f"TOMSK-DOO-{number:03d}",
                           active=True)
        db.session.add(org)
        preschools.append(org)
    db.session.flush()

    for offset in (-2, -1, 0):
        y = year + offset
        for org in schools:
            students = max(200, int(rng.gauss(MEAN_STUDENTS, 260)))
            db.session.add(Baseline(
                organization_id=org.id, year=y, students_total=students,
                students_ovz=int(students * rng.uniform(0.02, 0.07)),
                teachers_total=max(15, students // 16 + rng.randint(-5, 5)),
                locked=offset < 0,
            ))
        for org in preschools:
            children = rng.randint(120, 320)
            db.session.add(Baseline(
                organization_id=org.id, year=y, students_total=children,
                students_ovz=int(children * rng.uniform(0.01, 0.05)),
                teachers_total=max(8, children // 12), locked=offset < 0,
            ))
        db.session.add(CityPlan(year=y))

    admin = User(email="admin@demo.local", full_name="Администратор города",
                 role=Role.ADMIN, organization=organizers["ИМЦ"], active=True)
    organizer = User(email="organizer@demo.local", full_name="Мария Кученко",
                     role=Role.ORGANIZER, organization=organizers["ЦПК"], active=True)
    school = schools[6]  # МАОУ СОШ № 7
    coordinator = User(email="school@demo.local", full_name="Ольга Смирнова",
                       role=Role.COORDINATOR, organization=school, active=True)

    for user in (admin, organizer, coordinator):
        user.set_password(DEMO_PASSWORD)
        db.session.add(user)
    db.session.flush()
    ctx.update(year=year, organizers=organizers, schools=schools, preschools=preschools,
               admin=admin, organizer=organizer, coordinator=coordinator, demo_school=school)
