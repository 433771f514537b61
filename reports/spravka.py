"""«Аналитическая справка»: the year's figures, trend, school table, strongest and weakest
schools and targeted recommendations — one data builder for the HTML print view and the PDF."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from functools import cached_property

from fpdf import FPDF
from fpdf.fonts import FontFace

from formats.pdf_fonts import add_fonts
from formats.timefmt import (
    TOMSK,
    format_date,
    format_datetime,
    format_number,
    format_percent,
    format_points,
)
from models import now_utc
from models.academic_year import (
    Period,
    academic_year_title,
    same_dates_a_year_before,
    year_so_far,
)
from models.early_rule import early_rule_text
from reports.forecast import Forecast, compute_forecast
from reports.indicators import (
    INDICATOR_KEYS,
    INDICATOR_SHORT,
    INDICATOR_TITLES,
    PRESCHOOL_SHORT,
    IndicatorReport,
    MonthPoint,
    OrgIndicators,
    compute_indicators,
    monthly_trend,
    percent_of,
)
from reports.profminimum import city_ledger, spravka_lines
from reports.queries import upcoming_events
from reports.recommendations import (
    AdviceGroup,
    SchoolAdvice,
    group_advice,
    plural,
    strongest_and_weakest,
    target_recommendations,
)

#: Indicators 4–5 are yes/no per school: «1/1» under «100,0 %» says nothing.
YES_NO = ("schools", "schools_early")


@dataclass
class Spravka:
    year: int
    report: IndicatorReport
    previous: IndicatorReport
    trend: list[MonthPoint]
    strongest: list[OrgIndicators]
    weakest: list[OrgIndicators]
    advice: list[SchoolAdvice]
    generated_at: object
    #: The days counted while the year is in progress (compared with the same dates of the
    #: year before), None for a year that is over (compared with the whole year before).
    so_far: Period | None = None
    #: The same figures counting only check-ins verified at a door (issue #13): shown beside
    #: the full ones where they differ.
    verified: IndicatorReport | None = None
    #: The year-end forecast against the targets (``reports.forecast``): what the
    #: recommendations speak of.
    forecast: Forecast | None = None
    #: «Профминимум» (issue #14): sentences of its section (``reports.profminimum``).
    profminimum: list[str] = field(default_factory=list)

    @property
    def groups(self) -> list[AdviceGroup]:
        return group_advice(self.advice)

    @property
    def year_title(self) -> str:
        return academic_year_title(self.year)

    @property
    def previous_title(self) -> str:
        """«2025/26», or «2025/26 на 03.12.2025» when compared to the same date."""
        title = academic_year_title(self.year - 1)
        if self.so_far is not None:
            title += f" на {format_date(self.previous.period.last_day)}"
        return title

    @property
    def early_rule_note(self) -> str:
        """The city's «ранняя профориентация» rule of the year, as the справка states it."""
        return (f"Ранняя профориентация — мероприятия с отметкой «ранняя профориентация», как "
                f"её сохранил организатор; правило города на {self.year_title} учебный год "
                f"(отметка по умолчанию для новых мероприятий): ранние — "
                f"{early_rule_text(self.year)}")

    @property
    def period_text(self) -> str:
        period = self.report.period
        text = (f"Учебный год {self.year_title} ({format_date(period.first_day)} – "
                f"{format_date(period.last_day)})")
        if self.so_far is not None:
            text += (f"; год идёт, сравнение — с тем же числом прошлого года "
                     f"({format_date(self.previous.period.first_day)} – "
                     f"{format_date(self.previous.period.last_day)})")
        return text

    def door_figure(self, key: str, organization_id: int | None = None):
        """The figure verified at a door (scans, group lists, walk-ins) where it differs from
        the one counting every check-in; None where they are the same."""
        if self.verified is None:
            return None
        if organization_id is None:
            full, door = self.report.city[key], self.verified.city[key]
        else:
            full = self._rows[organization_id].indicators[key]
            row = self._verified_rows.get(organization_id)
            door = row.indicators[key] if row is not None else None
        return door if door is not None and door.a != full.a else None

    @cached_property
    def _rows(self) -> dict[int, OrgIndicators]:
        return {row.id: row for row in self.report.organizations}

    @cached_property
    def _verified_rows(self) -> dict[int, OrgIndicators]:
        return {row.id: row for row in self.verified.organizations} if self.verified else {}

    def door_differs(self) -> bool:
        return any(self.door_figure(key) is not None for key in INDICATOR_KEYS)

    def trend_percent(self, point: MonthPoint):
        return percent_of(point.cumulative, self.report.city["students"].b)

    def change(self, key: str) -> str:
        """This year's X against the year before's, in percentage points (or «—»)."""
        now_p, before = self.report.city[key].percent, self.previous.city[key].percent
        return format_points(None if now_p is None or before is None else now_p - before)

    def parents_line(self) -> str:
        """Parents attended (beside the nine indicators): in all, by the school named."""
        parents = self.report.parents
        text = (f"Родители на мероприятиях (не входит в девять показателей): "
                f"{format_number(parents.attended)}, из них указали школу ребёнка — "
                f"{format_number(parents.schools)}")
        if parents.preschools:
            text += f", детский сад — {format_number(parents.preschools)}"
        text += f"; в {self.previous_title} — {format_number(self.previous.parents.attended)}"
        return text

    def summary_lines(self) -> list[str]:
        """The headline figures; a line (or part) that carries no information is left out:
        «N из N» repeats «100 %», and «ниже городского уровня: 70 из 70» says only that every
        school is below the average somewhere."""
        city, prev = self.report.city, self.previous.city
        lines = []
        for key in ("students", "students_early", "students_ovz", "teachers", "events"):
            figure, before = city[key], prev[key].percent
            text = f"{INDICATOR_TITLES[key]}: {format_percent(figure.percent)}"
            if figure.b and figure.a != figure.b:
                text += f" ({format_number(figure.a)} из {format_number(figure.b)})"
            if figure.percent is not None and before is not None:
                text += (f"; в {self.previous_title} — {format_percent(before)} "
                         f"({self.change(key)})")
            door = self.door_figure(key)
            if door is not None:
                text += (f"; из них подтверждено на входе: {format_number(door.a)} "
                         f"({format_percent(door.percent)})")
            lines.append(text)
        if self.door_differs():
            lines.append(DOOR_NOTE)
        lines.append(self.parents_line())
        lines.extend(self.forecast_lines())
        if not self.has_targets:
            return lines
        at_risk, total = len(self.advice), len(self.report.schools)
        if at_risk == 0 and total:
            lines.append("Ни одна школа не под угрозой: по прогнозу цели достижимы или уже "
                         "достигнуты.")
        else:
            lines.append(f"Школ, которым по прогнозу не хватит до цели хотя бы по одному "
                         f"показателю: {at_risk} из {total}.")
        return lines

    @property
    def has_targets(self) -> bool:
        return self.forecast is not None and any(
            f.target is not None for school in self.forecast.schools
            for f in school.indicators.values())

    def forecast_lines(self) -> list[str]:
        """The city's year-end forecast against each target set: «Цель 60,0 %, прогноз на
        конец года 41,3 % (38,0–45,2 %) — под угрозой»."""
        if self.forecast is None:
            return []
        lines = []
        for key, f in self.forecast.city.indicators.items():
            if f.target is None or f.forecast is None:
                continue
            if self.forecast.finished:
                text = f"итог года {format_percent(f.forecast)}"
            else:
                text = (f"прогноз на конец года {format_percent(f.forecast)} "
                        f"({range_text(f.low, f.high)})")
            lines.append(f"{INDICATOR_TITLES[key]} — цель города {format_percent(f.target)}, "
                         f"{text}: {f.status_title}.")
        if not lines:
            lines.append("Цели города на год не заданы: рекомендации по целям появятся, когда "
                         "администратор задаст их на странице «Цели по показателям».")
        return lines


