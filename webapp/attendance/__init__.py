"""Attendance imports: uploading a list of who attended an event (organizers, coordinators)."""

from flask import Blueprint

bp = Blueprint("attendance", __name__)

from webapp.attendance import class_routes, hooks, routes  # noqa: E402,F401
