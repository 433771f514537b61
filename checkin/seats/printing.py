"""Printable PDFs: A4 sheets of ticket cards with cut marks, and the group sheet.

Cyrillic is rendered with DejaVu Sans embedded from ``webapp/static/vendor`` (fpdf2 subsets it).
"""

from __future__ import annotations

import io

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from checkin.seats.tickets import group_url, qr_png, ticket_url
from formats.pdf_fonts import FAMILY, add_fonts
from formats.timefmt import format_date, format_time
from models import Registration, Ticket, TicketKind, TicketStatus

PAGE_W, PAGE_H = 210.0, 297.0
MARGIN = 10.0
COLUMNS, ROWS = 2, 4
CARD_W = (PAGE_W - 2 * MARGIN) / COLUMNS
CARD_H = (PAGE_H - 2 * MARGIN) / ROWS
PAD = 4.0
QR_SIZE = 34.0


def _new_pdf(title: str) -> tuple[FPDF, str]:
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_title(title)
    pdf.set_creator("Профмаршрут")
    family = add_fonts(pdf)
    return pdf, family


def _when(ticket_or_event) -> str:
    event = ticket_or_event
    start, end = event.starts_at, event.ends_at
    return f"{format_date(start)}, {format_time(start)}–{format_time(end)}"


def _venue(event) -> str:
    return event.venue_text


def _lines(pdf: FPDF, width: float, text: str, max_lines: int) -> list[str]:
    lines = pdf.multi_cell(width, 4, text or "", dry_run=True, output="LINES")
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and pdf.get_string_width(last + "…") > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    return lines


def _text_block(pdf: FPDF, x: float, y: float, width: float, text: str, *, size: float,
                style: str = "", max_lines: int = 2, line_h: float | None = None,
                color=(0, 0, 0)) -> float:
    """Write wrapped text at (x, y); returns the y below it."""
    pdf.set_font(FAMILY, style=style, size=size)
    pdf.set_text_color(*color)
    line_h = line_h or size * 0.45
    for line in _lines(pdf, width, text, max_lines):
        pdf.set_xy(x, y)
        pdf.cell(width, line_h, line, new_x=XPos.LEFT, new_y=YPos.NEXT)
        y += line_h
    pdf.set_text_color(0, 0, 0)
    return y


def _cut_marks(pdf: FPDF) -> None:
    """Dashed cutting lines between cards and solid crop marks in the margins."""
    pdf.set_draw_color(150, 150, 150)
    pdf.set_line_width(0.2)
    pdf.set_dash_pattern(dash=1.5, gap=1.5)
    for col in range(1, COLUMNS):
        x = MARGIN + col * CARD_W
        pdf.line(x, MARGIN, x, PAGE_H - MARGIN)
    for row in range(1, ROWS):
        y = MARGIN + row * CARD_H
        pdf.line(MARGIN, y, PAGE_W - MARGIN, y)
    pdf.set_dash_pattern()
    pdf.set_draw_color(0, 0, 0)
    for col in range(COLUMNS + 1):
        x = MARGIN + col * CARD_W
        pdf.line(x, 2, x, MARGIN - 2)
        pdf.line(x, PAGE_H - MARGIN + 2, x, PAGE_H - 2)
    for row in range(ROWS + 1):
        y = MARGIN + row * CARD_H
        pdf.line(2, y, MARGIN - 2, y)
        pdf.line(PAGE_W - MARGIN + 2, y, PAGE_W - 2, y)


def _card(pdf: FPDF, x: float, y: float, ticket: Ticket, school_name: str) -> None:
    event = ticket.event
    qr_x = x + CARD_W - PAD - QR_SIZE
    pdf.image(io.BytesIO(qr_png(ticket_url(ticket.token), box_size=8)), x=qr_x, y=y + PAD,
              w=QR_SIZE, h=QR_SIZE)
    pdf.set_font(FAMILY, style="B", size=10)
    pdf.set_xy(qr_x, y + PAD + QR_SIZE + 0.5)
    pdf.cell(QR_SIZE, 5, ticket.short_code, align="C")
    pdf.set_font(FAMILY, style="", size=6.5)
    pdf.set_xy(qr_x, y + PAD + QR_SIZE + 5)
    pdf.cell(QR_SIZE, 3, "код для ручного ввода", align="C")

    text_w = CARD_W - 2 * PAD - QR_SIZE - 3
    cy = y + PAD
    cy = _text_block(pdf, x + PAD, cy, text_w, event.title, size=9, style="B", max_lines=3)
    cy += 1
    cy = _text_block(pdf, x + PAD, cy, text_w, _when(event), size=8, max_lines=1)
    cy = _text_block(pdf, x + PAD, cy, text_w, _venue(event), size=7, max_lines=3,
                     color=(60, 60, 60))
    cy = max(cy + 2, y + 30)
    cy = _text_block(pdf, x + PAD, cy, text_w, ticket.holder_name, size=11, style="B",
                     max_lines=2, line_h=5)
    role = (f"Класс {ticket.student.class_name}" if ticket.kind == TicketKind.STUDENT
            else "Сопровождающий педагог" if ticket.kind == TicketKind.TEACHER else "Родитель")
    cy = _text_block(pdf, x + PAD, cy, text_w, role, size=8, max_lines=1)
    cy = _text_block(pdf, x + PAD, cy, text_w, school_name, size=7.5, max_lines=2)
    if ticket.status == TicketStatus.WAITLISTED:
        _text_block(pdf, x + PAD, y + CARD_H - PAD - 7, CARD_W - 2 * PAD,
                    "ЛИСТ ОЖИДАНИЯ: билет действует только после подтверждения места",
                    size=7, style="B", max_lines=2, color=(160, 0, 0), line_h=3.2)


