"""POST /api/v1/events/{id}/scans: every outcome of docs/api.md, idempotency, auth, clock checks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models import (
    EventStatus,
    Registration,
    RegistrationStatus,
    Role,
    Scan,
    ScanOutcome,
    TicketStatus,
    now_utc,
)
from tests.factories import bearer


@pytest.fixture
def door(factory, db):
    """An event whose check-in window is open, its organizer's token and a school's students."""
    organizer = factory.create_user(Role.ORGANIZER)
    event = factory.create_event(organizer.organization, starts_at=now_utc() + timedelta(hours=1))
    school = factory.create_org(short_name="СОШ № 7")
    student = factory.create_student(school, last_name="Смирнова", first_name="Анна",
                                     class_name="9А", grade=9)
    ticket = factory.create_ticket(event, student)
    token = factory.create_token(organizer)
    db.session.commit()
    return {"organizer": organizer, "event": event, "school": school, "student": student,
            "ticket": ticket, "token": token, "headers": bearer(token)}


def scan(client, door, code, **extra):
    return client.post(f"/api/v1/events/{door['event'].id}/scans",
                       json={"code": code, **extra}, headers=door["headers"])


def scans_of(event):
    return Scan.query.filter_by(event_id=event.id).order_by(Scan.id).all()


def test_ok_checks_in_and_records_everything(client, door):
    response = scan(client, door, door["ticket"].token, device_label="Телефон 1",
                    gate="Главный вход")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["attendee"] == {"name": "Смирнова Анна", "kind": "student",
                                "organization": "СОШ № 7", "class_name": "9А",
                                "needs_assistance": False}
    assert body["checkin"]["id"] == body["scan_id"]
    assert body["flag"] is None
    # Cyrillic goes out as UTF-8, not as \uXXXX escapes three times its size.
    assert "Смирнова Анна".encode() in response.data and b"\\u04" not in response.data
    [row] = scans_of(door["event"])
    assert row.outcome == ScanOutcome.OK and row.ticket_id == door["ticket"].id
    assert row.user_id == door["organizer"].id and row.scanner_link_id is None
    assert row.device_label == "Телефон 1" and row.gate == "Главный вход"
    assert row.raw_code == door["ticket"].token
    assert row.received_at is not None and row.scanned_at is not None
    assert row.forced is False


def test_ticket_url_and_short_code_are_accepted(client, door, factory, db):
    other = factory.create_ticket(door["event"], factory.create_student(door["school"]))
    db.session.commit()
    url = f"http://profroute.test/t/{door['ticket'].token}?utm=x"
    assert scan(client, door, url).get_json()["status"] == "ok"
    typed = other.short_code.lower()[:4] + " " + other.short_code.lower()[4:]
    assert scan(client, door, typed).get_json()["status"] == "ok"


def test_already_checked_in_says_when_and_by_whom(client, door):
    first = scan(client, door, door["ticket"].token).get_json()
    second = scan(client, door, door["ticket"].token).get_json()
    assert second["status"] == "already_checked_in"
    assert second["first_checkin"]["at"] == first["checkin"]["at"]
    assert second["first_checkin"]["id"] == first["scan_id"]
    assert door["organizer"].full_name in second["first_checkin"]["by"]
    assert second["checkin"] is None
    outcomes = [s.outcome for s in scans_of(door["event"])]
    assert outcomes == [ScanOutcome.OK, ScanOutcome.ALREADY_CHECKED_IN]


def test_wrong_event_names_the_ticket_event(client, door, factory, db):
    other_event = factory.create_event(title="День открытых дверей ТПУ")
    other_ticket = factory.create_ticket(other_event, factory.create_student(door["school"]))
    db.session.commit()
    body = scan(client, door, other_ticket.token).get_json()
    assert body["status"] == "wrong_event"
    assert body["ticket_event"]["id"] == other_event.id
    assert body["ticket_event"]["title"] == "День открытых дверей ТПУ"
    assert body["attendee"] is None  # another organizer's registrant: no name
    [row] = scans_of(door["event"])
    assert row.outcome == ScanOutcome.WRONG_EVENT and row.ticket_id == other_ticket.id


def test_cancelled_ticket(client, door, db):
    door["ticket"].status = TicketStatus.CANCELLED
    door["ticket"].cancelled_at = now_utc()
    db.session.commit()
    body = scan(client, door, door["ticket"].token).get_json()
    assert body["status"] == "cancelled" and body["attendee"]["name"] == "Смирнова Анна"
    assert body["flag"] is None
    assert scans_of(door["event"])[0].outcome == ScanOutcome.CANCELLED


def test_cancelled_registration(client, door, factory, db):
    registration = Registration(event_id=door["event"].id, organization_id=door["school"].id,
                                status=RegistrationStatus.CANCELLED)
    db.session.add(registration)
    db.session.flush()
    ticket = factory.create_ticket(door["event"], factory.create_student(door["school"]),
                                   registration=registration)
    db.session.commit()
    assert scan(client, door, ticket.token).get_json()["status"] == "cancelled"


def test_waitlisted_ticket(client, door, db):
    door["ticket"].status = TicketStatus.WAITLISTED
    db.session.commit()
    body = scan(client, door, door["ticket"].token).get_json()
    assert body["status"] == "waitlisted"
    assert scans_of(door["event"])[0].outcome == ScanOutcome.WAITLISTED


def test_not_open_outside_window_and_organizer_may_force(client, door, db):
    event = door["event"]
    event.starts_at = now_utc() + timedelta(days=2)
    event.ends_at = event.starts_at + timedelta(hours=2)
    db.session.commit()
    body = scan(client, door, door["ticket"].token).get_json()
    assert body["status"] == "not_open"
    assert body["checkin_window"]["opens_at"] == (event.starts_at - timedelta(hours=2)).isoformat()
    forced = scan(client, door, door["ticket"].token, force=True).get_json()
    assert forced["status"] == "ok" and forced["forced"] is True
    rows = scans_of(event)
    assert [r.outcome for r in rows] == [ScanOutcome.NOT_OPEN, ScanOutcome.OK]
    assert rows[1].forced is True


def test_custom_window_is_respected(client, door, db):
    event = door["event"]
    event.checkin_opens_at = now_utc() - timedelta(hours=5)
    event.checkin_closes_at = now_utc() - timedelta(hours=4)
    db.session.commit()
    assert scan(client, door, door["ticket"].token).get_json()["status"] == "not_open"


def test_invalid_code_is_recorded(client, door):
    body = scan(client, door, "not-a-ticket-at-all").get_json()
    assert body["status"] == "invalid" and body["attendee"] is None
    [row] = scans_of(door["event"])
    assert row.outcome == ScanOutcome.INVALID and row.ticket_id is None
    assert row.raw_code == "not-a-ticket-at-all"


def test_group_qr_scanned_as_ticket_points_to_the_group(client, door, db):
    registration = Registration(event_id=door["event"].id, organization_id=door["school"].id)
    db.session.add(registration)
    db.session.commit()
    body = scan(client, door, f"http://profroute.test/g/{registration.group_code}").get_json()
    assert body["status"] == "invalid" and body["group_code"] == registration.group_code


def test_needs_assistance_without_ovz_word(client, door, factory, db):
    student = factory.create_student(door["school"], ovz=True)
    ticket = factory.create_ticket(door["event"], student)
    db.session.commit()
    response = scan(client, door, ticket.token)
    assert response.get_json()["attendee"]["needs_assistance"] is True
    assert "ovz" not in response.get_data(as_text=True).lower()


def test_repeated_client_scan_id_returns_first_answer_and_records_nothing(client, door):
    first = scan(client, door, door["ticket"].token, client_scan_id="c-1").get_json()
    again = scan(client, door, door["ticket"].token, client_scan_id="c-1").get_json()
    assert again == first and again["status"] == "ok"
    assert len(scans_of(door["event"])) == 1


def test_repeated_client_scan_id_of_failed_scan(client, door):
    first = scan(client, door, "garbage", client_scan_id="c-2").get_json()
    again = scan(client, door, "garbage", client_scan_id="c-2").get_json()
    assert again == first and len(scans_of(door["event"])) == 1


def test_client_scan_id_of_another_event_is_refused(client, door, factory, db):
    other = factory.create_event(door["organizer"].organization,
                                 starts_at=now_utc() + timedelta(hours=1))
    db.session.commit()
    scan(client, door, door["ticket"].token, client_scan_id="c-3")
    response = client.post(f"/api/v1/events/{other.id}/scans",
                           json={"code": "x", "client_scan_id": "c-3"}, headers=door["headers"])
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "client_scan_id_conflict"
    assert scans_of(other) == []


def test_future_phone_time_is_replaced_and_flagged(client, door):
    future = (now_utc() + timedelta(hours=3)).isoformat()
    before = now_utc()
    body = scan(client, door, door["ticket"].token, scanned_at=future).get_json()
    assert body["status"] == "ok" and body["flag"] == "clock_skew"
    [row] = scans_of(door["event"])
    assert before <= row.scanned_at <= now_utc()
    assert row.flag == "clock_skew"


def test_phone_time_long_before_event_is_replaced_and_flagged(client, door):
    body = scan(client, door, door["ticket"].token,
                scanned_at="2020-01-01T10:00:00+07:00").get_json()
    assert body["status"] == "ok" and body["flag"] == "clock_skew"
    assert scans_of(door["event"])[0].scanned_at.year == now_utc().year


def test_scan_days_before_the_event_with_a_right_clock_is_not_open_not_skewed(
        client, door, factory, db):
    """Issue #20 item 5: a ticket scanned days before its event by a phone whose clock agrees
    with the server's is early (check-in not open), not a wrong phone clock."""
    later = factory.create_event(door["organizer"].organization,
                                 starts_at=now_utc() + timedelta(days=3))
    ticket = factory.create_ticket(later, factory.create_student(door["school"]))
    db.session.commit()
    at = now_utc()
    response = client.post(f"/api/v1/events/{later.id}/scans",
                           json={"code": ticket.token, "scanned_at": at.isoformat()},
                           headers=door["headers"])
    body = response.get_json()
    assert body["status"] == "not_open" and body["flag"] is None
    assert body["checkin_window"]["opens_at"] == later.effective_checkin_opens_at.isoformat()
    [row] = scans_of(later)
    assert row.flag is None and row.scanned_at == at