#: What the справка counts (issue #13: not only the door).
BASIS_TEXT = ("по всем отметкам участников: на входе, по спискам групп и классов, из "
              "загруженных списков присутствовавших")
DOOR_NOTE = ("Все отметки — сканирование на входе (онлайн и офлайн), списки групп, пришедшие "
             "без билета, отметки по списку класса и загруженные списки присутствовавших; "
             "«подтверждено на входе» — без отметок по списку класса и загруженных списков.")


def build_spravka(year: int, now=None) -> Spravka:
    """The report of academic year ``year``. A year in progress is counted up to today and
    compared with the same dates of the year before (not with that year's end, which would
    make every figure look like a fall)."""
    now = now or now_utc()
    so_far = year_so_far(year, now)
    if so_far is None:
        counted = year
        previous = compute_indicators(year - 1, now=now)
    else:
        counted = so_far
        previous = compute_indicators(same_dates_a_year_before(so_far), now=now)
    report = compute_indicators(counted, now=now)
    verified = compute_indicators(counted, now=now, verified_only=True)
    trend = monthly_trend(year, now=now)
    strongest, weakest = strongest_and_weakest(report)
    forecast = compute_forecast(year, now=now)
    whole = report if so_far is None else compute_indicators(year, now=now)
    advice = target_recommendations(whole, forecast, upcoming_events(now=now))
    profminimum = spravka_lines(city_ledger(year, now.astimezone(TOMSK).date()))
    return Spravka(year, report, previous, trend, strongest, weakest, advice, now, so_far,
                   verified, forecast, profminimum)


