"""``/t/<token>`` (a ticket), ``/g/<group_code>`` (a group) and their QR images.

The token in the URL is the only credential: whoever holds the printed ticket may open it.
Strangers see the event and «Имя Ф.»; the holder's school, the organizer and admins see more.
"""

from __future__ import annotations

from flask import Response, abort, render_template
from flask_login import current_user

from checkin.seats.tickets import (
    group_url,
    holder_display,
    qr_png,
    qr_svg,
    ticket_url,
    viewer_sees_full_name,
)
from models import LIVE_TICKET_STATUSES, Registration, Role, Ticket
from webapp.tickets import bp

#: Tokens are ``secrets.token_urlsafe(24)`` (32 characters); anything longer is not ours.
MAX_CODE = 64


def _ticket(code: str) -> Ticket:
    if not code or len(code) > MAX_CODE:
        abort(404)
    ticket = Ticket.query.filter_by(token=code).first()
    if ticket is None:
        abort(404)
    return ticket


def _registration(group_code: str) -> Registration:
    if not group_code or len(group_code) > MAX_CODE:
        abort(404)
    registration = Registration.query.filter_by(group_code=group_code).first()
    if registration is None:
        abort(404)
    return registration


def _private(response: Response) -> Response:
    # Ticket pages and images are personal: never kept by any cache, never indexed.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/t/<code>")
def ticket_page(code: str):
    ticket = _ticket(code)
    full = viewer_sees_full_name(ticket, current_user)
    school = ticket.registration.organization if ticket.registration else None
    response = Response(render_template(
        "tickets/ticket.html", ticket=ticket, event=ticket.event,
        holder=holder_display(ticket, current_user), full=full, school=school,
        needs_help=full and ticket.student is not None and ticket.student.ovz,
        show_ovz=full and _is_school_or_admin(ticket),
        url=ticket_url(ticket.token)))
    return _private(response)


def _is_school_or_admin(ticket: Ticket) -> bool:
    if not current_user.is_authenticated:
        return False
    return current_user.role == Role.ADMIN or (
        current_user.role == Role.COORDINATOR
        and current_user.organization_id == ticket.school_id)


@bp.get("/g/<group_code>")
def group_page(group_code: str):
    registration = _registration(group_code)
    live = [t for t in registration.tickets if t.status in LIVE_TICKET_STATUSES]
    people = [(holder_display(t, current_user), t) for t in live]
    full = bool(live) and viewer_sees_full_name(live[0], current_user)
    response = Response(render_template(
        "tickets/group.html", registration=registration, event=registration.event,
        people=people, full=full, url=group_url(registration.group_code)))
    return _private(response)


@bp.get("/tickets/<code>/qr.png")
def ticket_qr_png(code: str):
    ticket = _ticket(code)
    return _private(Response(qr_png(ticket_url(ticket.token)), mimetype="image/png"))


@bp.get("/tickets/<code>/qr.svg")
def ticket_qr_svg(code: str):
    ticket = _ticket(code)
    return _private(Response(qr_svg(ticket_url(ticket.token)), mimetype="image/svg+xml"))


@bp.get("/g/<group_code>/qr.png")
def group_qr_png(group_code: str):
    registration = _registration(group_code)
    return _private(Response(qr_png(group_url(registration.group_code)), mimetype="image/png"))


@bp.get("/g/<group_code>/qr.svg")
def group_qr_svg(group_code: str):
    registration = _registration(group_code)
    return _private(Response(qr_svg(group_url(registration.group_code)),
                             mimetype="image/svg+xml"))
