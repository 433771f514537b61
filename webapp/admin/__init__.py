from flask import Blueprint

# No url_prefix: the admin pages live under /admin/..., the token page every role uses
# under /account/tokens (tests treat every /admin/ rule as admin-only).
bp = Blueprint("admin", __name__)

from webapp.admin import routes, targets  # noqa: E402,F401
