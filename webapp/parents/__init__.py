"""Parents and teachers signing up without an account; e-mails; organizer contacts.

Plugs into other areas through their hook lists (events pages, waiting-list promotion) and
sends what routes queue right after the response (``webapp.mail``).
"""

from flask import Blueprint

from formats.phones import format_phone

bp = Blueprint("parents", __name__)

from webapp.parents import routes  # noqa: E402,F401
from webapp.parents.hooks import register_hooks  # noqa: E402

register_hooks(bp)


@bp.app_template_filter("phone")
def _phone_filter(value):
    return format_phone(value)
