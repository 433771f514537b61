"""Role and organization scoping, written once and used by every page and API route.

Pages use the decorators; API routes use the same checks through ``webapp.api.auth``.
Query helpers narrow a query to what the current user may see.
"""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from models import Event, Role, User
from models.user import manages_event


def roles_required(*roles: Role):
    """Page decorator: logged in (else redirect to /login) and one of ``roles`` (else 403)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


admin_required = roles_required(Role.ADMIN)


def can_manage_organization(user: User, organization_id: int) -> bool:
    """Admins manage every organization; others only their own."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.role == Role.ADMIN or user.organization_id == organization_id


def can_manage_roster(user: User, organization_id: int) -> bool:
    """Rosters (students, teachers, ОВЗ): admins and the school's own coordinators."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.role == Role.ADMIN:
        return True
    return user.role == Role.COORDINATOR and user.organization_id == organization_id


def can_manage_event(user: User, event: Event) -> bool:
    """Admins, and organizers/coordinators of the organizing organization."""
    if not getattr(user, "is_authenticated", False):
        return False
    return manages_event(user.role, user.organization_id, event.organizer_id)


def events_managed_by(user: User, query=None):
    query = query if query is not None else Event.query
    if user.role == Role.ADMIN:
        return query
    return query.filter(Event.organizer_id == user.organization_id)
