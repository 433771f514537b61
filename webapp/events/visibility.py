"""Who may see which event: one place for the catalogue, the event page, the feed and the API.

* Published, non-internal events (and cancelled ones that were published) are public.
* Drafts are visible only to the organizing organization and admins.
* A school's internal event (``school_internal``) is visible only to that school and admins.
"""

from __future__ import annotations

import sqlalchemy as sa

from models import Event, EventStatus, Role


def _is_logged_in(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False)
                and getattr(user, "is_active", False))


def _own_or_admin(user, event: Event) -> bool:
    if not _is_logged_in(user):
        return False
    return user.role == Role.ADMIN or (user.organization_id is not None
                                       and user.organization_id == event.organizer_id)


def can_view_event(user, event: Event) -> bool:
    """May ``user`` (possibly anonymous) open this event's page?"""
    if _own_or_admin(user, event):
        return True
    if event.school_internal:
        return False
    return event.status in (EventStatus.PUBLISHED, EventStatus.CANCELLED) and \
        event.published_at is not None


def visible_events_query(user, query=None):
    """``query`` (default ``Event.query``) narrowed to events ``user`` may see.

    Admins see everything; an organization's own users also see its drafts and internal events;
    everyone sees published (or cancelled after publication) public events.
    """
    query = query if query is not None else Event.query
    public = sa.and_(
        Event.school_internal.is_(False),
        Event.status.in_([EventStatus.PUBLISHED, EventStatus.CANCELLED]),
        Event.published_at.is_not(None),
    )
    if _is_logged_in(user):
        if user.role == Role.ADMIN:
            return query
        if user.organization_id is not None:
            return query.filter(sa.or_(public, Event.organizer_id == user.organization_id))
    return query.filter(public)


def catalogue_condition(user):
    """SQL condition for what the public catalogue lists for ``user``: published events only.

    Unlike ``visible_events_query`` this leaves out drafts even for their organizer (they see
    drafts under «Мои мероприятия»), but includes the user's own school's internal events.
    """
    public = sa.and_(Event.status == EventStatus.PUBLISHED, Event.school_internal.is_(False))
    if _is_logged_in(user) and user.organization_id is not None:
        own_internal = sa.and_(Event.status == EventStatus.PUBLISHED,
                               Event.school_internal.is_(True),
                               Event.organizer_id == user.organization_id)
        return sa.or_(public, own_internal)
    return public
