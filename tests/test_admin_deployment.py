"""Deployment behind nginx: the visitor's address reaches the login limit."""

from __future__ import annotations

import re

from models import LoginThrottle, Role
from webapp import create_app
from webapp.config import TestConfig


def _failed_login_ip(app, headers) -> str:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/login", data={"csrf_token": token, "email": "x@test.local",
                                "password": "wrong"}, headers=headers)
    with app.app_context():
        from models import db

        keys = [row.key for row in LoginThrottle.query.filter(
            LoginThrottle.key.startswith("ip:"), LoginThrottle.attempts > 0)]
        assert len(keys) == 1, keys
        ip = keys[0].removeprefix("ip:")
        LoginThrottle.query.delete()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return ip


def test_forwarded_address_is_trusted_only_when_configured(database_url, db, factory):
    factory.create_user(Role.ADMIN, email="x@test.local")
    db.session.commit()
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    headers = {"X-Forwarded-For": "203.0.113.7"}
    direct = create_app({**config, "SQLALCHEMY_DATABASE_URI": database_url})
    assert _failed_login_ip(direct, headers) == "127.0.0.1"  # a header alone is not trusted
    proxied = create_app({**config, "SQLALCHEMY_DATABASE_URI": database_url, "PROXY_COUNT": 1})
    assert _failed_login_ip(proxied, headers) == "203.0.113.7"