def tickets_pdf(registration: Registration, tickets: list[Ticket]) -> bytes:
    """A4 pages of ticket cards (2 × 4 a page) with cut marks."""
    event = registration.event
    pdf, _family = _new_pdf(f"Билеты: {event.title}")
    school_name = registration.organization.name
    per_page = COLUMNS * ROWS
    for index, ticket in enumerate(tickets):
        slot = index % per_page
        if slot == 0:
            pdf.add_page()
            _cut_marks(pdf)
        col, row = slot % COLUMNS, slot // COLUMNS
        _card(pdf, MARGIN + col * CARD_W, MARGIN + row * CARD_H, ticket, school_name)
    return bytes(pdf.output())


def _sheet_header(pdf: FPDF, registration: Registration, page_no: int) -> float:
    event = registration.event
    qr = 45.0 if page_no == 1 else 0.0
    width = PAGE_W - 2 * MARGIN - (qr + 5 if qr else 0)
    y = MARGIN
    y = _text_block(pdf, MARGIN, y, width, "Лист группы" + (f" (стр. {page_no})"
                                                            if page_no > 1 else ""),
                    size=10, color=(60, 60, 60))
    y = _text_block(pdf, MARGIN, y + 1, width, event.title, size=14, style="B", max_lines=3,
                    line_h=6.5)
    y = _text_block(pdf, MARGIN, y + 1, width, _when(event), size=10)
    y = _text_block(pdf, MARGIN, y, width, _venue(event), size=9, max_lines=2)
    y = _text_block(pdf, MARGIN, y + 1, width, registration.organization.name, size=10,
                    style="B", max_lines=2)
    if qr:
        x = PAGE_W - MARGIN - qr
        pdf.image(io.BytesIO(qr_png(group_url(registration.group_code), box_size=8)), x=x,
                  y=MARGIN, w=qr, h=qr)
        _text_block(pdf, x, MARGIN + qr, qr, "QR группы: отметить всех на входе", size=7,
                    max_lines=2, line_h=3.2)
        y = max(y, MARGIN + qr + 7)
    return y + 4


def group_sheet_pdf(registration: Registration, tickets: list[Ticket]) -> bytes:
    """The accompanying teacher's sheet: the group QR and everyone with a tick box."""
    pdf, _family = _new_pdf(f"Лист группы: {registration.event.title}")
    columns = [("№", 10), ("ФИО", 72), ("Класс / роль", 26), ("Статус", 32), ("Пришёл", 18),
               ("", 0)]
    columns[-1] = ("Код", PAGE_W - 2 * MARGIN - sum(w for _t, w in columns[:-1]))
    row_h = 8.0
    page_no = 0
    y = PAGE_H

    def header_row(y: float) -> float:
        pdf.set_font(FAMILY, style="B", size=9)
        x = MARGIN
        pdf.set_fill_color(230, 236, 245)
        for title, width in columns:
            pdf.set_xy(x, y)
            pdf.cell(width, row_h, title, border=1, fill=True)
            x += width
        return y + row_h

    for number, ticket in enumerate(tickets, start=1):
        if y + row_h > PAGE_H - MARGIN - 8:
            pdf.add_page()
            page_no += 1
            y = header_row(_sheet_header(pdf, registration, page_no))
        role = (ticket.student.class_name if ticket.kind == TicketKind.STUDENT
                else "педагог" if ticket.kind == TicketKind.TEACHER else "родитель")
        status = "подтверждён" if ticket.status == TicketStatus.CONFIRMED else "лист ожидания"
        values = [str(number), ticket.holder_name, role, status, "", ticket.short_code]
        x = MARGIN
        for (title, width), value in zip(columns, values, strict=True):
            pdf.set_xy(x, y)
            pdf.set_font(FAMILY, style="B" if title == "ФИО" else "", size=9)
            if title == "Статус" and ticket.status != TicketStatus.CONFIRMED:
                pdf.set_text_color(160, 0, 0)
            text = value
            while text and pdf.get_string_width(text) > width - 2:
                text = text[:-1]
            pdf.cell(width, row_h, text if text == value else text[:-1] + "…", border=1)
            pdf.set_text_color(0, 0, 0)
            if title == "Пришёл":
                pdf.rect(x + width / 2 - 2.5, y + row_h / 2 - 2.5, 5, 5)
            x += width
        y += row_h
    if page_no == 0:
        pdf.add_page()
        y = _sheet_header(pdf, registration, 1)
        _text_block(pdf, MARGIN, y, PAGE_W - 2 * MARGIN, "В группе нет действующих билетов.",
                    size=10)
        y += 8
    pdf.set_font(FAMILY, style="", size=9)
    pdf.set_xy(MARGIN, min(y + 4, PAGE_H - MARGIN - 6))
    confirmed = sum(t.status == TicketStatus.CONFIRMED for t in tickets)
    pdf.cell(0, 5, f"Всего: {len(tickets)}, подтверждено: {confirmed}, в листе ожидания: "
                   f"{len(tickets) - confirmed}.")
    return bytes(pdf.output())
