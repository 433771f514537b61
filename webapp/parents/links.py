"""The private link a parent or teacher gets after signing up (``/my/<secret>``)."""

from __future__ import annotations

from flask import current_app


def manage_url(secret: str) -> str:
    return f"{current_app.config['PROFROUTE_BASE_URL'].rstrip('/')}/my/{secret}"
