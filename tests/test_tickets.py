"""Ticket pages and QR images: opaque tokens, decodable QR codes, names only to who may see them."""

import io

import pytest
import zxingcpp
from PIL import Image

from checkin.seats.registration import register_group
from checkin.seats.tickets import group_url, qr_png, qr_svg, ticket_url
from models import OrgKind, Role, db


@pytest.fixture
def setup(factory):
    school = factory.create_org(name="МАОУ СОШ № 7 (тест)")
    coordinator = factory.create_user(Role.COORDINATOR, organization=school)
    organizer_org = factory.create_org(kind=OrgKind.UNIVERSITY)
    organizer = factory.create_user(Role.ORGANIZER, organization=organizer_org)
    event = factory.create_event(organizer=organizer_org, title="Профпроба «Химик»",
                                 venue_name="Корпус 6", venue_address="пр. Ленина, 36")
    student = factory.create_student(school, last_name="Васильева", first_name="Алиса",
                                     class_name="8В", grade=8, ovz=True)
    db.session.commit()
    registration = register_group(coordinator, event, school, [student.id], [])
    db.session.commit()
    return {"coordinator": coordinator, "organizer": organizer, "event": event,
            "registration": registration, "ticket": registration.tickets[0]}


def decode(png: bytes) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def test_token_is_opaque_and_long(setup):
    ticket = setup["ticket"]
    assert len(ticket.token) >= 22  # ≥ 128 bits in URL-safe base64
    assert "Васильева" not in ticket.token and ticket.token != ticket.short_code
    assert set(ticket.token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                    "0123456789-_")


def test_qr_png_decodes_to_the_ticket_url(client, setup):
    ticket = setup["ticket"]
    response = client.get(f"/tickets/{ticket.token}/qr.png")
    assert response.mimetype == "image/png"
    assert decode(response.data) == [f"http://profroute.test/t/{ticket.token}"]
    assert decode(qr_png(ticket_url(ticket.token))) == [ticket_url(ticket.token)]


def test_qr_svg_is_served(client, setup):
    ticket = setup["ticket"]
    response = client.get(f"/tickets/{ticket.token}/qr.svg")
    assert response.mimetype == "image/svg+xml"
    assert b"<svg" in response.data and "Васильева".encode() not in response.data
    assert qr_svg("x").startswith(b"<?xml")


def test_group_qr_decodes_to_the_group_url(client, setup):
    registration = setup["registration"]
    data = client.get(f"/g/{registration.group_code}/qr.png").data
    assert decode(data) == [group_url(registration.group_code)]


def test_unknown_codes_are_404(client):
    for url in ("/t/nope", "/tickets/nope/qr.png", "/tickets/nope/qr.svg", "/g/nope",
                "/g/nope/qr.png", "/t/" + "x" * 200):
        assert client.get(url).status_code == 404, url


def test_a_stranger_sees_the_event_and_only_first_name_and_initial(client, setup):
    ticket = setup["ticket"]
    response = client.get(f"/t/{ticket.token}")
    page = response.get_data(as_text=True)
    assert "Профпроба «Химик»" in page and "Корпус 6" in page
    assert "Алиса В." in page
    assert "Васильева" not in page and "8В" not in page and "СОШ № 7" not in page
    assert "ОВЗ" not in page and "Нужна помощь" not in page
    assert response.headers["Cache-Control"] == "no-store"


def test_the_school_sees_the_full_name_and_ovz(client, auth, setup):
    auth.login(setup["coordinator"].email)
    page = client.get(f"/t/{setup['ticket'].token}").get_data(as_text=True)
    assert "Васильева Алиса" in page and "8В" in page and "ОВЗ: да" in page


def test_the_organizer_sees_the_full_name_but_only_needs_help(client, auth, setup):
    auth.login(setup["organizer"].email)
    page = client.get(f"/t/{setup['ticket'].token}").get_data(as_text=True)
    assert "Васильева Алиса" in page and "Нужна помощь" in page
    assert "ОВЗ" not in page


def test_another_coordinator_sees_only_the_short_name(client, auth, factory, setup):
    other = factory.create_user(Role.COORDINATOR)
    db.session.commit()
    auth.login(other.email)
    page = client.get(f"/t/{setup['ticket'].token}").get_data(as_text=True)
    assert "Алиса В." in page and "Васильева" not in page
    group = client.get(f"/g/{setup['registration'].group_code}").get_data(as_text=True)
    assert "Алиса В." in group and "Васильева" not in group


def test_cancelled_ticket_page_says_so(client, setup):
    from checkin.seats.registration import cancel_registration

    cancel_registration(setup["coordinator"], setup["registration"])
    db.session.commit()
    page = client.get(f"/t/{setup['ticket'].token}").get_data(as_text=True)
    assert "Этот билет отменён и недействителен." in page
