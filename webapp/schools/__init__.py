"""School coordinators: rosters, imports, group registration, tickets to print."""

from flask import Blueprint

bp = Blueprint("schools", __name__)

from webapp.schools import (  # noqa: E402,F401
    hooks,
    invitation_routes,
    mail_routes,
    registration_routes,
    roster_routes,
    walk_in_routes,
)
