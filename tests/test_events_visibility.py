"""The visibility contract other areas rely on: can_view_event and visible_events_query."""

from __future__ import annotations

import pytest
from flask_login import AnonymousUserMixin

from models import EventStatus, OrgKind, Role
from webapp.events.visibility import can_view_event, visible_events_query


@pytest.fixture
def world(factory, db):
    school = factory.create_org(kind=OrgKind.SCHOOL)
    university = factory.create_org(kind=OrgKind.UNIVERSITY)
    events = {
        "public": factory.create_event(university),
        "draft": factory.create_event(university, status=EventStatus.DRAFT, published_at=None),
        "cancelled": factory.create_event(university, status=EventStatus.CANCELLED,
                                          cancel_reason="Перенос"),
        "internal": factory.create_event(school, school_internal=True),
        "internal_draft": factory.create_event(school, school_internal=True,
                                               status=EventStatus.DRAFT, published_at=None),
    }
    users = {
        "anonymous": AnonymousUserMixin(),
        "admin": factory.create_user(Role.ADMIN),
        "university": factory.create_user(Role.ORGANIZER, organization=university),
        "other_organizer": factory.create_user(Role.ORGANIZER),
        "school": factory.create_user(Role.COORDINATOR, organization=school),
        "other_school": factory.create_user(Role.COORDINATOR),
    }
    db.session.commit()
    return users, events


EXPECTED = {
    "anonymous": {"public", "cancelled"},
    "admin": {"public", "draft", "cancelled", "internal", "internal_draft"},
    "university": {"public", "draft", "cancelled"},
    "other_organizer": {"public", "cancelled"},
    "school": {"public", "cancelled", "internal", "internal_draft"},
    "other_school": {"public", "cancelled"},
}


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_visibility_matrix(world, who):
    users, events = world
    user = users[who]
    visible = {name for name, event in events.items() if can_view_event(user, event)}
    assert visible == EXPECTED[who]
    ids = {event.id for event in visible_events_query(user).all()}
    assert ids == {events[name].id for name in EXPECTED[who]}


def test_inactive_user_sees_only_public(world, db):
    users, events = world
    school_user = users["school"]
    school_user.active = False
    assert not can_view_event(school_user, events["internal"])
    assert can_view_event(school_user, events["public"])
