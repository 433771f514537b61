"""Feature blueprints, registered by the app factory in this order.

Each entry is a module path exposing ``bp``. Add a line when a feature package is added.
"""

FEATURE_BLUEPRINTS: list[str] = [
    "webapp.events",
    "webapp.scanner",
    "webapp.parents",
    "webapp.teacher_signups",
    "webapp.schools",
    "webapp.tickets",
    "webapp.checkin_admin",
    "webapp.attendance",
    "webapp.reports",
    "webapp.profminimum",
]
