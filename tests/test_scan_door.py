"""The door's other endpoints and pages: offline data, groups, search, walk-ins, undo, live."""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import timedelta

import pytest

from checkin.door.links import create_scanner_link
from models import (
    AuditLog,
    ParentSignup,
    Registration,
    Role,
    Scan,
    ScanOutcome,
    Student,
    Teacher,
    Ticket,
    TicketStatus,
    now_utc,
)
from tests.factories import bearer


def h16(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@pytest.fixture
def door(factory, db):
    organizer = factory.create_user(Role.ORGANIZER)
    event = factory.create_event(organizer.organization, starts_at=now_utc() + timedelta(hours=1),
                                 capacity=10)
    school = factory.create_org(short_name="СОШ № 7")
    other_school = factory.create_org(short_name="Гимназия № 1")
    outsider_school = factory.create_org(short_name="Лицей № 9")
    registration = Registration(event_id=event.id, organization_id=school.id)
    db.session.add(registration)
    db.session.flush()
    s1 = factory.create_student(school, last_name="Ёлкина", first_name="Вера", class_name="8Б",
                                grade=8, ovz=True)
    s2 = factory.create_student(school, last_name="Андреев", first_name="Илья", class_name="8Б",
                                grade=8)
    teacher = factory.create_teacher(school, last_name="Кузнецова", first_name="Ольга",
                                     middle_name=None)
    t1 = factory.create_ticket(event, s1, registration=registration)
    t2 = factory.create_ticket(event, s2, registration=registration)
    t3 = factory.create_ticket(event, teacher, registration=registration)
    s3 = factory.create_student(other_school, last_name="Борисов", first_name="Глеб",
                                class_name="10А", grade=10)
    t4 = factory.create_ticket(event, s3, status=TicketStatus.WAITLISTED)
    token = factory.create_token(organizer)
    link, link_token = create_scanner_link(organizer, event, label="Волонтёр", gate="Вход А")
    db.session.commit()
    return {"organizer": organizer, "event": event, "school": school,
            "other_school": other_school, "registration": registration,
            "outsider_school": outsider_school,
            "tickets": [t1, t2, t3, t4], "headers": bearer(token), "link": link,
            "link_headers": bearer(link_token)}


def api(client, door, method, path, **kwargs):
    kwargs.setdefault("headers", door["headers"])
    return getattr(client, method)(f"/api/v1/events/{door['event'].id}/{path}", **kwargs)


# --------------------------------------------------------------------------- scanner-data

def test_scanner_data_shape_and_hashes(client, door):
    t1, t2, t3, t4 = door["tickets"]
    api(client, door, "post", "scans", json={"code": t2.token})
    response = api(client, door, "get", "scanner-data", headers=door["link_headers"])
    assert response.status_code == 200
    data = response.get_json()
    assert data["event"]["id"] == door["event"].id
    assert data["valid_until"] == door["link"].expires_at.isoformat()
    assert data["event"]["checkin_opens_at"] == (
        door["event"].starts_at - timedelta(hours=2)).isoformat()
    schools = [name for _id, name in data["schools"]]
    assert schools[:2] == ["СОШ № 7", "Гимназия № 1"]  # the schools of the tickets first
    # then every other active school, for walk-ins of pupils from schools not registered yet
    outsider = door["outsider_school"]
    assert [outsider.id, "Лицей № 9"] in data["schools"]
    rows = {row[0]: row for row in data["tickets"]}
    assert set(rows) == {h16(t.token) for t in door["tickets"]}
    r1 = rows[h16(t1.token)]
    assert r1 == [h16(t1.token), "confirmed", "Ёлкина Вера", "8Б", 0, True, "student", None,
                  h16(t1.short_code.upper())]
    assert rows[h16(t2.token)][7] is not None
    assert rows[h16(t3.token)][6] == "teacher" and rows[h16(t3.token)][3] is None
    assert rows[h16(t4.token)][1] == "waitlisted" and rows[h16(t4.token)][4] == 1
    [group] = data["groups"]
    assert group[0] == h16(door["registration"].group_code) and group[1] == 0
    assert sorted(data["tickets"][i][0] for i in group[2]) == sorted(
        h16(t.token) for t in (t1, t2, t3))
    text = response.get_data(as_text=True)
    for t in door["tickets"]:
        assert t.token not in text and t.short_code not in text
    assert door["registration"].group_code not in text
    assert "ovz" not in text.lower()


def test_scanner_data_is_gzipped_when_accepted(client, door):
    response = api(client, door, "get", "scanner-data",
                   headers={**door["headers"], "Accept-Encoding": "gzip, deflate"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(gzip.decompress(response.get_data()))
    assert len(data["tickets"]) == 4
    plain = api(client, door, "get", "scanner-data")
    assert "Content-Encoding" not in plain.headers


def test_scanner_data_needs_access(client, door, factory, db):
    assert api(client, door, "get", "scanner-data", headers={}).status_code == 401
    outsider = factory.create_token(factory.create_user(Role.ORGANIZER))
    db.session.commit()
    assert api(client, door, "get", "scanner-data",
               headers=bearer(outsider)).status_code == 403


# --------------------------------------------------------------------------- groups, search

def test_group_list_by_code_or_url(client, door):
    code = door["registration"].group_code
    body = api(client, door, "get", f"groups/{code}").get_json()
    assert body["group"]["organization"] == "СОШ № 7" and body["group"]["size"] == 3
    names = [t["name"] for t in body["tickets"]]
    assert names[0] == "Кузнецова Ольга"  # the teacher first
    assert set(names) == {"Кузнецова Ольга", "Ёлкина Вера", "Андреев Илья"}
    vera = next(t for t in body["tickets"] if t["name"] == "Ёлкина Вера")
    assert vera["needs_assistance"] is True and vera["checked_in"] is False
    assert vera["code"] == door["tickets"][0].token
    from urllib.parse import quote

    by_url = api(client, door, "get", "groups/" + quote(f"http://profroute.test/g/{code}",
                                                        safe=""))
    assert by_url.status_code in (200, 404)  # a slash-encoded path may not reach the route
    assert api(client, door, "get", "groups/unknown").status_code == 404


def test_group_checkin_all_then_list_shows_it(client, door):
    body = api(client, door, "get", f"groups/{door['registration'].group_code}").get_json()
    codes = [t["code"] for t in body["tickets"] if t["name"] != "Андреев Илья"]
    for code in codes:
        assert api(client, door, "post", "scans", json={"code": code}).get_json()["status"] == "ok"
    again = api(client, door, "get", f"groups/{door['registration'].group_code}").get_json()
    checked = {t["name"]: t["checked_in"] for t in again["tickets"]}
    assert checked == {"Кузнецова Ольга": True, "Ёлкина Вера": True, "Андреев Илья": False}


def test_group_of_another_event_is_404(client, door, factory, db):
    other = factory.create_event(door["organizer"].organization)
    reg = Registration(event_id=other.id, organization_id=door["school"].id)
    db.session.add(reg)
    db.session.commit()
    assert api(client, door, "get", f"groups/{reg.group_code}").status_code == 404


@pytest.mark.parametrize("query, expected", [
    ("ёлк", ["Ёлкина Вера"]),
    ("ЁЛКИНА", ["Ёлкина Вера"]),
    ("андр", ["Андреев Илья"]),
    ("гимназ", ["Борисов Глеб"]),
    ("сош № 7", ["Ёлкина Вера", "Андреев Илья", "Кузнецова Ольга"]),
    ("илья", ["Андреев Илья"]),
    ("zz", []),
])
def test_search(client, door, query, expected):
    response = api(client, door, "get", "tickets", query_string={"q": query})
    assert response.status_code == 200
    found = response.get_json()["tickets"]
    assert sorted(t["name"] for t in found) == sorted(expected)
    for t in found:
        assert "organization" in t and "code" in t


def test_search_needs_two_letters(client, door):
    response = api(client, door, "get", "tickets", query_string={"q": "a"})
    assert response.status_code == 422 and "q" in response.get_json()["error"]["fields"]


def test_search_limit_20(client, door, factory, db):
    for n in range(25):
        factory.create_ticket(door["event"], factory.create_student(
            door["school"], last_name=f"Смирнов{n}"))
    db.session.commit()
    found = api(client, door, "get", "tickets", query_string={"q": "смирнов"}).get_json()
    assert len(found["tickets"]) == 20


# --------------------------------------------------------------------------- walk-ins

def test_walk_in_schools_fit_the_audience_in_number_order(client, door, factory, db):
    """The offline data offers walk-ins of a school students' event from schools only, «№ 2»
    before «№ 10» (not kindergartens); the door refuses a kindergarten pupil there with a
    clear message, and still lets a teacher from one in."""
    from models import OrgKind

    for short in ("СОШ № 10", "СОШ № 2"):
        factory.create_org(short_name=short)
    kindergarten = factory.create_org(short_name="Детский сад № 5", kind=OrgKind.PRESCHOOL)
    db.session.commit()
    data = api(client, door, "get", "scanner-data").get_json()
    offered = [name for _id, name in data["schools"][2:]]
    assert "Детский сад № 5" not in offered
    assert offered.index("СОШ № 2") < offered.index("СОШ № 10")
    refused = api(client, door, "post", "walk-ins", json={
        "kind": "student", "organization_id": kindergarten.id, "last_name": "Белова",
        "first_name": "Ася", "class_name": "7Б"})
    assert refused.status_code == 422
    assert refused.get_json()["error"]["fields"]["organization_id"] == (
        "Мероприятие для школьников: выберите школу.")
    teacher = api(client, door, "post", "walk-ins", json={
        "kind": "teacher", "organization_id": kindergarten.id, "last_name": "Белова",
        "first_name": "Анна"})
    assert teacher.status_code == 201 and teacher.get_json()["status"] == "ok"



def test_walk_in_student_is_added_to_roster_and_checked_in(client, door):
    response = api(client, door, "post", "walk-ins", json={
        "kind": "student", "organization_id": door["other_school"].id,
        "last_name": "Новикова", "first_name": "Дарья", "class_name": "9 в"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["attendee"]["name"] == "Новикова Дарья"
    assert body["attendee"]["class_name"] == "9В"
    student = Student.query.filter_by(last_name="Новикова").one()
    assert student.organization_id == door["other_school"].id and student.grade == 9
    ticket = Ticket.query.filter_by(student_id=student.id).one()
    assert ticket.status == TicketStatus.CONFIRMED
    assert Scan.query.filter_by(ticket_id=ticket.id, outcome=ScanOutcome.OK).count() == 1
    assert AuditLog.query.filter_by(action="checkin.walk_in").count() == 1


def test_walk_in_known_student_reuses_roster_row(client, door, factory, db):
    known = factory.create_student(door["other_school"], last_name="Орлов", first_name="Иван",
                                   class_name="7А", grade=7)
    db.session.commit()
    api(client, door, "post", "walk-ins", json={
        "kind": "student", "organization_id": door["other_school"].id,
        "last_name": "орлов", "first_name": "иван", "class_name": "7а"})
    assert Student.query.filter_by(last_name="Орлов").count() == 1
    assert Ticket.query.filter_by(student_id=known.id).count() == 1


def test_walk_in_teacher_and_parent(client, door):
    teacher = api(client, door, "post", "walk-ins", json={
        "kind": "teacher", "organization_id": door["school"].id, "last_name": "Белова",
        "first_name": "Нина"})
    assert teacher.status_code == 201 and teacher.get_json()["attendee"]["kind"] == "teacher"
    assert Teacher.query.filter_by(last_name="Белова").count() == 1
    # A parent is registered at once by a scanner link too (their own sign-up, no roster).
    parent = api(client, door, "post", "walk-ins", json={
        "kind": "parent", "name": "Мария Белова", "phone": "8 (913) 800-00-00",
        "organization_id": door["school"].id}, headers=door["link_headers"])
    assert parent.status_code == 201
    signup = ParentSignup.query.filter_by(name="Мария Белова").one()
    assert signup.phone == "+79138000000" and signup.consent_version == "door"
    scan = Scan.query.filter_by(ticket_id=Ticket.query.filter_by(
        parent_signup_id=signup.id).one().id).one()
    assert scan.outcome == ScanOutcome.OK


def test_walk_in_parent_without_phone(client, door):
    """Issue #20 item 3: the form says «Телефон (необязательно)», and so does the API."""
    response = api(client, door, "post", "walk-ins", json={"kind": "parent",
                                                           "name": "Ольга Петрова"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["status"] == "ok"
    signup = ParentSignup.query.filter_by(name="Ольга Петрова").one()
    assert signup.phone is None
    empty = api(client, door, "post", "walk-ins", json={"kind": "parent", "name": "Анна Ли",
                                                        "phone": "  "})
    assert empty.status_code == 201
    missing = api(client, door, "post", "walk-ins", json={"kind": "parent", "phone": "89138000000"})
    assert missing.status_code == 422
    assert missing.get_json()["error"]["fields"] == {"name": "Укажите фамилию и имя родителя."}


def test_walk_in_messages_match_the_scanner_form(client, door):
    """Issue #20 item 3: the API says what the form's labels and its own checks say."""
    student = api(client, door, "post", "walk-ins", json={"kind": "student"}).get_json()
    assert student["error"]["fields"] == {
        "organization_id": "Выберите школу.", "last_name": "Укажите фамилию.",
        "first_name": "Укажите имя.", "class_name": "Укажите класс, например 7Б."}
    parent = api(client, door, "post", "walk-ins", json={"kind": "parent"}).get_json()
    assert parent["error"]["fields"] == {"name": "Укажите фамилию и имя родителя."}


def test_walk_in_when_full_writes_nothing(client, door, db):
    door["event"].capacity = 3  # three confirmed tickets already
    db.session.commit()
    before = (Student.query.count(), Ticket.query.count(), Scan.query.count())
    response = api(client, door, "post", "walk-ins", json={
        "kind": "student", "organization_id": door["other_school"].id,
        "last_name": "Лишний", "first_name": "Пётр", "class_name": "5А"})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "event_full"
    assert (Student.query.count(), Ticket.query.count(), Scan.query.count()) == before


@pytest.mark.parametrize("body, fields", [
    ({}, {"kind"}),
    ({"kind": "student"}, {"organization_id", "last_name", "first_name", "class_name"}),
    ({"kind": "student", "organization_id": 999999, "last_name": "А", "first_name": "Б",
      "class_name": "5А"}, {"organization_id"}),
    ({"kind": "parent"}, {"name"}),
    ({"kind": "parent", "name": "Мама", "phone": "12"}, {"phone"}),
])
def test_walk_in_validation(client, door, body, fields):
    before = (Student.query.count(), Ticket.query.count(), Scan.query.count())
    response = api(client, door, "post", "walk-ins", json=body)
    assert response.status_code == 422
    assert fields <= set(response.get_json()["error"]["fields"])
    assert (Student.query.count(), Ticket.query.count(), Scan.query.count()) == before


def test_walk_in_bad_class_has_russian_message(client, door):
    response = api(client, door, "post", "walk-ins", json={
        "kind": "student", "organization_id": door["school"].id, "last_name": "А",
        "first_name": "Б", "class_name": "пятый"})
    assert response.status_code == 422
    assert "класс" in response.get_json()["error"]["fields"]["class_name"].lower()


def test_walk_in_outside_window(client, door, db):
    door["event"].starts_at = now_utc() + timedelta(days=3)
    door["event"].ends_at = door["event"].starts_at + timedelta(hours=2)
    db.session.commit()
    response = api(client, door, "post", "walk-ins", json={
        "kind": "teacher", "organization_id": door["school"].id, "last_name": "Белова",
        "first_name": "Нина"})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "not_open"
    assert Teacher.query.filter_by(last_name="Белова").count() == 0


def test_walk_in_retry_with_same_client_scan_id(client, door):
    body = {"kind": "teacher", "organization_id": door["school"].id, "last_name": "Белова",
            "first_name": "Нина", "client_scan_id": "walk-1"}
    first = api(client, door, "post", "walk-ins", json=body).get_json()
    again = api(client, door, "post", "walk-ins", json=body).get_json()
    assert again == first
    assert Ticket.query.filter(Ticket.teacher_id.isnot(None)).count() == 2  # fixture + Белова


# --------------------------------------------------------------------------- undo

def test_undo_with_reason_then_person_counts_as_not_checked_in(client, door):
    ticket = door["tickets"][1]
    ok = api(client, door, "post", "scans", json={"code": ticket.token}).get_json()
    response = api(client, door, "post", f"checkins/{ok['scan_id']}/undo",
                   json={"reason": "Отсканировали не тот билет"})
    assert response.status_code == 200 and response.get_json() == {"undone": True}
    scan = Scan.query.filter_by(id=ok["scan_id"]).one()
    assert scan.undone_at is not None and scan.undo_reason == "Отсканировали не тот билет"
    assert scan.undone_by_id == door["organizer"].id
    assert AuditLog.query.filter_by(action="checkin.undo").count() == 1
    assert api(client, door, "get", "live").get_json()["checked_in"] == 0
    again = api(client, door, "post", "scans", json={"code": ticket.token}).get_json()
    assert again["status"] == "ok"


def test_undoing_a_walk_in_releases_the_seat_and_leaves_the_counts(client, door, db):
    """Issue #20 item 4: an undone walk-in's seat is free again (the waiting list moves up),
    the door list no longer has them, the report counts no registration and no no-show; the
    undo stays in the log."""
    from checkin.seats.registration import confirmed_count
    from reports.queries import attendance_by_event
    from webapp.checkin_admin.door_list import door_rows

    event = door["event"]
    event.capacity = 4  # three confirmed tickets; the walk-in takes the last seat
    db.session.commit()
    before = attendance_by_event([event.id])[event.id]
    walk_in = api(client, door, "post", "walk-ins", json={
        "kind": "parent", "name": "Ирина Лисицына", "phone": "89138000001"}).get_json()
    assert walk_in["status"] == "ok" and confirmed_count(event.id) == 4
    ticket = Ticket.query.filter(Ticket.parent_signup_id.isnot(None)).one()
    assert ticket.walk_in is True
    assert any("Лисицына" in row[1] for row in door_rows(event))

    response = api(client, door, "post", f"checkins/{walk_in['scan_id']}/undo",
                   json={"reason": "Ушла, не дождавшись начала"})
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).status == TicketStatus.CANCELLED
    # the seat went to the waiting list's first ticket
    assert db.session.get(Ticket, door["tickets"][3].id).status == TicketStatus.CONFIRMED
    assert confirmed_count(event.id) == 4
    assert not any("Лисицына" in row[1] for row in door_rows(event))
    after = attendance_by_event([event.id])[event.id]
    # The event is under way: the promoted ticket is a registration for an event not yet
    # over («записано на предстоящие»), not a no-show (issue #13 item 6).
    assert (after.checked_in, after.no_show, after.upcoming) == (
        before.checked_in, before.no_show, before.upcoming + 1)
    assert after.registered == before.registered + 1  # the promoted ticket, not the walk-in
    assert AuditLog.query.filter_by(action="checkin.undo").count() == 1
    cancel = AuditLog.query.filter_by(action="ticket.cancel").one()
    assert cancel.object_id == str(ticket.id) and cancel.details["walk_in_undone"] is True
    assert api(client, door, "get", "live").get_json()["checked_in"] == 0


def test_undoing_a_registered_persons_checkin_keeps_their_ticket(client, door, db):
    ticket = door["tickets"][0]
    ok = api(client, door, "post", "scans", json={"code": ticket.token}).get_json()
    api(client, door, "post", f"checkins/{ok['scan_id']}/undo", json={"reason": "ошибка"})
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).status == TicketStatus.CONFIRMED
    assert AuditLog.query.filter_by(action="ticket.cancel").count() == 0


def test_undo_needs_reason_and_a_live_checkin(client, door):
    ok = api(client, door, "post", "scans", json={"code": door["tickets"][0].token}).get_json()
    no_reason = api(client, door, "post", f"checkins/{ok['scan_id']}/undo", json={"reason": " "})
    assert no_reason.status_code == 422
    assert Scan.query.filter_by(id=ok["scan_id"]).one().undone_at is None
    api(client, door, "post", f"checkins/{ok['scan_id']}/undo", json={"reason": "ошибка"})
    twice = api(client, door, "post", f"checkins/{ok['scan_id']}/undo", json={"reason": "ещё"})
    assert twice.status_code == 409 and twice.get_json()["error"]["code"] == "already_undone"
    bad = api(client, door, "post", "scans", json={"code": "zzz"}).get_json()
    not_checkin = api(client, door, "post", f"checkins/{bad['scan_id']}/undo",
                      json={"reason": "x"})
    assert not_checkin.status_code == 409
    assert api(client, door, "post", "checkins/999999/undo",
               json={"reason": "x"}).status_code == 404


# --------------------------------------------------------------------------- live

def test_live_counts(client, door):
    t1, t2, t3, t4 = door["tickets"]
    api(client, door, "post", "scans", json={"code": t1.token, "gate": "Вход Б"})
    api(client, door, "post", "scans", json={"code": t3.token}, headers=door["link_headers"])
    api(client, door, "post", "scans", json={"code": "мусор"})
    live = api(client, door, "get", "live").get_json()
    assert live["registered"] == 3 and live["checked_in"] == 2
    assert live["by_school"][0]["organization"] == "СОШ № 7"
    assert live["by_school"][0]["registered"] == 3 and live["by_school"][0]["checked_in"] == 2
    assert {g["gate"]: g["checked_in"] for g in live["by_gate"]} == {"Вход Б": 1, "Вход А": 1}
    assert [s["status"] for s in live["latest"]] == ["invalid", "ok", "ok"]
    assert live["latest"][1]["name"] == "Кузнецова Ольга"


# --------------------------------------------------------------------------- pages

def test_board_and_log_pages(client, door, auth):
    api(client, door, "post", "scans", json={"code": door["tickets"][0].token})
    api(client, door, "post", "scans", json={
        "code": door["tickets"][1].token,
        "scanned_at": (now_utc() + timedelta(days=1)).isoformat()})
    auth.login(door["organizer"].email)
    board = client.get(f"/organizer/events/{door['event'].id}/board").get_data(as_text=True)
    assert "Ёлкина Вера" in board and "/api/v1/events/" in board
    log = client.get(f"/organizer/events/{door['event'].id}/scans").get_data(as_text=True)
    assert "Время телефона неверно" in log and "нужна помощь" in log
    flagged = client.get(f"/organizer/events/{door['event'].id}/scans?flagged=y")
    assert flagged.get_data(as_text=True).count('id="scan-') == 1
    manage = client.get(f"/organizer/events/{door['event'].id}").get_data(as_text=True)
    assert "Отметка на входе" in manage and "Пришли <strong>2</strong>" in manage


def test_undo_from_the_log_page(client, door, auth):
    ok = api(client, door, "post", "scans", json={"code": door["tickets"][0].token}).get_json()
    auth.login(door["organizer"].email)
    url = f"/organizer/events/{door['event'].id}/scans/{ok['scan_id']}/undo"
    empty = client.post_form(url, {f"undo-{ok['scan_id']}-reason": ""})
    assert empty.status_code == 303
    assert Scan.query.filter_by(id=ok["scan_id"]).one().undone_at is None
    page = client.get(empty.headers["Location"]).get_data(as_text=True)
    assert "Укажите причину отмены отметки" in page
    done = client.post_form(url, {f"undo-{ok['scan_id']}-reason": "Ошибся билетом"})
    assert done.status_code == 303
    row = Scan.query.filter_by(id=ok["scan_id"]).one()
    assert row.undone_at is not None and row.undo_reason == "Ошибся билетом"
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Отметка Ёлкина Вера отменена" in page and "Ошибся билетом" in page
