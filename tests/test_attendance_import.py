"""Attendance imports (issue #13, item 1): a list of who attended becomes check-ins with the
source «import»; all or nothing; a re-import counts nobody twice; a withdrawal takes its people
out of the indicators."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from openpyxl import Workbook

from errors import ConflictError, PermissionDenied
from formats.spreadsheets import MAX_ROWS, ImportProblems
from models import (
    AttendanceImport,
    AuditLog,
    OrgKind,
    Role,
    Scan,
    ScanOutcome,
    ScanSource,
    Ticket,
    TicketStatus,
    db,
    now_utc,
)
from models.academic_year import academic_year_of
from reports.indicators import compute_indicators
from webapp.attendance.imports import import_attendance_file, withdraw_import

HEADER = ["Фамилия", "Имя", "Отчество", "Класс", "Идентификатор", "Школа"]


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
def scene(factory):
    """A university's event that is over; school 1 with three students (one registered) and
    a teacher; school 2 with a student; the organizer and each school's coordinator."""
    university = factory.create_org(kind=OrgKind.UNIVERSITY)
    school = factory.create_org(name="МАОУ СОШ № 2")
    other = factory.create_org(name="МАОУ СОШ № 40")
    start = now_utc() - timedelta(days=2)
    event = factory.create_event(university, starts_at=start, capacity=2)
    future = factory.create_event(university, starts_at=now_utc() + timedelta(days=3))
    ivanov = factory.create_student(school, last_name="Иванов", first_name="Пётр",
                                    middle_name="Сергеевич", class_name="7Б", grade=7)
    smirnova = factory.create_student(school, last_name="Смирнова", first_name="Алёна",
                                      class_name="7Б", grade=7, external_id="A-77")
    kim = factory.create_student(school, last_name="Ким", first_name="Олег", class_name="8А",
                                 grade=8)
    teacher = factory.create_teacher(school, last_name="Петрова", first_name="Анна",
                                     middle_name="Сергеевна")
    stranger = factory.create_student(other, last_name="Чужой", first_name="Иван",
                                      class_name="7Б", grade=7)
    ticket = factory.create_ticket(event, ivanov)
    organizer = factory.create_user(Role.ORGANIZER, university)
    coordinator = factory.create_user(Role.COORDINATOR, school)
    other_coordinator = factory.create_user(Role.COORDINATOR, other)
    db.session.commit()
    return dict(university=university, school=school, other=other, event=event, future=future,
                ivanov=ivanov, smirnova=smirnova, kim=kim, teacher=teacher, stranger=stranger,
                ticket=ticket, organizer=organizer, coordinator=coordinator,
                other_coordinator=other_coordinator)


def checkins(event) -> list[Scan]:
    return db.session.query(Scan).filter(Scan.event_id == event.id,
                                         Scan.outcome == ScanOutcome.OK,
                                         Scan.undone_at.is_(None)).all()


def counted_students(event, school) -> int:
    report = compute_indicators(academic_year_of(event.starts_at.date()))
    return report.row_for(school.id).indicators["students"].a


def state(event) -> tuple:
    """Everything an import may change, to compare before and after a refusal."""
    return (db.session.query(Scan).filter_by(event_id=event.id).count(),
            db.session.query(Ticket).filter_by(event_id=event.id).count(),
            db.session.query(AttendanceImport).count(),
            db.session.query(AuditLog).filter(AuditLog.action.like("attendance.%")).count())


SCHOOL_ROWS = [["Иванов", "Петр", "", "7 б", "", ""],          # ё folded, class normalized
               ["", "", "", "", "A-77", ""],                    # by external id
               ["ПЕТРОВА", "анна", "Сергеевна", "", "", ""]]    # a teacher: no class


