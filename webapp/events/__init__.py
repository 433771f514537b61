"""Events: organizer pages, the public catalogue, iCalendar, organizer profiles."""

from flask import Blueprint

bp = Blueprint("events", __name__)

from webapp.events import routes  # noqa: E402,F401
