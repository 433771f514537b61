"""Class lists and outside activities (issue #13 items 2 and 3): whole classes checked in but
the absent, with the source «отметка по списку класса»; counted in the indicators but not
among the door-verified; a re-save counts nobody twice; the API as docs/api.md fixes it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from errors import PermissionDenied, ServiceError
from formats.timefmt import TOMSK
from models import (
    AuditLog,
    Event,
    OrgKind,
    Registration,
    Role,
    Scan,
    ScanOutcome,
    ScanSource,
    Ticket,
    db,
    now_utc,
)
from models.academic_year import academic_year_of
from reports.indicators import compute_indicators
from webapp.admin.audit_text import ACTION_TITLES, describe_details
from webapp.attendance.class_lists import create_activity, mark_classes


@pytest.fixture
def scene(factory):
    """School 1: 7А (3 students), 7Б (3 students), 8А (1); its lesson that has started; school
    2 with its own 7А and coordinator; a university's event school 1 registered a group for,
    and one it did not."""
    school = factory.create_org(name="МАОУ СОШ № 2")
    other = factory.create_org(name="МАОУ СОШ № 40")
    university = factory.create_org(kind=OrgKind.UNIVERSITY)
    start = now_utc() - timedelta(hours=3)
    lesson = factory.create_event(school, starts_at=start, school_internal=True,
                                  category_code="school_internal", title="Россия — мои горизонты")
    a = [factory.create_student(school, class_name="7А", grade=7) for _ in range(3)]
    b = [factory.create_student(school, class_name="7Б", grade=7) for _ in range(3)]
    c = [factory.create_student(school, class_name="8А", grade=8)]
    gone = factory.create_student(school, class_name="7А", grade=7, active=False)
    stranger = factory.create_student(other, class_name="7А", grade=7)
    registered = factory.create_event(university, starts_at=start)
    db.session.add(Registration(event_id=registered.id, organization_id=school.id))
    foreign = factory.create_event(university, starts_at=start)
    coordinator = factory.create_user(Role.COORDINATOR, school)
    other_coordinator = factory.create_user(Role.COORDINATOR, other)
    organizer = factory.create_user(Role.ORGANIZER, university)
    admin = factory.create_user(Role.ADMIN)
    db.session.commit()
    return dict(school=school, other=other, lesson=lesson, a=a, b=b, c=c, gone=gone,
                stranger=stranger, registered=registered, foreign=foreign,
                coordinator=coordinator, other_coordinator=other_coordinator,
                organizer=organizer, admin=admin)


def checkins(event) -> list[Scan]:
    return db.session.query(Scan).filter(Scan.event_id == event.id,
                                         Scan.outcome == ScanOutcome.OK,
                                         Scan.undone_at.is_(None)).all()


def students_counted(event, school, verified_only=False) -> int:
    report = compute_indicators(academic_year_of(event.starts_at.date()),
                                verified_only=verified_only)
    return report.row_for(school.id).indicators["students"].a


def state() -> tuple:
    return (db.session.query(Scan).count(), db.session.query(Ticket).count(),
            db.session.query(AuditLog).filter_by(action="attendance.class_list").count())


def test_two_absent_the_rest_checked_in_counted_not_verified(scene):
    absent = [scene["a"][0].id, scene["b"][2].id]
    outcome = mark_classes(scene["coordinator"], scene["lesson"], ["7А", "7 б"], absent)
    db.session.commit()
    assert (outcome.classes, outcome.present, outcome.absent, outcome.checked_in) == (
        ["7А", "7Б"], 4, 2, 4)
    scans = checkins(scene["lesson"])
    expected = {s.id for s in scene["a"] + scene["b"]} - set(absent)
    assert {s.student_id for s in scans} == expected  # not 8А, not the inactive, not absent
    assert {s.source for s in scans} == {ScanSource.CLASS_LIST}
    assert all(s.organization_id == scene["school"].id for s in scans)
    assert all(s.scanned_at == scene["lesson"].starts_at for s in scans)
    assert students_counted(scene["lesson"], scene["school"]) == 4
    assert students_counted(scene["lesson"], scene["school"], verified_only=True) == 0
    assert AuditLog.query.filter_by(action="attendance.class_list").count() == 1


def test_resaving_counts_nobody_twice(scene):
    absent = [scene["a"][0].id, scene["b"][2].id]
    mark_classes(scene["coordinator"], scene["lesson"], ["7А", "7Б"], absent)
    db.session.commit()
    again = mark_classes(scene["coordinator"], scene["lesson"], ["7А", "7Б"], absent)
    db.session.commit()
    assert (again.checked_in, again.already) == (0, 4)
    assert len(checkins(scene["lesson"])) == 4
    assert db.session.query(Ticket).filter_by(event_id=scene["lesson"].id).count() == 4
    # One of the absent turns out to have been there: only they are added.
    later = mark_classes(scene["coordinator"], scene["lesson"], ["7А", "7Б"], absent[1:])
    db.session.commit()
    assert (later.checked_in, later.already) == (1, 4)
    assert students_counted(scene["lesson"], scene["school"]) == 5


def test_registered_event_uses_existing_ticket(scene, factory):
    ticket = factory.create_ticket(scene["registered"], scene["c"][0])
    db.session.commit()
    outcome = mark_classes(scene["coordinator"], scene["registered"], ["8А"], [])
    db.session.commit()
    assert outcome.checked_in == 1
    assert [s.ticket_id for s in checkins(scene["registered"])] == [ticket.id]


@pytest.mark.parametrize("classes, absent, field, words", [
    (["9В"], [], "classes", "«9В»"),
    (["7А", "непонятно"], [], "classes", "«непонятно»"),
    ([], [], "classes", "Выберите хотя бы один класс"),
    (["7А"], ["b0"], "absent_student_ids", "не из выбранных классов"),
    (["7А"], ["stranger"], "absent_student_ids", "не из выбранных классов"),
])
def test_bad_input_changes_nothing(scene, classes, absent, field, words):
    ids = [scene["b"][0].id if a == "b0" else scene["stranger"].id for a in absent]
    before = state()
    with pytest.raises(ServiceError) as err:
        mark_classes(scene["coordinator"], scene["lesson"], classes, ids)
    db.session.rollback()
    assert err.value.status == 422 and field in err.value.fields
    assert words in err.value.message
    for i in ids:
        assert str(i) in err.value.message  # the stray ids are named
    assert state() == before


def test_access(scene):
    for user in ("other_coordinator", "organizer", "admin"):
        with pytest.raises(PermissionDenied):
            mark_classes(scene[user], scene["lesson"], ["7А"], [])
        db.session.rollback()
    with pytest.raises(PermissionDenied):  # not internal, not registered by the school
        mark_classes(scene["coordinator"], scene["foreign"], ["7А"], [])
    db.session.rollback()
    assert state()[0] == 0


def test_event_to_come_is_refused(scene, factory):
    future = factory.create_event(scene["school"], school_internal=True,
                                  starts_at=now_utc() + timedelta(days=1))
    db.session.commit()
    with pytest.raises(ServiceError) as err:
        mark_classes(scene["coordinator"], future, ["7А"], [])
    assert err.value.code == "event_not_started"


def test_create_activity_is_published_internal_with_early_rule(scene):
    start = now_utc() - timedelta(days=1)
    event = create_activity(scene["coordinator"], title="Профпроба «Билет в будущее»",
                            starts_at=start, minutes=90, category="university", early=None)
    db.session.commit()
    assert event.school_internal and event.organizer_id == scene["school"].id
    assert event.status.value == "published"
    assert event.ends_at - event.starts_at == timedelta(minutes=90)
    forced = create_activity(scene["coordinator"], title="Экскурсия", starts_at=start,
                             minutes=45, category="university", early=True)
    assert forced.early is True
    with pytest.raises(ServiceError) as err:
        create_activity(scene["coordinator"], title="x", starts_at=start, minutes=0,
                        category="university", early=None)
    assert err.value.fields.get("minutes")


# --------------------------------------------------------------------------- API

def test_api_as_the_contract_says(scene, client, factory):
    token = factory.create_token(scene["coordinator"])
    other = factory.create_token(scene["other_coordinator"])
    db.session.commit()
    url = f"/api/v1/events/{scene['lesson'].id}/class-attendance"
    body = {"classes": ["7Б"], "absent_student_ids": [scene["b"][0].id]}
    assert client.post(url, json=body, headers=factory.bearer(other)).status_code == 403
    ok = client.post(url, json=body, headers=factory.bearer(token))
    assert ok.status_code == 201 and ok.get_json() == {"checked_in": 2}
    again = client.post(url, json=body, headers=factory.bearer(token))
    assert again.status_code == 201 and again.get_json() == {"checked_in": 0}
    stray = client.post(url, json={"classes": ["7Б"], "absent_student_ids": [scene["a"][0].id]},
                        headers=factory.bearer(token))
    assert stray.status_code == 422
    assert str(scene["a"][0].id) in stray.get_json()["error"]["fields"]["absent_student_ids"]
    for bad in ({"classes": []}, {"classes": "7Б"}, {"classes": ["99Я"]}):
        response = client.post(url, json=bad, headers=factory.bearer(token))
        assert response.status_code == 422 and "classes" in response.get_json()["error"]["fields"]
    foreign = client.post(f"/api/v1/events/{scene['foreign'].id}/class-attendance",
                          json=body, headers=factory.bearer(token))
    assert foreign.status_code == 403
    assert len(checkins(scene["lesson"])) == 2
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "post" in spec["paths"]["/api/v1/events/{event_id}/class-attendance"]


# --------------------------------------------------------------------------- pages

def test_pages_record_activity_then_tick_classes_and_repeat(scene, client, auth):
    auth.login(scene["coordinator"].email)
    response = client.post_form("/school/activities/new?classes=7А&classes=7Б", {
        "title": "Россия — мои горизонты, урок 5", "starts_at": (
            now_utc() - timedelta(days=1)).astimezone(
            TOMSK).strftime("%Y-%m-%dT%H:%M"),
        "minutes": "45", "category": "school_internal", "early": "", "then": "classes",
        "classes": ["7А", "7Б"]})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    event = db.session.query(Event).filter_by(title="Россия — мои горизонты, урок 5").one()
    assert event.school_internal and event.organizer_id == scene["school"].id
    target = response.headers["Location"]
    assert f"/events/{event.id}/class-attendance" in target and "classes=" in target
    page = client.get(f"/events/{event.id}/class-attendance?classes=7А&classes=7Б")
    html = page.get_data(as_text=True)
    assert html.count('name="present"') == 6 and html.count("checked") >= 6
    present = [str(s.id) for s in scene["a"][1:] + scene["b"][1:]]
    saved = client.post_form(f"/events/{event.id}/class-attendance?classes=7А&classes=7Б",
                             {"classes": ["7А", "7Б"], "present": present})
    assert saved.status_code == 303
    assert {s.student_id for s in checkins(event)} == {int(i) for i in present}
    done = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Повторить для следующего урока" in done
    repeat = client.get(f"/school/activities/new?from={event.id}&classes=7А&classes=7Б")
    html = repeat.get_data(as_text=True)
    assert "Россия — мои горизонты, урок 5" in html and 'value="7Б"' in html
    week_later = event.starts_at + timedelta(days=7)
    assert week_later.astimezone(TOMSK
                                 ).strftime("%Y-%m-%dT%H:%M") in html
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Россия — мои горизонты, урок 5" in dashboard and "отмечено по списку 4" in dashboard
    school_page = client.get(f"/reports/schools/{scene['school'].id}").get_data(as_text=True)
    assert "Россия — мои горизонты, урок 5" in school_page


def test_page_bad_class_and_other_school(scene, client, auth):
    auth.login(scene["coordinator"].email)
    page = client.get(f"/events/{scene['lesson'].id}/class-attendance?classes=9В")
    assert "«9В»" in page.get_data(as_text=True)
    auth.logout()
    auth.login(scene["other_coordinator"].email)
    assert client.get(f"/events/{scene['lesson'].id}/class-attendance").status_code == 403
    assert client.post_form(f"/events/{scene['lesson'].id}/class-attendance?classes=7А",
                            {"classes": ["7А"]}).status_code == 403
    assert state()[0] == 0


def test_audit_log_says_what_was_ticked(scene):
    mark_classes(scene["coordinator"], scene["lesson"], ["7А"], [scene["a"][0].id])
    db.session.commit()
    entry = AuditLog.query.filter_by(action="attendance.class_list").one()
    text = describe_details(entry.details)
    assert "Классы: 7А." in text and "Присутствовали: 2." in text
    assert f"Отсутствовали: 1 (ученики № {scene['a'][0].id})." in text
    assert ACTION_TITLES[entry.action] == "отметка по списку класса"


def test_kindergarten_groups_are_classes_as_stored(factory):
    kindergarten = factory.create_org(name="МАДОУ № 5", kind=OrgKind.PRESCHOOL)
    kids = [factory.create_student(kindergarten, class_name="Старшая группа «Солнышко»",
                                   grade=0) for _ in range(2)]
    coordinator = factory.create_user(Role.COORDINATOR, kindergarten)
    event = factory.create_event(kindergarten, school_internal=True,
                                 starts_at=now_utc() - timedelta(hours=1))
    db.session.commit()
    outcome = mark_classes(coordinator, event, ["Старшая  группа «Солнышко»"], [kids[1].id])
    assert (outcome.checked_in, outcome.absent) == (1, 1)
