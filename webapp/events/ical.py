"""iCalendar (RFC 5545) for one event and for a feed of a filtered catalogue view."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app, url_for
from icalendar import Calendar
from icalendar import Event as VEvent

from models import EventStatus, now_utc

PRODID = "-//Профмаршрут//Мероприятия профориентации г. Томска//RU"


def _base_url() -> str:
    return current_app.config["PROFROUTE_BASE_URL"].rstrip("/")


def event_url(event) -> str:
    return _base_url() + url_for("events.detail", event_id=event.id)


def _location(event) -> str:
    return event.venue_text


def _vevent(event, stamp) -> VEvent:
    host = urlsplit(_base_url()).hostname or "profroute"
    item = VEvent()
    item.add("uid", f"event-{event.id}@{host}")
    item.add("dtstamp", stamp)
    item.add("dtstart", event.starts_at)
    item.add("dtend", event.ends_at)
    item.add("summary", event.title)
    if event.updated_at is not None:
        item.add("last-modified", event.updated_at)
    location = _location(event)
    if location:
        item.add("location", location)
    url = event_url(event)
    item.add("url", url)
    lines = [f"Организатор: {event.organizer.display_name}"]
    if event.status == EventStatus.CANCELLED:
        lines.insert(0, f"ОТМЕНЕНО. Причина: {event.cancel_reason}")
    if event.description:
        lines.append("")
        lines.append(event.description)
    lines += ["", f"Подробности и запись: {url}"]
    item.add("description", "\n".join(lines))
    item.add("categories", [event.category.name])
    item.add("status", "CANCELLED" if event.status == EventStatus.CANCELLED else "CONFIRMED")
    item.add("transp", "OPAQUE")
    return item


def calendar_bytes(events, name: str) -> bytes:
    """A VCALENDAR with one VEVENT per event; times in UTC, so every client shows local time."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Asia/Tomsk")
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    stamp = now_utc()
    for event in events:
        cal.add_component(_vevent(event, stamp))
    return cal.to_ical()