def test_coordinator_import_checks_in_with_source_and_new_tickets(scene):
    data = xlsx([[c or None for c in r] for r in SCHOOL_ROWS])
    outcome = import_attendance_file(scene["coordinator"], scene["event"], "был.xlsx", data)
    db.session.commit()
    assert (outcome.checked_in, outcome.already, outcome.new_tickets) == (3, 0, 2)
    scans = checkins(scene["event"])
    assert {s.student_id for s in scans} == {scene["ivanov"].id, scene["smirnova"].id, None}
    assert {s.teacher_id for s in scans} == {scene["teacher"].id, None}
    assert {s.source for s in scans} == {ScanSource.IMPORT}
    upload = db.session.get(AttendanceImport, outcome.upload.id)
    assert {s.attendance_import_id for s in scans} == {upload.id}
    assert (upload.file_name, upload.uploaded_by_id, upload.rows) == (
        "был.xlsx", scene["coordinator"].id, 3)
    assert all(s.organization_id == scene["school"].id for s in scans)
    # New tickets are confirmed though the event had 2 seats: an import records what happened.
    live = db.session.query(Ticket).filter_by(event_id=scene["event"].id,
                                              status=TicketStatus.CONFIRMED).count()
    assert live == 3
    assert AuditLog.query.filter_by(action="attendance.import").count() == 1


def test_one_unknown_row_imports_nothing_and_names_the_row(scene):
    before = state(scene["event"])
    rows = SCHOOL_ROWS + [["Сидоров", "Игорь", "", "7Б", "", ""]]
    with pytest.raises(ImportProblems) as info:
        import_attendance_file(scene["coordinator"], scene["event"], "был.csv", csv(rows))
    db.session.rollback()
    assert [(p.row, "Сидоров" in p.message) for p in info.value.cells] == [(5, True)]
    assert state(scene["event"]) == before


def test_every_problem_in_one_pass(scene):
    rows = [["Сидоров", "Игорь", "", "7Б", "", ""],
            ["=HYPERLINK(\"x\")", "Пётр", "", "7Б", "", ""],
            ["Иванов", "", "", "семь", "", ""],
            ["Иванов", "Пётр", "", "7Б", "", ""],
            ["Иванов", "Пётр", "Сергеевич", "7Б", "", ""]]
    with pytest.raises(ImportProblems) as info:
        import_attendance_file(scene["coordinator"], scene["event"], "был.csv", csv(rows))
    problems = [(p.row, p.column) for p in info.value.cells]
    assert problems == [(2, None), (3, "Фамилия"), (4, "Имя"), (4, "Класс"), (6, None)]
    assert "формулы" in info.value.cells[1].message
    assert "строке 5" in info.value.cells[-1].message


def test_reimport_counts_nobody_twice(scene):
    data = csv(SCHOOL_ROWS, encoding="cp1251")
    import_attendance_file(scene["coordinator"], scene["event"], "был.csv", data)
    db.session.commit()
    counted = counted_students(scene["event"], scene["school"])
    before = state(scene["event"])
    again = import_attendance_file(scene["coordinator"], scene["event"], "был.csv", data)
    db.session.commit()
    assert (again.checked_in, again.already, again.new_tickets) == (0, 3, 0)
    assert again.upload is None
    assert state(scene["event"]) == before
    assert counted_students(scene["event"], scene["school"]) == counted == 2


