"""What a ticket shows to the world: its URLs, its QR code, and whose name may be seen.

A QR code holds only ``PROFROUTE_BASE_URL/t/<token>`` (or ``/g/<group_code>`` for a group):
an opaque random token, no name and no school.
"""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from flask import current_app

from models import Role, Ticket


def _base_url() -> str:
    return current_app.config["PROFROUTE_BASE_URL"].rstrip("/")


def ticket_url(token: str) -> str:
    """The URL a ticket's QR code holds (what a phone camera opens)."""
    return f"{_base_url()}/t/{token}"


def group_url(group_code: str) -> str:
    """The URL of a group's QR code (the accompanying teacher's sheet)."""
    return f"{_base_url()}/g/{group_code}"


def _qr(text: str) -> qrcode.QRCode:
    # Medium error correction: survives a crease or a smudge on a printed card.
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=4)
    code.add_data(text)
    code.make(fit=True)
    return code


def qr_png(text: str, box_size: int = 10) -> bytes:
    """A black-on-white PNG of the QR code of ``text``."""
    code = _qr(text)
    code.box_size = box_size
    image = code.make_image(fill_color="black", back_color="white")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def qr_svg(text: str) -> bytes:
    """The QR code of ``text`` as a standalone SVG (scales without blur when printed)."""
    code = _qr(text)
    image = code.make_image(image_factory=qrcode.image.svg.SvgPathImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


def viewer_sees_full_name(ticket: Ticket, viewer) -> bool:
    """The holder's school, the event's organizer and admins see full names; others do not."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return False
    if not getattr(viewer, "active", True):
        return False
    if viewer.role == Role.ADMIN:
        return True
    if viewer.organization_id is None:
        return False
    if viewer.organization_id == ticket.event.organizer_id:
        return True
    return viewer.role == Role.COORDINATOR and viewer.organization_id == ticket.school_id


def holder_display(ticket: Ticket, viewer) -> str:
    """The holder's full name for the school/organizer/admins, «Имя Ф.» for everyone else."""
    return ticket.holder_name if viewer_sees_full_name(ticket, viewer) else ticket.holder_short_name
