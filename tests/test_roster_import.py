"""Roster import from XLSX/CSV: all or nothing, row-numbered errors, re-import updates."""

import io

import pytest
from openpyxl import Workbook, load_workbook

from formats.spreadsheets import ImportProblems
from models import AuditLog, Role, Student, Teacher, db
from tests.html_tables import table_rows
from webapp.schools.roster import (
    import_students_file,
    import_teachers_file,
    promote_classes,
)

HEADER = ["Фамилия", "Имя", "Отчество", "Класс", "ОВЗ", "Идентификатор"]


def xlsx(rows, header=HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv(rows, header=HEADER, encoding="utf-8") -> bytes:
    lines = [";".join(header)] + [";".join(r) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


@pytest.fixture
def school(factory):
    return factory.create_org()


def roster(school):
    return sorted((s.last_name, s.first_name, s.class_name, s.grade, s.ovz, s.external_id,
                   s.active) for s in Student.query.filter_by(organization_id=school.id))


def test_xlsx_import_normalizes_classes_and_flags(school):
    data = xlsx([["Иванов", "Пётр", "Сергеевич", "7 б", "нет", "1001"],
                 ["Смирнова", "Анна", None, "7-Б", "да", None],
                 ["Ким", "Олег", "", "10a", "", ""]])
    result = import_students_file(None, school, "класс.xlsx", data)
    db.session.commit()
    assert len(result.created) == 3
    assert roster(school) == [
        ("Иванов", "Пётр", "7Б", 7, False, "1001", True),
        ("Ким", "Олег", "10А", 10, False, None, True),
        ("Смирнова", "Анна", "7Б", 7, True, None, True),
    ]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1251"])
def test_csv_import_in_utf8_and_windows_1251(school, encoding):
    data = csv([["Ёлкина", "Мария", "", "5В", "да", "77"]], encoding=encoding)
    import_students_file(None, school, "список.csv", data)
    db.session.commit()
    assert roster(school) == [("Ёлкина", "Мария", "5В", 5, True, "77", True)]


def test_reimport_updates_by_external_id_and_by_name_and_class(school, factory):
    import_students_file(None, school, "a.xlsx", xlsx([
        ["Иванов", "Пётр", "", "7Б", "нет", "1001"],
        ["Смирнова", "Анна", "", "7Б", "нет", ""],
    ]))
    db.session.commit()
    ids = {s.last_name: s.id for s in Student.query.filter_by(organization_id=school.id)}
    result = import_students_file(None, school, "a.xlsx", xlsx([
        ["Иванова", "Пётр", "", "8Б", "да", "1001"],     # same id: surname and class changed
        ["Смирнова", "Анна", "", "7 б", "да", ""],      # same name and class: ОВЗ changed
        ["Новиков", "Илья", "", "7Б", "", ""],
    ]))
    db.session.commit()
    assert (len(result.created), len(result.updated), len(result.unchanged)) == (1, 2, 0)
    students = {s.last_name: s for s in Student.query.filter_by(organization_id=school.id)}
    assert students["Иванова"].id == ids["Иванов"] and students["Иванова"].class_name == "8Б"
    assert students["Смирнова"].id == ids["Смирнова"] and students["Смирнова"].ovz is True
    assert Student.query.filter_by(organization_id=school.id).count() == 3


def test_unknown_class_is_reported_with_its_row_and_nothing_is_written(school):
    with pytest.raises(ImportProblems) as err:
        import_students_file(None, school, "a.xlsx", xlsx([
            ["Иванов", "Пётр", "", "7Б", "нет", ""],
            ["Петров", "Иван", "", "седьмой", "нет", ""],
            ["Сидоров", "", "", "7Б", "может", ""],
        ]))
    db.session.rollback()
    lines = " ".join(err.value.lines)
    assert "Строка 3: «Класс»: не понятен класс «седьмой»" in lines
    assert "Строка 4: «Имя»: не заполнено." in lines
    assert "Строка 4: «ОВЗ»: «может» — напишите «да» или «нет»" in lines
    assert roster(school) == []


def test_duplicate_rows_in_a_file_are_refused(school):
    with pytest.raises(ImportProblems) as err:
        import_students_file(None, school, "a.csv", csv([
            ["Иванов", "Пётр", "", "7Б", "", ""],
            ["Иванов", "Пётр", "", "7 Б", "", ""],
        ]))
    assert "Строка 3" in " ".join(err.value.lines) and "строке 2" in " ".join(err.value.lines)
    db.session.rollback()
    assert roster(school) == []


@pytest.mark.parametrize("name, data, words", [
    ("a.xlsx", b"PK\x03\x04 not really a workbook", "повреждён"),
    ("a.xlsx", xlsx([["Иванов", "Пётр", "7Б"]], header=["Фамилия", "Имя", "Группа крови"]),
     "неизвестный столбец «Группа крови»"),
    ("a.xlsx", xlsx([["Иванов", "Пётр"]], header=["Фамилия", "Имя"]), "нет столбца «Класс»"),
    ("a.pdf", b"%PDF-1.4", "XLSX и CSV"),
    ("a.csv", b"", "пустой"),
])
def test_broken_or_wrongly_columned_files(school, name, data, words):
    with pytest.raises(ImportProblems) as err:
        import_students_file(None, school, name, data)
    assert words in " ".join(err.value.lines)
    db.session.rollback()
    assert roster(school) == []


def test_teacher_import_matches_by_email(school):
    header = ["Фамилия", "Имя", "Отчество", "Эл. почта"]
    import_teachers_file(None, school, "t.xlsx", xlsx([["Петрова", "Анна", "Сергеевна",
                                                       "Petrova@school.ru"]], header))
    db.session.commit()
    result = import_teachers_file(None, school, "t.xlsx", xlsx(
        [["Сидорова", "Анна", "Сергеевна", "petrova@school.ru"]], header))
    db.session.commit()
    assert len(result.updated) == 1
    teachers = Teacher.query.filter_by(organization_id=school.id).all()
    assert [(t.last_name, t.email) for t in teachers] == [("Сидорова", "petrova@school.ru")]


def test_promote_moves_classes_and_graduates_eleventh(school, factory):
    a = factory.create_student(school, class_name="7Б", grade=7)
    b = factory.create_student(school, class_name="11А", grade=11)
    db.session.commit()
    plan = promote_classes(None, school)
    db.session.commit()
    assert plan.moves == [("7Б", "8Б", 1)] and plan.leaving == [("11А", 1)]
    assert (a.class_name, a.grade, a.active) == ("8Б", 8, True)
    assert (b.class_name, b.active) == ("11А", False)
    assert AuditLog.query.filter_by(action="roster.promote").count() == 1


def test_promote_twice_is_refused(school, factory):
    from errors import ServiceError

    student = factory.create_student(school, class_name="7Б", grade=7)
    db.session.commit()
    promote_classes(None, school)
    db.session.commit()
    with pytest.raises(ServiceError) as err:
        promote_classes(None, school)
    db.session.rollback()
    assert err.value.code == "already_promoted"
    assert student.class_name == "8Б"


# ---------------------------------------------------------------------------------------------
# The coordinator's pages


@pytest.fixture
def coordinator(factory, school):
    user = factory.create_user(Role.COORDINATOR, organization=school)
    db.session.commit()
    return user


def test_import_page_uploads_a_file(client, auth, coordinator, school):
    auth.login(coordinator.email)
    data = xlsx([["Иванов", "Пётр", "", "7b", "да", ""]])
    response = client.post_form("/school/students/import",
                                {"file": (io.BytesIO(data), "класс.xlsx")},
                                content_type="multipart/form-data", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert f"Список учеников загружен — {school.name}. Добавлено: 1" in page
    assert "Иванов Пётр" in page and "7Б" in page


def test_import_page_shows_row_errors_and_writes_nothing(client, auth, coordinator, school):
    auth.login(coordinator.email)
    data = xlsx([["Иванов", "Пётр", "", "7Б", "", ""], ["Петров", "Иван", "", "12Б", "", ""]])
    response = client.post_form("/school/students/import",
                                {"file": (io.BytesIO(data), "класс.xlsx")},
                                content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Файл не загружен, ничего не изменено" in page
    assert table_rows(page, "import-problems") == [
        ("3", "Класс", "Класс «12Б»: номер класса должен быть от 1 до 11.")]
    assert roster(school) == []


def test_import_without_a_file_says_so(client, auth, coordinator):
    auth.login(coordinator.email)
    page = client.post_form("/school/students/import", {}).get_data(as_text=True)
    assert "Выберите файл XLSX или CSV." in page


def test_template_download_has_the_columns(client, auth, coordinator):
    auth.login(coordinator.email)
    response = client.get("/school/students/template.xlsx")
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert [c.value for c in sheet[1]] == HEADER


def test_add_edit_and_deactivate_a_student(client, auth, coordinator, school):
    auth.login(coordinator.email)
    response = client.post_form("/school/students/new", {
        "last_name": "Орлова", "first_name": "Ева", "class_name": "9 в", "ovz": "y"},
        follow_redirects=True)
    assert "Ученик Орлова Ева (9В) добавлен." in response.get_data(as_text=True)
    student = Student.query.filter_by(organization_id=school.id).one()
    assert (student.class_name, student.grade, student.ovz) == ("9В", 9, True)
    response = client.post_form(f"/school/students/{student.id}/edit", {
        "last_name": "Орлова", "first_name": "Ева", "class_name": "9 ы"})
    assert "не понятен класс" not in response.get_data(as_text=True)  # «ы» is a letter
    response = client.post_form(f"/school/students/{student.id}/edit", {
        "last_name": "Орлова", "first_name": "Ева", "class_name": "15А"})
    assert "номер класса должен быть от 1 до 11" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Student, student.id).class_name == "9Ы"
    client.post_form(f"/school/students/{student.id}/deactivate")
    db.session.expire_all()
    assert db.session.get(Student, student.id).active is False


def test_promote_page_needs_the_confirmation(client, auth, coordinator, school, factory):
    student = factory.create_student(school, class_name="7Б", grade=7)
    db.session.commit()
    auth.login(coordinator.email)
    page = client.get("/school/students/promote").get_data(as_text=True)
    assert "7Б" in page and "8Б" in page
    page = client.post_form("/school/students/promote", {}).get_data(as_text=True)
    assert "Подтвердите перевод, отметив галочку." in page
    db.session.expire_all()
    assert db.session.get(Student, student.id).class_name == "7Б"
    client.post_form("/school/students/promote", {"confirm": "y"})
    db.session.expire_all()
    assert db.session.get(Student, student.id).class_name == "8Б"


def test_adding_a_student_from_the_register_page_returns_there(client, auth, coordinator,
                                                                factory):
    event = factory.create_event()
    db.session.commit()
    auth.login(coordinator.email)
    page = client.get(f"/events/{event.id}/register").get_data(as_text=True)
    assert f"next=/events/{event.id}/register" in page.replace("%2F", "/")
    values = {"last_name": "Новая", "first_name": "Ученица", "class_name": "7Б"}
    response = client.post_form(f"/school/students/new?next=/events/{event.id}/register",
                                values)
    assert response.headers["Location"].endswith(f"/events/{event.id}/register")
    response = client.post_form("/school/students/new?next=//evil.example/x",
                                {**values, "last_name": "Другая"})
    assert "evil.example" not in response.headers["Location"]


def test_add_and_edit_a_teacher(client, auth, coordinator, school):
    auth.login(coordinator.email)
    page = client.post_form("/school/teachers/new", {"last_name": "Петрова",
                                                     "first_name": "Анна",
                                                     "email": "не почта"}).get_data(
        as_text=True)
    assert "не похоже на адрес электронной почты" in page
    assert Teacher.query.count() == 0
    response = client.post_form("/school/teachers/new", {
        "last_name": "Петрова", "first_name": "Анна", "middle_name": "Сергеевна",
        "email": "Petrova@School7.ru"}, follow_redirects=True)
    assert "Педагог Петрова Анна Сергеевна добавлен(а)." in response.get_data(as_text=True)
    teacher = Teacher.query.one()
    assert teacher.email == "petrova@school7.ru"
    client.post_form(f"/school/teachers/{teacher.id}/edit", {
        "last_name": "Петрова-Ким", "first_name": "Анна"})
    client.post_form(f"/school/teachers/{teacher.id}/deactivate")
    db.session.expire_all()
    assert (teacher.last_name, teacher.active) == ("Петрова-Ким", False)


def test_teacher_import_page_uploads_a_csv_and_refuses_a_wrong_one(client, auth, coordinator,
                                                                   school):
    from models import Teacher

    auth.login(coordinator.email)
    bad = "Фамилия;Имя;Должность\nПетрова;Анна;учитель\n".encode("cp1251")
    page = client.post_form("/school/teachers/import",
                            {"file": (io.BytesIO(bad), "педагоги.csv")},
                            content_type="multipart/form-data").get_data(as_text=True)
    assert "Файл не загружен, ничего не изменено" in page and "«Должность»" in page
    assert Teacher.query.filter_by(organization_id=school.id).count() == 0
    good = "Фамилия;Имя;Отчество\nПетрова;Анна;Сергеевна\n".encode("cp1251")
    page = client.post_form("/school/teachers/import",
                            {"file": (io.BytesIO(good), "педагоги.csv")},
                            content_type="multipart/form-data",
                            follow_redirects=True).get_data(as_text=True)
    assert "Список педагогов загружен —" in page
    teacher = Teacher.query.filter_by(organization_id=school.id).one()
    assert (teacher.last_name, teacher.middle_name) == ("Петрова", "Сергеевна")
