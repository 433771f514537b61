import pytest

from formats.spreadsheets import Column, ImportProblems, csv_bytes, read_table, xlsx_template

COLUMNS = [Column("last_name", "Фамилия"), Column("first_name", "Имя"),
           Column("middle_name", "Отчество", required=False)]


def test_reads_xlsx_made_from_the_template():
    data = xlsx_template(COLUMNS, [["Иванов", "Пётр", None], ["Сидорова", "Анна", "Ивановна"]])
    rows = read_table("список.xlsx", data, COLUMNS)
    assert [(r.number, r.get("last_name"), r.get("middle_name")) for r in rows] == [
        (2, "Иванов", None), (3, "Сидорова", "Ивановна")]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1251"])
@pytest.mark.parametrize("sep", [";", ","])
def test_reads_csv_in_both_encodings(encoding, sep):
    text = f"Фамилия{sep}Имя\nЁлкина{sep}Мария\n\nПетров{sep}Иван\n"
    rows = read_table("a.csv", text.encode(encoding), COLUMNS)
    assert [(r.number, r.get("last_name")) for r in rows] == [(2, "Ёлкина"), (4, "Петров")]


def test_wrong_columns_are_reported_with_the_row():
    with pytest.raises(ImportProblems) as info:
        read_table("a.csv", "Фамилия;Отчетсво\nИванов;И\n".encode(), COLUMNS)
    messages = " ".join(info.value.lines)
    assert "Строка 1" in messages and "«Отчетсво»" in messages and "нет столбца «Имя»" in messages


@pytest.mark.parametrize("name, data, expected", [
    ("a.xlsx", b"not a zip", "повреждён"),
    ("a.pdf", b"%PDF", "XLSX и CSV"),
    ("a.csv", b"", "пустой"),
    ("a.csv", "Фамилия;Имя\n".encode(), "ни одной строки"),
])
def test_broken_files_get_a_clear_message(name, data, expected):
    with pytest.raises(ImportProblems) as info:
        read_table(name, data, COLUMNS)
    assert expected in info.value.message


def test_csv_export_round_trips_cyrillic_for_excel():
    data = csv_bytes(["Школа", "Доля"], [["СОШ № 7", "12,5"]])
    assert data.startswith("\ufeff".encode())
    rows = read_table("x.csv", data, [Column("s", "Школа"), Column("d", "Доля")])
    assert rows[0].get("s") == "СОШ № 7" and rows[0].get("d") == "12,5"
