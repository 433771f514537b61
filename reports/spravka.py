"""«Аналитическая справка»: the year's figures, trend, school table, strongest and weakest
schools and targeted recommendations — one data builder for the HTML print view and the PDF."""

from __future__ import annotations

import io
from dataclasses import dataclass

from fpdf import FPDF
from fpdf.fonts import FontFace

from formats.pdf_fonts import add_fonts
from formats.timefmt import format_date, format_datetime, format_number, format_percent
from models import now_utc
from models.academic_year import academic_year_period, academic_year_title
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
from reports.queries import upcoming_events
from reports.recommendations import SchoolAdvice, recommendations, strongest_and_weakest


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

    @property
    def year_title(self) -> str:
        return academic_year_title(self.year)

    @property
    def previous_title(self) -> str:
        return academic_year_title(self.year - 1)

    def trend_percent(self, point: MonthPoint):
        return percent_of(point.cumulative, self.report.city["students"].b)

    def summary_lines(self) -> list[str]:
        city, prev = self.report.city, self.previous.city
        lines = []
        for key in ("students", "students_early", "students_ovz", "teachers", "events"):
            now_p, before = city[key].percent, prev[key].percent
            text = (f"{INDICATOR_TITLES[key]}: {format_percent(now_p)} "
                    f"({format_number(city[key].a)} из {format_number(city[key].b)})")
            if now_p is not None and before is not None:
                delta = now_p - before
                sign = "+" if delta > 0 else ("−" if delta < 0 else "±")
                text += (f"; в {self.previous_title} — {format_percent(before)} "
                         f"({sign}{format_percent(abs(delta)).replace(' %', '')} п. п.)")
            lines.append(text)
        below = len(self.advice)
        lines.append(f"Школ ниже городского уровня хотя бы по одному показателю: {below} "
                     f"из {len(self.report.schools)}.")
        return lines


def build_spravka(year: int, now=None) -> Spravka:
    now = now or now_utc()
    report = compute_indicators(year, now=now)
    previous = compute_indicators(year - 1, now=now)
    trend = monthly_trend(year)
    strongest, weakest = strongest_and_weakest(report)
    advice = recommendations(report, upcoming_events(now=now))
    return Spravka(year, report, previous, trend, strongest, weakest, advice, now)


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
        pdf.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, "", 9.5)

    def paragraph(text: str, size: float = 9.5):
        pdf.set_font(family, "", size)
        pdf.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")

    pdf.set_font(family, "B", 16)
    pdf.multi_cell(0, 8, "Аналитическая справка о профориентационной работе "
                   "муниципальной системы образования города Томска",
                   new_x="LMARGIN", new_y="NEXT")
    period = academic_year_period(data.year)
    paragraph(f"Учебный год {data.year_title} ({format_date(period.first_day)} – "
              f"{format_date(period.last_day)}). Сформировано {format_datetime(data.generated_at)}"
              f" (Томск) по отметкам участников на входе.")

    heading("1. Показатели города")
    for line in data.summary_lines():
        paragraph("• " + line)
    pdf.ln(2)
    pdf.set_font(family, "", 9)
    with pdf.table(col_widths=(110, 25, 25, 28, 32, 30), headings_style=bold, cell_fill_mode="ROWS",
                   cell_fill_color=(244, 246, 248),
                   text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
                   line_height=5) as table:
        table.row(["Показатель", "A", "B", "X", f"X за {data.previous_title}", "Изменение"])
        for index, key in enumerate(INDICATOR_KEYS):
            now_f, prev_f = data.report.city[key], data.previous.city[key]
            delta = "—"
            if now_f.percent is not None and prev_f.percent is not None:
                diff = now_f.percent - prev_f.percent
                delta = ("+" if diff > 0 else "") + f"{diff}".replace(".", ",") + " п. п."
            table.row([f"{index + 1}. {INDICATOR_TITLES[key]}", _n(now_f.a), _n(now_f.b),
                       _p(now_f.percent), _p(prev_f.percent), delta])
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
    _org_table(pdf, family, data.report.schools, INDICATOR_SHORT, bold)
    if data.report.kindergartens:
        heading("Дошкольные образовательные организации", 11)
        _org_table(pdf, family, data.report.kindergartens, PRESCHOOL_SHORT, bold)

    heading("4. Лучшие и отстающие школы (по доле вовлечённых обучающихся)")
    for title, schools in (("Лучшие", data.strongest), ("Отстающие", data.weakest)):
        paragraph(f"{title}: " + ("; ".join(
            f"{s.display_name} — {_p(s.indicators['students'].percent)}" for s in schools)
            or "нет данных") + ".")

    heading("5. Адресные рекомендации")
    paragraph("Для каждой школы ниже городского уровня: показатель, отставание в процентных "
              "пунктах и сколько ещё участников (мероприятий) нужно, чтобы выйти на городской "
              "уровень; затем ближайшие мероприятия, которые помогут (адаптированные для ОВЗ — "
              "для охвата обучающихся с ОВЗ, ранней профориентации — для ранних показателей).")
    if not data.advice:
        paragraph("Все школы на городском уровне или выше по всем показателям.")
    for item in data.advice:
        if pdf.get_y() > pdf.h - pdf.b_margin - 22:
            pdf.add_page()
        pdf.set_font(family, "B", 9.5)
        pdf.multi_cell(0, 5, item.school.name, new_x="LMARGIN", new_y="NEXT")
        paragraph("; ".join(
            f"{gap.title}: {_p(gap.own.percent)} при городском {_p(gap.city.percent)} "
            f"(−{f'{gap.points}'.replace('.', ',')} п. п.), нужно {gap.need_text}"
            for gap in item.gaps) + ".", 8.5)
        suggested = item.events()
        if suggested:
            paragraph("Подойдут: " + "; ".join(
                f"{format_date(event.starts_at)} {quoted(event.title)} "
                f"({event.organizer.display_name})"
                f" — {', '.join(t.lower() for t in helps)}" for event, helps in suggested)
                + ".", 8)
        pdf.ln(1)
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
    label_w, bar_w, row_h = 80, 150, 4
    x0 = pdf.l_margin
    if pdf.get_y() + 9 * (2 * row_h + 2) + 10 > pdf.h - pdf.b_margin:
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
        pdf.set_xy(x0, y + 2 * row_h + 2)
    pdf.set_fill_color(255, 255, 255)
    pdf.ln(1)


def _org_table(pdf: FPDF, family: str, rows: list[OrgIndicators], short: dict,
               bold: FontFace) -> None:
    pdf.set_font(family, "", 7.5)
    widths = (61,) + (24,) * len(INDICATOR_KEYS)
    with pdf.table(col_widths=widths, headings_style=bold, cell_fill_mode="ROWS",
                   cell_fill_color=(244, 246, 248), line_height=4,
                   text_align=("LEFT",) + ("RIGHT",) * len(INDICATOR_KEYS)) as table:
        table.row(["Организация"] + [f"{i + 1}. {short[k]}" for i, k in
                                     enumerate(INDICATOR_KEYS)])
        for org in rows:
            table.row([org.display_name] + [
                f"{_p(org.indicators[k].percent)}\n{org.indicators[k].a}/{org.indicators[k].b}"
                for k in INDICATOR_KEYS])
    pdf.set_font(family, "", 9.5)
