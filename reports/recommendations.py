"""«Адресные рекомендации» of the analytical report.

For every school whose year-end forecast misses its target in an indicator (at risk: even the
forecast's high end is below the target, ``reports.forecast``): the forecast against the target,
how many more people (or events) would bring the forecast to the target, and up to three
upcoming events that would help — ОВЗ-adapted ones for ОВЗ coverage, early ones for early
guidance, events for teachers for the teachers' indicators, any open event for the rest.
(The school page still compares a school with the city level: :func:`school_gaps`.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from formats.text import natural_key, plural
from models import Audience, Event
from reports.forecast import AT_RISK, Forecast, IndicatorForecast, OrgForecast
from reports.indicators import INDICATOR_SHORT, Figure, IndicatorReport, OrgIndicators

#: Indicators a school can act on (4–5 are yes/no and follow from 1–2).
ACTIONABLE = ("students", "students_early", "students_ovz", "teachers", "teachers_early",
              "events", "events_early")
EVENTS_PER_GAP = 3
#: How the missing amount reads: «вовлечь ещё 12 обучающихся».
NEED_TEXT = {
    "students": ("вовлечь ещё", ("обучающегося", "обучающихся", "обучающихся")),
    "students_early": ("вовлечь в раннюю профориентацию ещё",
                       ("обучающегося", "обучающихся", "обучающихся")),
    "students_ovz": ("вовлечь ещё", ("обучающегося с ОВЗ", "обучающихся с ОВЗ",
                                     "обучающихся с ОВЗ")),
    "teachers": ("привлечь ещё", ("педагога", "педагогов", "педагогов")),
    "teachers_early": ("привлечь к ранней профориентации ещё",
                       ("педагога", "педагогов", "педагогов")),
    "events": ("принять участие ещё в", ("мероприятии", "мероприятиях", "мероприятиях")),
    "events_early": ("принять участие ещё в", ("раннем мероприятии", "ранних мероприятиях",
                                               "ранних мероприятиях")),
}
ADVICE = {
    "students": "Запишите классы, ещё не участвовавшие в этом году, на ближайшие мероприятия.",
    "students_early": "Запишите обучающихся младших классов на мероприятия ранней "
                      "профориентации.",
    "students_ovz": "Запишите обучающихся с ОВЗ на мероприятия, адаптированные для ОВЗ.",
    "teachers": "Направьте педагогов на курсы и мероприятия для педагогов или сопровождать "
                "группы.",
    "teachers_early": "Привлеките педагогов начальной школы к мероприятиям ранней "
                      "профориентации.",
    "events": "Запланируйте участие в большем числе мероприятий или уточните план школы.",
    "events_early": "Включите в план школы мероприятия ранней профориентации.",
}


def need_text(key: str, needed: int) -> str:
    """«вовлечь ещё 12 обучающихся» for indicator ``key``."""
    verb, forms = NEED_TEXT[key]
    return f"{verb} {needed} {plural(needed, forms)}"


class _IndicatorShortfall:
    """What a line about one indicator says: its short title and how many more are needed
    (``key`` and ``needed`` are the dataclass's fields)."""

    key: str
    needed: int

    @property
    def title(self) -> str:
        return INDICATOR_SHORT[self.key]

    @property
    def need_text(self) -> str:
        return need_text(self.key, self.needed)


@dataclass
class Gap(_IndicatorShortfall):
    key: str
    own: Figure
    city: Figure
    #: Percentage points below the city level.
    points: Decimal
    #: People (or events) more to reach the city level.
    needed: int
    events: list[Event] = field(default_factory=list)
    #: Against a target: the target and the year-end forecast (``points`` is then target −
    #: forecast high, ``needed`` what brings the forecast point to the target).
    target: Decimal | None = None
    forecast: IndicatorForecast | None = None

    @property
    def advice(self) -> str:
        return ADVICE[self.key]


@dataclass
class SchoolAdvice:
    school: OrgIndicators
    gaps: list[Gap]

    def events(self, limit: int = 4) -> list[tuple[Event, list[str]]]:
        """Upcoming events helping any of the gaps, soonest first, each with the indicators it
        helps (an event suggested for two gaps is listed once)."""
        helps: dict[int, tuple[Event, list[str]]] = {}
        for gap in self.gaps:
            for event in gap.events:
                helps.setdefault(event.id, (event, []))[1].append(gap.title)
        ordered = sorted(helps.values(), key=lambda pair: (-len(pair[1]), pair[0].starts_at))
        return sorted(ordered[:limit], key=lambda pair: pair[0].starts_at)


@dataclass
class GapSummary(_IndicatorShortfall):
    """One indicator across the schools of an :class:`AdviceGroup`."""
    key: str
    city: Figure
    lowest: Decimal
    highest: Decimal
    needed: int
    #: Against targets: the lowest and highest target of the group (``lowest``/``highest``
    #: are then the forecasts' points).
    target_low: Decimal | None = None
    target_high: Decimal | None = None


@dataclass
class AdviceGroup:
    """Schools below the city level in the same indicators with the same fitting events: one
    paragraph of the report instead of one per school."""
    schools: list[SchoolAdvice]
    events: list[tuple[Event, list[str]]]

    @property
    def names(self) -> list[str]:
        return [item.school.display_name for item in self.schools]

    @property
    def gaps(self) -> list[GapSummary]:
        summaries = []
        for index, first in enumerate(self.schools[0].gaps):
            column = [item.gaps[index] for item in self.schools]
            if first.forecast is not None:
                points = [gap.forecast.forecast for gap in column]
                targets = [gap.target for gap in column]
                summaries.append(GapSummary(first.key, first.city, min(points), max(points),
                                            sum(gap.needed for gap in column),
                                            min(targets), max(targets)))
                continue
            own = [gap.own.percent for gap in column]
            summaries.append(GapSummary(first.key, first.city, min(own), max(own),
                                        sum(gap.needed for gap in column)))
        return summaries


def group_advice(advice: list[SchoolAdvice]) -> list[AdviceGroup]:
    """Schools with the same gaps (indicators) and the same suggested events together, in the
    order of ``advice`` (the largest gap first); names within a group in natural order."""
    groups: dict[tuple, AdviceGroup] = {}
    for item in advice:
        events = item.events()
        key = (tuple(gap.key for gap in item.gaps), tuple(event.id for event, _ in events))
        group = groups.get(key)
        if group is None:
            groups[key] = AdviceGroup([item], events)
        else:
            group.schools.append(item)
    for group in groups.values():
        group.schools.sort(key=lambda a: natural_key(a.school.display_name))
    return list(groups.values())


def needed_to_reach(own: Figure, city: Figure) -> int:
    """The smallest n with (own.a + n) / own.b ≥ city.a / city.b, in exact integers."""
    # own.a + n >= city.a * own.b / city.b  →  n = ceil(city.a * own.b / city.b) - own.a
    target = -(-city.a * own.b // city.b)
    return max(target - own.a, 1)


def _helps(event: Event, key: str, school_id: int) -> bool:
    if event.school_internal and event.organizer_id != school_id:
        return False
    if key.startswith("teachers"):
        suitable = event.audience in (Audience.TEACHERS, Audience.STUDENTS)
    else:
        suitable = event.audience == Audience.STUDENTS
    if key.endswith("_early") and not event.early:
        return False
    if key == "students_ovz" and not event.ovz_adapted:
        return False
    return suitable


def _rank(event: Event, key: str) -> tuple:
    # For teachers, events for teachers first; everywhere, events still open for registration.
    teacher_first = 0 if (key.startswith("teachers") and event.audience == Audience.TEACHERS) \
        else 1
    return (teacher_first, 0 if event.registration_open() else 1, event.starts_at)


def school_gaps(school: OrgIndicators, city: dict[str, Figure],
                upcoming: list[Event]) -> list[Gap]:
    gaps = []
    for key in ACTIONABLE:
        own, level = school.indicators[key], city[key]
        if own.percent is None or level.percent is None or own.percent >= level.percent:
            continue
        helpful = sorted((e for e in upcoming if _helps(e, key, school.id)),
                         key=lambda e, key=key: _rank(e, key))
        gaps.append(Gap(key, own, level, level.percent - own.percent,
                        needed_to_reach(own, level), helpful[:EVENTS_PER_GAP]))
    return gaps


def target_gaps(school: OrgIndicators, forecast: OrgForecast, city: dict[str, Figure],
                upcoming: list[Event]) -> list[Gap]:
    """The indicators whose forecast misses the school's target (at risk)."""
    gaps = []
    for key in ACTIONABLE:
        f = forecast.indicators[key]
        if f.status != AT_RISK:
            continue
        helpful = sorted((e for e in upcoming if _helps(e, key, school.id)),
                         key=lambda e, key=key: _rank(e, key))
        gaps.append(Gap(key, school.indicators[key], city[key], f.target - f.high,
                        max(1, f.people_needed()), helpful[:EVENTS_PER_GAP], f.target, f))
    return gaps


def target_recommendations(report: IndicatorReport, forecast: Forecast,
                           upcoming: list[Event]) -> list[SchoolAdvice]:
    """Schools at risk of missing a target in at least one indicator, the farthest first."""
    advice = []
    for school in report.schools:
        own = forecast.school(school.id)
        if own is None:
            continue
        gaps = target_gaps(school, own, report.city, upcoming)
        if gaps:
            advice.append(SchoolAdvice(school, gaps))
    advice.sort(key=lambda a: (-max(g.points for g in a.gaps), a.school.display_name))
    return advice


def recommendations(report: IndicatorReport, upcoming: list[Event]) -> list[SchoolAdvice]:
    """Schools below the city level in at least one indicator, the largest gap first."""
    advice = []
    for school in report.schools:
        gaps = school_gaps(school, report.city, upcoming)
        if gaps:
            advice.append(SchoolAdvice(school, gaps))
    advice.sort(key=lambda a: (-max(g.points for g in a.gaps), a.school.display_name))
    return advice


def strongest_and_weakest(report: IndicatorReport, count: int = 5):
    """Schools ranked by indicator 1 (students involved), then early guidance; B = 0 left out."""
    ranked = [s for s in report.schools if s.indicators["students"].percent is not None]
    ranked.sort(key=lambda s: (s.indicators["students"].percent,
                               s.indicators["students_early"].percent or 0, s.display_name),
                reverse=True)
    strongest = ranked[:count]
    weakest = [s for s in reversed(ranked) if s not in strongest][:count]
    return strongest, weakest
