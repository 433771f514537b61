"""Reading and writing the spreadsheets people send us: XLSX, and CSV in UTF-8 or Windows-1251.

Imports are all or nothing: :func:`read_table` returns every row with its row number as the
person sees it in Excel, and callers collect every problem before writing anything
(:class:`ImportProblems`). Reading is bounded (see the ``MAX_*`` limits below): the file is
streamed, the size an XLSX declares is never trusted, and a file past a limit is refused as soon
as the limit is passed.

Exports write every cell through :func:`append_row` / :func:`write_cell` (XLSX) or
:func:`csv_bytes` (CSV), which neutralise text that a spreadsheet would run as a formula and
drop characters XML cannot hold (:func:`set_cell`, :func:`csv_value`).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import time
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Font, PatternFill

from errors import ServiceError
from formats.input_checks import has_control_chars
from formats.text import fold

MAX_ROWS = 20000  #: data rows in one import
MAX_SHEET_ROWS = MAX_ROWS + 100  #: rows read at all, blank ones included (header, gaps)
MAX_COLUMNS = 50  #: columns read; anything to the right is never looked at
MAX_FILE_BYTES = 10 * 1024 * 1024  #: the upload itself (as ``MAX_CONTENT_LENGTH``)
MAX_XLSX_UNPACKED_BYTES = 50 * 1024 * 1024  #: all parts of an XLSX together, unpacked
MAX_XLSX_PARTS = 500  #: files inside an XLSX (Excel writes about a dozen)
MAX_CSV_LINE_CHARS = 10000  #: one physical line of a CSV
MAX_READ_SECONDS = 20.0  #: wall-clock budget for reading one file, the last resort


@dataclass(frozen=True)
class Column:
    key: str
    header: str  #: the Russian column title in the template
    required: bool = True  #: the column must be present (a value may still be empty)


@dataclass
class Row:
    number: int  #: 1-based, as Excel shows it
    values: dict[str, str | None]
    #: Keys of cells already reported as unreadable (control characters): checking them again
    #: would give one cell two messages.
    refused: frozenset[str] = frozenset()

    def get(self, key: str) -> str | None:
        return self.values.get(key)


@dataclass(frozen=True)
class CellProblem:
    """One thing wrong: its row (None: the file as a whole), its column (None: the whole row)."""
    row: int | str | None
    column: str | None
    message: str

    @property
    def text(self) -> str:
        """The message with its column: «Класс»: не понятен класс «седьмой»…"""
        return f"«{self.column}»: {self.message}" if self.column else self.message

    @property
    def line(self) -> str:
        return f"Строка {self.row}: {self.text}" if self.row else self.text


#: Problems listed on a page; the rest are counted (a file of 20,000 wrong rows stays readable).
MAX_PROBLEMS_SHOWN = 200


class ImportProblems(ServiceError):
    """Everything wrong with a file, found in one pass: ``cells`` (:class:`CellProblem`, one per
    cell), ``problems`` the same as ``(row_number|None, message with its column)``."""

    def __init__(self, problems: list[tuple[int | None, str]] | list[CellProblem]):
        self.cells = [p if isinstance(p, CellProblem) else CellProblem(p[0], None, p[1])
                      for p in problems]
        self.problems = [(p.row, p.text) for p in self.cells]
        lines = [p.line for p in self.cells[:MAX_PROBLEMS_SHOWN]]
        if len(self.cells) > MAX_PROBLEMS_SHOWN:
            lines.append(f"…и ещё ошибок: {len(self.cells) - MAX_PROBLEMS_SHOWN}")
        super().__init__("import_failed", "Файл не загружен, ничего не изменено. "
                         + " ".join(lines[:50]), status=422)
        self.lines = lines
        self.shown = self.cells[:MAX_PROBLEMS_SHOWN]
        self.not_shown = len(self.cells) - len(self.shown)


@dataclass
class ProblemCollector:
    """Problems of an import, gathered before anything is written; one per cell."""
    cells: list[CellProblem] = field(default_factory=list)

    def add(self, row: int | str | None, message: str, column: str | None = None) -> None:
        self.cells.append(CellProblem(row, column, message))

    @property
    def problems(self) -> list[tuple[int | str | None, str]]:
        return [(p.row, p.text) for p in self.cells]

    def __bool__(self) -> bool:
        return bool(self.cells)

    def raise_if_any(self) -> None:
        if self.cells:
            raise ImportProblems(self.cells)


def _normalize_header(value) -> str:
    return fold(value)


def _cell_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _too_many_rows() -> ImportProblems:
    return ImportProblems([(None, f"В файле больше {MAX_ROWS} строк. Загружайте не больше "
                                  f"{MAX_ROWS} строк за раз: разделите список на части.")])


def _control_char_columns(values: dict[str, str | None], columns: list[Column]) -> list[Column]:
    """Columns of the cells holding control characters (a line break in a cell is allowed)."""
    return [c for c in columns
            if values.get(c.key) and has_control_chars(values[c.key], allow_line_breaks=True)]


def _bounded(rows: Iterable, started: float) -> Iterator[list]:
    """Rows with the row cap and the time budget applied while they are read."""
    for count, row in enumerate(rows, start=1):
        if count > MAX_SHEET_ROWS:
            raise _too_many_rows()
        if count % 500 == 0 and time.monotonic() - started > MAX_READ_SECONDS:
            raise ImportProblems([(None, "Файл читается слишком долго. Проверьте, что в нём "
                                         "только список, и загрузите его частями.")])
        yield list(row[:MAX_COLUMNS])


CSV_ENCODING_PROBLEM = ("Не удалось прочитать файл: сохраните CSV в кодировке UTF-8 "
                        "или Windows-1251.")


def _csv_encoding(data: bytes) -> str:
    """UTF-8 when the whole file is valid UTF-8 (checked in chunks, nothing kept), else cp1251."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for start in range(0, len(data), 1 << 16):
            decoder.decode(data[start:start + (1 << 16)])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "cp1251"
    return "utf-8-sig"


