"""Scanner links: creation (page), expiry, revocation, and the scope of their token."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from checkin.door.links import create_scanner_link, default_expiry, resolve_usable_link
from models import AuditLog, Role, Scan, ScannerLink, now_utc
from models.user import hash_token
from tests.factories import bearer


@pytest.fixture
def door(factory, db):
    organizer = factory.create_user(Role.ORGANIZER)
    event = factory.create_event(organizer.organization, starts_at=now_utc() + timedelta(hours=1))
    other_event = factory.create_event(organizer.organization,
                                       starts_at=now_utc() + timedelta(hours=1))
    school = factory.create_org()
    ticket = factory.create_ticket(event, factory.create_student(school))
    other_ticket = factory.create_ticket(other_event, factory.create_student(school))
    link, token = create_scanner_link(organizer, event, label="Волонтёр Маша", gate="Вход А")
    db.session.commit()
    return {"organizer": organizer, "event": event, "other_event": other_event,
            "ticket": ticket, "other_ticket": other_ticket, "link": link, "token": token,
            "school": school}


def test_link_token_is_stored_only_as_hash(door):
    link = door["link"]
    assert link.token_hash == hash_token(door["token"])
    assert door["token"] not in (link.token_hash, link.label, link.gate)
    assert door["token"].startswith("sl_") and len(door["token"]) > 40


def test_default_expiry_is_two_hours_after_the_end(door):
    assert door["link"].expires_at == door["event"].ends_at + timedelta(hours=2)
    assert default_expiry(door["event"]) == door["event"].ends_at + timedelta(hours=2)


def test_link_scans_its_event_with_its_gate(client, door):
    response = client.post(f"/api/v1/events/{door['event'].id}/scans",
                           json={"code": door["ticket"].token}, headers=bearer(door["token"]))
    assert response.get_json()["status"] == "ok"
    row = Scan.query.one()
    assert row.scanner_link_id == door["link"].id and row.user_id is None
    assert row.gate == "Вход А"
    assert "Волонтёр Маша" in client.post(
        f"/api/v1/events/{door['event'].id}/scans", json={"code": door["ticket"].token},
        headers=bearer(door["token"])).get_json()["first_checkin"]["by"]


@pytest.mark.parametrize("path", ["scans", "scans/batch", "scanner-data", "tickets?q=Ив",
                                  "groups/abc", "walk-ins", "live", "checkins/1/undo"])
def test_link_cannot_touch_another_event(client, door, path):
    method = "get" if path in ("scanner-data", "tickets?q=Ив", "groups/abc", "live") else "post"
    response = getattr(client, method)(
        f"/api/v1/events/{door['other_event'].id}/{path}",
        json={"code": door["other_ticket"].token, "scans": [], "reason": "x"}
        if method == "post" else None,
        headers=bearer(door["token"]))
    assert response.status_code == 403
    assert Scan.query.count() == 0


@pytest.mark.parametrize("path", ["live", "checkins/1/undo"])
def test_link_cannot_see_board_or_undo(client, door, path):
    method = "get" if path == "live" else "post"
    kwargs = {"json": {"reason": "ошибка"}} if method == "post" else {}
    response = getattr(client, method)(f"/api/v1/events/{door['event'].id}/{path}",
                                       headers=bearer(door["token"]), **kwargs)
    assert response.status_code == 403


def test_link_cannot_call_other_api(client, door):
    # Any endpoint that requires a user (e.g. creating an organization) refuses a link.
    response = client.post("/api/v1/organizations", json={"name": "X", "kind": "school"},
                           headers=bearer(door["token"]))
    assert response.status_code == 403


def test_link_token_is_not_a_login_for_pages(client, door, app):
    """Roster and report pages need a logged-in account; a link's token opens none of them."""
    candidates = ["/organizer/events/{id}/scans", "/organizer/events/{id}/board",
                  "/organizer/events/{id}/scanner-links", "/organizer/events/{id}",
                  "/school/students", "/reports/indicators", "/admin/organizations"]
    for template in candidates:
        url = template.format(id=door["event"].id)
        response = client.get(url, headers=bearer(door["token"]))
        assert response.status_code in (302, 401, 403, 404), url
        if response.status_code == 302:
            assert "/login" in response.headers["Location"]


def test_expired_link_is_refused(client, door, db):
    door["link"].expires_at = now_utc() - timedelta(minutes=1)
    db.session.commit()
    response = client.post(f"/api/v1/events/{door['event'].id}/scans",
                           json={"code": door["ticket"].token}, headers=bearer(door["token"]))
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "link_expired"
    assert Scan.query.count() == 0
    assert resolve_usable_link(door["token"]) is None


def test_revoked_link_is_refused(client, door, auth, db):
    auth.login(door["organizer"].email)
    response = client.post_form(
        f"/organizer/events/{door['event'].id}/scanner-links/{door['link'].id}/revoke")
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(ScannerLink, door["link"].id).revoked_at is not None
    assert AuditLog.query.filter_by(action="scanner_link.revoke").count() == 1
    auth.logout()
    response = client.post(f"/api/v1/events/{door['event'].id}/scans",
                           json={"code": door["ticket"].token}, headers=bearer(door["token"]))
    assert response.status_code == 401 and Scan.query.count() == 0
    assert resolve_usable_link(door["token"]) is None


