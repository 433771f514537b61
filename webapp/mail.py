"""E-mail through an outbox table.

``queue_mail`` stores the complete message in ``mail_outbox`` inside the caller's transaction, so
a message exists exactly when the change it reports was committed. ``deliver_outbox`` sends what
is queued:

- with ``MAIL_SERVER`` set, through SMTP (smtplib; ``MAIL_PORT``, ``MAIL_USE_TLS``/``MAIL_USE_SSL``,
  ``MAIL_USERNAME``/``MAIL_PASSWORD``);
- without it (development), by writing each message as an ``.eml`` file to ``MAIL_OUTBOX_DIR``.

Each message is claimed (``pending`` → ``sending``) in its own committed statement before it is
sent, so two senders running at once never send the same message. When the server cannot be
reached, messages stay ``pending`` and go out on the next run; a message the server refuses is
retried with a growing pause and marked ``failed`` after ``MAIL_MAX_ATTEMPTS`` attempts.

Retention (``prune_outbox``, run by ``send-mail``): a delivered message's body is removed the
moment it is sent; its address is cleared ``MAIL_SENT_RETENTION_DAYS`` (30) days later. A
message not delivered within ``MAIL_UNSENT_RETENTION_DAYS`` (14) days of being queued is given
up (``failed``) and its body and address are removed.

Messages queued during a web request are delivered right after the response is built (best
effort; whatever fails stays queued for ``flask --app wsgi send-mail``).
"""

from __future__ import annotations

import logging
import os
import re
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from urllib.parse import urlparse

import sqlalchemy as sa
from flask import current_app, g, has_request_context
from sqlalchemy.exc import IntegrityError

from models import db, now_utc
from models.outbox import OutboxMessage, OutboxStatus
from webapp.services.personal_data import scrub_outbox_rows

log = logging.getLogger(__name__)

#: A sender that claimed a message and then died leaves it ``sending``; taken over after this.
STALE_CLAIM = timedelta(minutes=15)
DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_TIMEOUT_SECONDS = 10
#: Longer subjects are shortened (an unfolded encoded header must stay far below 998 bytes).
MAX_SUBJECT = 150

#: Characters that break a line or a header, or reorder what a reader sees: C0/C1 controls
#: (CR, LF, TAB…), line and paragraph separators, and the bidirectional overrides.
_UNSAFE_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e"
                           "\u2066-\u2069]+")


def one_line(text: str) -> str:
    """``text`` as one line: control and bidi characters become spaces, runs of spaces one."""
    return " ".join(_UNSAFE_CHARS.sub(" ", text).split())


def _one_line_values(value):
    """Jinja ``finalize`` for e-mail templates: every interpolated string is one clean line, so
    what a visitor typed (a name) cannot add lines, fake links on their own line, or headers."""
    return one_line(value) if isinstance(value, str) else value


def render_mail(template: str, **context) -> str:
    """Render an e-mail template (``.txt`` plain, ``.html`` autoescaped) with every value
    passed through ``one_line``. Mail is rendered outside any page: no request globals."""
    env = current_app.extensions.get("profroute_mail_jinja")
    if env is None:
        env = current_app.jinja_env.overlay(finalize=_one_line_values)
        current_app.extensions["profroute_mail_jinja"] = env
    return env.get_template(template).render(**context)


_EMAIL_RE = re.compile(r"^[^@\s<>(),;:\"\[\]]+@[^@\s<>(),;:\"\[\]]+\.[^@\s<>(),;:\"\[\]]{2,}$")


def is_valid_email(address: str | None) -> bool:
    """A plain address such as ``ivanova@mail.ru`` (no display name, one @, a dotted domain)."""
    if not address or len(address) > 254:
        return False
    if not _EMAIL_RE.match(address):
        return False
    local, _, domain = address.rpartition("@")
    return len(local) <= 64 and ".." not in address and not domain.startswith(".")


@dataclass(frozen=True)
class Attachment:
    """A file attached to a message. With ``content_id`` it is shown inline in the HTML part
    (referenced as ``cid:<content_id>``)."""

    filename: str
    content_type: str
    data: bytes
    content_id: str | None = None
    params: dict = field(default_factory=dict)


def _as_attachment(item) -> Attachment:
    if isinstance(item, Attachment):
        return item
    return Attachment(*item)


