"""Organizer pages of the door: scanner links for volunteers, the live board, the scan log."""

from flask import Blueprint

bp = Blueprint("checkin_admin", __name__)

from webapp.checkin_admin import hooks, routes  # noqa: E402,F401
