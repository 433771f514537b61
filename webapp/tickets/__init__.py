"""Public ticket pages and QR images: what a phone camera opens from a printed ticket."""

from flask import Blueprint

bp = Blueprint("tickets", __name__)

from webapp.tickets import routes  # noqa: E402,F401
