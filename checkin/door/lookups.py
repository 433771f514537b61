"""Read-only helpers for the door: a group's list, ticket search, the live board's counts."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from checkin.door.codes import parse_group_code
from checkin.door.scanner_data import DoorTicket, code_hash, door_tickets
from checkin.door.scans import iso
from errors import NotFoundError, ServiceError
from formats.text import fold
from formats.timefmt import TOMSK
from models import (
    Event,
    Organization,
    Registration,
    RegistrationStatus,
    Scan,
    ScanOutcome,
    Ticket,
    TicketKind,
    TicketStatus,
    db,
    now_utc,
)

SEARCH_LIMIT = 20
LATEST_LIMIT = 20
PARENTS_ROW = "Родители"


def ticket_item(t: DoorTicket, *, with_organization: bool = False,
                for_link: bool = False) -> dict:
    """One person of a door list. ``for_link``: the caller is a scanner link, which gets no
    ticket token: ``code`` is then ``#<token hash>`` (the hash its offline data already holds),
    which the scan endpoints accept for this event's tickets only."""
    code = "#" + code_hash(t.token) if for_link else t.token
    item = {"code": code, "name": t.name, "class_name": t.class_name, "kind": t.kind.value,
            "status": t.status.value, "needs_assistance": t.needs_assistance,
            "checked_in": t.checked_in_at is not None,
            "checked_in_at": iso(t.checked_in_at)}
    if with_organization:
        item["organization"] = t.organization
    return item


def group_tickets(event: Event, group_code: str, *, for_link: bool = False) -> dict:
    """The group of ``group_code`` (the code or a …/g/<code> URL) at this event."""
    code = parse_group_code(group_code) or (group_code or "").strip()
    registration = None
    if code and len(code) <= 64:
        registration = db.session.execute(
            sa.select(Registration).where(Registration.group_code == code,
                                          Registration.event_id == event.id)
        ).scalar_one_or_none()
    if registration is None:
        raise NotFoundError("group_not_found", "Группа с таким кодом на этом мероприятии "
                                               "не найдена.")
    tickets = door_tickets(event.id, registration_id=registration.id)
    tickets.sort(key=lambda t: (t.kind != TicketKind.TEACHER, t.class_name or "",
                                t.name.casefold()))
    live = [t for t in tickets if t.status != TicketStatus.CANCELLED]
    return {"group": {"id": registration.id,
                      "organization": registration.organization.display_name,
                      "size": len(live),
                      "cancelled": registration.status == RegistrationStatus.CANCELLED},
            "tickets": [ticket_item(t, for_link=for_link) for t in tickets]}


def search_tickets(event: Event, query: str, *, for_link: bool = False) -> list[dict]:
    """Tickets whose holder's surname starts with, or whose school contains, ``query``.

    Matching is done in Python with :func:`formats.text.fold` (case and ё/е alike, on SQLite as
    on PostgreSQL); an event has at most a few thousand tickets.
    """
    needle = fold(query)
    if len(needle) < 2:
        raise ServiceError("query_too_short", "Введите не меньше двух букв фамилии или "
                                              "названия школы.", field="q")
    if len(needle) > 100:
        raise ServiceError("query_too_long", "Слишком длинный запрос.", field="q")
    surname_hits, name_hits, school_hits = [], [], []
    for t in door_tickets(event.id):
        if fold(t.last_name).startswith(needle):
            surname_hits.append(t)
        elif needle in fold(t.name):
            name_hits.append(t)
        elif t.organization and needle in fold(t.organization):
            school_hits.append(t)
    found = (surname_hits + name_hits + school_hits)[:SEARCH_LIMIT]
    return [ticket_item(t, with_organization=True, for_link=for_link) for t in found]


def live_summary(event: Event) -> dict:
    """Checked in of registered, by school and by gate, and the latest scans."""
    school = Ticket.school_id_sql()
    checked = (sa.select(Scan.ticket_id, Scan.gate)
               .where(Scan.event_id == event.id, Scan.outcome == ScanOutcome.OK,
                      Scan.undone_at.is_(None)).subquery())
    rows = db.session.execute(
        Ticket.join_school(
            sa.select(school.label("org_id"),
                      sa.func.count(Ticket.id).filter(Ticket.status == TicketStatus.CONFIRMED),
                      sa.func.count(checked.c.ticket_id))
            .select_from(Ticket))
        .outerjoin(checked, checked.c.ticket_id == Ticket.id)
        .where(Ticket.event_id == event.id)
        .group_by(school)
    ).all()
    org_ids = [r[0] for r in rows if r[0] is not None]
    names = dict(db.session.execute(
        sa.select(Organization.id, sa.func.coalesce(Organization.short_name, Organization.name))
        .where(Organization.id.in_(org_ids))).all()) if org_ids else {}
    by_school = [{"organization_id": org_id,
                  "organization": names.get(org_id, PARENTS_ROW) if org_id else PARENTS_ROW,
                  "registered": registered, "checked_in": checked_in}
                 for org_id, registered, checked_in in rows if registered or checked_in]
    by_school.sort(key=lambda r: (r["organization_id"] is None, -r["registered"],
                                  r["organization"]))
    by_gate = [{"gate": gate or "Без указания входа", "checked_in": n}
               for gate, n in db.session.execute(
                   sa.select(checked.c.gate, sa.func.count()).group_by(checked.c.gate)
                   .order_by(sa.func.count().desc())).all()]
    latest = []
    link_scan = aliased(Scan)
    scans = db.session.execute(
        sa.select(link_scan).where(link_scan.event_id == event.id)
        .order_by(link_scan.received_at.desc(), link_scan.id.desc()).limit(LATEST_LIMIT)
    ).scalars().all()
    holders = holders_of(event.id, scans)
    for scan in scans:
        holder = holders.get(scan.ticket_id)
        latest.append({"id": scan.id, "at": iso(scan.scanned_at),
                       "time": scan.scanned_at.astimezone(TOMSK).strftime("%H:%M:%S"),
                       "name": holder.name if holder else "—",
                       "organization": holder.organization if holder else None,
                       "status": scan.outcome.value, "status_title": scan.outcome.title,
                       "gate": scan.gate, "flag": scan.flag,
                       "undone": scan.undone_at is not None})
    return {
        "generated_time": now_utc().astimezone(TOMSK).strftime("%H:%M:%S"),
        "registered": sum(r["registered"] for r in by_school),
        "checked_in": sum(r["checked_in"] for r in by_school),
        "capacity": event.capacity,
        "by_school": by_school,
        "by_gate": by_gate,
        "latest": latest,
    }


def holders_of(event_id: int, scans) -> dict[int, DoorTicket]:
    """The current holder data (name, class, school, «нужна помощь») of the tickets of this
    event's ``scans``, by ticket id: scans store references, not copies of personal data.
    Another event's ticket (a wrong_event scan) shows nothing."""
    ids = {s.ticket_id for s in scans if s.ticket_id is not None}
    if not ids:
        return {}
    return {t.id: t for t in door_tickets(event_id, ticket_ids=ids)}



