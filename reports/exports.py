"""The indicator table as spreadsheets.

- XLSX (openpyxl): a title row, the period and filters, a two-row header (indicator, then A, B,
  X), frozen panes below the header and right of the names, the city row first and the
  kindergartens' total before their own rows, X as a percent-formatted number («нет данных» when
  B = 0). A second sheet explains the methodology.
- CSV for a Russian Excel: UTF-8 with a byte-order mark (without it Excel reads UTF-8 as
  Windows-1251 and the Cyrillic breaks), ``;`` as the separator (a Russian Excel uses ``,`` as the
  decimal sign and expects ``;`` between fields) and decimal commas — ``formats.spreadsheets
  .csv_bytes``. Opens with a double click, no import wizard.
"""

from __future__ import annotations

import io
from datetime import datetime

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from formats.spreadsheets import csv_bytes, write_cell
from formats.timefmt import format_datetime
from models import now_utc
from models.academic_year import Period, academic_year_of, academic_year_title
from models.early_rule import early_rule_text
from reports.indicators import (
    INDICATOR_KEYS,
    INDICATOR_TITLES,
    Figure,
    IndicatorReport,
)

NO_DATA = "нет данных"
CITY_LABEL = "Город Томск — общеобразовательные организации (итого)"
PRESCHOOL_LABEL = "Город Томск — дошкольные организации (итого)"
KIND_TITLES = {"school": "школа", "preschool": "ДОО"}


PARENTS_HEADER = "Родители на мероприятиях (не показатель): пришли"
WITHOUT_ORGANIZATION_LABEL = "Родители, не указавшие школу (только в итоге города)"


def table_rows(report: IndicatorReport
               ) -> list[tuple[str, str, dict[str, Figure], bool, int]]:
    """(name, kind title, indicators, is_total, parents attended) in the order the spreadsheets
    show them. The city's parents are all of them (those who named no school too)."""
    rows = [(CITY_LABEL, "итого", report.city, True,
             report.parents.attended - report.parents.preschools)]
    rows += [(o.name, KIND_TITLES["school"], o.indicators, False, o.parents)
             for o in report.schools]
    rows.append((PRESCHOOL_LABEL, "итого", report.preschools, True, report.parents.preschools))
    rows += [(o.name, KIND_TITLES["preschool"], o.indicators, False, o.parents)
             for o in report.kindergartens]
    return rows


def _filters_line(report: IndicatorReport, filter_titles: list[str]) -> str:
    line = (f"Период: {report.period.first_day:%d.%m.%Y} – {report.period.last_day:%d.%m.%Y}. "
            f"Базовые показатели {report.baseline_year}/{(report.baseline_year + 1) % 100:02d} "
            f"учебного года.")
    if filter_titles:
        line += " Отбор: " + "; ".join(filter_titles) + "."
    return line


def indicators_xlsx(report: IndicatorReport, *, title: str,
                    filter_titles: list[str] | None = None,
                    generated_at: datetime | None = None) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "Показатели"
    bold = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="DCE6F1")
    total_fill = PatternFill("solid", fgColor="F2F2F2")
    thin = Side(style="thin", color="A6A6A6")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    parents_col = 3 + 3 * len(INDICATOR_KEYS)
    last_col = parents_col

    write_cell(ws, 1, 1, title).font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=last_col)
    write_cell(ws, 2, 1, _filters_line(report, filter_titles or [])
            + f" Сформировано {format_datetime(generated_at or now_utc())} (Томск).")
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=last_col)

    write_cell(ws, 3, 1, "Организация")
    write_cell(ws, 3, 2, "Тип")
    ws.merge_cells("A3:A4")
    ws.merge_cells("B3:B4")
    for index, key in enumerate(INDICATOR_KEYS):
        col = 3 + 3 * index
        write_cell(ws, 3, col, f"{index + 1}. {INDICATOR_TITLES[key]}")
        ws.merge_cells(start_row=3, start_column=col, end_row=3, end_column=col + 2)
        for offset, name in enumerate(("A", "B", "X, %")):
            write_cell(ws, 4, col + offset, name)
    write_cell(ws, 3, parents_col, PARENTS_HEADER)
    ws.merge_cells(start_row=3, start_column=parents_col, end_row=4, end_column=parents_col)
    for row in (3, 4):
        for col in range(1, last_col + 1):
            cell = ws.cell(row, col)
            cell.font = bold
            cell.fill = header_fill
            cell.alignment = centre
            cell.border = border
    ws.row_dimensions[3].height = 62

    row_number = 5
    for name, kind, figures, is_total, parents in table_rows(report):
        write_cell(ws, row_number, 1, name)
        write_cell(ws, row_number, 2, kind)
        for index, key in enumerate(INDICATOR_KEYS):
            col = 3 + 3 * index
            figure = figures[key]
            write_cell(ws, row_number, col, figure.a)
            write_cell(ws, row_number, col + 1, figure.b)
            percent = figure.percent
            cell = write_cell(ws, row_number, col + 2, NO_DATA if percent is None
                              else float(percent) / 100)
            if percent is None:
                cell.alignment = Alignment(horizontal="right")
            else:
                cell.number_format = "0.0%"
        write_cell(ws, row_number, parents_col, parents)
        for col in range(1, last_col + 1):
            cell = ws.cell(row_number, col)
            cell.border = border
            if is_total:
                cell.font = bold
                cell.fill = total_fill
        row_number += 1

    ws.column_dimensions["A"].width = 48
    ws.column_dimensions["B"].width = 8
    for col in range(3, parents_col):
        ws.column_dimensions[get_column_letter(col)].width = 9 if (col - 3) % 3 != 2 else 10
    ws.column_dimensions[get_column_letter(parents_col)].width = 14
    ws.freeze_panes = "C5"
    ws.auto_filter.ref = f"A4:{get_column_letter(last_col)}{row_number - 1}"
    ws.print_title_rows = "3:4"
    ws.page_setup.orientation = "landscape"

    notes = wb.create_sheet("Методика")
    notes.column_dimensions["A"].width = 110
    for line_number, line in enumerate(methodology_lines(report), start=1):
        write_cell(notes, line_number, 1, line).alignment = Alignment(wrap_text=True)
    notes.cell(1, 1).font = Font(bold=True, size=12)

    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def early_rule_lines(period: Period) -> list[str]:
    """The city's «ранняя профориентация» rule of each academic year the period touches."""
    first, last = academic_year_of(period.first_day), academic_year_of(period.last_day)
    return [f"Ранняя профориентация (2, 5, 7, 9): мероприятия с отметкой «ранняя "
            f"профориентация», как её сохранил организатор. Правило города на "
            f"{academic_year_title(year)} учебный год (отметка по умолчанию для новых "
            f"мероприятий): ранние — {early_rule_text(year)}."
            for year in range(first, last + 1)]