def figure_note(key: str, figure) -> str:
    """What goes under a school's percentage: «20/689», or «да»/«нет» for the yes/no
    indicators 4–5 (where «1/1» would only repeat the percentage)."""
    if key in YES_NO:
        return "да" if figure.a else "нет"
    return f"{figure.a}/{figure.b}"


def range_text(lowest, highest) -> str:
    if lowest == highest:
        return format_percent(lowest)
    return f"{format_percent(lowest).replace(chr(0xa0) + '%', '')}–{format_percent(highest)}"


def quoted(title: str) -> str:
    """«Title», unless the title already carries its own quotes."""
    return title if "«" in title else f"«{title}»"


# --- PDF -------------------------------------------------------------------------------------

class _Pdf(FPDF):
    footer_text = ""

    def footer(self):
        self.set_y(-12)
        self.set_font(self.font_family, size=8)
        self.cell(0, 6, f"{self.footer_text} · стр. {self.page_no()}/{{nb}}", align="C")


ADVICE_INTRO = ("Школы, которым по прогнозу не хватит до цели (даже верхняя граница прогноза "
                "ниже цели), — группами: в группе одинаковые показатели под угрозой и "
                "одинаковые подходящие мероприятия. Для группы: прогноз на конец года и цель, "
                "сколько ещё участников (мероприятий) нужно всем её школам вместе, чтобы прогноз "
                "дошёл до цели, и ближайшие мероприятия со свободными местами (для ОВЗ — "
                "адаптированные, для ранних показателей — ранней профориентации).")
NO_ADVICE = "Ни одна школа не под угрозой: по прогнозу цели достижимы или уже достигнуты."
NO_TARGETS = ("Цели на год не заданы: задайте их на странице «Цели по показателям», и здесь "
              "появятся школы, которым по прогнозу не хватит до цели.")


def group_heading(group: AdviceGroup) -> str:
    count = len(group.schools)
    if count == 1:
        return group.schools[0].school.name
    return f"{', '.join(group.names)} ({count} {plural(count, ('школа', 'школы', 'школ'))})"