def _mail_domain() -> str:
    host = urlparse(current_app.config.get("PROFROUTE_BASE_URL", "")).hostname
    return host or "profroute.local"


def build_message(to: str, subject: str, text: str, html: str | None = None,
                  attachments=None) -> EmailMessage:
    """Compose the message: text, optional HTML with inline images, then attachments."""
    msg = EmailMessage()
    msg["From"] = current_app.config["MAIL_SENDER"]
    msg["To"] = to
    # An event's title is in most subjects: never a line break (a header of its own).
    msg["Subject"] = one_line(subject)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=_mail_domain())
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text, cte="quoted-printable")
    items = [_as_attachment(a) for a in (attachments or [])]
    inline = [a for a in items if a.content_id]
    if html is not None:
        msg.add_alternative(html, subtype="html", cte="quoted-printable")
        html_part = msg.get_payload()[1]
        for a in inline:
            maintype, subtype = a.content_type.split("/", 1)
            html_part.add_related(a.data, maintype=maintype, subtype=subtype,
                                  cid=f"<{a.content_id}>", filename=a.filename,
                                  disposition="inline")
    for a in items:
        if a.content_id and html is not None:
            continue
        maintype, subtype = a.content_type.split("/", 1)
        msg.add_attachment(a.data, maintype=maintype, subtype=subtype, filename=a.filename,
                           params=a.params or None)
    return msg


def queue_mail(to: str, subject: str, text: str, html: str | None = None, attachments=None,
               *, dedupe_key: str | None = None) -> OutboxMessage:
    """Store a message in the outbox (flushed, not committed) and return its row.

    With ``dedupe_key``, a message with the same key is queued at most once ever: the existing
    row is returned instead (safe against a concurrent sender too, by the unique index).
    """
    subject = one_line(subject)
    if len(subject) > MAX_SUBJECT:
        subject = subject[:MAX_SUBJECT - 1].rstrip() + "…"
    if dedupe_key is not None:
        existing = OutboxMessage.query.filter_by(dedupe_key=dedupe_key).first()
        if existing is not None:
            return existing
    message = build_message(to, subject, text, html, attachments)
    # CRLF line endings, as SMTP requires (smtplib sends bytes unchanged). Headers are not
    # folded: folding long Cyrillic subjects loses spaces between encoded words (the body was
    # already wrapped when it was encoded, so no line gets near SMTP's 998-byte limit).
    data = message.as_bytes(policy=message.policy.clone(linesep="\r\n", max_line_length=None))
    row = OutboxMessage(to_address=to, subject=subject, message=data,
                        dedupe_key=dedupe_key, status=OutboxStatus.PENDING, attempts=0,
                        next_attempt_at=now_utc())
    if dedupe_key is None:
        db.session.add(row)
        db.session.flush()
    else:
        try:
            with db.session.begin_nested():
                db.session.add(row)
        except IntegrityError:
            return OutboxMessage.query.filter_by(dedupe_key=dedupe_key).one()
    if has_request_context():
        g.setdefault("profroute_queued_mail", []).append(row.id)
    return row


@dataclass
class DeliveryReport:
    sent: int = 0
    deferred: int = 0  #: still queued (server unreachable or temporary refusal)
    failed: int = 0  #: gave up after the last attempt
    errors: list[str] = field(default_factory=list)


class _ServerUnavailable(Exception):
    """The mail server could not be reached or dropped the connection."""


def setting(name, default):
    """A setting from the app config, else the environment, else ``default``."""
    value = current_app.config.get(name)
    if value is None:
        value = os.environ.get(name)
    if value is None:
        return default
    return type(default)(value) if isinstance(default, int | float) and not isinstance(
        default, bool) else value


def _retry_pause(attempts: int) -> timedelta:
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 240))


def _candidate_ids(conn, ids, limit) -> list[int]:
    now = now_utc()
    t = OutboxMessage.__table__
    query = sa.select(t.c.id).where(sa.or_(
        sa.and_(t.c.status == OutboxStatus.PENDING.value, t.c.next_attempt_at <= now),
        sa.and_(t.c.status == OutboxStatus.SENDING.value, t.c.claimed_at < now - STALE_CLAIM),
    )).order_by(t.c.id)
    if ids is not None:
        query = query.where(t.c.id.in_(list(ids)))
    if limit:
        query = query.limit(limit)
    return [row[0] for row in conn.execute(query)]


