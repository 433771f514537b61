"""Small things people notice: the site's icon is there (no 404 in any log or tab), and a
downloaded PDF keeps a name that says what it is even where only the ASCII name is read."""

from __future__ import annotations

import io
from urllib.parse import unquote

from PIL import Image

from models import Registration, Role, db


def _get(client, url):
    """Status, headers and body of a GET, the response closed (a file it sent included)."""
    with client.get(url) as response:
        return response.status_code, response.headers, response.get_data()


def test_favicon_is_served_and_linked_from_the_base_layout(client):
    status, headers, body = _get(client, "/favicon.ico")
    assert status == 200 and headers["Content-Type"] == "image/vnd.microsoft.icon"
    with Image.open(io.BytesIO(body)) as icon:
        assert icon.format == "ICO"
    assert "no-store" not in headers.get("Cache-Control", "")   # for visitors
    assert _get(client, "/static/img/favicon.ico")[2] == body
    status, _, svg = _get(client, "/static/img/favicon.svg")
    assert status == 200 and b"<svg" in svg
    page = _get(client, "/events")[2].decode()   # base.html
    assert 'rel="icon" href="/static/img/favicon.ico" sizes="32x32"' in page
    assert 'rel="icon" href="/static/img/favicon.svg" type="image/svg+xml"' in page


def test_tickets_pdf_names_say_what_they_are(client, auth, factory):
    school = factory.create_org(name="МАОУ СОШ № 7")
    coordinator = factory.create_user(Role.COORDINATOR, organization=school)
    event = factory.create_event(title="День открытых дверей", grades_min=7, grades_max=11)
    kid = factory.create_student(school, class_name="9Б", grade=9)
    db.session.commit()
    auth.login(coordinator.email)
    client.post_form(f"/events/{event.id}/register", {"students": [str(kid.id)]})
    registration = Registration.query.one()
    for path, ascii_name, name in (
            ("tickets.pdf", f"tickets-event-{event.id}-group-{registration.id}.pdf",
             f"билеты-{registration.id}.pdf"),
            ("group.pdf", f"group-list-event-{event.id}-group-{registration.id}.pdf",
             f"группа-{registration.id}.pdf")):
        response = client.get(f"/school/registrations/{registration.id}/{path}")
        assert response.mimetype == "application/pdf"
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith(f'inline; filename="{ascii_name}"; ')
        assert unquote(disposition.split("filename*=UTF-8''")[1]) == name
