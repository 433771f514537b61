"""The phone scanner at the door: /checkin/<event_id> for organizers, /s/<token> for volunteers.

The pages are thin: everything happens in ``static/js/scanner/`` against the check-in API
(``/api/v1/events/<id>/...``). A service worker served from the site root makes the scanner
installable and lets it load with no network.
"""

from flask import Blueprint

bp = Blueprint("scanner", __name__)

from webapp.scanner import routes  # noqa: E402,F401
