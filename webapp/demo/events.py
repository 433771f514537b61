"""Demo events: a realistic academic year of the order's categories and organizers.

Dates are placed around "now", so the catalogue always has past and upcoming events:
the academic year's events from September to June, a few in the coming days, one today (for
trying check-in), some drafts and one cancelled event of the demo organizer (ЦПК), parent
sessions, teacher courses, and internal events of the demo school (СОШ № 7).

Shares with later steps (``ctx``): ``events`` (all), ``past_events``, ``upcoming_events``,
``today_event``, ``student_events``, ``parent_events``, ``teacher_events``,
``school_internal_events``, ``categories`` (code → Category).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from models import Audience, Category, Event, EventStatus, RoadmapItem, db, now_utc
from models.academic_year import TOMSK, academic_year_period, current_academic_year


@dataclass(frozen=True)
class Template:
    title: str
    category: str
    organizer: str  # short name from webapp.demo.directory.ORGANIZERS, or "school"
    audience: Audience
    grades: tuple[int, int] | None
    roadmap: str | None
    capacity: int
    venue: tuple[str, str]
    description: str
    times: int = 1  # how many times a year
    months: tuple[int, ...] = (9, 10, 11, 12, 1, 2, 3, 4, 5)
    ovz: bool = False
    early: bool | None = None  # None: the default rule (preschool / grades up to 4)
    quota: int | None = None
    hours: float = 2


TGU = ("Главный корпус ТГУ", "г. Томск, пр. Ленина, 36")
TPU = ("Главный корпус ТПУ", "г. Томск, пр. Ленина, 30")
TUSUR = ("Главный корпус ТУСУР", "г. Томск, пр. Ленина, 40")
TSPU = ("Учебный корпус № 1 ТГПУ", "г. Томск, ул. Киевская, 60")
SSMU = ("Учебный корпус СибГМУ", "г. Томск, Московский тракт, 2")
TSUAB = ("Главный корпус ТГАСУ", "г. Томск, пл. Соляная, 2")
TTST = ("ОГБПОУ «ТТСТ»", "г. Томск, ул. Розы Люксембург, 107")
CPC = ("Центр «Планирование карьеры»", "г. Томск, ул. Тимакова, 9")
IMC = ("МАУ ИМЦ", "г. Томск, ул. Киевская, 89")
TECHNOPARK = ("Детский технопарк", "г. Томск, ул. Вершинина, 17")
QUANTORIUM = ("Кванториум ТГУ", "г. Томск, пр. Ленина, 49")
SCHOOL7 = ("МАОУ СОШ № 7", "г. Томск")

TEMPLATES = [
    Template("День открытых дверей ТГУ", "university", "ТГУ", Audience.STUDENTS, (9, 11),
             "3.2", 200, TGU,
             "Знакомство с институтами и факультетами **ТГУ**, встречи с приёмной комиссией, "
             "экскурсии по лабораториям.\n\n- презентации направлений подготовки\n"
             "- ответы на вопросы о ЕГЭ и олимпиадах", times=4, quota=30, hours=3),
    Template("Профпроба «Юный химик»", "university", "ТГУ", Audience.STUDENTS, (8, 11), "3.2",
             25, TGU, "Практикум в учебной лаборатории химического факультета: титрование, "
             "синтез, техника безопасности.", times=3, quota=5),
    Template("Инженерная профпроба ТПУ: робототехника", "university", "ТПУ",
             Audience.STUDENTS, (7, 11), "3.2", 30, TPU,
             "Собираем и программируем мобильного робота в инженерной школе ТПУ.", times=3,
             quota=6),
    Template("Мастер-класс ТУСУР «Как устроен смартфон»", "university", "ТУСУР",
             Audience.STUDENTS, (5, 9), "3.2", 40, TUSUR,
             "Радиоэлектроника и программирование: разбираем смартфон и собираем простую схему.",
             times=3),
    Template("День в профессии учителя", "university", "ТГПУ", Audience.STUDENTS, (8, 11),
             "3.2", 35, TSPU, "Для участников психолого-педагогических классов: пробный урок, "
             "встреча со студентами-практикантами.", times=2),
    Template("Медицинская профпроба «Первая помощь»", "university", "СибГМУ",
             Audience.STUDENTS, (9, 11), "3.2", 20, SSMU,
             "Отработка навыков первой помощи на манекенах в симуляционном центре СибГМУ.",
             times=3, quota=4),
    Template("Архитектурный воркшоп ТГАСУ", "university", "ТГАСУ", Audience.STUDENTS, (7, 11),
             "3.2", 30, TSUAB, "Макетирование и эскиз городского пространства с "
             "преподавателями архитектурного факультета.", times=2),
    Template("Экскурсия на площадки чемпионата «Профессионалы»", "professionals",
             "ОГБОУ «ТТСТ»", Audience.STUDENTS, (6, 11), "2.3", 60, TTST,
             "Знакомство с компетенциями чемпионата, пробы на площадках под руководством "
             "экспертов.", times=2, months=(2, 3)),
    Template("Профпробы «Абилимпикс» для обучающихся с ОВЗ", "abilympics", "ОГБОУ «ТТСТ»",
             Audience.STUDENTS, (7, 11), "2.7", 30, TTST,
             "Адаптированные профпробы по компетенциям «Абилимпикс»: доступная среда, "
             "сопровождение тьютора.", times=3, ovz=True, quota=6),
    Template("«Детский Абилимпикс»", "abilympics", "ОГБОУ «ТТСТ»", Audience.PRESCHOOL, None,
             "2.5", 20, TTST, "Игровые профпробы для дошкольников, в том числе с ОВЗ.",
             times=2, ovz=True, months=(11, 4), hours=1.5),
    Template("Фестиваль профессий «Билет в будущее»", "ticket_to_future", "ЦПК",
             Audience.STUDENTS, (6, 11), "2.1", 120, CPC,
             "Профориентационные пробы проекта «Билет в будущее»: 12 площадок, "
             "тестирование интересов, консультации.", times=3, quota=20, hours=3),
    Template("Открытый урок «ПроеКТОриЯ»", "proektoria", "ЦПК", Audience.STUDENTS, (8, 11),
             "4.2", 100, CPC, "Коллективный просмотр и обсуждение всероссийского открытого "
             "урока «ПроеКТОриЯ».", times=4),
    Template("«Урок цифры»: искусственный интеллект", "digital_lesson", "Детский технопарк",
             Audience.STUDENTS, (5, 9), "4.2", 40, TECHNOPARK,
             "Как учатся нейросети: практическое занятие на компьютерах технопарка.", times=3),
    Template("Инженерные каникулы в «Кванториуме»", "technopark", "«Кванториум»",
             Audience.STUDENTS, (5, 8), "4.2", 36, QUANTORIUM,
             "Квантумы: IT, робототехника, биотехнологии — проба каждого направления.",
             times=2, months=(11, 3)),
    Template("LEGO-конструирование для младших школьников", "technopark", "Детский технопарк",
             Audience.STUDENTS, (1, 4), "4.2", 24, TECHNOPARK,
             "Первое знакомство с инженерными профессиями через конструирование.", times=4,
             hours=1.5),
    Template("«ПрофГид»: занятие «Мир профессий»", "cpc_program", "ЦПК", Audience.STUDENTS,
             (1, 4), "5.4", 30, CPC, "Городская программа «ПрофГид»: игры-знакомства с "
             "профессиями для 1–4 классов.", times=6, hours=1.5),
    Template("«ТехноЛига»: командные инженерные соревнования", "cpc_program", "ЦПК",
             Audience.STUDENTS, (7, 9), "5.4", 48, CPC,
             "Городская программа «ТехноЛига»: команды школ решают инженерные кейсы.",
             times=4, quota=8, hours=3),
    Template("Экскурсия «Кем работают мамы и папы»", "cpc_program", "ЦПК", Audience.PRESCHOOL,
             None, "5.4", 20, CPC, "Профориентационная экскурсия для старших групп детских "
             "садов.", times=3, hours=1),
    Template("Осенняя профориентационная кампания: ярмарка профессий", "campaign", "ЦПК",
             Audience.STUDENTS, (8, 11), "5.2", 150, CPC,
             "Вузы, колледжи и работодатели города на одной площадке.", times=2,
             months=(10, 11), quota=25, hours=4),
    Template("Весенняя профориентационная кампания: неделя профпроб", "campaign", "ЦПК",
             Audience.STUDENTS, (7, 11), "5.2", 120, CPC,
             "Профпробы на площадках колледжей и вузов города.", times=2, months=(3, 4),
             quota=20, hours=4),
    Template("Родительское собрание «Как помочь ребёнку выбрать профессию»", "parents", "ЦПК",
             Audience.PARENTS, None, "3.3", 80, CPC,
             "Психолог ЦПК о профессиональном самоопределении подростков; ответы на вопросы.",
             times=4, hours=1.5),
    Template("Родительская гостиная ТГУ: поступление в вуз", "parents", "ТГУ",
             Audience.PARENTS, None, "3.3", 120, TGU,
             "Правила приёма, целевое обучение, олимпиады — для родителей 9–11 классов.",
             times=2, months=(12, 3), hours=1.5),
    Template("КПК «Профориентационная работа в школе: современные практики»",
             "teacher_training", "ЦПК", Audience.TEACHERS, None, "5.7", 30, CPC,
             "Курсы повышения квалификации, 36 часов (очная сессия).", times=2,
             months=(10, 2), hours=6),
    Template("Семинар «Ранняя профориентация в детском саду»", "teacher_training", "ИМЦ",
             Audience.TEACHERS, None, "5.7", 40, IMC,
             "Практики ранней профориентации для педагогов ДОО и начальной школы.", times=2,
             early=True, months=(11, 3)),
    Template("Совещание профкоординаторов", "coordinators", "ИМЦ", Audience.TEACHERS, None,
             "7.1", 90, IMC, "Ежеквартальное совещание координаторов по профориентационной "
             "работе: план, отчётность, обмен опытом.", times=3, months=(9, 12, 3)),
    Template("Конференция «Профориентация: маршрут из настоящего в успешное будущее»",
             "conference", "ЦПК", Audience.TEACHERS, None, "5.6", 200, CPC,
             "Открытая научно-практическая конференция: пленарное заседание и секции.",
             months=(4,), hours=5),
]

SCHOOL_TEMPLATES = [
    Template("«Россия — мои горизонты»: профориентационный урок", "school_internal", "school",
             Audience.STUDENTS, (6, 11), "4.2", 30, SCHOOL7,
             "Еженедельное занятие курса «Россия — мои горизонты».", times=8, hours=1),
    Template("Профпроба «Повар» в школьной столовой", "school_internal", "school",
             Audience.STUDENTS, (8, 9), None, 15, SCHOOL7,
             "Знакомство с профессией повара вместе с работниками столовой.", times=2),
    Template("Экскурсия на предприятие «Томскнефтехим»", "school_internal", "school",
             Audience.STUDENTS, (9, 10), None, 25, ("ООО «Томскнефтехим»",
                                                    "г. Томск, Кузовлевский тракт, 2"),
             "Экскурсия по производству для 9–10 классов (внутришкольное мероприятие).",
             times=1, months=(12,), hours=3),
]

PROFILES = {
    "ТГУ": ("Дни открытых дверей, профпробы на факультетах, родительские гостиные.",
            "https://www.tsu.ru"),
    "ТПУ": ("Инженерные профпробы, олимпиады, летние школы.", "https://tpu.ru"),
    "ТУСУР": ("Мастер-классы по радиоэлектронике и IT.", "https://tusur.ru"),
    "ТГПУ": ("Психолого-педагогические классы, день в профессии учителя.",
             "https://www.tspu.ru"),
    "СибГМУ": ("Медицинские профпробы в симуляционном центре.", "https://ssmu.ru"),
    "ТГАСУ": ("Архитектурные и строительные воркшопы.", "https://tsuab.ru"),
    "ОГБОУ «ТТСТ»": ("Профпробы «Абилимпикс» и «Профессионалы», доступная среда для "
                     "обучающихся с ОВЗ.", None),
    "ЦПК": ("Городские программы «ПрофГид» и «ТехноЛига», фестиваль «Билет в будущее», "
            "профориентационные кампании, КПК для педагогов, родительские собрания.", None),
    "ИМЦ": ("Совещания профкоординаторов, семинары для педагогов.", None),
    "Детский технопарк": ("«Урок цифры», инженерные занятия для 1–9 классов.", None),
    "«Кванториум»": ("Инженерные каникулы, квантумы.", None),
}


def _event_dates(rng, template: Template, year: int) -> list[date]:
    """``times`` school days spread over the template's months of the academic year."""
    days = []
    months = list(template.months)
    for n in range(template.times):
        month = months[n % len(months)] if template.times >= len(months) else \
            months[round(n * (len(months) - 1) / max(template.times - 1, 1))]
        y = year if month >= 9 else year + 1
        day = date(y, month, rng.randint(3, 26))
        while day.weekday() >= 5:  # weekdays only
            day += timedelta(days=1)
        days.append(day)
    return sorted(set(days))