def test_plausible_phone_time_is_kept(client, door):
    at = now_utc() - timedelta(minutes=10)
    body = scan(client, door, door["ticket"].token, scanned_at=at.isoformat()).get_json()
    assert body["flag"] is None
    assert scans_of(door["event"])[0].scanned_at == at.replace(microsecond=at.microsecond)


def test_phone_time_decides_the_window(client, door, db):
    """An offline scan made during the event counts even if it arrives after the end."""
    event = door["event"]
    event.starts_at = now_utc() - timedelta(hours=3)
    event.ends_at = now_utc() - timedelta(hours=1)
    db.session.commit()
    during = (now_utc() - timedelta(hours=2)).isoformat()
    assert scan(client, door, door["ticket"].token, scanned_at=during).get_json()["status"] == "ok"


@pytest.mark.parametrize("body, field", [
    ({}, "code"),
    ({"code": ""}, "code"),
    ({"code": 12}, "code"),
    ({"code": "x", "scanned_at": "вчера"}, "scanned_at"),
    ({"code": "x", "scanned_at": "2025-10-01T10:00:00"}, "scanned_at"),
    ({"code": "x", "client_scan_id": "x" * 65}, "client_scan_id"),
    ({"code": "x", "force": "yes"}, "force"),
])
def test_malformed_body_is_422_and_records_nothing(client, door, body, field):
    response = client.post(f"/api/v1/events/{door['event'].id}/scans", json=body,
                           headers=door["headers"])
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert scans_of(door["event"]) == []


