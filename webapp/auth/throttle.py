"""Limit on failed logins per account and per address."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from models import LoginFailure, db, now_utc


def _window_start():
    return now_utc() - timedelta(minutes=current_app.config["LOGIN_FAILURE_WINDOW_MINUTES"])


def login_blocked(email: str, ip: str) -> bool:
    since = _window_start()
    by_account = LoginFailure.query.filter(LoginFailure.email == email,
                                           LoginFailure.at >= since).count()
    if by_account >= current_app.config["LOGIN_MAX_FAILURES"]:
        return True
    by_ip = LoginFailure.query.filter(LoginFailure.ip == ip, LoginFailure.at >= since).count()
    return by_ip >= current_app.config["LOGIN_MAX_FAILURES_PER_IP"]


def record_failure(email: str, ip: str) -> None:
    db.session.add(LoginFailure(email=email, ip=ip))
    # Old rows are useless: drop those outside the window.
    LoginFailure.query.filter(LoginFailure.at < _window_start()).delete(
        synchronize_session=False)


def clear_failures(email: str) -> None:
    LoginFailure.query.filter(LoginFailure.email == email).delete(synchronize_session=False)
