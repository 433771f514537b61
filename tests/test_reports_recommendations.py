"""Targeted recommendations: who is below the city level, by how much, and which events help."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from formats.text import plural
from models import Audience, Event, EventStatus, OrgKind, now_utc
from reports.indicators import INDICATOR_KEYS, Figure, OrgIndicators
from reports.recommendations import needed_to_reach, school_gaps, strongest_and_weakest


def school(org_id=1, name="СОШ", **figures):
    values = {k: Figure(0, 0) for k in INDICATOR_KEYS}
    values.update(figures)
    return OrgIndicators(org_id, name, None, OrgKind.SCHOOL, values)


def event(event_id, *, early=False, ovz=False, audience=Audience.STUDENTS, days=5,
          internal_of=None):
    start = now_utc() + timedelta(days=days)
    return Event(id=event_id, title=f"Событие {event_id}", early=early, ovz_adapted=ovz,
                 audience=audience, starts_at=start, ends_at=start + timedelta(hours=2),
                 status=EventStatus.PUBLISHED, school_internal=internal_of is not None,
                 organizer_id=internal_of or 999)


def test_needed_to_reach_the_city_level_in_whole_people():
    assert needed_to_reach(Figure(1, 4), Figure(2, 6)) == 1      # 2/4 ≥ 1/3
    assert needed_to_reach(Figure(10, 100), Figure(333, 1000)) == 24  # 33.3 of 100 → 34
    assert needed_to_reach(Figure(0, 7), Figure(1, 2)) == 4      # 4/7 ≥ 1/2


def test_russian_plural_forms():
    forms = ("обучающегося", "обучающихся", "обучающихся")
    assert [plural(n, forms) for n in (1, 2, 5, 11, 21, 22, 112)] == [
        "обучающегося", "обучающихся", "обучающихся", "обучающихся", "обучающегося",
        "обучающихся", "обучающихся"]


def test_gaps_only_where_below_the_city_and_with_the_right_events():
    city = {k: Figure(0, 0) for k in INDICATOR_KEYS}
    city.update(students=Figure(50, 100), students_ovz=Figure(5, 10),
                students_early=Figure(20, 100), teachers=Figure(10, 20))
    row = school(students=Figure(60, 100), students_ovz=Figure(1, 10),
                 students_early=Figure(5, 100), teachers=Figure(0, 0))
    upcoming = [event(1), event(2, ovz=True), event(3, early=True),
                event(4, ovz=True, internal_of=555), event(5, early=True, ovz=True, days=9)]
    gaps = {g.key: g for g in school_gaps(row, city, upcoming)}
    assert set(gaps) == {"students_ovz", "students_early"}  # above on 1; B = 0 for teachers
    ovz = gaps["students_ovz"]
    assert ovz.points == Decimal("40.0") and ovz.needed == 4
    assert ovz.need_text == "вовлечь ещё 4 обучающихся с ОВЗ"
    assert [e.id for e in ovz.events] == [2, 5]   # ОВЗ-adapted; not another school's internal
    assert [e.id for e in gaps["students_early"].events] == [3, 5]


def test_strongest_and_weakest_leave_out_schools_without_data():
    rows = [school(i, f"СОШ № {i}", students=Figure(i, 10)) for i in range(1, 8)]
    rows.append(school(99, "СОШ без данных", students=Figure(0, 0)))
    best, worst = strongest_and_weakest(type("R", (), {"schools": rows})(), count=3)
    assert [s.id for s in best] == [7, 6, 5]
    assert [s.id for s in worst] == [1, 2, 3]
