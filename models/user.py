"""Accounts, API tokens and failed-login records."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from models.base import TitledEnum, UTCDateTime, db, enum_column, now_utc


class Role(TitledEnum):
    ADMIN = ("admin", "Администратор (оператор города)")
    ORGANIZER = ("organizer", "Организатор мероприятий")
    COORDINATOR = ("coordinator", "Профкоординатор школы")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def manages_event(role: Role, organization_id: int | None, organizer_id: int) -> bool:
    """Who may manage an event (and work its door): admins, and the organizers and
    coordinators of the organizing organization."""
    return role == Role.ADMIN or (organization_id is not None
                                  and organization_id == organizer_id)


def parse_login_id(value) -> tuple[int, str, int] | None:
    """(user id, session token, login time) of a login id (``User.get_id``), or None."""
    try:
        user_id, token, started = str(value).split(":")
        return int(user_id), token, int(started)
    except (TypeError, ValueError):
        return None  # also ids of the form before session tokens: sign in again


def login_still_valid(active: bool, current_token: str | None, token: str | None,
                      started: int | None, max_age_days: float) -> bool:
    """Whether a login is still its user's: the account active, the session token the user's
    current one (``User.end_sessions`` changes it), the login not older than
    ``max_age_days``."""
    if not active or current_token is None or token is None or started is None:
        return False
    if not hmac.compare_digest(current_token.encode(), token.encode()):
        return False
    age = now_utc().timestamp() - started
    return -300 <= age <= max_age_days * 86400


#: ``ApiToken.last_used_at`` is informational: written at most once a minute per token.
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)


def token_use_due(last_used_at, now) -> bool:
    """Whether a token's use should be recorded now (:data:`TOKEN_TOUCH_INTERVAL`)."""
    return last_used_at is None or now - last_used_at >= TOKEN_TOUCH_INTERVAL


def new_session_token() -> str:
    return secrets.token_hex(16)


#: A hash of a password nobody has, checked when a login names no account, so that the
#: answer takes as long as for a real account (same method and cost as ``set_password``).
_DUMMY_PASSWORD_HASH: str | None = None


def check_dummy_password(password: str) -> bool:
    """Spend the time of one password check; always False."""
    global _DUMMY_PASSWORD_HASH
    if _DUMMY_PASSWORD_HASH is None:
        _DUMMY_PASSWORD_HASH = generate_password_hash(secrets.token_hex(16))
    check_password_hash(_DUMMY_PASSWORD_HASH, password)
    return False


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint("email = lower(email)", name="email_lowercase"),
        sa.CheckConstraint(
            "role = 'admin' OR organization_id IS NOT NULL", name="non_admin_has_organization"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Always stored lower-case, so uniqueness is case-insensitive.
    email: Mapped[str] = mapped_column(sa.String(254), nullable=False, unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    full_name: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    role: Mapped[Role] = mapped_column(enum_column(Role, name="user_role"), nullable=False)
    organization_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="RESTRICT")
    )
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime, nullable=False, default=now_utc)
    last_login_at: Mapped[object | None] = mapped_column(UTCDateTime)
    #: The generation of the user's sessions: part of the id that Flask-Login keeps in the
    #: session and remember-me cookies (``get_id``). Replaced by ``end_sessions()`` on logout,
    #: a password change or reset and (de)activation, which makes every earlier cookie of the
    #: user, on every device, name nobody.
    session_token: Mapped[str] = mapped_column(sa.String(64), nullable=False,
                                               default=new_session_token)
    #: A coordinator's weekly digest of new events that fit the school; they switch it off on
    #: the school's page («Письма»).
    weekly_digest: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True,
                                                server_default=sa.true())

    organization = relationship("Organization")

    # When the login behind the current request began, in Unix seconds: set by the user
    # loader from the cookie; None until then, and ``get_id`` then stamps "now", as at a
    # fresh login. Not a column.
    session_started_at = None

    # Flask-Login: an inactive account cannot log in and is logged out on its next request.
    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        """Flask-Login's alternative id: ``<user id>:<session token>:<login time, Unix s>``."""
        if self.session_token is None:
            self.session_token = new_session_token()
        if self.session_started_at is None:
            self.session_started_at = int(now_utc().timestamp())
        return f"{self.id}:{self.session_token}:{self.session_started_at}"

    def end_sessions(self) -> None:
        """End every session of this user, on all devices (session and remember-me cookies)."""
        self.session_token = new_session_token()

    def set_password(self, password: str) -> None:
        """A new password; it ends every earlier session of the user."""
        method = current_app.config["PASSWORD_HASH_METHOD"] if has_app_context() else "scrypt"
        self.password_hash = generate_password_hash(password, method=method)
        self.end_sessions()

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def display_name(self) -> str:
        return self.full_name or self.email

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role.value}>"


#: How an API token begins (a scanner link's: ``checkin.door.links.LINK_TOKEN_PREFIX``).
API_TOKEN_PREFIX = "pr_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(db.Model):
    """A Bearer token for the API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    token_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    #: The first characters of the token, to tell tokens apart in the list.
    prefix: Mapped[str] = mapped_column(sa.String(12), nullable=False)
    created_at: Mapped[object] = mapped_column(UTCDateTime, nullable=False, default=now_utc)
    last_used_at: Mapped[object | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[object | None] = mapped_column(UTCDateTime)

    user = relationship("User")

    @classmethod
    def issue(cls, user: User, name: str) -> tuple[ApiToken, str]:
        """Create a token for ``user``; returns the row and the plain token (shown once)."""
        plain = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = cls(user=user, name=name, token_hash=hash_token(plain), prefix=plain[:10])
        db.session.add(row)
        return row, plain

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class LoginThrottle(db.Model):
    """Login attempts counted per account (``account:<e-mail>``) or per address
    (``ip:<address>``); see ``webapp/auth/throttle.py``. A row is forgotten once its key has
    had no attempt for the window (``LOGIN_FAILURE_WINDOW_MINUTES``). The parent's link
    recovery counts its tries here too (``recover:ip:<address>``, ``recover:code:<code>``;
    ``count_public_attempt``)."""

    __tablename__ = "login_throttles"
    __table_args__ = (sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),)

    key: Mapped[str] = mapped_column(sa.String(300), primary_key=True)
    #: Attempts counted in the window: failures, and checks still under way.
    attempts: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    last_attempt_at: Mapped[object] = mapped_column(UTCDateTime, nullable=False, index=True)
    #: Beyond the limit, the next password check on this key waits until then.
    next_check_at: Mapped[object] = mapped_column(UTCDateTime, nullable=False)