def test_withdrawal_takes_people_out_of_indicators(scene, factory):
    factory.create_checkin(scene["ticket"])  # Иванов passed the door: stays
    db.session.commit()
    assert counted_students(scene["event"], scene["school"]) == 1
    outcome = import_attendance_file(scene["coordinator"], scene["event"], "был.csv",
                                     csv(SCHOOL_ROWS))
    db.session.commit()
    assert (outcome.checked_in, outcome.already) == (2, 1)
    assert counted_students(scene["event"], scene["school"]) == 2
    report = compute_indicators(academic_year_of(scene["event"].starts_at.date()))
    assert report.row_for(scene["school"].id).indicators["teachers"].a == 1

    withdraw_import(scene["coordinator"], outcome.upload.id, "не тот список")
    db.session.commit()
    assert counted_students(scene["event"], scene["school"]) == 1
    report = compute_indicators(academic_year_of(scene["event"].starts_at.date()))
    assert report.row_for(scene["school"].id).indicators["teachers"].a == 0
    undone = db.session.query(Scan).filter(Scan.attendance_import_id == outcome.upload.id).all()
    assert all(s.undone_at is not None and "не тот список" in s.undo_reason for s in undone)
    created = db.session.query(Ticket).filter_by(attendance_import_id=outcome.upload.id).all()
    assert len(created) == 2 and {t.status for t in created} == {TicketStatus.CANCELLED}
    assert scene["ticket"].status == TicketStatus.CONFIRMED
    assert AuditLog.query.filter_by(action="attendance.withdraw").count() == 1
    with pytest.raises(ConflictError):
        withdraw_import(scene["coordinator"], outcome.upload.id, "ещё раз")
    db.session.rollback()
    # After the withdrawal the same list may be uploaded again.
    again = import_attendance_file(scene["coordinator"], scene["event"], "был.csv",
                                   csv(SCHOOL_ROWS))
    assert (again.checked_in, again.already, again.new_tickets) == (2, 1, 2)


def test_organizer_marks_ticket_holders_only(scene):
    outcome = import_attendance_file(scene["organizer"], scene["event"], "был.csv",
                                     csv([["Иванов", "Пётр", "", "7Б", "", "МАОУ СОШ № 2"]]))
    db.session.commit()
    assert (outcome.checked_in, outcome.new_tickets) == (1, 0)
    with pytest.raises(ImportProblems) as info:
        import_attendance_file(scene["organizer"], scene["event"], "был.csv",
                               csv([["Ким", "Олег", "", "8А", "", ""]]))
    assert "среди записанных" in info.value.cells[0].message


def test_another_schools_students_are_unknown_to_a_coordinator(scene):
    before = state(scene["event"])
    with pytest.raises(ImportProblems) as info:
        import_attendance_file(scene["coordinator"], scene["event"], "был.csv",
                               csv([["Чужой", "Иван", "", "7Б", "", ""]]))
    db.session.rollback()
    assert info.value.cells[0].row == 2 and "в списке школы" in info.value.cells[0].message
    assert state(scene["event"]) == before


def test_event_to_come_is_refused_for_a_coordinator(scene):
    with pytest.raises(ConflictError) as info:
        import_attendance_file(scene["coordinator"], scene["future"], "был.csv",
                               csv(SCHOOL_ROWS))
    assert info.value.code == "event_not_over"
    assert "ещё не закончилось" in info.value.message


def test_event_of_another_organizer_is_refused(scene, factory):
    stranger = factory.create_user(Role.ORGANIZER)
    before = state(scene["event"])
    with pytest.raises(PermissionDenied):
        import_attendance_file(stranger, scene["event"], "был.csv", csv(SCHOOL_ROWS))
    db.session.rollback()
    assert state(scene["event"]) == before
    outcome = import_attendance_file(scene["coordinator"], scene["event"], "был.csv",
                                     csv(SCHOOL_ROWS))
    db.session.commit()
    with pytest.raises(PermissionDenied):
        withdraw_import(stranger, outcome.upload.id, "чужое")
    with pytest.raises(PermissionDenied):
        withdraw_import(scene["other_coordinator"], outcome.upload.id, "чужое")


def test_not_a_spreadsheet_renamed_xlsx(scene):
    with pytest.raises(ImportProblems) as info:
        import_attendance_file(scene["coordinator"], scene["event"], "был.xlsx",
                               b"%PDF-1.4 not a table")
    assert "не таблица XLSX" in info.value.cells[0].message
    # A zip that is no workbook either.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(ImportProblems):
        import_attendance_file(scene["coordinator"], scene["event"], "был.xlsx",
                               buffer.getvalue())


def test_too_many_rows(scene):
    rows = [["Иванов", "Пётр", "", "7Б", "", ""]] * 50000
    with pytest.raises(ImportProblems) as info:
        import_attendance_file(scene["coordinator"], scene["event"], "был.csv", csv(rows))
    assert f"больше {MAX_ROWS} строк" in info.value.cells[0].message