def gap_text(gap) -> str:
    """«прогноз на конец года 0,0–0,3 % при цели 5,0 %, нужно вовлечь ещё 23 обучающихся» (one
    indicator of a group); without targets, against the city level."""
    if gap.target_low is not None:
        return (f"прогноз на конец года {range_text(gap.lowest, gap.highest)} при цели "
                f"{range_text(gap.target_low, gap.target_high)}, нужно {gap.need_text}")
    return (f"{range_text(gap.lowest, gap.highest)} при городском "
            f"{format_percent(gap.city.percent)}, нужно {gap.need_text}")


def group_gaps_text(group: AdviceGroup) -> str:
    return "; ".join(f"{gap.title}: {gap_text(gap)}" for gap in group.gaps) + "."


def group_events_text(group: AdviceGroup) -> str:
    return "Подойдут: " + "; ".join(
        f"{format_date(event.starts_at)} {quoted(event.title)} ({event.organizer.display_name})"
        f" — {', '.join(t.lower() for t in helps)}" for event, helps in group.events) + "."


def _plain(text: str) -> str:
    return text.replace("\u00a0", " ")


def _p(value) -> str:
    return format_percent(value).replace("\u00a0", " ")


def _n(value) -> str:
    return format_number(value).replace("\u00a0", " ")


def spravka_pdf(data: Spravka) -> bytes:
    pdf = _Pdf(orientation="L", format="A4")
    family = add_fonts(pdf)
    pdf.footer_text = f"Аналитическая справка за {data.year_title} учебный год"
    pdf.set_title(f"Аналитическая справка за {data.year_title} учебный год")
    pdf.set_author("Профмаршрут")
    pdf.set_auto_page_break(True, margin=15)
    pdf.alias_nb_pages()
    pdf.add_page()
    bold = FontFace(emphasis="BOLD", fill_color=(220, 230, 241))

    def heading(text: str, size: int = 13):
        pdf.ln(2)
        pdf.set_font(family, "B", size)
        pdf.multi_cell(0, 7, text, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, "", 9.5)

    def paragraph(text: str, size: float = 9.5):
        pdf.set_font(family, "", size)
        pdf.multi_cell(0, 5, text, align="L", new_x="LMARGIN", new_y="NEXT")

    pdf.set_font(family, "B", 16)
    pdf.multi_cell(0, 8, "Аналитическая справка о профориентационной работе "
                   "муниципальной системы образования города Томска",
                   align="L", new_x="LMARGIN", new_y="NEXT")
    paragraph(f"{data.period_text}. Сформировано {format_datetime(data.generated_at)}"
              f" (Томск) {BASIS_TEXT}.")

    heading("1. Показатели города")
    for line in data.summary_lines():
        paragraph("• " + line)
    paragraph(data.early_rule_note + ".", 8.5)
    pdf.ln(2)
    pdf.set_font(family, "", 9)
    with pdf.table(col_widths=(110, 25, 25, 28, 32, 30), headings_style=bold, cell_fill_mode="ROWS",
                   cell_fill_color=(244, 246, 248),
                   text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
                   line_height=5) as table:
        table.row(["Показатель", "A", "B", "X", f"X за {data.previous_title}", "Изменение"])
        for index, key in enumerate(INDICATOR_KEYS):
            now_f, prev_f = data.report.city[key], data.previous.city[key]
            table.row([f"{index + 1}. {INDICATOR_TITLES[key]}", _n(now_f.a), _n(now_f.b),
                       _p(now_f.percent), _p(prev_f.percent), _plain(data.change(key))])
    _bars(pdf, family, data)

    heading("2. Динамика по месяцам")
    paragraph("Число отметок обучающихся школ за месяц и доля обучающихся, вовлечённых с "
              "начала учебного года (показатель 1 нарастающим итогом).")
    with pdf.table(col_widths=(40, 45, 55), headings_style=bold, cell_fill_mode="ROWS",
                   cell_fill_color=(244, 246, 248), width=140, align="LEFT",
                   text_align=("LEFT", "RIGHT", "RIGHT"), line_height=5) as table:
        table.row(["Месяц", "Отметок обучающихся", "Вовлечено с начала года"])
        for point in data.trend:
            table.row([_month_title(point.first_day), _n(point.checkins),
                       f"{_n(point.cumulative)} ({_p(data.trend_percent(point))})"])

    heading("3. Показатели школ")
    _org_table(pdf, family, data.report.schools, INDICATOR_SHORT)
    if data.report.kindergartens:
        if pdf.get_y() + 40 > pdf.page_break_trigger:   # the title stays with its table
            pdf.add_page()
        heading("Дошкольные образовательные организации", 11)
        _org_table(pdf, family, data.report.kindergartens, PRESCHOOL_SHORT)

    heading("4. Лучшие и отстающие школы (по доле вовлечённых обучающихся)")
    for title, schools in (("Лучшие", data.strongest), ("Отстающие", data.weakest)):
        paragraph(f"{title}: " + ("; ".join(
            f"{s.display_name} — {_p(s.indicators['students'].percent)}" for s in schools)
            or "нет данных") + ".")

    heading("5. Адресные рекомендации")
    paragraph(ADVICE_INTRO)
    if not data.advice:
        paragraph(NO_ADVICE if data.has_targets else NO_TARGETS)
    for group in data.groups:
        if pdf.get_y() > pdf.h - pdf.b_margin - 22:
            pdf.add_page()
        pdf.set_font(family, "B", 9.5)
        pdf.multi_cell(0, 5, _plain(group_heading(group)), align="L", new_x="LMARGIN",
                       new_y="NEXT")
        paragraph(_plain(group_gaps_text(group)), 8.5)
        if group.events:
            paragraph(_plain(group_events_text(group)), 8)
        pdf.ln(1)
    heading("6. Профминимум")
    for line in data.profminimum:
        paragraph("• " + line)
    buffer = io.BytesIO()
    pdf.output(buffer)
    return buffer.getvalue()