def test_not_json_is_400(client, door):
    response = client.post(f"/api/v1/events/{door['event'].id}/scans", data="code=x",
                           headers=door["headers"])
    assert response.status_code == 400 and scans_of(door["event"]) == []


def test_anonymous_is_401(client, door):
    response = client.post(f"/api/v1/events/{door['event'].id}/scans",
                           json={"code": door["ticket"].token})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert scans_of(door["event"]) == []


@pytest.mark.parametrize("role", [Role.ORGANIZER, Role.COORDINATOR])
def test_other_organizations_users_are_403(client, door, factory, db, role):
    outsider = factory.create_token(factory.create_user(role))
    db.session.commit()
    response = client.post(f"/api/v1/events/{door['event'].id}/scans",
                           json={"code": door["ticket"].token}, headers=bearer(outsider))
    assert response.status_code == 403 and scans_of(door["event"]) == []


def test_admin_may_scan(client, door, factory, db):
    admin_token = factory.create_token(factory.create_user(Role.ADMIN))
    db.session.commit()
    response = client.post(f"/api/v1/events/{door['event'].id}/scans",
                           json={"code": door["ticket"].token}, headers=bearer(admin_token))
    assert response.get_json()["status"] == "ok"


def test_unknown_event_is_404(client, door):
    response = client.post("/api/v1/events/999999/scans", json={"code": "x"},
                           headers=door["headers"])
    assert response.status_code == 404