def _csv_lines(data: bytes, encoding: str) -> Iterator[str]:
    """The file's lines decoded as they are read; a line past the cap is refused unread."""
    stream = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    try:
        while line := stream.readline(MAX_CSV_LINE_CHARS + 1):
            if len(line) > MAX_CSV_LINE_CHARS:
                raise ImportProblems([(None, f"В файле есть строка длиннее {MAX_CSV_LINE_CHARS} "
                                             "символов. Это не похоже на список: проверьте файл.")])
            yield line
    except UnicodeDecodeError as exc:
        raise ImportProblems([(None, CSV_ENCODING_PROBLEM)]) from exc


def _csv_dialect(data: bytes, encoding: str) -> type[csv.Dialect]:
    sample = data[:16384].decode(encoding, errors="ignore")[:4096]
    try:
        return csv.Sniffer().sniff(sample, delimiters=";,\t")
    except csv.Error:
        class Guessed(csv.excel):  # a subclass: csv.excel itself is shared by the process
            delimiter = ";" if sample.count(";") >= sample.count(",") else ","
        return Guessed


def _csv_rows(data: bytes, started: float) -> Iterator[list]:
    encoding = _csv_encoding(data)
    try:
        yield from _bounded(csv.reader(_csv_lines(data, encoding),
                                       _csv_dialect(data, encoding)), started)
    except csv.Error as exc:  # a field past csv.field_size_limit(), a stray NUL...
        raise ImportProblems([(None, "Файл CSV повреждён: его не удалось разобрать на строки "
                                     "и столбцы. Сохраните его из Excel заново.")]) from exc


BROKEN_XLSX = ("Файл повреждён или это не таблица XLSX. "
               "Сохраните его в Excel как «Книга Excel (*.xlsx)».")


def _check_xlsx_archive(data: bytes) -> None:
    """Refuse a zip bomb before openpyxl opens anything.

    ``zipfile`` never unpacks more than a member's declared ``file_size`` (and fails on a
    mismatch), so the declared sizes bound what reading the workbook can unpack.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ImportProblems([(None, BROKEN_XLSX)]) from exc
    if len(parts) > MAX_XLSX_PARTS or \
            sum(part.file_size for part in parts) > MAX_XLSX_UNPACKED_BYTES:
        raise ImportProblems([(None, "Файл XLSX слишком большой в распакованном виде "
                                     f"(больше {MAX_XLSX_UNPACKED_BYTES // 2**20} МБ). "
                                     "Оставьте в нём только список и загрузите частями.")])


def _xlsx_rows(data: bytes, started: float) -> Iterator[list]:
    _check_xlsx_archive(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises anything on a broken file
        raise ImportProblems([(None, BROKEN_XLSX)]) from exc
    try:
        sheet = workbook.worksheets[0]
        if not hasattr(sheet, "reset_dimensions"):  # a chartsheet comes first
            raise ImportProblems([(None, BROKEN_XLSX)])
        sheet.reset_dimensions()  # the declared <dimension> is whatever the file says
        rows = sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True)
        yield from _bounded(rows, started)
    except ImportProblems:
        raise
    except Exception as exc:  # noqa: BLE001 - broken sheet XML surfaces while rows are read
        raise ImportProblems([(None, BROKEN_XLSX)]) from exc
    finally:
        workbook.close()


def read_table(filename: str, data: bytes, columns: list[Column],
               problems: ProblemCollector | None = None) -> list[Row]:
    """Parse an uploaded file into rows keyed by column ``key``.

    Raises :class:`ImportProblems` for an unknown format, a broken file, missing or unknown
    columns, or an empty table. Cells that cannot be taken (control characters) are added to
    ``problems`` when given — the caller checks everything else too and raises once, with
    every problem of the file (such a cell is in ``Row.refused``) — else raised here.
    """
    with closing(_raw_rows(filename, data)) as source:
        return _table_rows(enumerate(source), columns, problems)


def _table_rows(raw: Iterator[tuple[int, list]], columns: list[Column],
                collector: ProblemCollector | None = None) -> list[Row]:
    # The header is the first row with anything in it.
    header_index, header = next(((i, r) for i, r in raw if any(_cell_text(c) for c in r)),
                                (None, None))
    if header is None:
        raise ImportProblems([(None, "В файле нет ни заголовка, ни данных.")])
    positions = _header_positions(header_index, header, columns)

    rows = []
    problems = collector if collector is not None else ProblemCollector()
    for index, cells in raw:
        values = {key: _cell_text(cells[pos]) if pos < len(cells) else None
                  for key, pos in positions.items()}
        if not any(values.values()):
            continue
        if len(rows) == MAX_ROWS:
            raise _too_many_rows()
        refused = _control_char_columns(values, columns)
        for column in refused:
            problems.add(index + 1, "недопустимые управляющие символы.", column=column.header)
        rows.append(Row(number=index + 1, values=values,
                        refused=frozenset(c.key for c in refused)))
    if collector is None:
        problems.raise_if_any()
    if not rows:
        raise ImportProblems([(None, "В файле нет ни одной строки с данными.")])
    return rows


def _raw_rows(filename: str, data: bytes) -> Iterator[list]:
    """The file's rows as lists of cell values, read lazily within the limits."""
    name = (filename or "").lower()
    if not data:
        raise ImportProblems([(None, "Файл пустой.")])
    if len(data) > MAX_FILE_BYTES:
        raise ImportProblems([(None, f"Файл больше {MAX_FILE_BYTES // 2**20} МБ. "
                                     "Загрузите список частями.")])
    started = time.monotonic()
    if name.endswith(".xlsx"):
        return _xlsx_rows(data, started)
    if name.endswith(".csv") or name.endswith(".txt"):
        return _csv_rows(data, started)
    raise ImportProblems([(None, "Поддерживаются файлы XLSX и CSV.")])


