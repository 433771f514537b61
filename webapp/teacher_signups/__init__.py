"""Teachers signing up for events for teachers without an account; the school's coordinator
confirms each request against the school's roster.

Built on the parents' sign-up machinery (consent, the private /my/<secret> link, letters);
the private link's page itself is in ``webapp.parents``.
"""

from flask import Blueprint

bp = Blueprint("teacher_signups", __name__)

from webapp.teacher_signups import hooks, routes  # noqa: E402,F401
