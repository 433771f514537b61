"""Issue #20, items 9–11, «as a tired person meets it»: search and order of names and schools
the same on SQLite and PostgreSQL, long lists paged, every import problem shown at once."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from openpyxl import Workbook, load_workbook
from pypdf import PdfReader

from checkin.door.lookups import search_tickets
from formats.spreadsheets import ImportProblems
from formats.text import SQL_FOLD_FROM, fold, plural
from models import OrgKind, Registration, Role, Student, db, folded
from tests.html_tables import table_rows
from webapp.parents.services import signup_schools
from webapp.schools.roster import import_students_file

STUDENT_HEADER = ["Фамилия", "Имя", "Отчество", "Класс", "ОВЗ", "Идентификатор"]


def xlsx(rows, header=STUDENT_HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def school(factory):
    return factory.create_org(name="МАОУ СОШ № 7 г. Томска (тест)")


@pytest.fixture
def coordinator(factory, school):
    user = factory.create_user(Role.COORDINATOR, organization=school)
    db.session.commit()
    return user


def _names(page: str, table_class: str = "table-cards") -> list[str]:
    """The first column of a list's rows (a lone cell says the list is empty)."""
    return [row[0] for row in table_rows(page, table_class) if len(row) > 1]


# --- item 9: folding and order, on whichever database the tests run --------------------------

def test_sql_folding_matches_fold_for_every_letter(db):
    """folded() in SQL (SQLite: the registered function; PostgreSQL: lower/translate) and
    formats.text.fold agree on every Russian letter and on Latin ones."""
    text = SQL_FOLD_FROM + SQL_FOLD_FROM.lower() + "ABCxyz"
    assert db.session.execute(sa.select(folded(sa.literal(text)))).scalar_one() == fold(text)


def test_roster_search_finds_yo_by_ye_in_any_case(client, auth, coordinator, school, factory):
    factory.create_student(school, last_name="Ёлкина", first_name="Анна", class_name="5А",
                           grade=5)
    factory.create_student(school, last_name="Елисеев", first_name="Иван", class_name="5А",
                           grade=5)
    factory.create_student(school, last_name="Петров", first_name="Пётр", class_name="5А",
                           grade=5)
    db.session.commit()
    auth.login(coordinator.email)
    for query in ("елкина", "ЕЛКИНА", "Ёлк", "ёлкина"):
        page = client.get("/school/students", query_string={"q": query}).get_data(as_text=True)
        assert _names(page) == ["Ёлкина Анна"], query
    page = client.get("/school/students", query_string={"q": "ел"}).get_data(as_text=True)
    assert _names(page) == ["Елисеев Иван", "Ёлкина Анна"]
    # LIKE's wildcards typed into the box are letters, not patterns.
    page = client.get("/school/students", query_string={"q": "%"}).get_data(as_text=True)
    assert _names(page) == []


def test_door_search_finds_yo_by_ye(factory, db):
    school = factory.create_org()
    event = factory.create_event()
    factory.create_ticket(event, factory.create_student(school, last_name="Ёлкина",
                                                        first_name="Анна"))
    factory.create_ticket(event, factory.create_student(school, last_name="Петров"))
    db.session.commit()
    found = search_tickets(event, "ЕЛКИНА")
    assert [t["name"] for t in found] == ["Ёлкина Анна"]


def test_roster_lists_and_exports_put_yo_among_ye(client, auth, coordinator, school, factory):
    for last in ("Жуков", "Ёлкина", "Абрамов", "Егоров", "Яковлев"):
        factory.create_student(school, last_name=last, first_name="Анна", class_name="5А",
                               grade=5)
    db.session.commit()
    auth.login(coordinator.email)
    expected = ["Абрамов", "Егоров", "Ёлкина", "Жуков", "Яковлев"]
    page = client.get("/school/students").get_data(as_text=True)
    assert [n.split()[0] for n in _names(page)] == expected
    sheet = load_workbook(io.BytesIO(client.get("/school/students.xlsx").data)).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == expected


def test_group_list_and_sheet_put_yo_among_ye(client, auth, coordinator, school, factory):
    event = factory.create_event(capacity=10, grades_min=5, grades_max=5)
    kids = [factory.create_student(school, last_name=last, first_name="Анна", class_name="5А",
                                   grade=5) for last in ("Жуков", "Ёлкина", "Егоров")]
    db.session.commit()
    auth.login(coordinator.email)
    client.post_form(f"/events/{event.id}/register",
                     {"students": [str(s.id) for s in kids], "teachers": []})
    registration = Registration.query.one()
    page = client.get(f"/school/registrations/{registration.id}").get_data(as_text=True)
    assert [n.split()[0] for n in _names(page)] == ["Егоров", "Ёлкина", "Жуков"]
    sheet = client.get(f"/school/registrations/{registration.id}/group.pdf")
    text = PdfReader(io.BytesIO(sheet.data)).pages[0].extract_text()
    assert text.index("Егоров") < text.index("Ёлкина") < text.index("Жуков")


