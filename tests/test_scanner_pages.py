"""The scanner pages /checkin/<event_id> and /s/<token>, their manifests and the service worker."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from checkin.door.links import create_scanner_link
from models import OrgKind, Role, db, now_utc

CONFIG = re.compile(r'<script type="application/json" id="scanner-config">(.*?)</script>', re.S)


def page_config(response) -> dict:
    match = CONFIG.search(response.get_data(as_text=True))
    assert match, "no scanner config on the page"
    return json.loads(match.group(1))


@pytest.fixture
def door(factory):
    org = factory.create_org(kind=OrgKind.UNIVERSITY, name="ТГУ")
    organizer = factory.create_user(Role.ORGANIZER, organization=org)
    event = factory.create_event(organizer=org, title="День открытых дверей ТГУ")
    db.session.commit()
    return {"org": org, "organizer": organizer, "event": event}


def test_anonymous_visitor_is_sent_to_login(client, door):
    response = client.get(f"/checkin/{door['event'].id}")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_organizer_gets_the_scanner_of_own_event(client, auth, door):
    auth.login(door["organizer"].email)
    response = client.get(f"/checkin/{door['event'].id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "День открытых дверей ТГУ" in html
    assert 'id="answer-live" aria-live="assertive"' in html
    assert "Код с билета (8 знаков) или ручной сканер" in html
    config = page_config(response)
    assert config["mode"] == "session"
    assert config["eventId"] == door["event"].id
    assert config["apiBase"] == f"/api/v1/events/{door['event'].id}"
    assert config["csrfToken"]
    assert config["scopeKey"] == f"checkin-{door['event'].id}"
    assert "linkToken" not in config
    # the page, its scripts and its service worker carry one version: they always match
    version = client.get("/scanner-assets.json").get_json()["version"]
    assert config["swUrl"] == f"/scanner-sw.js?v={version}"
    assert f'src="/static/js/scanner/app.js?v={version}"' in html
    assert response.headers["Cache-Control"] == "no-store"
    # logging out from the scanner's menu (the service worker wipes the offline data then)
    assert 'action="/logout" id="logout-form"' in html and 'name="csrf_token"' in html


def test_admin_may_scan_any_event(client, auth, factory, door):
    admin = factory.create_user(Role.ADMIN)
    db.session.commit()
    auth.login(admin.email)
    assert client.get(f"/checkin/{door['event'].id}").status_code == 200


@pytest.mark.parametrize("role", [Role.ORGANIZER, Role.COORDINATOR])
def test_staff_of_another_organization_is_refused(client, auth, factory, door, role):
    other = factory.create_user(role)
    db.session.commit()
    auth.login(other.email)
    response = client.get(f"/checkin/{door['event'].id}")
    assert response.status_code == 403
    assert "У вас нет прав" in response.get_data(as_text=True)
    assert client.get(f"/checkin/{door['event'].id}/manifest.webmanifest").status_code == 403


def test_unknown_event_is_404(client, auth, door):
    auth.login(door["organizer"].email)
    assert client.get("/checkin/999999").status_code == 404


def test_event_title_cannot_break_out_of_the_config_script(client, auth, factory, door):
    door["event"].title = "Злой </script><script>alert(1)</script>"
    db.session.commit()
    auth.login(door["organizer"].email)
    response = client.get(f"/checkin/{door['event'].id}")
    html = response.get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert page_config(response)["eventTitle"] == "Злой </script><script>alert(1)</script>"


def test_scanner_link_opens_the_scanner_without_an_account(client, door):
    link, token = create_scanner_link(door["organizer"], door["event"], label="Волонтёр 1",
                                      gate="Главный вход")
    db.session.commit()
    response = client.get(f"/s/{token}")
    assert response.status_code == 200
    config = page_config(response)
    assert config["mode"] == "link"
    assert config["linkToken"] == token
    assert config["gate"] == "Главный вход"
    assert config["canUndo"] is False and config["canForce"] is False
    assert config["validUntil"] == link.expires_at.isoformat()
    assert token not in config["scopeKey"]
    assert "csrfToken" not in config
    assert "logout-form" not in response.get_data(as_text=True)


@pytest.mark.parametrize("problem, status, text", [
    ("unknown", 404, "Ссылка сканера не найдена"),
    ("revoked", 410, "Ссылка сканера отозвана"),
    ("expired", 410, "Срок действия ссылки истёк"),
])
def test_unusable_link_shows_a_clear_russian_page(client, door, problem, status, text):
    link, token = create_scanner_link(door["organizer"], door["event"], label="Волонтёр")
    if problem == "unknown":
        token = "sl_no-such-link"
    elif problem == "revoked":
        link.revoked_at = now_utc()
    else:
        link.expires_at = now_utc() - timedelta(minutes=1)
    db.session.commit()
    response = client.get(f"/s/{token}")
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert text in html
    assert "scanner-config" not in html
    # the page wipes the link's offline ticket data from the phone
    assert 'id="scanner-wipe"' in html and "js/scanner/wipe.js" in html
    assert response.headers["Cache-Control"] == "no-store"
    assert client.get(f"/s/{token}/manifest.webmanifest").status_code == status


def test_manifests_make_each_scanner_installable(client, auth, door):
    _link, token = create_scanner_link(door["organizer"], door["event"], label="Волонтёр")
    db.session.commit()
    link_manifest = client.get(f"/s/{token}/manifest.webmanifest")
    assert link_manifest.mimetype == "application/manifest+json"
    body = link_manifest.get_json(force=True)
    assert body["start_url"] == f"/s/{token}"
    assert body["display"] == "standalone" and body["lang"] == "ru"
    assert {icon["sizes"] for icon in body["icons"]} == {"192x192", "512x512"}
    for icon in body["icons"]:
        with client.get(icon["src"]) as icon_response:
            assert icon_response.status_code == 200
    auth.login(door["organizer"].email)
    own = client.get(f"/checkin/{door['event'].id}/manifest.webmanifest").get_json(force=True)
    assert own["start_url"] == f"/checkin/{door['event'].id}"
    assert "День открытых дверей ТГУ" in own["name"]


def test_service_worker_is_served_from_the_root_scope(client):
    with client.get("/scanner-sw.js") as response:
        response.get_data()
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response.headers["Cache-Control"]
    assert "importScripts" in response.get_data(as_text=True)


def test_service_worker_caches_only_the_scanners_own_files(client):
    listing = client.get("/scanner-assets.json").get_json()
    assert re.fullmatch(r"[0-9a-f]{12}", listing["version"])
    version = f"?v={listing['version']}"
    assert f"/static/vendor/jsqr-1.4.0/jsQR.js{version}" in listing["assets"]
    assert f"/static/js/scanner/app.js{version}" in listing["assets"]
    for url in listing["assets"]:
        assert url.endswith(version), url
        assert url.startswith(("/static/js/scanner/", "/static/css/scanner.css",
                               "/static/vendor/jsqr-", "/static/img/scanner/")), url
        with client.get(url) as asset:
            assert asset.status_code == 200, url
