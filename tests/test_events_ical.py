"""iCalendar: a real iCalendar library parses our output and reads the right times."""

from __future__ import annotations

import time as time_module
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from formats.timefmt import TOMSK
from models import EventStatus, Role, now_utc
from webapp.events import services as svc


@pytest.fixture(autouse=True)
def utc_server(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time_module.tzset()
    yield
    monkeypatch.undo()
    time_module.tzset()


def parse(response) -> list:
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    return list(calendar.walk("VEVENT"))


def test_event_ics_has_utc_times_of_ten_oclock_tomsk(client, db, factory, app):
    start = datetime(2031, 10, 1, 10, 0, tzinfo=TOMSK)
    event = factory.create_event(title="Профпроба «Юный химик»", starts_at=start,
                                 venue_name="Химический корпус", venue_room="ауд. 212",
                                 description="Практикум в лаборатории")
    db.session.commit()
    response = client.get(f"/events/{event.id}.ics")
    assert "attachment" in response.headers["Content-Disposition"]
    [item] = parse(response)
    assert str(item["SUMMARY"]) == "Профпроба «Юный химик»"
    assert item.decoded("DTSTART") == datetime(2031, 10, 1, 3, 0, tzinfo=UTC)
    assert item.decoded("DTSTART").astimezone(TOMSK).strftime("%H:%M") == "10:00"
    assert item.decoded("DTEND") == datetime(2031, 10, 1, 5, 0, tzinfo=UTC)
    assert "Химический корпус" in str(item["LOCATION"]) and "ауд. 212" in str(item["LOCATION"])
    assert str(item["URL"]).endswith(f"/events/{event.id}")
    assert "Практикум в лаборатории" in str(item["DESCRIPTION"])
    assert str(item["STATUS"]) == "CONFIRMED"
    assert str(item["UID"]).startswith(f"event-{event.id}@")
    assert b"DTSTART:20311001T030000Z" in response.data


def test_feed_follows_catalogue_filters_and_marks_cancellations(client, db, factory):
    organizer = factory.create_user(Role.ORGANIZER)
    early = factory.create_event(organizer.organization, title="Ранняя", early=True,
                                 grades_min=1, grades_max=4)
    factory.create_event(title="Обычная")
    gone = factory.create_event(organizer.organization, title="Отменённая", early=True)
    factory.create_event(title="Черновик", early=True, status=EventStatus.DRAFT,
                         published_at=None)
    factory.create_event(title="Давно прошедшая", early=True,
                         starts_at=now_utc() - timedelta(days=200))
    svc.cancel_event(organizer, gone, "Карантин")
    db.session.commit()

    items = parse(client.get("/events/feed.ics?early=y"))
    by_title = {str(item["SUMMARY"]): item for item in items}
    assert set(by_title) == {"Ранняя", "Отменённая"}
    assert str(by_title["Отменённая"]["STATUS"]) == "CANCELLED"
    assert "Карантин" in str(by_title["Отменённая"]["DESCRIPTION"])
    assert by_title["Ранняя"].decoded("DTSTART") == early.starts_at.replace(microsecond=0)

    everything = {str(i["SUMMARY"]) for i in parse(client.get("/events/feed.ics"))}
    assert everything == {"Ранняя", "Обычная", "Отменённая"}


def test_catalogue_shows_feed_link_with_same_filters(client, db, factory):
    factory.create_event(title="Что-то")
    db.session.commit()
    body = client.get("/events?ovz=y&category=abilympics&page=2").get_data(as_text=True)
    assert "/events/feed.ics?" in body
    link = body.split('id="feed-url" type="text" readonly value="')[1].split('"')[0]
    assert "ovz=y" in link and "category=abilympics" in link and "page=" not in link


def test_feed_conditional_get_and_changes(client, db, factory):
    organizer = factory.create_user(Role.ORGANIZER)
    event = factory.create_event(organizer.organization, title="Первое")
    db.session.commit()
    first = client.get("/events/feed.ics")
    etag = first.headers["ETag"]
    again = client.get("/events/feed.ics", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    svc.cancel_event(organizer, event, "Перенос")
    db.session.commit()
    changed = client.get("/events/feed.ics", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    [item] = parse(changed)
    assert str(item["STATUS"]) == "CANCELLED"
    filtered = client.get("/events/feed.ics?ovz=y")
    assert filtered.headers["ETag"] != changed.headers["ETag"]
    assert parse(filtered) == []