@pytest.fixture
def numbered_schools(factory, db):
    for number in (10, 2, 1):
        factory.create_org(name=f"МАОУ СОШ № {number} г. Томска")
    db.session.commit()


def _positions(page: str, names: list[str]) -> list[int]:
    return [page.index(name) for name in names]


SCHOOLS_IN_ORDER = ["МАОУ СОШ № 1 г. Томска", "МАОУ СОШ № 2 г. Томска",
                    "МАОУ СОШ № 10 г. Томска"]


def test_admin_school_chooser_lists_schools_by_number(client, auth, factory, numbered_schools):
    admin = factory.create_user(Role.ADMIN)
    db.session.commit()
    auth.login(admin.email)
    page = client.get("/school/students").get_data(as_text=True)
    positions = _positions(page, [f">{name}<" for name in SCHOOLS_IN_ORDER])
    assert positions == sorted(positions)
    # …and its search folds too.
    page = client.get("/school/students", query_string={"q": "сош № 2"}).get_data(as_text=True)
    assert ">МАОУ СОШ № 2 г. Томска<" in page and "СОШ № 10" not in page


def test_parent_signup_dropdown_lists_schools_by_number(numbered_schools):
    names = [o.name for o in signup_schools() if o.name in SCHOOLS_IN_ORDER]
    assert names == SCHOOLS_IN_ORDER


def test_event_form_organizer_dropdown_lists_schools_by_number(client, auth, factory,
                                                               numbered_schools):
    admin = factory.create_user(Role.ADMIN)
    db.session.commit()
    auth.login(admin.email)
    page = client.get("/organizer/events/new").get_data(as_text=True)
    positions = _positions(page, [f">{name}</option>" for name in SCHOOLS_IN_ORDER])
    assert positions == sorted(positions)


def test_organizers_page_lists_by_number(client, factory, db):
    for number in (10, 2):
        factory.create_org(name=f"Колледж № {number}", kind=OrgKind.COLLEGE)
    db.session.commit()
    page = client.get("/organizers").get_data(as_text=True)
    assert page.index("Колледж № 2") < page.index("Колледж № 10")


# --- item 10: long lists ----------------------------------------------------------------------

def test_plural_forms():
    forms = ("страница", "страницы", "страниц")
    assert [f"{n} {plural(n, forms)}" for n in (1, 2, 5, 11, 21, 22)] \
        == ["1 страница", "2 страницы", "5 страниц", "11 страниц", "21 страница", "22 страницы"]


def test_large_roster_is_paged_and_a_page_past_the_end_says_so(client, auth, coordinator,
                                                                 school, db):
    db.session.execute(sa.insert(Student), [
        {"organization_id": school.id, "last_name": f"Фамилия{i:03d}", "first_name": "Имя",
         "class_name": "5А", "grade": 5, "ovz": False, "active": True} for i in range(250)])
    db.session.commit()
    auth.login(coordinator.email)
    first = client.get("/school/students").get_data(as_text=True)
    assert _names(first)[:2] == ["Фамилия000 Имя", "Фамилия001 Имя"]
    assert len(_names(first)) == 100
    assert "Показаны 1–100 из 250" in first
    assert 'href="/school/students?page=3' in first  # the last page is linked
    last = client.get("/school/students?page=3").get_data(as_text=True)
    assert len(_names(last)) == 50 and _names(last)[-1] == "Фамилия249 Имя"
    response = client.get("/school/students?page=4")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Такой страницы нет, всего 3 страницы." in page
    assert 'href="/school/students?page=3' in page
    assert _names(page) == []


def test_catalogue_page_past_the_end_says_so_with_a_link(client, factory, db):
    for _ in range(3):
        factory.create_event()
    db.session.commit()
    response = client.get("/events?page=999")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Такой страницы нет, всего 1 страница." in page
    assert 'href="/events?page=1"' in page
    assert "Ничего не найдено" not in page


def test_catalogue_filter_panel_closes_after_filtering(client, factory, db):
    factory.create_event(title="День открытых дверей")
    db.session.commit()
    page = client.get("/events", query_string={"q": "день"}).get_data(as_text=True)
    panel = page[page.index('<details class="mb-3 filters"'):]
    assert panel[:panel.index(">")].rstrip().endswith('filters"')  # not «open»
    assert "Фильтры и поиск (выбрано: 1)" in page
    # With a mistake in the filters the panel stays open to show it.
    page = client.get("/events", query_string={"date_from": "31.02.2026"}).get_data(as_text=True)
    panel = page[page.index('<details class="mb-3 filters"'):]
    assert "open" in panel[:panel.index(">")]


