"""The organizer's XLSX list for the door: everyone with a live ticket, by school and class.

The ОВЗ flag itself never leaves the school: the organizer sees only «нужна помощь».
"""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.page import PageMargins
from sqlalchemy.orm import selectinload

from formats.class_names import class_sort_key
from formats.spreadsheets import append_row, styled_cell
from formats.text import fold, natural_key
from formats.timefmt import format_datetime
from models import (
    LIVE_TICKET_STATUSES,
    Event,
    Organization,
    Ticket,
    TicketKind,
    TicketStatus,
)

NEEDS_ASSISTANCE = "нужна помощь"


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
                     natural_key(org_names.get(org_id, "")), t.kind != TicketKind.TEACHER,
                     class_sort_key(class_name), fold(t.holder_name)),
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