def _claim(conn, message_id: int):
    """Take one message for sending; returns (claim time, message bytes, to) or None."""
    now = now_utc()
    t = OutboxMessage.__table__
    with conn.begin():
        result = conn.execute(
            t.update().where(t.c.id == message_id).where(sa.or_(
                sa.and_(t.c.status == OutboxStatus.PENDING.value, t.c.next_attempt_at <= now),
                sa.and_(t.c.status == OutboxStatus.SENDING.value,
                        t.c.claimed_at < now - STALE_CLAIM),
            )).values(status=OutboxStatus.SENDING.value, claimed_at=now)
        )
        if result.rowcount != 1:
            return None
        row = conn.execute(sa.select(t.c.message, t.c.to_address, t.c.attempts)
                           .where(t.c.id == message_id)).one()
    return now, bytes(row.message), row.to_address, row.attempts


def _finish(conn, message_id: int, claim_time, **values) -> None:
    """Record the outcome, only if the claim is still ours (not taken over as stale)."""
    t = OutboxMessage.__table__
    with conn.begin():
        conn.execute(t.update().where(t.c.id == message_id)
                     .where(t.c.claimed_at == claim_time).values(**values))


class _FolderTransport:
    """Development: write each message to ``MAIL_OUTBOX_DIR`` as ``<id>-<to>.eml``."""

    def __init__(self, folder: str):
        self.folder = folder

    def __enter__(self):
        os.makedirs(self.folder, exist_ok=True)
        return self

    def __exit__(self, *exc):
        return False

    def send(self, message_id: int, to: str, data: bytes) -> None:
        safe_to = re.sub(r"[^A-Za-z0-9@._-]", "_", to)
        path = os.path.join(self.folder, f"{message_id:06d}-{safe_to}.eml")
        tmp = path + ".part"
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)


class _SmtpTransport:
    def __init__(self, config):
        self.config = config
        self.smtp = None

    def __enter__(self):
        cfg = self.config
        timeout = setting("MAIL_TIMEOUT", DEFAULT_TIMEOUT_SECONDS)
        try:
            if cfg.get("MAIL_USE_SSL"):
                self.smtp = smtplib.SMTP_SSL(cfg["MAIL_SERVER"], cfg["MAIL_PORT"],
                                             timeout=timeout,
                                             context=ssl.create_default_context())
            else:
                self.smtp = smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=timeout)
                if cfg.get("MAIL_USE_TLS"):
                    self.smtp.starttls(context=ssl.create_default_context())
            if cfg.get("MAIL_USERNAME"):
                self.smtp.login(cfg["MAIL_USERNAME"], cfg.get("MAIL_PASSWORD", ""))
        except (OSError, smtplib.SMTPException) as err:
            self._close()
            raise _ServerUnavailable(f"почтовый сервер недоступен: {err}") from err
        return self

    def __exit__(self, *exc):
        self._close()
        return False

    def _close(self):
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.smtp.close()
            self.smtp = None

    def send(self, message_id: int, to: str, data: bytes) -> None:
        sender = parseaddr(self.config["MAIL_SENDER"])[1]
        try:
            self.smtp.sendmail(sender, [to], data)
        except smtplib.SMTPServerDisconnected as err:
            raise _ServerUnavailable(f"соединение с почтовым сервером прервано: {err}") from err
        except smtplib.SMTPException:
            raise  # the server answered: a problem with this message, judged by the caller
        except OSError as err:
            raise _ServerUnavailable(f"почтовый сервер недоступен: {err}") from err


def _transport():
    cfg = current_app.config
    if cfg.get("MAIL_SERVER"):
        return _SmtpTransport(cfg)
    return _FolderTransport(cfg["MAIL_OUTBOX_DIR"])