def test_resolve_usable_link(door):
    assert resolve_usable_link(door["token"]).id == door["link"].id
    assert resolve_usable_link("sl_unknown") is None
    assert resolve_usable_link(None) is None


def test_link_cannot_force(client, door):
    response = client.post(f"/api/v1/events/{door['event'].id}/scans",
                           json={"code": door["ticket"].token, "force": True},
                           headers=bearer(door["token"]))
    assert response.status_code == 403 and Scan.query.count() == 0


# --------------------------------------------------------------------------- the page

def test_organizer_creates_link_and_sees_qr_once(client, door, auth, db):
    auth.login(door["organizer"].email)
    url = f"/organizer/events/{door['event'].id}/scanner-links"
    page = client.get(url)
    assert page.status_code == 200 and "Новая ссылка" in page.get_data(as_text=True)
    response = client.post_form(url, {"label": "Планшет", "gate": "Спортзал",
                                      "expires_at": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 201
    token = re.search(r"http://profroute\.test/s/(sl_[A-Za-z0-9_\-]+)", html).group(1)
    assert 'src="data:image/png;base64,' in html
    assert "показывается один раз" in html
    link = ScannerLink.query.filter_by(token_hash=hash_token(token)).one()
    assert link.label == "Планшет" and link.gate == "Спортзал"
    assert link.expires_at == door["event"].ends_at + timedelta(hours=2)
    assert AuditLog.query.filter_by(action="scanner_link.create").count() == 2
    # The list page afterwards never shows the token again.
    assert token not in client.get(url).get_data(as_text=True)
    # The QR in the page decodes to the link.
    import base64
    import io

    import zxingcpp
    from PIL import Image

    data = re.search(r'src="data:image/png;base64,([^"]+)"', html).group(1)
    [decoded] = zxingcpp.read_barcodes(Image.open(io.BytesIO(base64.b64decode(data))))
    assert decoded.text == f"http://profroute.test/s/{token}"


def test_expiry_in_the_past_is_refused_with_message(client, door, auth):
    auth.login(door["organizer"].email)
    response = client.post_form(f"/organizer/events/{door['event'].id}/scanner-links",
                                {"label": "Маша", "expires_at": "2020-01-01T10:00"})
    assert response.status_code == 422
    assert "Срок действия должен быть в будущем" in response.get_data(as_text=True)
    assert ScannerLink.query.count() == 1


def test_custom_expiry_is_tomsk_time(client, door, auth):
    auth.login(door["organizer"].email)
    local = (door["event"].ends_at + timedelta(hours=1)).astimezone(
        __import__("formats.timefmt", fromlist=["TOMSK"]).TOMSK)
    client.post_form(f"/organizer/events/{door['event'].id}/scanner-links",
                     {"label": "Маша", "expires_at": local.strftime("%Y-%m-%dT%H:%M")})
    link = ScannerLink.query.order_by(ScannerLink.id.desc()).first()
    assert link.expires_at == local.replace(second=0, microsecond=0)


@pytest.mark.parametrize("role", [Role.ORGANIZER, Role.COORDINATOR])
def test_other_organizations_cannot_open_door_pages(client, door, auth, factory, db, role):
    outsider = factory.create_user(role)
    db.session.commit()
    auth.login(outsider.email)
    for path in ("scanner-links", "board", "scans"):
        assert client.get(f"/organizer/events/{door['event'].id}/{path}").status_code == 403
    response = client.post_form(f"/organizer/events/{door['event'].id}/scanner-links",
                                {"label": "чужая"})
    assert response.status_code == 403 and ScannerLink.query.count() == 1


# --------------------------------------------------------------------------- who holds it

def test_a_link_needs_to_say_who_holds_it(client, door, auth):
    """Issue #20 item 13: the form and the service refuse a link without a name."""
    from errors import ServiceError

    with pytest.raises(ServiceError) as err:
        create_scanner_link(door["organizer"], door["event"], label="  ", gate="Вход Б")
    assert err.value.code == "label_required" and err.value.fields == {
        "label": "Укажите, кому выдана ссылка: например, «Волонтёр Маша»."}
    auth.login(door["organizer"].email)
    response = client.post_form(f"/organizer/events/{door['event'].id}/scanner-links",
                                {"label": "", "gate": "Спортзал"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Укажите, кому выдана ссылка" in html and 'href="#label"' in html
    assert ScannerLink.query.count() == 1


def test_an_old_link_without_a_name_keeps_working(client, door, db):
    from checkin.door.links import new_link_token

    token = new_link_token()
    old = ScannerLink(event_id=door["event"].id, token_hash=hash_token(token), label=None,
                      gate=None, expires_at=door["link"].expires_at, created_at=now_utc())
    db.session.add(old)
    db.session.commit()
    assert resolve_usable_link(token).id == old.id
    response = client.post(f"/api/v1/events/{door['event'].id}/scans",
                           json={"code": door["ticket"].token}, headers=bearer(token))
    assert response.status_code == 200 and response.get_json()["status"] == "ok"