def test_browser_session_needs_csrf_header(client, door, auth, db):
    auth.login(door["organizer"].email)
    url = f"/api/v1/events/{door['event'].id}/scans"
    refused = client.post(url, json={"code": door["ticket"].token})
    assert refused.status_code == 400 and scans_of(door["event"]) == []
    token = client.csrf_token()
    accepted = client.post(url, json={"code": door["ticket"].token},
                           headers={"X-CSRFToken": token})
    assert accepted.get_json()["status"] == "ok"


def test_cancelled_event_answers_cancelled(client, door, db):
    door["event"].status = EventStatus.CANCELLED
    door["event"].cancel_reason = "Карантин"
    db.session.commit()
    assert scan(client, door, door["ticket"].token).get_json()["status"] == "cancelled"


def test_parent_and_teacher_attendees(client, door, factory, db):
    from models import ParentSignup

    teacher = factory.create_teacher(door["school"], last_name="Петрова", first_name="Анна",
                                     middle_name="Сергеевна")
    t_ticket = factory.create_ticket(door["event"], teacher)
    signup = ParentSignup(event_id=door["event"].id, name="Ольга Смирнова", phone="+79001234567",
                          child_organization_id=door["school"].id, consent_version="1",
                          consent_at=now_utc(), manage_secret_hash="a" * 64)
    db.session.add(signup)
    db.session.flush()
    p_ticket = factory.create_ticket(door["event"], signup)
    db.session.commit()
    teacher_body = scan(client, door, t_ticket.token).get_json()
    assert teacher_body["attendee"] == {"name": "Петрова Анна Сергеевна", "kind": "teacher",
                                        "organization": "СОШ № 7", "class_name": None,
                                        "needs_assistance": False}
    parent_body = scan(client, door, p_ticket.token).get_json()
    assert parent_body["attendee"]["kind"] == "parent"
    assert parent_body["attendee"]["name"] == "Ольга Смирнова"


def test_each_scan_records_who_the_ticket_is_for(client, door, factory, db):
    """Reports count check-ins from the scan rows alone: every scan of a ticket copies the
    ticket's student or teacher and their organization; parents and unknown codes get none.
    The door's INSERT fills them itself (no ORM hook on that path)."""
    from checkin.door.links import create_scanner_link

    teacher_school = factory.create_org(short_name="Гимназия № 1")
    teacher = factory.create_teacher(teacher_school)
    teacher_ticket = factory.create_ticket(door["event"], teacher)
    other_event = factory.create_event(door["organizer"].organization,
                                       starts_at=now_utc() + timedelta(hours=1))
    stranger = factory.create_student(teacher_school)
    wrong_ticket = factory.create_ticket(other_event, stranger)
    _link, link_token = create_scanner_link(door["organizer"], door["event"], label="Волонтёр")
    db.session.commit()
    scan(client, door, door["ticket"].token)
    client.post(f"/api/v1/events/{door['event'].id}/scans", json={"code": teacher_ticket.token},
                headers=bearer(link_token))
    scan(client, door, wrong_ticket.token)
    scan(client, door, "no-such-code")
    scan(client, door, door["ticket"].token)  # a repeat
    facts = [(s.outcome, s.student_id, s.teacher_id, s.organization_id)
             for s in scans_of(door["event"])]
    assert facts == [
        (ScanOutcome.OK, door["student"].id, None, door["school"].id),
        (ScanOutcome.OK, None, teacher.id, teacher_school.id),
        (ScanOutcome.WRONG_EVENT, stranger.id, None, teacher_school.id),
        (ScanOutcome.INVALID, None, None, None),
        (ScanOutcome.ALREADY_CHECKED_IN, door["student"].id, None, door["school"].id),
    ]
