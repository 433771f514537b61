"""What the organizer sees of registrations: counts by school and the XLSX list for the door.

The ОВЗ flag itself never leaves the school: the organizer sees only «нужна помощь».
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.page import PageMargins
from sqlalchemy.orm import selectinload

from formats.class_names import class_sort_key
from formats.spreadsheets import append_row, styled_cell
from formats.timefmt import format_datetime
from models import (
    LIVE_TICKET_STATUSES,
    Event,
    Organization,
    Registration,
    RegistrationStatus,
    Ticket,
    TicketKind,
    TicketStatus,
    db,
)

NEEDS_ASSISTANCE = "нужна помощь"


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


def needs_assistance(ticket: Ticket) -> bool:
    return bool(ticket.student is not None and ticket.student.ovz)


def door_rows(event: Event) -> list[list]:
    tickets = (Ticket.query.filter(Ticket.event_id == event.id,
                                   Ticket.status.in_(LIVE_TICKET_STATUSES))
               .options(selectinload(Ticket.student), selectinload(Ticket.teacher),
                        selectinload(Ticket.registration), selectinload(Ticket.parent_signup))
               .all())
    org_names = {o.id: o.display_name for o in Organization.query.filter(
        Organization.id.in_({t.school_id for t in tickets} - {None})).all()} \
        if tickets else {}
    rows = []
    for t in tickets:
        org_id = t.school_id
        class_name = t.student.class_name if t.student is not None else ""
        rows.append({
            "school": org_names.get(org_id, "") if org_id else "",
            "name": t.holder_name,
            "class_name": class_name,
            "kind": t.kind.title if t.kind != TicketKind.STUDENT else "Ученик",
            "status": t.status.title,
            "help": NEEDS_ASSISTANCE if needs_assistance(t) else "",
            "code": t.short_code,
            "sort": (t.status != TicketStatus.CONFIRMED, org_id is None,
                     org_names.get(org_id, ""), t.kind != TicketKind.TEACHER,
                     class_sort_key(class_name), t.holder_name),
        })
    rows.sort(key=lambda r: r["sort"])
    return [[r["school"], r["name"], r["class_name"], r["kind"], r["status"], r["help"],
             r["code"], ""] for r in rows]


DOOR_HEADER = ["Школа", "ФИО", "Класс", "Кто", "Статус", "Нужна помощь", "Код билета",
               "Пришёл"]


def door_list_xlsx(event: Event) -> bytes:
    """The list for the door; written in openpyxl's streaming mode (a festival has thousands)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Список на входе")
    for letter, width in zip("ABCDEFGH", (24, 36, 8, 12, 18, 14, 12, 8), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A5"
    sheet.print_title_rows = "4:4"
    sheet.page_setup.orientation = "landscape"
    sheet.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.5)

    def bold(value, size=None):
        return styled_cell(sheet, value, font=Font(bold=True, size=size) if size
                           else Font(bold=True))

    append_row(sheet, [bold(event.title, 13)])
    append_row(sheet, [f"{format_datetime(event.starts_at)}, {event.venue_name}, "
                       f"{event.venue_address}"])
    append_row(sheet, [])
    append_row(sheet, [bold(title) for title in DOOR_HEADER])
    for row in door_rows(event):
        append_row(sheet, row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