def _header_positions(header_index: int, header: list, columns: list[Column]) -> dict[str, int]:
    by_header = {_normalize_header(c.header): c for c in columns}
    positions: dict[str, int] = {}
    problems = ProblemCollector()
    for position, title in enumerate(header):
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
    return positions


# ---------------------------------------------------------------------------------------------
# Exports: every cell goes through set_cell (XLSX) or csv_value (CSV)

#: A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets
#: (OWASP «CSV Injection»); NUL and the other control characters are stripped anyway.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER_TEXT = re.compile(r"[+-]?\d+(?:[.,]\d+)?")


def clean_text(text: str) -> str:
    """Drop the control characters XML 1.0 cannot hold (openpyxl refuses them)."""
    return ILLEGAL_CHARACTERS_RE.sub("", text)


def is_formula_like(text: str) -> bool:
    """Text a spreadsheet would evaluate; a plain signed number ("-5", "+7,5") is not."""
    return text.startswith(FORMULA_TRIGGERS) and not _NUMBER_TEXT.fullmatch(text)


def set_cell(cell: Cell, value) -> Cell:
    """Put ``value`` into an XLSX cell as data, never as a formula.

    Text is stored as a string (openpyxl would make "=..." a formula and "#N/A" an error) and,
    when it starts like a formula, carries Excel's quote prefix — what Excel itself stores for
    a value typed with a leading apostrophe — so editing the cell keeps it text. The value is
    unchanged apart from stripped control characters. Numbers, dates and None go in as they are.
    """
    if isinstance(value, str):
        value = clean_text(value)
        cell.value = value
        cell.data_type = "s"
        if is_formula_like(value):
            cell.quotePrefix = True
    else:
        cell.value = value
    return cell


def write_cell(sheet, row: int, column: int, value) -> Cell:
    """``sheet.cell(row, column, value)`` through :func:`set_cell`."""
    return set_cell(sheet.cell(row, column), value)


def append_row(sheet, values: Iterable) -> list[Cell]:
    """``sheet.append(values)`` through :func:`set_cell`, for normal and write-only sheets.

    A value that already is a cell (a styled ``WriteOnlyCell`` made by :func:`styled_cell`)
    goes in as it is.
    """
    cells = [v if isinstance(v, Cell) else set_cell(WriteOnlyCell(sheet), v) for v in values]
    sheet.append(cells)
    return cells


def styled_cell(sheet, value, **style) -> Cell:
    """A cell for :func:`append_row` with ``font=...``, ``fill=...`` and so on set."""
    cell = set_cell(WriteOnlyCell(sheet), value)
    for name, setting in style.items():
        setattr(cell, name, setting)
    return cell


def csv_value(value):
    """A CSV field as data: control characters stripped, formula-like text prefixed with '.

    CSV has no types, so OWASP's single-quote prefix is the only way to keep a spreadsheet from
    evaluating the field (Excel shows the quote). Numbers are left as they are.
    """
    if isinstance(value, str):
        value = clean_text(value)
        if is_formula_like(value):
            return "'" + value
    return value


def xlsx_template(columns: list[Column], examples: list[list] | None = None,
                  sheet_title: str = "Шаблон") -> bytes:
    """A template workbook: bold header, frozen header row, sensible widths."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_title
    for cell in append_row(sheet, [c.header for c in columns]):
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for row in examples or []:
        append_row(sheet, row)
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
    writer.writerow([csv_value(v) for v in header])
    writer.writerows([csv_value(v) for v in row] for row in rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
