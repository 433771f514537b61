"""Organizer pages of the door: scanner links for volunteers, the live board, the scan log."""

from flask import Blueprint

bp = Blueprint("checkin_admin", __name__)

from webapp.checkin_admin import routes  # noqa: E402,F401
from webapp.checkin_admin.hooks import register_hooks  # noqa: E402

register_hooks()
