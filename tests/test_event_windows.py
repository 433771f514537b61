"""The event's windows have one definition: registration phase and check-in window defaults,
used by the model, the scanner link's Core read and the event form's validation alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from checkin.seats.registration import registration_window_problem
from errors import ServiceError
from models import EventStatus, Role
from models.event import (
    DEFAULT_CHECKIN_LEAD,
    REGISTRATION_CLOSED,
    REGISTRATION_NOT_YET,
    REGISTRATION_OPEN,
    effective_checkin_closes,
    effective_checkin_opens,
    effective_registration_closes,
)
from webapp.events import services as svc

START = datetime(2030, 3, 1, 5, 0, tzinfo=UTC)
END = START + timedelta(hours=3)


def test_defaults_when_nothing_is_set():
    assert effective_checkin_opens(START) == START - DEFAULT_CHECKIN_LEAD == START - timedelta(
        hours=2)
    assert effective_checkin_closes(END) == END
    assert effective_registration_closes(START) == START


def test_set_values_win():
    opens, closes = START - timedelta(minutes=30), END + timedelta(minutes=15)
    assert effective_checkin_opens(START, opens) == opens
    assert effective_checkin_closes(END, closes) == closes
    assert effective_registration_closes(START, START - timedelta(days=1)) == (
        START - timedelta(days=1))


def test_event_uses_the_same_window(db, factory):
    event = factory.create_event(starts_at=START, ends_at=END)
    assert event.effective_checkin_opens_at == START - DEFAULT_CHECKIN_LEAD
    assert not event.checkin_open(START - DEFAULT_CHECKIN_LEAD - timedelta(seconds=1))
    assert event.checkin_open(START - DEFAULT_CHECKIN_LEAD)
    assert not event.checkin_open(END)


def test_registration_phase_and_messages(db, factory):
    opens = START - timedelta(days=5)
    event = factory.create_event(starts_at=START, ends_at=END, registration_opens_at=opens)
    assert event.registration_phase(opens - timedelta(seconds=1)) == REGISTRATION_NOT_YET
    assert event.registration_phase(opens) == REGISTRATION_OPEN
    assert event.registration_phase(START) == REGISTRATION_CLOSED
    assert registration_window_problem(event, opens - timedelta(hours=1)).startswith(
        "Запись откроется")
    assert registration_window_problem(event, opens) is None
    assert registration_window_problem(event, START).startswith("Запись закрыта")
    event.status = EventStatus.DRAFT
    # the phase ignores the status; being open needs a published event
    assert event.registration_phase(opens) == REGISTRATION_OPEN
    assert not event.registration_open(opens)
    assert "не опубликовано" in registration_window_problem(event, opens)


@pytest.mark.parametrize("closes_after_start, ok", [(timedelta(hours=-2), False),
                                                    (timedelta(hours=-2, minutes=1), True)])
def test_form_check_uses_the_default_checkin_lead(db, factory, closes_after_start, ok):
    """Check-in closing at or before the default opening (2 h before the start) is refused."""
    organizer = factory.create_user(Role.ORGANIZER)
    start = datetime(2030, 3, 1, 5, 0, tzinfo=UTC)
    fields = {"title": "День открытых дверей", "category": "university",
              "audience": "students", "grades_min": 9, "grades_max": 11,
              "starts_at": start, "ends_at": start + timedelta(hours=2),
              "venue_name": "Главный корпус", "capacity": 30,
              "checkin_closes_at": start + closes_after_start}
    if ok:
        assert svc.create_event(organizer, **fields).checkin_closes_at == fields[
            "checkin_closes_at"]
    else:
        with pytest.raises(ServiceError) as info:
            svc.create_event(organizer, **fields)
        assert info.value.code == "validation_error"
        assert "закрываться позже" in info.value.fields["checkin_closes_at"]
