"""Imports are bounded: crafted or huge files are refused early, in little time and memory.

The files are built here, compactly: an XLSX whose sheet declares the largest dimension Excel
allows and holds a cell at its far corner, and files with two million rows (a CSV of short
lines, an XLSX whose repetitive sheet XML packs into a few hundred kilobytes). Each goes
through the real upload page; a refused file changes nothing.
"""

import io
import time
import tracemalloc
import zipfile

import pytest
from openpyxl import Workbook

from formats import spreadsheets
from formats.spreadsheets import Column, ImportProblems, read_table
from models import AuditLog, Role, Student, db
from webapp.services import directory

HEADER = ["Фамилия", "Имя", "Отчество", "Класс", "ОВЗ", "Идентификатор"]
TWO_MILLION = 2_000_000
MEMORY_BOUND = 100 * 2**20
TIME_BOUND = 2.0


def _template_xlsx() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(["Иванов", "Пётр", "", "7А", "", ""])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _with_sheet(xml_of) -> bytes:
    """A copy of a real workbook whose first sheet's XML is replaced by ``xml_of(old_xml)``."""
    source = zipfile.ZipFile(io.BytesIO(_template_xlsx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = xml_of(data)
            target.writestr(item.filename, data)
    return out.getvalue()


def _declared_dimension(xml: bytes) -> bytes:
    head, _, rest = xml.partition(b"<dimension ref=")
    return head + b'<dimension ref="A1:XFD1048576"/>' + rest.split(b"/>", 1)[1]


def crafted_dimension_xlsx(far_cell: bool) -> bytes:
    """The sheet claims A1:XFD1048576; with ``far_cell`` a cell really sits at XFD1048576."""
    def craft(xml: bytes) -> bytes:
        xml = _declared_dimension(xml)
        if far_cell:
            xml = xml.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576" '
                              b't="inlineStr"><is><t>x</t></is></c></row></sheetData>')
        return xml
    return _with_sheet(craft)


def many_rows_xlsx(rows: int) -> bytes:
    """A sheet of ``rows`` one-cell rows without row numbers: tiny packed, big unpacked."""
    def craft(xml: bytes) -> bytes:
        head, _, rest = xml.partition(b"</sheetData>")
        return head + b'<row><c t="n"><v>1</v></c></row>' * rows + b"</sheetData>" + rest
    return _with_sheet(craft)


def many_rows_csv(rows: int) -> bytes:
    return (";".join(HEADER) + "\n").encode() + b"a;b\n" * rows


@pytest.fixture
def school(factory):
    return factory.create_org()


@pytest.fixture
def coordinator(factory, school):
    user = factory.create_user(Role.COORDINATOR, organization=school)
    db.session.commit()
    return user


def _post_file(client, url, filename, data, **fields):
    response = client.post_form(url, {**fields, "file": (io.BytesIO(data), filename)},
                                content_type="multipart/form-data")
    # The test client spools a big body to a temporary file and leaves it open.
    response.request.environ["wsgi.input"].close()
    return response


def _upload(client, filename, data):
    return _post_file(client, "/school/students/import", filename, data)


def _measured_upload(client, filename, data):
    """Post twice: once timed (tracemalloc slows Python down), once with memory traced.

    The time is this process's CPU time: the request runs in this thread, and the machine's
    other work (tests share two cores with other jobs) must not make the bound flaky.
    """
    started = time.process_time()
    timed = _upload(client, filename, data)
    elapsed = time.process_time() - started
    tracemalloc.start()
    try:
        traced = _upload(client, filename, data)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert timed.get_data(as_text=True) == traced.get_data(as_text=True)
    return traced, elapsed, peak


def _assert_refused_and_nothing_changed(response, school, words):
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Файл не загружен, ничего не изменено" in page
    assert words in page, page
    assert Student.query.filter_by(organization_id=school.id).count() == 0
    assert AuditLog.query.filter_by(action="roster.import_students").count() == 0


@pytest.mark.parametrize("filename, make, words", [
    ("dimension.xlsx", lambda: crafted_dimension_xlsx(far_cell=True),
     f"В файле больше {spreadsheets.MAX_ROWS} строк"),
    ("two-million.csv", lambda: many_rows_csv(TWO_MILLION),
     f"В файле больше {spreadsheets.MAX_ROWS} строк"),
    ("two-million.xlsx", lambda: many_rows_xlsx(TWO_MILLION),
     "слишком большой в распакованном виде"),
    ("1.5-million.xlsx", lambda: many_rows_xlsx(1_500_000),
     f"В файле больше {spreadsheets.MAX_ROWS} строк"),
], ids=["crafted-dimension-xlsx", "2M-rows-csv", "2M-rows-xlsx", "1.5M-rows-xlsx-under-size-cap"])
def test_huge_or_crafted_file_is_refused_fast_and_in_bounded_memory(
        client, auth, coordinator, school, filename, make, words):
    data = make()
    assert len(data) < 10 * 2**20  # within the upload limit: the reader itself must refuse
    auth.login(coordinator.email)
    response, elapsed, peak = _measured_upload(client, filename, data)
    _assert_refused_and_nothing_changed(response, school, words)
    assert elapsed < TIME_BOUND, f"{elapsed:.2f} s"
    assert peak < MEMORY_BOUND, f"{peak / 2**20:.0f} MB"


def test_a_declared_dimension_is_not_trusted(client, auth, coordinator, school):
    """A sheet that only claims A1:XFD1048576 is read as the two rows it holds."""
    auth.login(coordinator.email)
    response, elapsed, peak = _measured_upload(client, "dimension.xlsx",
                                               crafted_dimension_xlsx(far_cell=False))
    assert response.status_code == 303
    student = Student.query.filter_by(organization_id=school.id).one()
    assert (student.last_name, student.class_name) == ("Иванов", "7А")
    assert elapsed < TIME_BOUND, f"{elapsed:.2f} s"
    assert peak < MEMORY_BOUND, f"{peak / 2**20:.0f} MB"


def test_baseline_import_shares_the_limits(client, auth, factory):
    admin = factory.create_user(Role.ADMIN)
    db.session.commit()
    auth.login(admin.email)
    header = ";".join(c.header for c in directory.baseline_import_columns())
    data = (header + "\n").encode() + b"a;b\n" * TWO_MILLION
    started = time.process_time()
    response = _post_file(client, "/admin/baselines/import", "b.csv", data, year="2025")
    assert time.process_time() - started < TIME_BOUND
    assert response.status_code == 422
    assert f"В файле больше {spreadsheets.MAX_ROWS} строк" in response.get_data(as_text=True)


# ---------------------------------------------------------------------------------------------
# Each limit on its own, at the reader

COLUMNS = [Column("last_name", "Фамилия"), Column("first_name", "Имя")]


def _problem(filename, data) -> str:
    with pytest.raises(ImportProblems) as info:
        read_table(filename, data, COLUMNS)
    return info.value.message


def test_exactly_max_rows_are_read_and_one_more_is_refused(monkeypatch):
    monkeypatch.setattr(spreadsheets, "MAX_ROWS", 3)
    monkeypatch.setattr(spreadsheets, "MAX_SHEET_ROWS", 10)
    lines = "Фамилия;Имя\n" + "Иванов;Пётр\n" * 3
    assert len(read_table("a.csv", lines.encode(), COLUMNS)) == 3
    assert "В файле больше 3 строк" in _problem("a.csv", (lines + "Петров;Иван\n").encode())


def test_blank_rows_count_towards_the_rows_read(monkeypatch):
    monkeypatch.setattr(spreadsheets, "MAX_SHEET_ROWS", 10)
    data = ("Фамилия;Имя\n" + "\n" * 20 + "Иванов;Пётр\n").encode()
    assert f"В файле больше {spreadsheets.MAX_ROWS} строк" in _problem("a.csv", data)


def test_columns_past_the_cap_are_not_read():
    header = ["Фамилия"] + [None] * spreadsheets.MAX_COLUMNS + ["Имя"]
    workbook = Workbook()
    workbook.active.append(header)
    workbook.active.append(["Иванов"] + [None] * spreadsheets.MAX_COLUMNS + ["Пётр"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert "нет столбца «Имя»" in _problem("a.xlsx", buffer.getvalue())


def test_an_xlsx_with_too_many_parts_is_refused_before_it_is_opened():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for index in range(spreadsheets.MAX_XLSX_PARTS + 1):
            archive.writestr(f"x/{index}.xml", b"")
    assert "слишком большой в распакованном виде" in _problem("a.xlsx", out.getvalue())


def test_a_zip_bomb_is_refused_by_its_unpacked_size():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/zeros.bin", bytes(spreadsheets.MAX_XLSX_UNPACKED_BYTES + 1))
    assert len(out.getvalue()) < 2**20
    assert "слишком большой в распакованном виде" in _problem("a.xlsx", out.getvalue())


def test_a_broken_sheet_inside_a_valid_zip_is_a_clear_message():
    unclosed = b"<sheetData><row><c><v>1</v></row>"
    data = _with_sheet(lambda xml: xml.replace(b"<sheetData>", unclosed))
    assert "Файл повреждён или это не таблица XLSX" in _problem("a.xlsx", data)


def test_a_very_long_csv_line_is_refused():
    data = ("Фамилия;Имя\nИванов;" + "я" * (spreadsheets.MAX_CSV_LINE_CHARS + 1)).encode()
    assert f"строка длиннее {spreadsheets.MAX_CSV_LINE_CHARS} символов" in _problem("a.csv",
                                                                                      data)


def test_a_csv_field_past_the_field_size_limit_is_refused():
    data = ('Фамилия;Имя\nИванов;"' + "я\n" * 70000 + '"\n').encode()
    assert "Файл CSV повреждён" in _problem("a.csv", data)


def test_a_file_past_the_upload_size_is_refused():
    data = b"a" * (spreadsheets.MAX_FILE_BYTES + 1)
    assert "Файл больше 10 МБ" in _problem("a.csv", data)


def test_the_time_budget_stops_a_slow_read(monkeypatch):
    monkeypatch.setattr(spreadsheets, "MAX_READ_SECONDS", 0.0)
    data = ("Фамилия;Имя\n" + "Иванов;Пётр\n" * 600).encode()
    assert "Файл читается слишком долго" in _problem("a.csv", data)


def test_a_csv_in_neither_encoding_is_a_clear_message():
    data = "Фамилия;Имя\nИванов;Пётр\n".encode("cp1251") + b"\x98\n"  # 0x98: not in cp1251
    assert "сохраните CSV в кодировке UTF-8 или Windows-1251" in _problem("a.csv", data)


def test_a_guessed_csv_dialect_does_not_change_the_shared_excel_dialect(monkeypatch):
    import csv

    monkeypatch.setattr(csv.excel, "delimiter", ",")  # restored even if the reader changes it
    rows = read_table("a.csv", "Фамилия\nИванов\n".encode(), [Column("last_name", "Фамилия")])
    assert [r.get("last_name") for r in rows] == ["Иванов"]  # one column: the sniffer gives up
    assert csv.excel.delimiter == ","
