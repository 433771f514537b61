"""Accounts, API tokens and failed-login records."""

from __future__ import annotations

import hashlib
import secrets

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

    organization = relationship("Organization")

    # Flask-Login: an inactive account cannot log in and is logged out on its next request.
    @property
    def is_active(self) -> bool:
        return self.active

    def set_password(self, password: str) -> None:
        method = current_app.config["PASSWORD_HASH_METHOD"] if has_app_context() else "scrypt"
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def display_name(self) -> str:
        return self.full_name or self.email

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role.value}>"


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
        plain = "pr_" + secrets.token_urlsafe(32)
        row = cls(user=user, name=name, token_hash=hash_token(plain), prefix=plain[:10])
        db.session.add(row)
        return row, plain

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class LoginFailure(db.Model):
    """One failed login, kept to limit guessing per account and per address."""

    __tablename__ = "login_failures"
    __table_args__ = (sa.Index("ix_login_failures_email_at", "email", "at"),
                      sa.Index("ix_login_failures_ip_at", "ip", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), nullable=False)
    ip: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    at: Mapped[object] = mapped_column(UTCDateTime, nullable=False, default=now_utc)
