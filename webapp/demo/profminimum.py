"""Demo «профминимум» (issue #14): every event gets a format, the city and the demo school get
levels, and the demo school's year so far is recorded so its page means something — weekly
«Россия — мои горизонты» lessons ticked by class list (8Б stopped after two), an autumn
профильная смена, a festival and a week of профпробы for some classes; some classes are done,
some on pace, some behind. An upcoming профпроба for grades 8–9 is open for registration.

``load`` is the small demo's step; ``apply_to_city`` gives an existing city-scale set formats
and levels (``webapp.demo.city`` calls it; it can run on a copy of an older set).
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from formats.timefmt import TOMSK
from models import (
    Event,
    Organization,
    OrgKind,
    ProfminimumFormat,
    ProfminimumLevels,
    Student,
    db,
    now_utc,
)
from models.academic_year import academic_year_period, current_academic_year
from models.profminimum import PROFMINIMUM_GRADES
from webapp.attendance.class_lists import mark_classes
from webapp.events.services import create_event, publish_event

#: The format an event of a category gets (school-internal ones by their title).
CATEGORY_FORMATS = {
    "professionals": "contest", "abilympics": "contest", "university": "trial",
    "college": "trial", "ticket_to_future": "trial", "proektoria": "horizons",
    "digital_lesson": "horizons", "technopark": "excursion", "cpc_program": "diagnostics",
    "campaign": "meeting", "parents": "parents", "conference": "meeting",
}
#: The city's default levels, as in the contract's example.
CITY_LEVELS = {6: 40, 7: 40, 8: 60, 9: 60, 10: 80, 11: 80}
#: The demo school keeps its seniors at the основной level.
DEMO_SCHOOL_LEVELS = {10: 60, 11: 60}


def _format_for(event_title: str, category_code: str, codes: dict[str, int]) -> int | None:
    title = event_title.casefold()
    if "горизонт" in title:
        return codes.get("horizons")
    if "профпроб" in title:
        return codes.get("trial")
    if "экскурс" in title or "предприят" in title:
        return codes.get("excursion")
    if "встреч" in title:
        return codes.get("meeting")
    code = CATEGORY_FORMATS.get(category_code)
    return codes.get(code or "other")


def assign_formats() -> None:
    """Every event without a format gets one (by title, else by category), in bulk."""
    codes = {f.code: f.id for f in ProfminimumFormat.query.all()}
    events = Event.__table__
    categories = sa.table("categories", sa.column("id"), sa.column("code"))
    rows = db.session.execute(
        sa.select(events.c.id, events.c.title, categories.c.code)
        .join(categories, categories.c.id == events.c.category_id)
        .where(events.c.profminimum_format_id.is_(None))).all()
    by_format: dict[int, list[int]] = {}
    for row in rows:
        format_id = _format_for(row.title, row.code, codes)
        if format_id is not None:
            by_format.setdefault(format_id, []).append(row.id)
    for format_id, ids in by_format.items():
        for i in range(0, len(ids), 900):
            db.session.execute(sa.update(events).where(events.c.id.in_(ids[i:i + 900]))
                               .values(profminimum_format_id=format_id))


def _levels(organization_id: int | None, year: int, hours: dict[int, int],
            locked: bool = False) -> None:
    row = ProfminimumLevels(organization_id=organization_id, year=year, locked=locked)
    row.set_hours(hours)
    db.session.add(row)


def set_levels(rng: random.Random, years, schools: list[Organization],
               demo_school_id: int | None = None) -> None:
    """The city's default every year; a few schools their own (some locked by the admin)."""
    for year in years:
        _levels(None, year, CITY_LEVELS)
        for school in schools:
            if school.id == demo_school_id:
                _levels(school.id, year, DEMO_SCHOOL_LEVELS)
            elif rng.random() < 0.2:
                own = {g: rng.choice((40, 60, 80)) for g in PROFMINIMUM_GRADES
                       if rng.random() < 0.5}
                _levels(school.id, year, own, locked=rng.random() < 0.5)


def apply_to_city(rng: random.Random, years) -> None:
    """The city-scale set's formats and levels (also for a copy built before issue #14)."""
    assign_formats()
    schools = Organization.query.filter_by(kind=OrgKind.SCHOOL).order_by(Organization.id).all()
    existing = {r[0] for r in db.session.execute(sa.select(ProfminimumLevels.year))}
    set_levels(rng, [y for y in years if y not in existing], schools)
    db.session.flush()


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), TOMSK)


