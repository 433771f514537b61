"""The security headers of every response, decided in one place.

- ``Content-Security-Policy``: scripts, styles, fonts, workers and the manifest only from this
  server; no inline scripts, inline event handlers or inline styles anywhere (page data travels
  in ``data-`` attributes or ``<script type="application/json">`` blocks, which are not run);
  images may also be ``data:`` (Bootstrap's form icons) or ``blob:``; the camera's stream plays
  as ``blob:``/``MediaStream`` media. Nothing from other origins: no CDN, no external service.
- ``Permissions-Policy``: the camera only on the scanner pages (``/checkin/<id>``,
  ``/s/<token>``); microphone, geolocation, payment and USB nowhere.
- ``Strict-Transport-Security`` when the request came over HTTPS (directly, or through nginx
  with ``PROFROUTE_PROXY_COUNT`` so ``X-Forwarded-Proto`` is trusted); never over plain HTTP.
- ``Cache-Control: no-store`` on everything that may hold personal data: every response to a
  signed-in user, and, for visitors, everything but the public pages listed in
  ``PUBLIC_ENDPOINTS`` (the catalogue, event pages, organizer profiles, their calendar files)
  and static files. So ticket pages, private links, scanner pages and their data, sign-up
  forms and the API are never kept by a browser's or a proxy's cache.
"""

from __future__ import annotations

from flask import Flask, Response, request
from flask_login import current_user

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "media-src 'self' blob:",
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "frame-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
])

#: Features no page uses; the camera is added per page below.
_DENIED_FEATURES = "microphone=(), geolocation=(), payment=(), usb=()"
PERMISSIONS_POLICY = f"camera=(), {_DENIED_FEATURES}"
PERMISSIONS_POLICY_CAMERA = f"camera=(self), {_DENIED_FEATURES}"

#: The pages that scan QR codes with the phone's camera.
CAMERA_ENDPOINTS = frozenset({"scanner.checkin", "scanner.link_scanner"})

#: What a visitor without an account may have cached: public pages with no personal data and
#: the scanner's public files. Everything else is ``no-store`` (a new page is private until it
#: is added here on purpose).
PUBLIC_ENDPOINTS = frozenset({
    "static",
    "main.index",
    "main.privacy",
    "main.favicon",
    "events.catalogue",
    "events.detail",
    "events.event_ics",
    "events.feed",
    "events.organizers",
    "events.organizer_profile",
    "scanner.service_worker",
    "scanner.asset_list",
    "api.openapi_document",
})

#: One year; browsers remember to use HTTPS only for this host.
HSTS_VALUE = "max-age=31536000"


def camera_allowed(endpoint: str | None) -> bool:
    return endpoint in CAMERA_ENDPOINTS


def may_be_cached(endpoint: str | None) -> bool:
    """Whether a response may keep the route's own caching headers; ``False`` means no-store."""
    if endpoint == "static":
        return True  # the same files for everyone; no session is looked at
    if endpoint not in PUBLIC_ENDPOINTS:
        return False
    return not current_user.is_authenticated


def apply_security_headers(response: Response) -> Response:
    endpoint = request.endpoint
    headers = response.headers
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    headers["Permissions-Policy"] = (PERMISSIONS_POLICY_CAMERA if camera_allowed(endpoint)
                                     else PERMISSIONS_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    if request.is_secure:
        headers["Strict-Transport-Security"] = HSTS_VALUE
    if not may_be_cached(endpoint):
        headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.after_request(apply_security_headers)
