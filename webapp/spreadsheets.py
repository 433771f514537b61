"""Reading and writing the spreadsheets people send us: XLSX, and CSV in UTF-8 or Windows-1251.

Imports are all or nothing: :func:`read_table` returns every row with its row number as the
person sees it in Excel, and callers collect every problem before writing anything
(:class:`ImportProblems`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils.exceptions import InvalidFileException

from models.errors import ServiceError
from webapp.input_guard import has_control_chars

MAX_ROWS = 20000


@dataclass(frozen=True)
class Column:
    key: str
    header: str  #: the Russian column title in the template
    required: bool = True  #: the column must be present (a value may still be empty)


@dataclass
class Row:
    number: int  #: 1-based, as Excel shows it
    values: dict[str, str | None]

    def get(self, key: str) -> str | None:
        return self.values.get(key)


class ImportProblems(ServiceError):
    """Everything wrong with a file: ``problems`` is a list of ``(row_number|None, message)``."""

    def __init__(self, problems: list[tuple[int | None, str]]):
        self.problems = problems
        lines = [f"Строка {n}: {m}" if n else m for n, m in problems[:50]]
        if len(problems) > 50:
            lines.append(f"…и ещё ошибок: {len(problems) - 50}")
        super().__init__("import_failed", "Файл не загружен, ничего не изменено. "
                         + " ".join(lines), status=422)
        self.lines = lines


@dataclass
class ProblemCollector:
    problems: list[tuple[int | None, str]] = field(default_factory=list)

    def add(self, row: int | None, message: str) -> None:
        self.problems.append((row, message))

    def raise_if_any(self) -> None:
        if self.problems:
            raise ImportProblems(self.problems)


def _normalize_header(value) -> str:
    return " ".join(str(value or "").replace("ё", "е").replace("Ё", "Е").split()).lower()


def _cell_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _control_char_columns(values: dict[str, str | None], columns: list[Column]) -> list[str]:
    """Headers of the cells holding control characters (a line break in a cell is allowed)."""
    return [c.header for c in columns
            if values.get(c.key) and has_control_chars(values[c.key], allow_line_breaks=True)]


def _decode_csv(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1251"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportProblems([(None, "Не удалось прочитать файл: сохраните CSV в кодировке UTF-8 "
                                 "или Windows-1251.")])


def _csv_rows(data: bytes) -> list[list]:
    text = _decode_csv(data)
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=";,\t")
    except csv.Error:
        dialect = csv.excel
        dialect.delimiter = ";" if sample.count(";") >= sample.count(",") else ","
    try:
        return list(csv.reader(io.StringIO(text), dialect))
    except csv.Error as exc:  # a field beyond csv.field_size_limit(), a NUL byte
        raise ImportProblems([(None, "Не удалось прочитать CSV: слишком длинное значение в "
                                     "ячейке или недопустимые символы. Проверьте файл.")]) from exc


def _xlsx_rows(data: bytes) -> list[list]:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, KeyError, ValueError, OSError, Exception) as exc:  # noqa: BLE001
        raise ImportProblems([(None, "Файл повреждён или это не таблица XLSX. "
                                     "Сохраните его в Excel как «Книга Excel (*.xlsx)».")]) from exc
    sheet = workbook.worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    workbook.close()
    return rows


def read_table(filename: str, data: bytes, columns: list[Column]) -> list[Row]:
    """Parse an uploaded file into rows keyed by column ``key``.

    Raises :class:`ImportProblems` for an unknown format, a broken file, missing or unknown
    columns, or an empty table.
    """
    name = (filename or "").lower()
    if not data:
        raise ImportProblems([(None, "Файл пустой.")])
    if name.endswith(".xlsx"):
        raw = _xlsx_rows(data)
    elif name.endswith(".csv") or name.endswith(".txt"):
        raw = _csv_rows(data)
    else:
        raise ImportProblems([(None, "Поддерживаются файлы XLSX и CSV.")])

    # The header is the first row with anything in it.
    header_index = next((i for i, r in enumerate(raw) if any(_cell_text(c) for c in r)), None)
    if header_index is None:
        raise ImportProblems([(None, "В файле нет ни заголовка, ни данных.")])
    by_header = {_normalize_header(c.header): c for c in columns}
    positions: dict[str, int] = {}
    problems = ProblemCollector()
    for position, title in enumerate(raw[header_index]):
        text = _cell_text(title)
        if text is None:
            continue
        column = by_header.get(_normalize_header(text))
        if column is None:
            problems.add(header_index + 1, f"неизвестный столбец «{text}». Ожидаются: "
                         + ", ".join(f"«{c.header}»" for c in columns) + ".")
        elif column.key in positions:
            problems.add(header_index + 1, f"столбец «{column.header}» повторяется.")
        else:
            positions[column.key] = position
    for column in columns:
        if column.required and column.key not in positions:
            problems.add(header_index + 1, f"нет столбца «{column.header}». "
                         "Скачайте шаблон и заполните его.")
    problems.raise_if_any()

    rows = []
    for index in range(header_index + 1, len(raw)):
        cells = raw[index]
        values = {key: _cell_text(cells[pos]) if pos < len(cells) else None
                  for key, pos in positions.items()}
        if not any(values.values()):
            continue
        for header in _control_char_columns(values, columns):
            problems.add(index + 1, f"в столбце «{header}» недопустимые управляющие символы.")
        rows.append(Row(number=index + 1, values=values))
    problems.raise_if_any()
    if not rows:
        raise ImportProblems([(None, "В файле нет ни одной строки с данными.")])
    if len(rows) > MAX_ROWS:
        raise ImportProblems([(None, f"Слишком много строк: не больше {MAX_ROWS} за раз.")])
    return rows


def xlsx_template(columns: list[Column], examples: list[list] | None = None,
                  sheet_title: str = "Шаблон") -> bytes:
    """A template workbook: bold header, frozen header row, sensible widths."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_title
    sheet.append([c.header for c in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for row in examples or []:
        sheet.append(row)
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = max(
            14, len(column.header) + 4)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(header: list[str], rows: list[list]) -> bytes:
    """CSV for a Russian Excel: UTF-8 with BOM (so Excel detects the encoding), ';' separator."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
