"""Events API (docs/api.md): create → publish → list/get/patch → cancel; categories; errors change
nothing; scoping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models import Category, Event, EventStatus, OrgKind, Role, now_utc


@pytest.fixture
def organizer(factory, db):
    user = factory.create_user(Role.ORGANIZER)
    token = factory.create_token(user)
    db.session.commit()
    return user, factory.bearer(token)


def body(**overrides):
    data = {
        "title": "День открытых дверей", "category": "university",
        "starts_at": "2031-10-01T10:00:00+07:00", "ends_at": "2031-10-01T12:00:00+07:00",
        "venue": "г. Томск, пр. Ленина, 36", "capacity": 50, "audience": "students",
        "grades_min": 9, "grades_max": 11, "early": False, "ovz_adapted": True,
    }
    data.update(overrides)
    return data


def test_create_publish_list_get(client, db, organizer):
    user, headers = organizer
    response = client.post("/api/v1/events", json=body(per_school_quota=10,
                                                        roadmap_item="3.2"), headers=headers)
    assert response.status_code == 201, response.json
    created = response.json
    assert created["status"] == "draft"
    assert created["organizer_id"] == user.organization_id
    assert created["starts_at"] == "2031-10-01T03:00:00+00:00"
    assert created["registration_closes_at"] == created["starts_at"]
    assert created["checkin_opens_at"] == "2031-10-01T01:00:00+00:00"
    assert created["ovz_adapted"] is True and created["per_school_quota"] == 10
    assert created["roadmap_item"] == "3.2"
    event_id = created["id"]
    assert db.session.get(Event, event_id).starts_at == datetime(2031, 10, 1, 3, tzinfo=UTC)

    assert client.get(f"/api/v1/events/{event_id}").status_code == 404  # draft: not public
    assert client.get("/api/v1/events").json["total"] == 0
    assert client.get(f"/api/v1/events/{event_id}", headers=headers).status_code == 200

    response = client.post(f"/api/v1/events/{event_id}/publish", headers=headers)
    assert response.status_code == 200 and response.json["status"] == "published"

    listed = client.get("/api/v1/events").json
    assert listed["total"] == 1 and listed["events"][0]["id"] == event_id
    assert listed["events"][0]["seats_left"] == 50
    one = client.get(f"/api/v1/events/{event_id}").json
    assert one["title"] == "День открытых дверей" and one["finished"] is False


def test_early_defaults_from_audience(client, db, organizer):
    _, headers = organizer
    data = body(grades_min=1, grades_max=4)
    del data["early"]
    assert client.post("/api/v1/events", json=data, headers=headers).json["early"] is True
    data = body(audience="preschool", grades_min=None, grades_max=None)
    del data["early"]
    assert client.post("/api/v1/events", json=data, headers=headers).json["early"] is True


@pytest.mark.parametrize("overrides, field", [
    ({"ends_at": "2031-10-01T09:00:00+07:00"}, "ends_at"),
    ({"capacity": 0}, "capacity"),
    ({"capacity": "сто"}, "capacity"),
    ({"registration_closes_at": "2031-10-01T13:00:00+07:00"}, "registration_closes_at"),
    ({"grades_min": -1}, "grades_min"),
    ({"grades_max": 12}, "grades_max"),
    ({"category": "unknown_category"}, "category"),
    ({"starts_at": "2031-10-01T10:00:00"}, "starts_at"),
    ({"audience": "everyone"}, "audience"),
    ({"title": ""}, "title"),
    ({"venue": None}, "venue"),
])
def test_invalid_create_is_422_and_saves_nothing(client, db, organizer, overrides, field):
    _, headers = organizer
    response = client.post("/api/v1/events", json=body(**overrides), headers=headers)
    assert response.status_code == 422, response.json
    error = response.json["error"]
    assert error["code"] == "validation_error"
    assert field in error["fields"] and error["fields"][field]
    assert Event.query.count() == 0


def test_auth_required_and_roles(client, db, factory):
    assert client.post("/api/v1/events", json=body()).status_code == 401
    assert Event.query.count() == 0


def test_patch_validates_and_respects_seats_taken(client, db, factory, organizer):
    user, headers = organizer
    event = factory.create_event(user.organization, capacity=10)
    school = factory.create_org()
    for _ in range(4):
        factory.create_ticket(event, factory.create_student(school))
    db.session.commit()
    response = client.patch(f"/api/v1/events/{event.id}", json={"capacity": 3},
                            headers=headers)
    assert response.status_code == 422
    assert "уже занято (4)" in response.json["error"]["fields"]["capacity"]
    response = client.patch(f"/api/v1/events/{event.id}",
                            json={"title": "Новое", "capacity": 4}, headers=headers)
    assert response.status_code == 200, response.json
    assert response.json["title"] == "Новое" and response.json["seats_left"] == 0
    db.session.expire_all()
    assert db.session.get(Event, event.id).capacity == 4


def test_organizer_cannot_touch_foreign_events(client, db, factory, organizer):
    _, headers = organizer
    foreign = factory.create_event(title="Чужое")
    draft = factory.create_event(status=EventStatus.DRAFT, published_at=None)
    db.session.commit()
    assert client.patch(f"/api/v1/events/{foreign.id}", json={"title": "x"},
                        headers=headers).status_code == 403
    assert client.post(f"/api/v1/events/{foreign.id}/cancel", json={"reason": "x"},
                       headers=headers).status_code == 403
    assert client.post(f"/api/v1/events/{draft.id}/publish", headers=headers).status_code == 404
    db.session.expire_all()
    assert db.session.get(Event, foreign.id).title == "Чужое"
    assert db.session.get(Event, foreign.id).status == EventStatus.PUBLISHED
    assert db.session.get(Event, draft.id).status == EventStatus.DRAFT


def test_admin_creates_for_another_organizer(client, db, factory):
    admin = factory.create_user(Role.ADMIN)
    headers = factory.bearer(factory.create_token(admin))
    org = factory.create_org(kind=OrgKind.COLLEGE)
    db.session.commit()
    response = client.post("/api/v1/events", json=body(organizer_id=org.id), headers=headers)
    assert response.status_code == 201 and response.json["organizer_id"] == org.id


def test_cancel(client, db, factory, organizer):
    user, headers = organizer
    event = factory.create_event(user.organization)
    db.session.commit()
    response = client.post(f"/api/v1/events/{event.id}/cancel", json={}, headers=headers)
    assert response.status_code == 422 and "reason" in response.json["error"]["fields"]
    response = client.post(f"/api/v1/events/{event.id}/cancel",
                           json={"reason": "Перенос"}, headers=headers)
    assert response.status_code == 200 and response.json["status"] == "cancelled"
    assert response.json["cancel_reason"] == "Перенос"
    response = client.post(f"/api/v1/events/{event.id}/cancel",
                           json={"reason": "Ещё раз"}, headers=headers)
    assert response.status_code == 409
    assert db.session.get(Event, event.id).cancel_reason == "Перенос"


def test_list_filters(client, db, factory):
    factory.create_event(title="Ранняя", early=True, starts_at=datetime(2031, 10, 1, 3,
                                                                        tzinfo=UTC))
    factory.create_event(title="ОВЗ", ovz_adapted=True, category_code="abilympics",
                         starts_at=datetime(2031, 11, 1, 3, tzinfo=UTC))
    factory.create_event(title="Прошлая", starts_at=now_utc() - timedelta(days=30))
    school = factory.create_org()
    factory.create_event(school, title="Внутренняя", school_internal=True)
    factory.create_event(title="Черновик", status=EventStatus.DRAFT, published_at=None)
    db.session.commit()

    def titles(query):
        response = client.get("/api/v1/events" + query)
        assert response.status_code == 200, response.json
        return [e["title"] for e in response.json["events"]]

    assert sorted(titles("")) == ["ОВЗ", "Прошлая", "Ранняя"]
    assert titles("?early=true") == ["Ранняя"]
    assert titles("?ovz_adapted=true") == ["ОВЗ"]
    assert titles("?category=abilympics") == ["ОВЗ"]
    assert titles("?from=2031-10-15") == ["ОВЗ"]
    assert titles("?to=2031-10-01") == ["Прошлая", "Ранняя"]
    assert titles("?from=2031-10-01T00:00:00%2B07:00&to=2031-10-02T00:00:00%2B07:00") == [
        "Ранняя"]
    response = client.get("/api/v1/events?from=вчера&early=может&category=nope")
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"from", "early", "category"}


def test_categories(client, db, factory):
    codes = [c["code"] for c in client.get("/api/v1/categories").json["categories"]]
    assert codes[:3] == ["professionals", "abilympics", "university"]
    assert {"school_internal", "other", "parents", "teacher_training"} <= set(codes)
    organizer = factory.create_user(Role.ORGANIZER)
    admin = factory.create_user(Role.ADMIN)
    org_headers = factory.bearer(factory.create_token(organizer))
    admin_headers = factory.bearer(factory.create_token(admin))
    db.session.commit()
    new = {"code": "open_day", "name": "Дни открытых дверей"}
    assert client.post("/api/v1/categories", json=new, headers=org_headers).status_code == 403
    response = client.post("/api/v1/categories", json={"code": "1 bad"}, headers=admin_headers)
    assert response.status_code == 422
    assert Category.query.filter_by(code="open_day").count() == 0
    assert client.post("/api/v1/categories", json=new, headers=admin_headers).status_code == 201
    assert client.post("/api/v1/categories", json=new, headers=admin_headers).status_code == 422
    codes = [c["code"] for c in client.get("/api/v1/categories").json["categories"]]
    assert codes[-1] == "open_day"


def test_documented_in_openapi(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert {"post", "get"} <= set(paths["/api/v1/events"])
    assert {"get", "patch"} <= set(paths["/api/v1/events/{event_id}"])
    assert "post" in paths["/api/v1/events/{event_id}/publish"]
    assert "post" in paths["/api/v1/events/{event_id}/cancel"]
    assert {"get", "post"} <= set(paths["/api/v1/categories"])
