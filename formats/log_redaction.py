"""Secrets in URLs never reach a log.

Some addresses are credentials: whoever has them gets in. ``/s/<token>`` is a volunteer's scanner
link, ``/my/<secret>`` a parent's or teacher's private link, ``/t/<token>`` and ``/g/<code>`` a
ticket and a group list (``/tickets/<token>/qr.png``, ``/api/v1/events/<id>/groups/<code>``
too). ``redact`` replaces those path segments (also percent-encoded, inside a query string such
as ``?next=%2Fmy%2F…``, and in full URLs such as a Referer) with ``[redacted]``, and the values
of query parameters named like a credential.

Used by the development server's request log (``install_log_filters``: a filter on the
``werkzeug`` logger and on the application's logger, whose exception messages name the path)
and by gunicorn's access log (``webapp.gunicorn_logging.RedactingGunicornLogger``, set in
``gunicorn.conf.py``).
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"

#: Path segments after which the next segment is a credential.
SECRET_PREFIXES = ("s", "t", "g", "tickets", "groups", "my")
#: ``/my/baseline`` is a coordinator's page and ``/my/recover`` the public form that finds a
#: lost link: neither is a private link.
NOT_SECRET = {"my": ("baseline", "recover")}
#: Query parameters whose value is a credential wherever they appear.
SECRET_PARAMS = ("token", "secret", "access_token", "code", "group_code", "key", "password")
#: Request and response headers logged only as ``[redacted]`` (gunicorn's ``%({name}i)s``).
SECRET_HEADERS = ("authorization", "cookie", "set-cookie", "x-csrftoken", "x-csrf-token",
                  "http_authorization", "http_cookie", "http_x_csrftoken")


def _segment_pattern(separator: str) -> re.Pattern:
    sep = re.escape(separator)
    # A segment ends at the next separator, a query or fragment, whitespace or a quote.
    end = r"/?#\s\"'&<>" if separator == "/" else r"%?#\s\"'&<>"
    prefixes = "|".join(SECRET_PREFIXES)
    return re.compile(
        rf"(?P<prefix>{sep}(?P<name>{prefixes}){sep})(?P<secret>[^{end}]+)",
        re.IGNORECASE if separator != "/" else 0,
    )


_PATTERNS = (_segment_pattern("/"), _segment_pattern("%2F"))
_PARAM = re.compile(
    r"(?P<key>(?:^|(?<=[?&;\s]))(?:" + "|".join(SECRET_PARAMS) + r"))=(?P<value>[^&#\s\"']*)",
    re.IGNORECASE,
)


def _replace_segment(match: re.Match) -> str:
    secret = match.group("secret")
    if secret.lower() in NOT_SECRET.get(match.group("name").lower(), ()):
        return match.group(0)
    return match.group("prefix") + REDACTED


def redact(text: str | None) -> str | None:
    """``text`` (a path, a URL, a request line or a whole log message) with every credential
    in it replaced by ``[redacted]``; anything else unchanged."""
    if not text or not isinstance(text, str):
        return text
    for pattern in _PATTERNS:
        text = pattern.sub(_replace_segment, text)
    return _PARAM.sub(lambda m: m.group("key") + "=" + REDACTED, text)


class RedactingFilter(logging.Filter):
    """Rewrites a record's message with ``redact`` (formatted once, arguments dropped)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is logging's problem, not ours
            return True
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True


def install_log_filters(app_logger: logging.Logger) -> None:
    """Redact the development server's request lines (``werkzeug``) and the application's own
    messages (Flask logs ``Exception on /s/<token> [GET]``). Safe to call more than once."""
    for logger in (logging.getLogger("werkzeug"), app_logger):
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