def methodology_lines(report: IndicatorReport) -> list[str]:
    return [
        "Как считаются показатели",
        "X = A × 100 / B, округление до десятых (половина — вверх); при B = 0 — «нет данных».",
        "Участие — это отметка на входе (QR-код), а не запись. Человек считается один раз, "
        "сколько бы мероприятий он ни посетил. Отменённые, ошибочные и повторные сканирования "
        "не считаются; обезличенные участники остаются в подсчёте.",
        "Отметка относится к периоду по дате начала мероприятия (время Томска).",
        "1–3: A — обучающиеся организации (с ОВЗ для 3; на мероприятиях ранней профориентации "
        "для 2), отмеченные на входе; B — базовые показатели организации за учебный год.",
        "4–5: для организации — 1 из 1, если отмечен хотя бы один её обучающийся "
        "(на раннем мероприятии для 5); для города — число таких организаций из всех.",
        "6–7: A — педагоги, отмеченные на входе (участники, сопровождающие), и педагоги, "
        "проводившие уже начавшиеся опубликованные мероприятия периода; B — число педагогов.",
        "8–9: B — план (школы или города), если задан и отчёт за целый учебный год без отбора; "
        "иначе опубликованные мероприятия периода для обучающихся (для ДОО — для дошкольников), "
        "включая отменённые, открытые организации. A — из них не отменённые, где отмечен хотя "
        "бы один обучающийся организации.",
        *early_rule_lines(report.period),
        "Отбор по категории, организатору или разделу дорожной карты сужает мероприятия; "
        "базовые показатели не меняются.",
        ("Учтены только отметки, подтверждённые на входе: сканирование QR-кода (и офлайн), "
         "список группы на входе, пришедшие без записи." if report.filters.verified_only else
         "Учтены все отметки: подтверждённые на входе (сканирование, офлайн, список группы, "
         "пришедшие без записи) и заявленные школой или организатором (списки класса, "
         "загруженные списки присутствовавших)."),
        "Родители (последний столбец, не входит в девять показателей): отмеченные на входе "
        "родители; каждый считается за школу (детский сад), которую указал как школу ребёнка. "
        "Кто не указал, учтён только в итоге города.",
    ]


def _csv_percent(figure: Figure) -> str:
    percent = figure.percent
    return NO_DATA if percent is None else f"{percent}".replace(".", ",")


def indicators_csv(report: IndicatorReport) -> bytes:
    header = ["Организация", "Тип"]
    for index, key in enumerate(INDICATOR_KEYS):
        prefix = f"{index + 1}. {INDICATOR_TITLES[key]}"
        header += [f"{prefix}: A", f"{prefix}: B", f"{prefix}: X, %"]
    header.append(PARENTS_HEADER)
    rows = []
    for name, kind, figures, _total, parents in table_rows(report):
        row = [name, kind]
        for key in INDICATOR_KEYS:
            figure = figures[key]
            row += [figure.a, figure.b, _csv_percent(figure)]
        rows.append(row + [parents])
    return csv_bytes(header, rows)