MONTHS_NOMINATIVE_TITLE = ["Январь", "Февраль", "Март", "Апрель", "Май", "Июнь", "Июль",
                           "Август", "Сентябрь", "Октябрь", "Ноябрь", "Декабрь"]


def _month_title(first_day) -> str:
    return f"{MONTHS_NOMINATIVE_TITLE[first_day.month - 1]} {first_day.year}"


def _bars(pdf: FPDF, family: str, data: Spravka) -> None:
    """A small bar chart of the city's nine indicators, this year against the last."""
    pdf.ln(3)
    label_w, bar_w, row_h = 80, 150, 3.6
    x0 = pdf.l_margin
    if pdf.get_y() + 9 * (2 * row_h + 1.5) + 10 > pdf.h - pdf.b_margin:
        pdf.add_page()
    pdf.set_font(family, "", 8)
    pdf.set_fill_color(11, 79, 138)
    pdf.rect(x0, pdf.get_y(), 4, 3, style="F")
    pdf.set_x(x0 + 5)
    pdf.cell(40, 3, data.year_title)
    pdf.set_fill_color(160, 170, 180)
    pdf.rect(x0 + 45, pdf.get_y(), 4, 3, style="F")
    pdf.set_x(x0 + 50)
    pdf.cell(40, 3, data.previous_title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    for key in INDICATOR_KEYS:
        y = pdf.get_y()
        pdf.set_xy(x0, y)
        pdf.cell(label_w, row_h * 2, INDICATOR_SHORT[key])
        for offset, (figure, colour) in enumerate((
                (data.report.city[key], (11, 79, 138)),
                (data.previous.city[key], (160, 170, 180)))):
            value = figure.percent
            length = 0 if value is None else min(float(value), 100) / 100 * bar_w
            pdf.set_fill_color(*colour)
            if length:
                pdf.rect(x0 + label_w, y + offset * row_h, length, row_h - 0.6, style="F")
            pdf.set_xy(x0 + label_w + length + 1, y + offset * row_h)
            pdf.cell(25, row_h - 0.6, _p(value))
        pdf.set_xy(x0, y + 2 * row_h + 1.5)
    pdf.set_fill_color(255, 255, 255)
    pdf.ln(1)


#: Where the long words of the table headings may break, as soft hyphens: fpdf2 breaks a
#: narrow column's heading there and prints the hyphen, instead of cutting «профориента|ция».
HEADING_HYPHENS = {
    "профориентация": "проф\u00adориен\u00adтация",
    "Обучающиеся": "Обучаю\u00adщиеся",
    "Мероприятия": "Меро\u00adприятия",
    "Педагоги": "Педа\u00adгоги",
    "Воспитанники": "Воспи\u00adтан\u00adники",
}


def hyphenate_heading(text: str) -> str:
    for word, hyphenated in HEADING_HYPHENS.items():
        text = text.replace(word, hyphenated)
    return text


def _school_cell(key: str, figure) -> str:
    if figure.percent is None:
        return _p(None)
    if key in YES_NO:
        return figure_note(key, figure)
    return f"{_p(figure.percent)}\n{figure_note(key, figure)}"


def _org_table(pdf: FPDF, family: str, rows: list[OrgIndicators], short: dict) -> None:
    """One row per organization, its name and nine cells of «percent / a/b».

    Drawn cell by cell: the headings are broken into lines once (at soft hyphens) and repeated
    on each page, the body's cells hold at most two short lines each; laying out 700 cells
    through ``pdf.table`` (line breaking twice per cell) took most of the PDF's time."""
    widths = (61,) + (24,) * len(INDICATOR_KEYS)
    line, pad = 4, 1

    aligns = ("L",) + ("R",) * len(INDICATOR_KEYS)
    pdf.set_font(family, "B", 7.5)
    titles = [pdf.multi_cell(w - 2 * pad, line, text, dry_run=True, output="LINES")
              for w, text in zip(widths, ["Организация"] + [
                  hyphenate_heading(f"{i + 1}. {short[k]}") for i, k in
                  enumerate(INDICATOR_KEYS)], strict=True)]
    pdf.set_font(family, "", 7.5)

    def row(cells: list[list[str]], fill: tuple, height: float, valign_bottom=False):
        y, x = pdf.get_y(), pdf.l_margin
        pdf.set_fill_color(*fill)
        for width, lines, align in zip(widths, cells, aligns, strict=True):
            pdf.rect(x, y, width, height, style="DF")
            top = y + ((height - len(lines) * line) if valign_bottom
                       else (height - len(lines) * line) / 2)
            for number, text in enumerate(lines):
                pdf.set_xy(x + pad, top + number * line)
                pdf.cell(width - 2 * pad, line, text, align=align)
            x += width
        pdf.set_xy(pdf.l_margin, y + height)

    heading_height = max(len(t) for t in titles) * line + 1

    def headings():
        # The headings never stay alone at the foot of a page.
        if pdf.get_y() + heading_height + 2 * line > pdf.page_break_trigger:
            pdf.add_page()
        pdf.set_font(family, "B", 7.5)
        row(titles, (220, 230, 241), heading_height, True)
        pdf.set_font(family, "", 7.5)

    auto_break = pdf.auto_page_break
    pdf.set_auto_page_break(False)   # pages are turned here, between rows, never inside one
    headings()
    for index, org in enumerate(rows):
        name = org.display_name
        names = [name] if pdf.get_string_width(name) <= widths[0] - 2 * pad else \
            pdf.multi_cell(widths[0] - 2 * pad, line, name, dry_run=True, output="LINES")
        cells = [names] + [_school_cell(k, org.indicators[k]).split("\n")
                           for k in INDICATOR_KEYS]
        height = max(2, len(names)) * line
        if pdf.get_y() + height > pdf.page_break_trigger:
            pdf.add_page()
            headings()
        row(cells, (244, 246, 248) if index % 2 else (255, 255, 255), height)
    pdf.set_auto_page_break(auto_break, margin=pdf.b_margin)
    pdf.set_fill_color(255, 255, 255)
    pdf.set_font(family, "", 9.5)
