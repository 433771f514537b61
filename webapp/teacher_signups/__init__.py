"""Teachers signing up for events for teachers without an account; the school's coordinator
confirms each request against the school's roster.

Built on the parents' sign-up machinery (consent, the private /my/<secret> link, letters);
the private link's page itself is in ``webapp.parents``.
"""

from flask import Blueprint

bp = Blueprint("teacher_signups", __name__)

from webapp.teacher_signups import routes  # noqa: E402,F401
from webapp.teacher_signups.hooks import register_hooks  # noqa: E402

register_hooks()
