"""Parents and teachers signing up without an account; e-mails; organizer contacts.

Its page sections are listed in ``webapp/page_sections.py``, its e-mails on waiting-list
promotion and cancellation connected in ``webapp/notifications.py``; it sends what routes
queue right after the response (``webapp.mail``).
"""

from flask import Blueprint

from formats.phones import format_phone

bp = Blueprint("parents", __name__)

from webapp.mail import deliver_mail_queued_in_request  # noqa: E402
from webapp.parents import routes  # noqa: E402,F401

bp.after_app_request(deliver_mail_queued_in_request)


@bp.app_template_filter("phone")
def _phone_filter(value):
    return format_phone(value)