# --------------------------------------------------------------------------- pages and API

def test_organizer_page_upload_result_and_withdraw(scene, client, auth):
    auth.login(scene["organizer"].email)
    event = scene["event"]
    manage = client.get(f"/organizer/events/{event.id}").get_data(as_text=True)
    assert "Загрузить список присутствовавших" in manage
    response = client.post_form(f"/events/{event.id}/attendance", {
        "file": (io.BytesIO(csv([["Иванов", "Пётр", "", "7Б", "", ""]])), "был.csv")},
        content_type="multipart/form-data", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Отмечено: 1, уже были отмечены: 0, новых билетов: 0." in page
    assert "был.csv" in page and "Учитывается" in page
    log = client.get(f"/organizer/events/{event.id}/scans").get_data(as_text=True)
    assert "Загрузка списка присутствовавших: «был.csv»" in log
    upload = AttendanceImport.query.one()
    response = client.post_form(f"/events/{event.id}/attendance/{upload.id}/withdraw",
                                {f"withdraw-{upload.id}-reason": "список не тот"},
                                follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "отозван" in page and "список не тот" in page
    assert checkins(event) == []


def test_page_shows_row_problems_and_changes_nothing(scene, client, auth):
    auth.login(scene["coordinator"].email)
    before = state(scene["event"])
    response = client.post_form(f"/events/{scene['event'].id}/attendance", {
        "file": (io.BytesIO(csv([["Чужой", "Иван", "", "7Б", "", ""]])), "был.csv")},
        content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Файл не загружен, ничего не изменено" in page and "«Чужой Иван» (7Б)" in page
    assert state(scene["event"]) == before


def test_coordinator_sees_section_on_past_event_page_only(scene, client, auth):
    auth.login(scene["coordinator"].email)
    past = client.get(f"/events/{scene['event'].id}").get_data(as_text=True)
    assert "Загрузить список присутствовавших" in past
    future = client.get(f"/events/{scene['future'].id}").get_data(as_text=True)
    assert "Загрузить список присутствовавших" not in future
    response = client.post_form(f"/events/{scene['future'].id}/attendance", {
        "file": (io.BytesIO(csv(SCHOOL_ROWS)), "был.csv")},
        content_type="multipart/form-data")
    assert "ещё не закончилось" in response.get_data(as_text=True)
    assert state(scene["future"])[0:2] == (0, 0)


def test_access_matrix(scene, client, auth, factory):
    """Organizer of another event: 403 on the page and the upload; a coordinator withdraws
    only the school's own uploads."""
    stranger = factory.create_user(Role.ORGANIZER)
    db.session.commit()
    outcome = import_attendance_file(scene["coordinator"], scene["event"], "был.csv",
                                     csv(SCHOOL_ROWS))
    db.session.commit()
    auth.login(stranger.email)
    assert client.get(f"/events/{scene['event'].id}/attendance").status_code == 403
    response = client.post_form(f"/events/{scene['event'].id}/attendance", {
        "file": (io.BytesIO(csv(SCHOOL_ROWS)), "был.csv")}, content_type="multipart/form-data")
    assert response.status_code == 403
    auth.logout()
    auth.login(scene["other_coordinator"].email)
    page = client.get(f"/events/{scene['event'].id}/attendance").get_data(as_text=True)
    assert "был.csv" not in page  # another school's upload is not listed
    response = client.post_form(
        f"/events/{scene['event'].id}/attendance/{outcome.upload.id}/withdraw",
        {f"withdraw-{outcome.upload.id}-reason": "чужое"})
    assert response.status_code == 403
    assert db.session.get(AttendanceImport, outcome.upload.id).withdrawn_at is None
    assert len(checkins(scene["event"])) == 3


def test_template_download(scene, client, auth):
    auth.login(scene["coordinator"].email)
    response = client.get("/attendance-imports/template.xlsx")
    assert response.status_code == 200
    from openpyxl import load_workbook
    header = [c.value for c in load_workbook(io.BytesIO(response.data)).active[1]]
    assert header == HEADER


def test_api_json_rows_file_and_withdraw(scene, client, factory):
    token = factory.create_token(scene["coordinator"])
    db.session.commit()
    url = f"/api/v1/events/{scene['event'].id}/attendance-imports"
    bad = client.post(url, json={"rows": [{"last_name": "Сидоров", "first_name": "Игорь",
                                           "class_name": "7Б"}]},
                      headers=factory.bearer(token))
    assert bad.status_code == 422 and "rows[0]" in bad.get_json()["error"]["fields"]
    ok = client.post(url, json={"file_name": "журнал", "rows": [
        {"last_name": "Иванов", "first_name": "Пётр", "class_name": "7Б"}]},
        headers=factory.bearer(token))
    assert ok.status_code == 201
    assert ok.get_json() | {"id": None} == {"id": None, "rows": 1, "checked_in": 1,
                                            "already_checked_in": 0, "new_tickets": 0}
    again = client.post(url, data={"file": (io.BytesIO(csv(SCHOOL_ROWS)), "был.csv")},
                        headers=factory.bearer(token), content_type="multipart/form-data")
    assert again.status_code == 201
    assert (again.get_json()["checked_in"], again.get_json()["already_checked_in"]) == (2, 1)
    withdrawn = client.post(f"{url}/{ok.get_json()['id']}/withdraw", json={"reason": "ошибка"},
                            headers=factory.bearer(token))
    assert withdrawn.status_code == 200 and withdrawn.get_json()["withdraw_reason"] == "ошибка"
    assert len(checkins(scene["event"])) == 2
    empty = client.post(f"{url}/{again.get_json()['id']}/withdraw", json={"reason": " "},
                        headers=factory.bearer(token))
    assert empty.status_code == 422 and "reason" in empty.get_json()["error"]["fields"]
    future = client.post(f"/api/v1/events/{scene['future'].id}/attendance-imports",
                         json={"rows": [{"last_name": "Иванов", "first_name": "Пётр",
                                         "class_name": "7Б"}]}, headers=factory.bearer(token))
    assert future.status_code == 409 and future.get_json()["error"]["code"] == "event_not_over"


def test_openapi_documents_both_forms(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    post = spec["paths"]["/api/v1/events/{event_id}/attendance-imports"]["post"]
    assert set(post["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
    assert "post" in spec["paths"][
        "/api/v1/events/{event_id}/attendance-imports/{import_id}/withdraw"]


def test_api_contract_form_of_docs(scene, client, factory):
    """docs/api.md fixed ``POST /events/{id}/attendance`` and ``DELETE
    /attendance-imports/{id}`` earlier: they are the same service."""
    token = factory.create_token(scene["organizer"])
    db.session.commit()
    url = f"/api/v1/events/{scene['event'].id}/attendance"
    bad = client.post(url, json={"rows": [
        {"kind": "student", "last_name": "Иванов", "first_name": "Пётр", "class_name": "7Б"},
        {"kind": "teacher", "last_name": "Петрова", "first_name": "Анна"}]},
        headers=factory.bearer(token))
    assert bad.status_code == 422
    assert list(bad.get_json()["error"]["fields"]) == ["rows[1]"]  # no ticket: not the organizer's
    assert state(scene["event"])[0] == 0
    ok = client.post(url, json={"rows": [
        {"kind": "student", "last_name": "Иванов", "first_name": "Пётр",
         "patronymic": "Сергеевич", "class_name": "7Б",
         "organization_id": scene["school"].id}]}, headers=factory.bearer(token))
    assert ok.status_code == 201
    body = ok.get_json()
    assert (body["checked_in"], body["already"]) == (1, 0)
    gone = client.delete(f"/api/v1/attendance-imports/{body['import_id']}",
                         json={"reason": "ошибка"}, headers=factory.bearer(token))
    assert gone.status_code == 200
    assert checkins(scene["event"]) == []
