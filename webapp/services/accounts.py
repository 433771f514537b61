"""Accounts and API tokens: create users, reset passwords, (de)activate, issue and revoke tokens.

Services take plain arguments, flush but never commit, and raise ``ServiceError``.
"""

from __future__ import annotations

from errors import ConflictError, PermissionDenied, ServiceError
from formats.person_names import FIELD_LABELS, person_name_error
from models import ApiToken, Organization, Role, User, db, now_utc, record_audit
from models.user import normalize_email

MIN_PASSWORD_LENGTH = 8


def email_taken(email: str, exclude_id: int | None = None) -> bool:
    query = User.query.filter(User.email == normalize_email(email))
    if exclude_id is not None:
        query = query.filter(User.id != exclude_id)
    return db.session.query(query.exists()).scalar()


def _check_password(password: str, field: str = "password") -> None:
    if not password or len(password) < MIN_PASSWORD_LENGTH:
        raise ServiceError("weak_password", f"Пароль не короче {MIN_PASSWORD_LENGTH} символов.",
                           field)


def _check_full_name(full_name: str | None) -> None:
    error = person_name_error((full_name or "").strip(), FIELD_LABELS["full_name"])
    if error:
        raise ServiceError("invalid_name", error, "full_name")


def create_user(actor, *, email: str, password: str, role: Role,
                organization: Organization | None, full_name: str = "") -> User:
    """A new account. E-mail addresses are unique case-insensitively; organizers and
    coordinators belong to an organization."""
    email = normalize_email(email or "")
    if not email or "@" not in email:
        raise ServiceError("invalid_email", "Введите адрес в формате name@example.ru.", "email")
    if email_taken(email):
        raise ConflictError("duplicate_email", "Пользователь с таким адресом уже есть.", "email")
    if role != Role.ADMIN and organization is None:
        raise ServiceError("organization_required",
                           "Организатору и профкоординатору нужна организация.", "organization")
    if organization is not None and not organization.active:
        raise ServiceError("organization_inactive", "Эта организация отключена.",
                           "organization")
    _check_full_name(full_name)
    _check_password(password)
    user = User(email=email, role=role, organization=organization,
                full_name=(full_name or "").strip(), active=True)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    record_audit(actor, "user.create", user, email=email, role=role.value,
                 organization_id=organization.id if organization else None)
    return user


def update_user(actor, user: User, *, full_name: str, role: Role,
                organization: Organization | None) -> User:
    if role != Role.ADMIN and organization is None:
        raise ServiceError("organization_required",
                           "Организатору и профкоординатору нужна организация.", "organization")
    if user.id == getattr(actor, "id", None) and role != Role.ADMIN:
        raise ServiceError("own_role", "Нельзя снять роль администратора с самого себя.",
                           "role")
    _check_full_name(full_name)
    user.full_name = (full_name or "").strip()
    user.role = role
    user.organization = organization
    db.session.flush()
    record_audit(actor, "user.update", user, role=role.value,
                 organization_id=organization.id if organization else None)
    return user


def reset_password(actor, user: User, password: str) -> User:
    """An admin sets a new password; ``set_password`` ends the user's sessions everywhere."""
    _check_password(password)
    user.set_password(password)
    db.session.flush()
    record_audit(actor, "user.reset_password", user)
    return user


def set_user_active(actor, user: User, active: bool) -> User:
    """Disable or re-enable an account. Either way every earlier session of the user ends
    (a cookie copied before cannot come back to life). Disabling also revokes the user's
    API tokens for good: re-enabling the account does not bring them back."""
    if not active and user.id == getattr(actor, "id", None):
        raise ServiceError("own_account", "Нельзя отключить собственную учётную запись.")
    if user.active == active:
        return user
    user.active = active
    user.end_sessions()
    revoked = []
    if not active:
        now = now_utc()
        for token in ApiToken.query.filter(ApiToken.user_id == user.id,
                                           ApiToken.revoked_at.is_(None)).all():
            token.revoked_at = now
            revoked.append(token.id)
    db.session.flush()
    record_audit(actor, "user.activate" if active else "user.deactivate", user,
                 email=user.email, **({"revoked_token_ids": revoked} if revoked else {}))
    return user


def issue_token(actor, name: str) -> tuple[ApiToken, str]:
    """A new API token of ``actor``; the plain token is returned once and never stored."""
    name = (name or "").strip()
    if not name:
        raise ServiceError("name_required", "Укажите название токена.", "name")
    if len(name) > 100:
        raise ServiceError("name_too_long", "Не длиннее 100 символов.", "name")
    row, plain = ApiToken.issue(actor, name)
    db.session.flush()
    record_audit(actor, "token.create", row, name=name, user_id=actor.id)
    return row, plain


def revoke_token(actor, token: ApiToken) -> ApiToken:
    """Revoke a token: its owner or an admin."""
    if actor.role != Role.ADMIN and token.user_id != actor.id:
        raise PermissionDenied("forbidden", "Можно отозвать только свой токен.")
    if token.revoked_at is not None:
        raise ConflictError("already_revoked", "Токен уже отозван.")
    token.revoked_at = now_utc()
    db.session.flush()
    record_audit(actor, "token.revoke", token, name=token.name, user_id=token.user_id)
    return token