def _local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), TOMSK)


def _make(template: Template, organizer, day: date, hour: int, categories, roadmap,
          *, status=EventStatus.PUBLISHED, school_internal=False) -> Event:
    starts = _local(day, hour, 30 if template.hours == 1.5 and hour % 2 else 0)
    early = template.early
    if early is None:
        early = template.audience == Audience.PRESCHOOL or (
            template.grades is not None and template.grades[1] <= 4)
    event = Event(
        organizer=organizer, title=template.title, description=template.description,
        category=categories[template.category], audience=template.audience,
        grades_min=template.grades[0] if template.grades else None,
        grades_max=template.grades[1] if template.grades else None,
        starts_at=starts, ends_at=starts + timedelta(hours=template.hours),
        venue_name=template.venue[0], venue_address=template.venue[1],
        capacity=template.capacity, per_school_quota=template.quota, early=early,
        ovz_adapted=template.ovz, roadmap_item=roadmap.get(template.roadmap),
        status=status, school_internal=school_internal,
    )
    if status != EventStatus.DRAFT:
        event.published_at = min(starts - timedelta(days=21), now_utc())
    db.session.add(event)
    return event


def load(rng, size: str, ctx: dict) -> None:
    year = ctx.get("year") or current_academic_year()
    organizers = ctx["organizers"]
    school = ctx["demo_school"]
    categories = {c.code: c for c in Category.query.all()}
    roadmap = {item.number: item for item in RoadmapItem.query.all()}
    now = now_utc()
    today = now.astimezone(TOMSK).date()
    period = academic_year_period(year)

    for short, (offer, website) in PROFILES.items():
        org = organizers.get(short)
        if org is not None:
            org.offer = offer
            org.website = website

    events: list[Event] = []
    for template in TEMPLATES:
        for day in _event_dates(rng, template, year):
            events.append(_make(template, organizers[template.organizer], day,
                                rng.choice((10, 11, 13, 14, 15)), categories, roadmap))
    school_events: list[Event] = []
    for template in SCHOOL_TEMPLATES:
        if template.times > 2:  # a weekly lesson: every Thursday from September
            first = period.first_day + timedelta(days=(3 - period.first_day.weekday()) % 7)
            days = [first + timedelta(weeks=2 * n) for n in range(template.times)]
            # Keep the series around today so both past and upcoming lessons exist.
            shift = max((today - days[len(days) // 2]).days // 7, 0)
            days = [d + timedelta(weeks=shift) for d in days]
        else:
            days = _event_dates(rng, template, year)
        for day in days:
            school_events.append(_make(template, school, day, 12, categories, roadmap,
                                       school_internal=True))

    # The coming days always have something on, whatever the date the demo is loaded.
    cpc = organizers["ЦПК"]
    soon = [
        (TEMPLATES[15], cpc, 2, 10),   # «ПрофГид» (early)
        (TEMPLATES[10], cpc, 5, 11),   # «Билет в будущее»
        (TEMPLATES[20], cpc, 6, 18),   # parent meeting
        (TEMPLATES[0], organizers["ТГУ"], 9, 11),
        (TEMPLATES[8], organizers["ОГБОУ «ТТСТ»"], 12, 10),   # ОВЗ
        (TEMPLATES[22], cpc, 14, 10),  # teacher course
        (TEMPLATES[16], cpc, 16, 14),  # «ТехноЛига»
    ]
    for template, org, days_ahead, hour in soon:
        day = today + timedelta(days=days_ahead)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        events.append(_make(template, org, day, hour, categories, roadmap))

    # Today, starting within the hour: check-in is already open (for trying the scanner).
    local_now = now.astimezone(TOMSK)
    start = (local_now + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    today_event = Event(
        organizer=cpc, title="«ПрофГид»: открытое занятие (сегодня)",
        description="Демонстрационное мероприятие на сегодня: отметка на входе уже открыта.",
        category=categories["cpc_program"], audience=Audience.STUDENTS, grades_min=5,
        grades_max=9, starts_at=start, ends_at=start + timedelta(hours=3),
        venue_name=CPC[0], venue_address=CPC[1], venue_room="Актовый зал", capacity=60,
        per_school_quota=15, early=False, roadmap_item=roadmap.get("5.4"),
        status=EventStatus.PUBLISHED, published_at=now - timedelta(days=14))
    db.session.add(today_event)
    events.append(today_event)

    # The demo organizer's drafts and a cancelled event.
    for template, days_ahead in ((TEMPLATES[17], 30), (TEMPLATES[11], 40)):
        events.append(_make(template, cpc, today + timedelta(days=days_ahead), 11, categories,
                            roadmap, status=EventStatus.DRAFT))
    cancelled = _make(TEMPLATES[18], cpc, today + timedelta(days=20), 10, categories, roadmap)
    cancelled.status = EventStatus.CANCELLED
    cancelled.cancel_reason = "Площадка закрыта на ремонт; новая дата будет объявлена."
    cancelled.cancelled_at = now - timedelta(days=1)
    events.append(cancelled)

    db.session.flush()
    all_events = events + school_events
    published = [e for e in all_events if e.status == EventStatus.PUBLISHED]
    ctx.update(
        events=all_events,
        past_events=[e for e in published if e.ends_at <= now],
        upcoming_events=[e for e in published if e.starts_at > now],
        today_event=today_event,
        student_events=[e for e in published if e.audience in (Audience.STUDENTS,
                                                                Audience.PRESCHOOL)],
        parent_events=[e for e in published if e.audience == Audience.PARENTS],
        teacher_events=[e for e in published if e.audience == Audience.TEACHERS],
        school_internal_events=school_events,
        categories=categories,
    )
