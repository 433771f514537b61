"""Flask extensions, created unbound and initialised in the app factory."""

import email_validator
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from models.base import db

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Войдите, чтобы открыть эту страницу."
login_manager.login_message_category = "info"

csrf = CSRFProtect()
migrate = Migrate(compare_type=True, render_as_batch=True)

__all__ = ["csrf", "db", "login_manager", "migrate"]

# The demo logins and internal accounts use the .local domain; email-validator documents this
# list as the one to edit.
if "local" in email_validator.SPECIAL_USE_DOMAIN_NAMES:
    email_validator.SPECIAL_USE_DOMAIN_NAMES.remove("local")
