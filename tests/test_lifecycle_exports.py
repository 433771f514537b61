"""Every export that carries ОВЗ information (the flag, or «нужна помощь» derived from it) is
written to the audit log: who took it, when, what and how many rows — never the data itself."""

from __future__ import annotations

from datetime import timedelta

import pytest

from checkin.door.links import create_scanner_link
from models import AuditLog, Role, now_utc
from tests.factories import bearer


@pytest.fixture
def setup(factory, db):
    school = factory.create_org()
    coordinator = factory.create_user(Role.COORDINATOR, school)
    organizer = factory.create_user(Role.ORGANIZER)
    event = factory.create_event(organizer.organization, starts_at=now_utc() + timedelta(hours=1))
    students = [factory.create_student(school, last_name="Ёлкина", ovz=True),
                factory.create_student(school, last_name="Андреев")]
    for student in students:
        factory.create_ticket(event, student)
    link, link_token = create_scanner_link(organizer, event, label="Волонтёр", gate="Вход А")
    token = factory.create_token(coordinator)
    db.session.commit()
    return {"school": school, "coordinator": coordinator, "organizer": organizer,
            "event": event, "link": link, "link_headers": bearer(link_token), "token": token}


def exports():
    return AuditLog.query.filter(AuditLog.action.like("export.%")).order_by(AuditLog.id).all()


def only_export(action):
    entries = exports()
    assert [e.action for e in entries] == [action]
    return entries[0]


def test_roster_export_is_audited(client, auth, setup, db):
    auth.login(setup["coordinator"].email)
    response = client.get("/school/students.xlsx")
    assert response.status_code == 200 and response.data[:2] == b"PK"
    db.session.rollback()
    entry = only_export("export.roster_students")
    assert entry.user_id == setup["coordinator"].id
    assert (entry.object_type, entry.object_id) == ("organizations", str(setup["school"].id))
    assert entry.details == {"ovz": True, "rows": 2, "format": "xlsx"}
    assert "Ёлкина" not in str(entry.details)


def test_roster_read_through_the_api_is_audited(client, setup, db):
    response = client.get(f"/api/v1/organizations/{setup['school'].id}/students",
                          headers=bearer(setup["token"]))
    assert response.status_code == 200
    assert [s["ovz"] for s in response.get_json()["students"]].count(True) == 1
    db.session.rollback()
    entry = only_export("export.roster_students")
    assert entry.user_id == setup["coordinator"].id
    assert entry.details == {"ovz": True, "rows": 2, "format": "api"}


def test_door_list_export_is_audited(client, auth, setup, db):
    auth.login(setup["organizer"].email)
    response = client.get(f"/organizer/events/{setup['event'].id}/door-list.xlsx")
    assert response.status_code == 200 and response.data[:2] == b"PK"
    db.session.rollback()
    entry = only_export("export.door_list")
    assert entry.user_id == setup["organizer"].id
    assert (entry.object_type, entry.object_id) == ("events", str(setup["event"].id))


def test_scanner_offline_data_download_is_audited(client, setup, db):
    response = client.get(f"/api/v1/events/{setup['event'].id}/scanner-data",
                          headers=setup["link_headers"])
    assert response.status_code == 200
    assert len(response.get_json()["tickets"]) == 2
    db.session.rollback()
    entry = only_export("export.scanner_data")
    assert entry.user_id is None  # a volunteer's link, no account
    assert entry.details == {"ovz": True, "tickets": 2, "scanner_link_id": setup["link"].id}
    assert (entry.object_type, entry.object_id) == ("events", str(setup["event"].id))


def test_a_refused_export_records_nothing(client, auth, setup, factory, db):
    stranger = factory.create_user(Role.ORGANIZER)
    db.session.commit()
    auth.login(stranger.email)
    assert client.get(f"/organizer/events/{setup['event'].id}/door-list.xlsx").status_code \
        == 403
    db.session.rollback()
    assert exports() == []