# --- item 11: every problem at once, one per cell; the school named ---------------------------

def test_roster_import_reports_every_problem_at_once_one_per_cell(school):
    with pytest.raises(ImportProblems) as err:
        import_students_file(None, school, "a.csv", "\r\n".join(";".join(row) for row in [
            STUDENT_HEADER,
            ["Иванов", "Пётр", "", "7Б", "нет", "A-1"],
            ["Пет\x01ров", "Иван", "", "седьмой", "нет", ""],   # two cells wrong
            ["", "", "", "7Б", "может", ""],                     # three cells wrong
            ["Сидоров", "Олег", "", "7Б", "нет", "A-1"],         # the id repeats row 2
        ]).encode())
    db.session.rollback()
    assert [(p.row, p.column) for p in err.value.cells] == [
        (3, "Фамилия"), (3, "Класс"), (4, "Фамилия"), (4, "Имя"), (4, "ОВЗ"),
        (5, "Идентификатор")]
    assert err.value.cells[0].message == "недопустимые управляющие символы."
    assert "уже встречался в строке 2" in err.value.cells[-1].message
    assert Student.query.filter_by(organization_id=school.id).count() == 0


def test_baseline_import_checks_the_figures_of_an_unknown_organization_too(client, auth,
                                                                           factory, db):
    admin = factory.create_user(Role.ADMIN)
    db.session.commit()
    auth.login(admin.email)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Внешний ID", "Организация", "Обучающихся", "С ОВЗ", "Педагогов"])
    sheet.append(["S-404", "Нет такой", "много", 1, "десять"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = client.post_form("/admin/baselines/import?year=2025", {
        "year": "2025", "file": (io.BytesIO(buffer.getvalue()), "b.xlsx")},
        content_type="multipart/form-data")
    assert response.status_code == 422
    rows = table_rows(response.get_data(as_text=True), "import-problems")
    assert [(row, column) for row, column, _what in rows] == [
        ("2", "Внешний ID"), ("2", "Обучающихся"), ("2", "Педагогов")]


def test_baseline_table_shows_form_and_figure_errors_in_one_pass(client, auth, factory, db):
    admin = factory.create_user(Role.ADMIN)
    s1 = factory.create_org(name="МАОУ СОШ № 1")
    s2 = factory.create_org(name="МАОУ СОШ № 2")
    db.session.commit()
    auth.login(admin.email)

    def row(org, total, ovz, teachers):
        return {f"b{org.id}-students_total": total, f"b{org.id}-students_ovz": ovz,
                f"b{org.id}-teachers_total": teachers}

    response = client.post_form("/admin/baselines?year=2025", {
        **row(s1, "сто", "0", "10"),       # the form refuses this one
        **row(s2, "100", "200", "10")})    # this one the figures' rule refuses
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "МАОУ СОШ № 1: " in page and "Введите целое число" in page
    assert "МАОУ СОШ № 2: " in page and "не может быть больше" in page


def test_admin_importing_for_a_school_sees_which_school(client, auth, factory, school, db):
    admin = factory.create_user(Role.ADMIN)
    db.session.commit()
    auth.login(admin.email)
    page = client.get(f"/school/students/import?org={school.id}").get_data(as_text=True)
    assert f"<title>Загрузить список учеников: {school.name}" in page
    assert f"Для школы: <strong>{school.name}</strong>" in page
    response = client.post_form(f"/school/students/import?org={school.id}", {
        "file": (io.BytesIO(xlsx([["Иванов", "Пётр", "", "7Б", "", ""]])), "a.xlsx")},
        content_type="multipart/form-data", follow_redirects=True)
    assert f"Список учеников загружен — {school.name}. Добавлено: 1" in \
        response.get_data(as_text=True)


def test_admin_lists_search_names_folded(client, auth, factory, db):
    admin = factory.create_user(Role.ADMIN)
    factory.create_user(Role.ORGANIZER, full_name="Ёлкина Мария", email="m@test.local")
    factory.create_org(name="Муниципальное автономное учреждение № 5", short_name="МАУ «Ёлочка»")
    db.session.commit()
    auth.login(admin.email)
    page = client.get("/admin/users", query_string={"q": "ЕЛКИНА"}).get_data(as_text=True)
    assert "Ёлкина Мария" in page
    page = client.get("/admin/organizations", query_string={"q": "елочка"}).get_data(
        as_text=True)
    assert "Муниципальное автономное учреждение № 5" in page
