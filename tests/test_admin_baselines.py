"""Admin: the baseline table of all organizations, the city plan, locks and imports."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook

from models import AuditLog, Baseline, CityPlan, OrgKind, Role
from tests.html_tables import table_rows

YEAR = 2025
HEADER = ["Внешний ID", "Организация", "Обучающихся", "С ОВЗ", "Педагогов", "План мероприятий",
          "План ранних мероприятий", *(f"Профминимум {g} кл. (ч)" for g in range(6, 12))]


@pytest.fixture
def city(client, auth, db, factory):
    admin = factory.create_user(Role.ADMIN, email="admin@test.local")
    s1 = factory.create_org(name="МАОУ СОШ № 1", external_id="S-1")
    s2 = factory.create_org(name="МАОУ СОШ № 2", external_id="S-2")
    s10 = factory.create_org(name="МАОУ СОШ № 10", external_id="S-10")
    d1 = factory.create_org(name="МАДОУ № 1", kind=OrgKind.PRESCHOOL, external_id="D-1")
    uni = factory.create_org(name="ТГУ", kind=OrgKind.UNIVERSITY)
    factory.create_baseline(s2, YEAR, students_total=800, students_ovz=30, teachers_total=50)
    db.session.commit()
    auth.login("admin@test.local")
    return {"admin": admin, "s1": s1, "s2": s2, "s10": s10, "d1": d1, "uni": uni}


def _row(org, total="", ovz="", teachers="", plan="", early=""):
    p = f"b{org.id}-"
    return {p + "students_total": total, p + "students_ovz": ovz, p + "teachers_total": teachers,
            p + "planned_events": plan, p + "planned_early_events": early}


def _baseline(org):
    return Baseline.query.filter_by(organization_id=org.id, year=YEAR).first()


# --- the table ---------------------------------------------------------------------------------

def test_table_lists_schools_then_kindergartens_in_natural_order(client, city):
    page = client.get(f"/admin/baselines?year={YEAR}").get_data(as_text=True)
    positions = [page.index(f'id="org-{city[key].id}"') for key in ("s1", "s2", "s10", "d1")]
    assert positions == sorted(positions)
    assert "ТГУ" not in page  # universities have no baseline
    assert f'name="b{city["s2"].id}-students_total"' in page and 'value="800"' in page


def test_one_form_saves_every_row(client, city, db):
    data = {**_row(city["s1"], "900", "40", "60", "25", "5"),
            **_row(city["s2"], "810", "30", "50"),
            **_row(city["d1"], "150", "3", "20")}
    response = client.post_form(f"/admin/baselines?year={YEAR}", data)
    assert response.status_code == 302
    db.session.expire_all()
    s1 = _baseline(city["s1"])
    assert (s1.students_total, s1.planned_events) == (900, 25)
    assert _baseline(city["s2"]).students_total == 810
    assert _baseline(city["d1"]).teachers_total == 20
    assert _baseline(city["s10"]) is None  # an empty row saves nothing
    assert AuditLog.query.filter_by(action="baseline.save").count() == 3


@pytest.mark.parametrize(("row", "message"), [
    (("100", "200", "10"), "Обучающихся с ОВЗ не может быть больше"),
    (("-5", "0", "10"), "Не может быть отрицательным"),
    (("сто", "0", "10"), "Введите целое число"),
    (("100", "", "10"), "Обязательное поле"),
])
def test_one_bad_row_saves_nothing_and_marks_the_row(client, city, db, row, message):
    data = {**_row(city["s1"], *row), **_row(city["s2"], "999", "30", "50"),
            **_row(city["d1"], "150", "3", "20")}
    response = client.post_form(f"/admin/baselines?year={YEAR}", data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert "МАОУ СОШ № 1:" in page  # the summary names the row
    assert "Ничего не изменено" in page
    assert f'id="org-{city["s1"].id}" class="table-danger"' in page
    db.session.expire_all()
    assert _baseline(city["s2"]).students_total == 800  # the good row was not saved either
    assert _baseline(city["s1"]) is None and _baseline(city["d1"]) is None
    assert AuditLog.query.filter_by(action="baseline.save").count() == 0


def test_an_entered_row_cannot_be_emptied(client, city, db):
    response = client.post_form(f"/admin/baselines?year={YEAR}", _row(city["s2"]))
    assert response.status_code == 422
    assert "Нельзя очистить" in response.get_data(as_text=True)
    db.session.expire_all()
    assert _baseline(city["s2"]).students_total == 800


def test_locked_rows_are_read_only_until_unlocked(client, city, db):
    client.post_form(f"/admin/baselines/{city['s2'].id}/lock?year={YEAR}")
    db.session.expire_all()
    assert _baseline(city["s2"]).locked is True
    page = client.get(f"/admin/baselines?year={YEAR}").get_data(as_text=True)
    assert f'name="b{city["s2"].id}-students_total"' not in page
    assert "Разблокировать" in page
    # A crafted post of a locked row changes nothing.
    response = client.post_form(f"/admin/baselines?year={YEAR}",
                                _row(city["s2"], "1", "0", "1"))
    assert response.status_code == 422
    assert "сначала снимите блокировку" in response.get_data(as_text=True)
    db.session.expire_all()
    assert _baseline(city["s2"]).students_total == 800
    # After unlocking the admin edits it.
    client.post_form(f"/admin/baselines/{city['s2'].id}/unlock?year={YEAR}")
    response = client.post_form(f"/admin/baselines?year={YEAR}",
                                _row(city["s2"], "801", "30", "50"))
    assert response.status_code == 302
    db.session.expire_all()
    assert _baseline(city["s2"]).students_total == 801 and not _baseline(city["s2"]).locked
    actions = [a.action for a in AuditLog.query.filter(AuditLog.action.like("baseline.%"))
               .order_by(AuditLog.id)]
    assert actions == ["baseline.lock", "baseline.unlock", "baseline.save"]


def test_lock_all_and_unlock_all(client, city, db, factory):
    factory.create_baseline(city["s1"], YEAR)
    factory.create_baseline(city["s1"], YEAR - 1)
    db.session.commit()
    response = client.post_form(f"/admin/baselines/lock-all?year={YEAR}",
                                follow_redirects=True)
    assert "Заблокированы показатели за 2025/26: 2" in response.get_data(as_text=True)
    db.session.expire_all()
    assert Baseline.query.filter_by(year=YEAR, locked=True).count() == 2
    assert Baseline.query.filter_by(year=YEAR - 1, locked=True).count() == 0
    client.post_form(f"/admin/baselines/unlock-all?year={YEAR}")
    db.session.expire_all()
    assert Baseline.query.filter_by(locked=True).count() == 0


def test_table_without_csrf_saves_nothing(client, city, db):
    response = client.post(f"/admin/baselines?year={YEAR}",
                           data=_row(city["s1"], "900", "40", "60"))
    assert response.status_code == 400
    assert _baseline(city["s1"]) is None


def test_city_plan(client, city, db):
    client.post_form(f"/admin/baselines/plan?year={YEAR}",
                     {"planned_events": "1500", "planned_early_events": "300"})
    plan = db.session.get(CityPlan, YEAR)
    assert (plan.planned_events, plan.planned_early_events) == (1500, 300)
    response = client.post_form(f"/admin/baselines/plan?year={YEAR}",
                                {"planned_events": "-1", "planned_early_events": ""},
                                follow_redirects=True)
    assert "План города не сохранён" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(CityPlan, YEAR).planned_events == 1500


# --- import ------------------------------------------------------------------------------------

def _xlsx(rows, header=HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _csv(rows, header=HEADER, encoding="utf-8", sep=";") -> bytes:
    lines = [sep.join(header)] + [sep.join("" if v is None else str(v) for v in r)
                                  for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def _upload(client, filename, data, year=YEAR):
    return client.post_form("/admin/baselines/import", {
        "year": str(year), "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data")


def test_import_xlsx_matches_by_external_id_and_by_name(client, city, db):
    data = _xlsx([["S-1", "как угодно", 900, 40, 60, 25, 5],
                  [None, "маоу  сош № 10", 1000, 50, 70, None, None],
                  ["D-1", "МАДОУ № 1", 150, 3, 20, None, None]])
    response = _upload(client, "baselines.xlsx", data)
    assert response.status_code == 302
    db.session.expire_all()
    s1 = _baseline(city["s1"])
    assert s1.students_total == 900 and s1.planned_events == 25
    assert _baseline(city["s10"]).teachers_total == 70
    assert _baseline(city["d1"]).students_ovz == 3
    assert _baseline(city["s2"]).students_total == 800  # not in the file: untouched
    assert AuditLog.query.filter_by(action="baseline.import").count() == 1


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1251"])
def test_import_csv_in_utf8_and_windows_1251(client, city, db, encoding):
    data = _csv([["", "МАОУ СОШ № 1", 900, 40, 60, "", ""]], encoding=encoding)
    response = _upload(client, "показатели.csv", data)
    assert response.status_code == 302
    db.session.expire_all()
    assert _baseline(city["s1"]).students_total == 900


def test_import_csv_with_commas(client, city, db):
    data = _csv([["S-1", "МАОУ СОШ № 1", 900, 40, 60, "", ""]], sep=",")
    assert _upload(client, "b.csv", data).status_code == 302


def test_import_errors_are_row_numbered_and_nothing_is_saved(client, city, db):
    data = _xlsx([["S-1", "МАОУ СОШ № 1", 900, 40, 60, None, None],      # row 2: fine
                  ["S-99", "Нет такой", 100, 1, 10, None, None],         # row 3
                  [None, "МАОУ СОШ № 10", 100, 200, 10, None, None],     # row 4: ovz > total
                  [None, "МАДОУ № 1", -3, 0, 10, None, None],            # row 5: negative
                  [None, "ТГУ", 100, 1, 10, None, None],                 # row 6: a university
                  ["S-1", "МАОУ СОШ № 1", 901, 40, 60, None, None],      # row 7: repeated
                  ["S-2", "МАОУ СОШ № 2", "много", 1, 10, None, None]])  # row 8: not a number
    response = _upload(client, "b.xlsx", data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Файл не загружен, ничего не изменено" in page
    problems = table_rows(page, "import-problems")
    assert [(row, column) for row, column, _what in problems] == [
        ("3", "Внешний ID"), ("4", "С ОВЗ"), ("5", "Обучающихся"), ("6", "Организация"),
        ("7", "Организация"), ("8", "Обучающихся")]
    for (_row, _column, what), expected in zip(problems, (
            "S-99", "не может быть больше", "отрицательным", "не школа и не детский сад",
            "уже указана в строке 2", "не целое число"), strict=True):
        assert expected in what
    db.session.expire_all()
    assert _baseline(city["s1"]) is None
    assert _baseline(city["s2"]).students_total == 800
    assert AuditLog.query.filter(AuditLog.action.like("baseline.%")).count() == 0


def test_import_with_wrong_columns_is_refused(client, city, db):
    data = _xlsx([["МАОУ СОШ № 1", 900]], header=["Школа", "Учеников"])
    response = _upload(client, "b.xlsx", data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Неизвестный столбец «Школа»" in page
    assert "Нет столбца «Обучающихся»" in page
    assert _baseline(city["s1"]) is None


@pytest.mark.parametrize(("filename", "data", "message"), [
    ("b.xlsx", b"this is not a workbook", "Файл повреждён или это не таблица XLSX"),
    ("b.xlsx", b"", "Файл пустой"),
    ("b.pdf", b"%PDF-1.4", "Поддерживаются файлы XLSX и CSV"),
    ("b.csv", "Организация;Обучающихся\r\n".encode(), "Нет столбца «С ОВЗ»"),
    ("b.csv", ";".join(HEADER).encode() + b"\r\n", "В файле нет ни одной строки"),
])
def test_malformed_files_are_refused(client, city, db, filename, data, message):
    response = _upload(client, filename, data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert Baseline.query.count() == 1


def test_import_refuses_a_locked_baseline(client, city, db):
    _baseline(city["s2"]).locked = True
    db.session.commit()
    data = _xlsx([["S-2", "МАОУ СОШ № 2", 1, 0, 1, None, None],
                  ["S-1", "МАОУ СОШ № 1", 900, 40, 60, None, None]])
    response = _upload(client, "b.xlsx", data)
    assert response.status_code == 422
    [(row, column, what)] = table_rows(response.get_data(as_text=True), "import-problems")
    assert (row, column) == ("2", "") and "заблокированы" in what
    db.session.expire_all()
    assert _baseline(city["s2"]).students_total == 800 and _baseline(city["s1"]) is None


def test_templates_hold_every_organization_and_import_back(client, city, db):
    response = client.get(f"/admin/baselines/template.xlsx?year={YEAR}")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == HEADER
    assert [r[1] for r in rows[1:]] == ["МАОУ СОШ № 1", "МАОУ СОШ № 2", "МАОУ СОШ № 10",
                                        "МАДОУ № 1"]
    assert rows[2][2] == 800
    # Filling in a row and uploading the template works as is.
    rows[1][2:5] = [900, 40, 60]
    assert _upload(client, "t.xlsx", _xlsx(rows[1:])).status_code == 302
    db.session.expire_all()
    assert _baseline(city["s1"]).students_total == 900
    assert _baseline(city["s10"]) is None  # its row stayed blank

    csv_response = client.get(f"/admin/baselines/template.csv?year={YEAR}")
    text = csv_response.data.decode("utf-8-sig")
    assert text.splitlines()[0] == ";".join(HEADER)
    assert "S-2;МАОУ СОШ № 2;800;30;50" in text


def test_import_row_with_a_missing_figure_is_an_error(client, city, db):
    data = _csv([["S-1", "МАОУ СОШ № 1", 900, "", 60, "", ""]])
    response = _upload(client, "b.csv", data)
    assert response.status_code == 422
    assert table_rows(response.get_data(as_text=True), "import-problems") == [
        ("2", "С ОВЗ", "Не заполнено.")]
    assert _baseline(city["s1"]) is None
