"""Scanner pages, their web app manifests and the service worker."""

from __future__ import annotations

import hashlib
import json
import os

from flask import (
    Response,
    abort,
    current_app,
    render_template,
    send_from_directory,
    url_for,
)
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from checkin.door.links import find_link
from models import Event, Role, ScannerLink, db, now_utc
from webapp.access import can_manage_event
from webapp.scanner import bp

#: Bumped whenever the scanner's files change, so phones fetch the new ones.
SCANNER_ASSETS = (
    "css/scanner.css",
    "js/scanner/decide.js",
    "js/scanner/store.js",
    "js/scanner/camera.js",
    "js/scanner/decoder-worker.js",
    "js/scanner/app.js",
    "vendor/jsqr-1.4.0/jsQR.js",
    "img/scanner/icon-192.png",
    "img/scanner/icon-512.png",
)


def assets_version() -> str:
    """A short digest of the scanner's static files: the service worker's cache name."""
    cached = current_app.extensions.get("scanner_assets_version")
    if cached and not current_app.debug:
        return cached
    digest = hashlib.sha256()
    for name in SCANNER_ASSETS + ("js/scanner/sw.js",):
        with open(os.path.join(current_app.static_folder, name), "rb") as handle:
            digest.update(handle.read())
    version = digest.hexdigest()[:12]
    current_app.extensions["scanner_assets_version"] = version
    return version


DOOR_ROLES = (Role.ADMIN, Role.ORGANIZER, Role.COORDINATOR)


def scope_key_for_link(token: str) -> str:
    """Where a link's offline data lives on the phone; never the token itself."""
    return "link-" + hashlib.sha256(token.encode()).hexdigest()[:16]


def asset_url(name: str) -> str:
    """A scanner file's URL carrying the version, so a page and its scripts always match."""
    return url_for("static", filename=name, v=assets_version())


def _asset_urls() -> list[str]:
    return [asset_url(name) for name in SCANNER_ASSETS]


def _script_json(value) -> str:
    """JSON safe inside a <script> element (no "</script>" break-out)."""
    return (json.dumps(value, ensure_ascii=False)
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _render_scanner(event: Event, config: dict, manifest_url: str):
    config = {
        "eventId": event.id,
        "eventTitle": event.title,
        "apiBase": url_for("api.openapi_document").rsplit("/", 1)[0] + f"/events/{event.id}",
        # A new version of the scanner's files is a new worker URL: phones update by themselves.
        "swUrl": url_for("scanner.service_worker", v=assets_version()),
        "assetsVersion": assets_version(),
        "workerUrl": asset_url("js/scanner/decoder-worker.js"),
        **config,
    }
    response = Response(render_template(
        "scanner/page.html", event=event, config_json=_script_json(config),
        manifest_url=manifest_url, mode=config["mode"], asset_url=asset_url,
    ))
    # The page holds a personal scanner session (and a link's token): never in any cache. The
    # service worker keeps its own copy for offline use (the Cache API ignores no-store).
    response.headers["Cache-Control"] = "no-store"
    return response


def _require_door_staff(event: Event) -> None:
    """The event's organizer (its organization's staff) and admins; the same rule as the API."""
    if current_user.role not in DOOR_ROLES or not can_manage_event(current_user, event):
        abort(403)


@bp.get("/checkin/<int:event_id>")
@login_required
def checkin(event_id: int):
    event = db.session.get(Event, event_id)
    if event is None:
        abort(404)
    _require_door_staff(event)
    return _render_scanner(event, {
        "mode": "session",
        "scopeKey": f"checkin-{event.id}",
        "csrfToken": generate_csrf(),
        "canForce": True,
        "canUndo": True,
        "gate": None,
        "logoutUrl": url_for("auth.logout"),
        "homeUrl": url_for("main.index"),
        "pageUrl": url_for("scanner.checkin", event_id=event.id),
    }, url_for("scanner.checkin_manifest", event_id=event.id))


def _link_or_error(token: str) -> ScannerLink | Response:
    link = find_link(token)
    if link is None:
        return _link_problem(404, "Ссылка сканера не найдена",
                             "Такой ссылки нет. Проверьте адрес или попросите организатора "
                             "выдать новую ссылку.", token)
    if link.revoked_at is not None:
        return _link_problem(410, "Ссылка сканера отозвана",
                             "Организатор отозвал эту ссылку. Отмечать по ней больше нельзя; "
                             "попросите новую.", token)
    if now_utc() >= link.expires_at:
        return _link_problem(410, "Срок действия ссылки истёк",
                             "Ссылка сканера больше не действует. Если отметка ещё идёт, "
                             "попросите организатора выдать новую ссылку.", token)
    return link


def _link_problem(status: int, title: str, message: str, token: str) -> Response:
    response = Response(render_template(
        "scanner/link_problem.html", title=title, message=message,
        scope_key=scope_key_for_link(token),
    ), status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/s/<token>")
def link_scanner(token: str):
    link = _link_or_error(token)
    if isinstance(link, Response):
        return link
    return _render_scanner(link.event, {
        "mode": "link",
        "scopeKey": scope_key_for_link(token),
        "linkToken": token,
        "canForce": False,
        "canUndo": False,
        "gate": link.gate,
        "linkLabel": link.label,
        "validUntil": link.expires_at.isoformat(),
        "pageUrl": url_for("scanner.link_scanner", token=token),
    }, url_for("scanner.link_manifest", token=token))


def _manifest(start_url: str, name: str) -> Response:
    body = {
        "name": f"Сканер — {name}"[:80],
        "short_name": "Сканер",
        "description": "Отметка участников по QR-кодам билетов (Профмаршрут)",
        "lang": "ru",
        "start_url": start_url,
        "scope": start_url,
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#0b0c0c",
        "theme_color": "#0b4f8a",
        "icons": [
            {"src": asset_url("img/scanner/icon-192.png"),
             "sizes": "192x192", "type": "image/png", "purpose": "any"},
            {"src": asset_url("img/scanner/icon-512.png"),
             "sizes": "512x512", "type": "image/png", "purpose": "any"},
        ],
    }
    response = Response(json.dumps(body, ensure_ascii=False),
                        mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/checkin/<int:event_id>/manifest.webmanifest")
@login_required
def checkin_manifest(event_id: int):
    event = db.session.get(Event, event_id)
    if event is None:
        abort(404)
    _require_door_staff(event)
    return _manifest(url_for("scanner.checkin", event_id=event.id), event.title)


@bp.get("/s/<token>/manifest.webmanifest")
def link_manifest(token: str):
    link = _link_or_error(token)
    if isinstance(link, Response):
        return link
    return _manifest(url_for("scanner.link_scanner", token=token), link.event.title)


@bp.get("/scanner-sw.js")
def service_worker():
    """The service worker lives at the root so its scope covers /checkin/ and /s/."""
    response = send_from_directory(current_app.static_folder, "js/scanner/sw.js",
                                   mimetype="text/javascript", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/scanner-assets.json")
def asset_list():
    """What the service worker caches for offline use (the scanner's own files only)."""
    response = Response(json.dumps({"version": assets_version(), "assets": _asset_urls()}),
                        mimetype="application/json")
    response.headers["Cache-Control"] = "no-cache"
    return response
