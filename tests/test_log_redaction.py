"""Credentials in URLs never reach a log: the redaction itself, the development server's
request log, the application's own messages, and gunicorn's access log with the shipped
``gunicorn.conf.py`` (a real gunicorn process)."""

from __future__ import annotations

import http.client
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn.config import Config as GunicornConfig
from werkzeug.serving import make_server

from checkin.door.links import create_scanner_link
from formats.log_redaction import REDACTED, redact
from models import db
from webapp.gunicorn_logging import RedactingGunicornLogger

ROOT = Path(__file__).resolve().parent.parent
LINK = "sl_Zx9-kR2_abcdefghijklmnopqrstuvwxyz012345"
SECRET = "Qm7_x-PrivateParentLink0123456789"
TICKET = "Tk8_ticketTokenABCDEFGHIJKLMNOPQ"
GROUP = "Gr5_groupCodeABCDEFGHIJKLMNOPQRS"


@pytest.mark.parametrize(("raw", "logged"), [
    (f"GET /s/{LINK} HTTP/1.1", "GET /s/[redacted] HTTP/1.1"),
    (f"/s/{LINK}/manifest.webmanifest", "/s/[redacted]/manifest.webmanifest"),
    (f"/my/{SECRET}", "/my/[redacted]"),
    (f"/my/{SECRET}/cancel", "/my/[redacted]/cancel"),
    (f"/my/{SECRET}/withdraw?x=1", "/my/[redacted]/withdraw?x=1"),
    (f"/t/{TICKET}", "/t/[redacted]"),
    (f"/tickets/{TICKET}/qr.png", "/tickets/[redacted]/qr.png"),
    (f"/g/{GROUP}/qr.svg", "/g/[redacted]/qr.svg"),
    (f"/api/v1/events/7/groups/{GROUP}", "/api/v1/events/7/groups/[redacted]"),
    (f"https://profroute.example.ru/s/{LINK}", "https://profroute.example.ru/s/[redacted]"),
    (f"/login?next=%2Fmy%2F{SECRET}%2Fcancel", "/login?next=%2Fmy%2F[redacted]%2Fcancel"),
    (f"/x?token={LINK}&q=1", "/x?token=[redacted]&q=1"),
    # Not secrets: left alone.
    ("/my/baseline?year=2025", "/my/baseline?year=2025"),
    ("/static/js/scanner/app.js?v=abc", "/static/js/scanner/app.js?v=abc"),
    ("/api/v1/events/7/scans", "/api/v1/events/7/scans"),
    ("/events?q=Иванов&category=it", "/events?q=Иванов&category=it"),
    ("", ""),
])
def test_redact(raw, logged):
    assert redact(raw) == logged


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str, headers: dict | None = None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


@pytest.fixture
def link_token(factory):
    event = factory.create_event()
    _link, token = create_scanner_link(None, event, label="Волонтёр")
    db.session.commit()
    return token


def test_development_server_log_hides_the_scanner_link(app, link_token, caplog):
    """``flask run`` logs each request through the ``werkzeug`` logger."""
    port = _free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            assert _get(port, f"/s/{link_token}") == 200
            assert _get(port, f"/my/{SECRET}") == 404
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any("GET /s/[redacted] HTTP/1.1" in line and "200" in line for line in lines), lines
    assert any("GET /my/[redacted] HTTP/1.1" in line for line in lines), lines
    assert not any(link_token in line or SECRET in line for line in lines)


def test_application_messages_hide_the_path(app, caplog):
    """Flask logs a failed request as ``Exception on <path> [GET]``."""
    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        app.logger.error("Exception on %s [%s]", f"/s/{LINK}", "GET")
    assert caplog.records[-1].getMessage() == "Exception on /s/[redacted] [GET]"


def _gunicorn_logger(tmp_path: Path) -> tuple[RedactingGunicornLogger, Path]:
    cfg = GunicornConfig()
    log_file = tmp_path / "access.log"
    cfg.set("accesslog", str(log_file))
    cfg.set("access_log_format", '%(h)s "%(r)s" %(s)s "%(f)s" %(U)s %(q)s '
                                 '%({authorization}i)s %({cookie}i)s %({location}o)s')
    return RedactingGunicornLogger(cfg), log_file


def test_gunicorn_logger_class_redacts_every_atom(tmp_path):
    logger, log_file = _gunicorn_logger(tmp_path)
    environ = {
        "REQUEST_METHOD": "GET", "RAW_URI": f"/s/{LINK}?token={LINK}",
        "PATH_INFO": f"/s/{LINK}", "QUERY_STRING": f"token={LINK}",
        "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": f"https://profroute.example.ru/my/{SECRET}",
    }
    request = SimpleNamespace(headers=[("AUTHORIZATION", f"Bearer {LINK}"),
                                       ("COOKIE", "session=abc")])
    response = SimpleNamespace(status="302 FOUND", sent=0,
                               headers=[("Location", f"/my/{SECRET}?new=1")])
    logger.access(response, request, environ, timedelta(milliseconds=5))
    for handler in logger.access_log.handlers:
        handler.flush()
    line = log_file.read_text()
    assert LINK not in line and SECRET not in line and "session=abc" not in line
    assert '"GET /s/[redacted]?token=[redacted] HTTP/1.1" 302' in line
    assert '"https://profroute.example.ru/my/[redacted]"' in line
    assert f"/s/{REDACTED} token={REDACTED} {REDACTED} {REDACTED} /my/{REDACTED}?new=1" in line


def test_shipped_gunicorn_config_uses_the_redacting_logger(app, database_url, link_token,
                                                           tmp_path):
    """A real gunicorn with ``gunicorn.conf.py``: the access log shows no link or secret."""
    port = _free_port()
    access_log = tmp_path / "access.log"
    env = {**os.environ, "DATABASE_URL": database_url,
           "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "1",
           "GUNICORN_ACCESS_LOG": str(access_log), "GUNICORN_ERROR_LOG": str(tmp_path / "e.log"),
           "PROFROUTE_ENV": "development", "MAIL_OUTBOX_DIR": str(tmp_path / "mail")}
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status = _get(port, f"/s/{link_token}",
                              headers={"Referer": f"http://127.0.0.1:{port}/s/{link_token}"})
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
        assert status == 200
        assert _get(port, f"/my/{SECRET}/cancel") == 404
        assert _get(port, f"/t/{TICKET}") == 404
        assert _get(port, f"/login?next=%2Fmy%2F{SECRET}") == 200
    finally:
        process.terminate()
        process.wait(timeout=20)
    log = access_log.read_text()
    lines = log.strip().splitlines()
    assert len(lines) == 4, log
    assert link_token not in log and SECRET not in log and TICKET not in log
    assert '"GET /s/[redacted] HTTP/1.1" 200' in lines[0]
    assert f'"http://127.0.0.1:{port}/s/[redacted]"' in lines[0]
    assert '"GET /my/[redacted]/cancel HTTP/1.1" 404' in lines[1]
    assert '"GET /t/[redacted] HTTP/1.1" 404' in lines[2]
    assert "/login?next=%2Fmy%2F[redacted]" in lines[3]
