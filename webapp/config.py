"""Configuration from the environment, with a test variant."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"

#: The value shipped for development; production refuses to start with it.
DEV_SECRET_KEY = "dev-insecure-secret-key-change-me"


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def normalize_database_url(url: str) -> str:
    """Accept the common ``postgres://`` / ``postgresql://`` spellings and use psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class Config:
    ENV_NAME = os.environ.get("PROFROUTE_ENV", "development")
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = normalize_database_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'profroute.db'}")
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    PROFROUTE_BASE_URL = os.environ.get("PROFROUTE_BASE_URL", "http://127.0.0.1:5000").rstrip("/")

    # Sessions: HttpOnly, SameSite; Secure when served over HTTPS.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", PROFROUTE_BASE_URL.startswith("https"))
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    #: A login lasts at most this many days, with or without "remember me": the remember-me
    #: cookie expires then, and the server refuses any cookie of an older login (it carries
    #: its login time). Logout, a password change or reset and (de)activation end all of a
    #: user's sessions earlier (``User.end_sessions``).
    LOGIN_SESSION_MAX_DAYS = int(os.environ.get("LOGIN_SESSION_MAX_DAYS", "14"))
    REMEMBER_COOKIE_DURATION = timedelta(days=LOGIN_SESSION_MAX_DAYS)
    PREFERRED_URL_SCHEME = "https" if PROFROUTE_BASE_URL.startswith("https") else "http"
    MAX_CONTENT_LENGTH = 10 * 1024 * 1024
    #: Reverse proxies (nginx) in front of the app whose X-Forwarded-* headers are trusted,
    #: so the login limit per address sees the visitor's address, not the proxy's.
    PROXY_COUNT = int(os.environ.get("PROFROUTE_PROXY_COUNT", "0"))
    WTF_CSRF_TIME_LIMIT = None  # forms stay valid for the whole session
    #: werkzeug's password hashing method (scrypt: slow on purpose, against stolen hashes).
    PASSWORD_HASH_METHOD = "scrypt"

    #: Reports of closed academic years are kept in each worker while nothing they count has
    #: changed (``reports.cache``; docs/reports.md «Kept figures of closed years»).
    REPORT_CACHE = _bool("REPORT_CACHE", True)

    #: Offline scans that reach the server after check-in closed are accepted (and flagged
    #: «поздняя синхронизация» for the organizer) only this many hours after it closed; later
    #: ones are recorded as refused (docs/security.md).
    SCAN_LATE_SYNC_GRACE_HOURS = float(os.environ.get("SCAN_LATE_SYNC_GRACE_HOURS", "24"))

    # Failed logins (webapp/auth/throttle.py), counted in the database before the password is
    # checked. Per account: this many password checks freely, then one check per delay, the
    # delay doubling from LOGIN_ACCOUNT_DELAY_SECONDS up to LOGIN_ACCOUNT_MAX_DELAY_SECONDS
    # (slowed, never locked, so the owner can still sign in). Per address: this many failures,
    # then refused. A key is forgotten after LOGIN_FAILURE_WINDOW_MINUTES without attempts; a
    # successful login forgets its account's failures and takes its own off the address.
    LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", "5"))
    LOGIN_ACCOUNT_DELAY_SECONDS = int(os.environ.get("LOGIN_ACCOUNT_DELAY_SECONDS", "15"))
    LOGIN_ACCOUNT_MAX_DELAY_SECONDS = int(os.environ.get("LOGIN_ACCOUNT_MAX_DELAY_SECONDS",
                                                         "600"))
    LOGIN_MAX_FAILURES_PER_IP = int(os.environ.get("LOGIN_MAX_FAILURES_PER_IP", "20"))
    LOGIN_FAILURE_WINDOW_MINUTES = int(os.environ.get("LOGIN_FAILURE_WINDOW_MINUTES", "15"))

    # E-mail. Without MAIL_SERVER, messages are written to MAIL_OUTBOX_DIR instead of sent.
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_USE_TLS = _bool("MAIL_USE_TLS")
    MAIL_USE_SSL = _bool("MAIL_USE_SSL")
    MAIL_SENDER = os.environ.get("MAIL_SENDER", "Профмаршрут <noreply@profroute.local>")
    MAIL_OUTBOX_DIR = os.environ.get("MAIL_OUTBOX_DIR", str(INSTANCE_DIR / "mail"))


class TestConfig(Config):
    TESTING = True
    ENV_NAME = "testing"
    SECRET_KEY = "test-secret-key"
    #: One cheap round instead of scrypt: the suite hashes thousands of passwords.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    #: Every test has a fresh database whose counters start again from nothing: a report kept
    #: from an earlier test would be taken for this one's (tests/test_report_cache.py turns it
    #: on and clears what is kept).
    REPORT_CACHE = False
    WTF_CSRF_ENABLED = True
    SERVER_NAME = None
    PROFROUTE_BASE_URL = "http://profroute.test"
    MAIL_SERVER = ""
