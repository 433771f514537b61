"""What the organizer sees of a school's registrations on the event page: counts by school."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from models import (
    LIVE_TICKET_STATUSES,
    Event,
    Organization,
    Registration,
    RegistrationStatus,
    Ticket,
    TicketStatus,
    db,
)


@dataclass
class SchoolRow:
    organization: Organization | None
    registrations: int
    confirmed: int
    waitlisted: int


def registrations_by_school(event: Event) -> list[SchoolRow]:
    """One row per school with live tickets; parents (no school) in a row of their own.

    Aggregated in SQL: the organizer's page stays fast for a festival of thousands.
    """
    school = Ticket.school_id_sql()
    counts = db.session.execute(
        Ticket.join_school(sa.select(school, Ticket.status, sa.func.count(Ticket.id))
                           .select_from(Ticket))
        .where(Ticket.event_id == event.id, Ticket.status.in_(LIVE_TICKET_STATUSES))
        .group_by(school, Ticket.status)).all()
    reg_counts = dict(db.session.execute(
        sa.select(Registration.organization_id, sa.func.count(Registration.id))
        .where(Registration.event_id == event.id,
               Registration.status == RegistrationStatus.ACTIVE)
        .group_by(Registration.organization_id)).all())
    org_ids = {org_id for org_id, _s, _n in counts if org_id is not None}
    orgs = {o.id: o for o in Organization.query.filter(Organization.id.in_(org_ids))} \
        if org_ids else {}
    rows: dict[int | None, SchoolRow] = {}
    for org_id, status, n in counts:
        row = rows.setdefault(org_id, SchoolRow(orgs.get(org_id), reg_counts.get(org_id, 0),
                                                0, 0))
        if status == TicketStatus.CONFIRMED:
            row.confirmed += n
        else:
            row.waitlisted += n
    return sorted(rows.values(), key=lambda r: (r.organization is None,
                                                r.organization.display_name
                                                if r.organization else ""))
