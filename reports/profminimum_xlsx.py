"""«Профминимум» spreadsheets: the school's (a sheet of totals, then a sheet per class, ready to
attach to the school's report) and the city's (schools, grades, ОВЗ apart)."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from formats.spreadsheets import append_row
from formats.timefmt import format_date, format_hours
from models.academic_year import academic_year_title
from models.profminimum import PROFMINIMUM_GRADES
from reports.profminimum import (
    STATUS_TITLES,
    CityLedger,
    Counts,
    EventLine,
    SchoolLedger,
    pace_bounds,
)

_BOLD = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_BEHIND_FILL = PatternFill("solid", fgColor="FCE4D6")
_PERCENT = "0.0%"


def _rule_lines(year: int) -> list[str]:
    first, last = pace_bounds(year)
    return [
        "Часы обучающегося — сумма академических часов мероприятий учебного года для "
        "обучающихся, на которых он отмечен (каждое мероприятие один раз; отметки на входе, "
        "по списку группы и класса, загруженные списки; отменённые отметки и отозванные "
        "списки не считаются).",
        "Академический час — 45 минут длительности мероприятия, округление до целого часа "
        "(половина — вверх), если организатор не указал часы сам.",
        f"«Выполнено» — часов не меньше цели; «в графике» — не меньше цели × доли учебного "
        f"года, прошедшей с {format_date(first)} (до {format_date(last)} равномерно по дням); "
        f"иначе «отстаёт».",
    ]


def _title(sheet, lines: list[str]) -> None:
    for index, line in enumerate(lines):
        cells = append_row(sheet, [line])
        cells[0].font = Font(bold=index == 0, size=13 if index == 0 else 11)


def _header(sheet, titles: list[str]) -> int:
    cells = append_row(sheet, titles)
    for cell in cells:
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    return cells[0].row


def _widths(sheet, widths: list[int]) -> None:
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


def _share(counts: Counts, status: str) -> float | None:
    return None if not counts.students else getattr(counts, status) / counts.students


def _save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet_name(text: str, taken: set[str]) -> str:
    name = "".join(c for c in text if c not in "[]:*?/\\")[:31] or "Класс"
    base, n = name, 2
    while name in taken:
        name = f"{base[:28]} {n}"
        n += 1
    taken.add(name)
    return name


def school_xlsx(ledger: SchoolLedger, events: dict[int, list[EventLine]]) -> bytes:
    workbook = Workbook()
    summary = workbook.active
    summary.title = "Итоги"
    org = ledger.organization
    year_title = academic_year_title(ledger.year)
    _title(summary, [f"Профминимум: {org.name}", f"{year_title} учебный год, на "
                     f"{format_date(ledger.as_of)}; доля года: "
                     f"{float(ledger.share) * 100:.1f} %".replace(".", ","), *_rule_lines(
                         ledger.year)])
    append_row(summary, [])
    header_row = _header(summary, ["Класс", "Уровень, ч в год", "Нужно к дате, ч",
                                   "Обучающихся", "Выполнено", "В графике", "Отстаёт",
                                   "Выполнено, %", "В графике, %"])
    for klass in ledger.classes:
        cells = append_row(summary, [
            klass.class_name, klass.target, float(ledger.due(klass.target)),
            klass.counts.students, klass.counts.done, klass.counts.on_pace,
            klass.counts.behind, _share(klass.counts, "done"), _share(klass.counts, "on_pace")])
        cells[7].number_format = cells[8].number_format = _PERCENT
    total = append_row(summary, ["Всего", None, None, ledger.counts.students, ledger.counts.done,
                                 ledger.counts.on_pace, ledger.counts.behind,
                                 _share(ledger.counts, "done"),
                                 _share(ledger.counts, "on_pace")])
    for cell in total:
        cell.font = _BOLD
    total[7].number_format = total[8].number_format = _PERCENT
    summary.freeze_panes = summary.cell(header_row + 1, 2)
    _widths(summary, [12, 14, 14, 13, 12, 12, 12, 13, 13])

    taken = {"Итоги"}
    for klass in ledger.classes:
        sheet = workbook.create_sheet(_sheet_name(klass.class_name, taken))
        _title(sheet, [f"Профминимум: {klass.class_name}, {org.name}",
                       f"{year_title} учебный год, на {format_date(ledger.as_of)}; уровень — "
                       f"{klass.target} ч в год, к этой дате — "
                       f"{format_hours(ledger.due(klass.target))} ч"])
        append_row(sheet, [])
        row = _header(sheet, ["№", "Обучающийся", "Часов", "Цель, ч", "Статус",
                              "Мероприятий", "Мероприятия (дата, часы)"])
        for number, student in enumerate(klass.students, start=1):
            attended = events.get(student.id, [])
            cells = append_row(sheet, [
                number, student.name, float(student.hours), student.target,
                STATUS_TITLES[student.status], student.events,
                "; ".join(f"{format_date(e.starts_at)} {e.title} ({format_hours(e.hours)} ч)"
                          for e in attended)])
            cells[6].alignment = Alignment(wrap_text=True, vertical="top")
            if student.status == "behind":
                cells[4].fill = _BEHIND_FILL
        sheet.freeze_panes = sheet.cell(row + 1, 3)
        sheet.auto_filter.ref = f"A{row}:G{row + len(klass.students)}"
        sheet.page_setup.orientation = "landscape"
        sheet.print_title_rows = f"{row}:{row}"
        _widths(sheet, [5, 36, 9, 9, 12, 12, 80])
    return _save(workbook)


def city_xlsx(ledger: CityLedger) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Школы"
    year_title = academic_year_title(ledger.year)
    _title(sheet, ["Профминимум: школы города", f"{year_title} учебный год, на "
                   f"{format_date(ledger.as_of)}", *_rule_lines(ledger.year)])
    append_row(sheet, [])
    row = _header(sheet, ["Школа", "Обучающихся 6–11", "Выполнено", "В графике", "Отстаёт",
                          "Выполнено, %", "В графике, %", "С ОВЗ", "С ОВЗ: выполнено",
                          "С ОВЗ: в графике", "Ниже города"])

    def line(name, counts, ovz, behind_city):
        cells = append_row(sheet, [
            name, counts.students, counts.done, counts.on_pace, counts.behind,
            _share(counts, "done"), _share(counts, "on_pace"), ovz.students, ovz.done,
            ovz.on_pace, "да" if behind_city else ""])
        cells[5].number_format = cells[6].number_format = _PERCENT
        if behind_city:
            cells[0].fill = _BEHIND_FILL
        return cells

    for cell in line("Город", ledger.city, ledger.ovz, False):
        cell.font = _BOLD
    for school in ledger.schools:
        line(school.organization.name, school.counts, school.ovz, ledger.is_behind(school))
    sheet.freeze_panes = sheet.cell(row + 1, 2)
    sheet.auto_filter.ref = f"A{row}:K{row + 1 + len(ledger.schools)}"
    _widths(sheet, [40, 14, 12, 12, 12, 13, 13, 10, 14, 14, 11])

    grades = workbook.create_sheet("По параллелям")
    _title(grades, ["Профминимум по параллелям", f"{year_title} учебный год, на "
                    f"{format_date(ledger.as_of)}: доля выполнивших и доля в графике"])
    append_row(grades, [])
    titles = ["Школа"]
    for grade in PROFMINIMUM_GRADES:
        titles += [f"{grade}: обучающихся", f"{grade}: выполнено, %", f"{grade}: в графике, %"]
    row = _header(grades, titles)

    def grade_line(name, by_grade):
        values = [name]
        for grade in PROFMINIMUM_GRADES:
            counts = by_grade[grade]
            values += [counts.students, _share(counts, "done"), _share(counts, "on_pace")]
        cells = append_row(grades, values)
        for index in range(len(PROFMINIMUM_GRADES)):
            cells[2 + 3 * index].number_format = cells[3 + 3 * index].number_format = _PERCENT
        return cells

    for cell in grade_line("Город", ledger.by_grade):
        cell.font = _BOLD
    for school in ledger.schools:
        grade_line(school.organization.name, school.by_grade)
    grades.freeze_panes = grades.cell(row + 1, 2)
    _widths(grades, [40] + [12] * (3 * len(PROFMINIMUM_GRADES)))
    return _save(workbook)


