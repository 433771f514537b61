"""Who is calling the API: a user's Bearer token, a scanner link's token, or a session cookie.

A browser session may call the API too (the scanner page does); then the CSRF token is required
in the ``X-CSRFToken`` header, as for forms.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from flask import g, request, session
from flask_login import current_user
from sqlalchemy.exc import OperationalError

from checkin.door.callers import LINK, TOKEN, USER, Credential
from checkin.door.links import LINK_TOKEN_PREFIX
from models import ApiToken, Role, ScannerLink, User, db, now_utc
from models.user import API_TOKEN_PREFIX, hash_token, parse_login_id, token_use_due
from webapp.api_errors import ApiError
from webapp.extensions import csrf
from webapp.transaction import commit_separately


@dataclass
class Caller:
    user: User | None = None
    scanner_link: ScannerLink | None = None

    @property
    def role(self) -> Role | None:
        return self.user.role if self.user else None


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return None


def _touch_token(api_token: ApiToken) -> None:
    """Record the token's use without ever failing the call: under parallel requests SQLite
    refuses to upgrade a read transaction to a write (database is locked), and on PostgreSQL
    every call would queue on the token's row."""
    now = now_utc()
    if not token_use_due(api_token.last_used_at, now):
        return
    api_token.last_used_at = now
    try:
        commit_separately("a token's last use is recorded before the view runs, never failing it")
    except OperationalError:
        db.session.rollback()


def resolve_caller() -> Caller | None:
    """Identify the caller once per request; None for anonymous."""
    if "api_caller" in g:
        return g.api_caller
    caller = None
    token = _bearer_token()
    if token is not None:
        digest = hash_token(token)
        api_token = ApiToken.query.filter_by(token_hash=digest).first()
        if api_token is not None:
            if api_token.revoked_at is not None or not api_token.user.active:
                raise ApiError(401, "unauthorized", "Токен отозван или пользователь отключён.")
            _touch_token(api_token)
            caller = Caller(user=api_token.user)
        else:
            link = ScannerLink.query.filter_by(token_hash=digest).first()
            if link is None:
                raise ApiError(401, "unauthorized", "Неизвестный токен.")
            if not link.usable():
                raise ApiError(401, "link_expired", "Ссылка сканера истекла или отозвана.")
            caller = Caller(scanner_link=link)
    elif current_user.is_authenticated:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            csrf.protect()
        caller = Caller(user=current_user._get_current_object())
    g.api_caller = caller
    return caller


#: Where Flask-Login keeps the signed-in user's id (``User.get_id``) in the session.
SESSION_USER_KEY = "_user_id"


def door_credential() -> Credential | None:
    """What the request shows at the door (``checkin.door.callers``), without loading anyone:
    a Bearer token (a scanner link's or an API token, told apart by the prefix each is made
    with), else the signed-in session, whose writes need the CSRF token as for forms."""
    token = _bearer_token()
    if token is not None:
        kind = (LINK if token.startswith(LINK_TOKEN_PREFIX)
                else TOKEN if token.startswith(API_TOKEN_PREFIX) else None)
        if kind is None or len(token) > 200:
            return Credential(TOKEN, "")  # names no one: refused as an unknown token
        return Credential(kind, hash_token(token))
    login_id = session.get(SESSION_USER_KEY)
    if login_id is None and current_user.is_authenticated:
        login_id = current_user.get_id()  # signed in by the remember-me cookie
    login = parse_login_id(login_id) if login_id is not None else None
    if login is None:
        return None
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()
    user_id, session_token, started = login
    return Credential(USER, user_id, session_token, started)


def api_login_required(*roles: Role):
    """Require a user (not a scanner link) with one of ``roles`` (any role if none given)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            caller = resolve_caller()
            if caller is None:
                raise ApiError(401, "unauthorized", "Нужна авторизация: заголовок "
                               "Authorization: Bearer <токен>.")
            if caller.user is None:
                raise ApiError(403, "forbidden", "Ссылка сканера даёт доступ только к отметке.")
            if roles and caller.user.role not in roles:
                raise ApiError(403, "forbidden", "Недостаточно прав.")
            g.caller = caller
            return view(*args, **kwargs)

        return wrapped

    return decorator


def current_caller() -> Caller:
    return g.caller