def _school_event(coordinator, title: str, start: datetime, end: datetime, *,
                  grades=(6, 11), format_code: str, hours=None) -> Event:
    event = create_event(coordinator, title=title, starts_at=start, ends_at=end,
                         venue_name=coordinator.organization.display_name, capacity=1000,
                         audience="students", grades_min=grades[0], grades_max=grades[1],
                         profminimum_format=format_code, academic_hours=hours)
    return publish_event(coordinator, event)


def _tick(rng, coordinator, event: Event, classes: list[str], absent_rate: float) -> None:
    students = Student.query.filter(Student.organization_id == coordinator.organization_id,
                                    Student.class_name.in_(classes),
                                    Student.active.is_(True)).all()
    absent = [s.id for s in students if rng.random() < absent_rate]
    db.session.commit()  # the class list takes the event's lock first in its transaction
    mark_classes(coordinator, event, classes, absent)


def _demo_school_year(rng, coordinator, organizer, year: int, now: datetime) -> None:
    """The demo school's hours so far (module docstring)."""
    today = now.astimezone(TOMSK).date()
    first = academic_year_period(year).first_day
    thursday = first + timedelta(days=(3 - first.weekday()) % 7)
    lessons = []
    while _at(thursday, 15) < now - timedelta(days=1):
        lessons.append(thursday)
        thursday += timedelta(weeks=1)
    everyone = ["6А", "7А", "7Б", "8А", "9А", "9Б", "10А", "11А"]
    for number, day in enumerate(lessons, start=1):
        lesson = _school_event(coordinator, f"«Россия — мои горизонты»: классный час № {number}",
                               _at(day, 14), _at(day, 14, 45), format_code="horizons")
        _tick(rng, coordinator, lesson, everyone + (["8Б"] if number <= 2 else []), 0.08)
    # Events held on school premises with partners, once the autumn is under way.
    held = [
        ("Осенняя профильная смена «Инженеры будущего»", date(year, 10, 27), 3, (10, 16),
         "trial", ["6А", "7А", "8А", "9А", "10А", "11А"]),
        ("Фестиваль профессий", date(year, 11, 14), 1, (10, 14.5), "meeting",
         ["6А", "9А", "9Б", "11А"]),
        ("Неделя профпроб в мастерских колледжа", date(year, 11, 17), 5, (10, 13), "trial",
         ["9А"]),
    ]
    for title, day, days, (begin, end), format_code, classes in held:
        start = _at(day, int(begin), int(begin % 1 * 60))
        finish = _at(day + timedelta(days=days - 1), int(end), int(end % 1 * 60))
        if finish > now:
            continue
        event = _school_event(coordinator, title, start, finish, format_code=format_code)
        _tick(rng, coordinator, event, classes, 0.05)
    # An upcoming профпроба for grades 8–9, open for registration (what «кто отстаёт» offers).
    if organizer is not None:
        day = today + timedelta(days=9)
        probe = create_event(organizer, title="Профпроба «Инженер-робототехник»",
                             category="cpc_program", starts_at=_at(day, 11),
                             ends_at=_at(day, 12, 30), venue_name="ЦПК «Планирование карьеры»",
                             venue_address="г. Томск, ул. Советская, 60", capacity=60,
                             audience="students", grades_min=8, grades_max=9,
                             profminimum_format="trial",
                             description="Соберите и запрограммируйте робота-манипулятора "
                                         "вместе с инженерами. Засчитывается в профминимум.")
        publish_event(organizer, probe)


def load(rng, size: str, ctx: dict) -> None:
    if size == "city":  # the city generator calls apply_to_city itself
        return
    year = ctx.get("year") or current_academic_year()
    own_rng = random.Random(14)
    assign_formats()
    schools = ctx.get("schools") or []
    demo_school = ctx.get("demo_school")
    set_levels(own_rng, [year - 1, year], schools, demo_school.id if demo_school else None)
    db.session.flush()
    coordinator = ctx.get("coordinator")
    if coordinator is not None and demo_school is not None:
        _demo_school_year(own_rng, coordinator, ctx.get("organizer"), year, now_utc())
    assign_formats()
