"""The year-end forecast as spreadsheets: one row per organization and indicator (the city
first, then each school), with the current value, the forecast and its range, the target and
the status — a long table that filters and pivots in Excel. XLSX with the percentages stored as
fractions in the ``0.0%`` format; CSV for a Russian Excel (``formats.spreadsheets.csv_bytes``)."""

from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font

from formats.spreadsheets import append_row, csv_bytes
from formats.timefmt import format_datetime
from models.academic_year import academic_year_title
from reports.forecast import Forecast, IndicatorForecast, OrgForecast
from reports.indicators import INDICATOR_TITLES

HEADER = ["Организация", "Показатель", "A сейчас", "B", "Сейчас, %", "Прогноз на конец года, %",
          "Нижняя граница, %", "Верхняя граница, %", "Цель, %", "Статус",
          "Нужно ещё (людей или мероприятий)", "Доля явки, %", "Своя доля явки"]
CITY_LABEL = "Город Томск — общеобразовательные организации (итого)"
NO_DATA = "нет данных"


def _blocks(forecast: Forecast, organization_id: int | None) -> list[tuple[str, OrgForecast]]:
    if organization_id is not None:
        school = forecast.school(organization_id)
        return [(school.name, school)] if school is not None else []
    return [(CITY_LABEL, forecast.city), *((s.name, s) for s in forecast.schools)]


def _rows(forecast: Forecast, organization_id: int | None, as_number: bool) -> list[list]:
    def pct(value: Decimal | None):
        if value is None:
            return NO_DATA
        return float(value) / 100 if as_number else f"{value}".replace(".", ",")

    rows = []
    for name, block in _blocks(forecast, organization_id):
        for index, (key, f) in enumerate(block.indicators.items(), start=1):
            rows.append([name, f"{index}. {INDICATOR_TITLES[key]}", f.current.a, f.current.b,
                         pct(f.current.percent), pct(f.forecast), pct(f.low), pct(f.high),
                         pct(f.target) if f.target is not None else "",
                         f.status_title or "цели нет", _needed(f),
                         pct(Decimal(str(round(block.show_rate * 100, 1)))),
                         "да" if block.own_show_rate else "нет (городская)"])
    return rows


def _needed(f: IndicatorForecast) -> int | str:
    return f.people_needed() if f.target is not None and f.status != "reached" else ""


def forecast_xlsx(forecast: Forecast, organization_id: int | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Прогноз"
    append_row(sheet, [f"Цели и прогноз на конец {academic_year_title(forecast.year)} "
                       f"учебного года"])
    sheet["A1"].font = Font(bold=True, size=13)
    append_row(sheet, [f"Прогноз на {format_datetime(forecast.as_of)}"
                       + (" — год закончился, прогноз равен итогу" if forecast.finished
                          else "")])
    append_row(sheet, HEADER)
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    for row in _rows(forecast, organization_id, as_number=True):
        cells = append_row(sheet, row)
        for cell in cells[4:9] + cells[11:12]:
            if isinstance(cell.value, float):
                cell.number_format = "0.0%"
    sheet.freeze_panes = "C4"
    sheet.auto_filter.ref = f"A3:M{sheet.max_row}"
    for column, width in zip("ABCDEFGHIJKLM", (40, 48, 10, 10, 11, 14, 12, 12, 10, 18, 14, 11, 14),
                             strict=True):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def forecast_csv(forecast: Forecast, organization_id: int | None = None) -> bytes:
    return csv_bytes(HEADER, _rows(forecast, organization_id, as_number=False))