def deliver_outbox(ids=None, limit: int | None = None) -> DeliveryReport:
    """Send queued messages (all due ones, or only ``ids``); never raises for mail errors.

    Works on its own connection, committing per message, independent of ``db.session``.
    """
    report = DeliveryReport()
    max_attempts = setting("MAIL_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS)
    with db.engine.connect() as conn:
        with conn.begin():
            candidates = _candidate_ids(conn, ids, limit)
        if not candidates:
            return report
        try:
            with _transport() as transport:
                for message_id in candidates:
                    claim = _claim(conn, message_id)
                    if claim is None:
                        continue  # another sender took it, or it is no longer due
                    claimed_at, data, to, attempts = claim
                    try:
                        transport.send(message_id, to, data)
                    except _ServerUnavailable as err:
                        _finish(conn, message_id, claimed_at, status=OutboxStatus.PENDING.value,
                                attempts=attempts + 1, last_error=str(err), claimed_at=None)
                        raise
                    except (smtplib.SMTPException, OSError) as err:
                        attempts += 1
                        permanent = getattr(err, "smtp_code", 0) >= 500 or isinstance(
                            err, smtplib.SMTPRecipientsRefused)
                        give_up = attempts >= max_attempts or (permanent and attempts >= 3)
                        _finish(conn, message_id, claimed_at,
                                status=(OutboxStatus.FAILED if give_up
                                        else OutboxStatus.PENDING).value,
                                attempts=attempts, last_error=str(err)[:2000], claimed_at=None,
                                next_attempt_at=now_utc() + _retry_pause(attempts))
                        report.errors.append(f"письмо {message_id}: {err}")
                        if give_up:
                            report.failed += 1
                        else:
                            report.deferred += 1
                        continue
                    # Delivered: the body (names, private links, QR codes) is not kept.
                    _finish(conn, message_id, claimed_at, status=OutboxStatus.SENT.value,
                            sent_at=now_utc(), attempts=attempts + 1, last_error=None,
                            message=b"")
                    report.sent += 1
        except _ServerUnavailable as err:
            log.warning("mail not delivered, stays queued: %s", err)
            report.errors.append(str(err))
            with conn.begin():
                report.deferred = conn.execute(
                    sa.select(sa.func.count()).select_from(OutboxMessage.__table__)
                    .where(OutboxMessage.__table__.c.id.in_(candidates))
                    .where(OutboxMessage.__table__.c.status == OutboxStatus.PENDING.value)
                ).scalar_one()
    return report


def deliver_mail_queued_in_request(response):
    """After a request that queued mail: end the request's transaction and send at once.

    Anything uncommitted at this point would be discarded at teardown anyway; ending it here
    releases the request's locks (SQLite) before the outbox is written. Failures stay queued.
    """
    ids = g.pop("profroute_queued_mail", None)
    if not ids or str(setting("MAIL_DELIVER_ON_REQUEST", "1")).lower() in ("0", "false", "no"):
        return response
    db.session.rollback()
    try:
        deliver_outbox(ids=ids)
    except Exception:  # noqa: BLE001 - mail must never break the page; cron retries
        log.exception("immediate mail delivery failed; left in the outbox")
    return response


DEFAULT_SENT_RETENTION_DAYS = 30
DEFAULT_UNSENT_RETENTION_DAYS = 14


@dataclass
class PruneReport:
    sent: int = 0  #: delivered messages whose address (and any left body) was removed
    unsent: int = 0  #: undelivered messages given up and emptied


def prune_outbox(at=None) -> PruneReport:
    """Apply the outbox retention (module docstring); flushes, the caller commits."""
    now = at or now_utc()
    sent_days = setting("MAIL_SENT_RETENTION_DAYS", DEFAULT_SENT_RETENTION_DAYS)
    unsent_days = setting("MAIL_UNSENT_RETENTION_DAYS", DEFAULT_UNSENT_RETENTION_DAYS)
    t = OutboxMessage.__table__
    kept = sa.or_(t.c.to_address != "", sa.func.length(t.c.message) > 0)
    sent = db.session.execute(sa.select(t.c.id).where(
        t.c.status == OutboxStatus.SENT.value, t.c.sent_at < now - timedelta(days=sent_days),
        kept)).scalars().all()
    unsent = db.session.execute(sa.select(t.c.id).where(
        t.c.status != OutboxStatus.SENT.value,
        t.c.created_at < now - timedelta(days=unsent_days), kept)).scalars().all()
    report = PruneReport(sent=scrub_outbox_rows(sent), unsent=scrub_outbox_rows(unsent))
    db.session.flush()
    return report


def outbox_counts() -> dict[str, int]:
    rows = db.session.query(OutboxMessage.status, sa.func.count()).group_by(
        OutboxMessage.status).all()
    return {status.value: n for status, n in rows}
