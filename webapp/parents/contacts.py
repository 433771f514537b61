"""The organizer's list of parents and teachers of one event, with contacts (page and XLSX).

Only the event's organizer and admins reach this (checked by the routes). No ОВЗ data here:
parents and teachers have none.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from formats.spreadsheets import append_row
from formats.timefmt import format_datetime
from models import (
    Event,
    ParentSignup,
    Registration,
    Scan,
    ScanOutcome,
    Teacher,
    Ticket,
    TicketKind,
    TicketStatus,
    db,
)
from models.base import folded
from models.teacher_signup import TeacherSignup, TeacherSignupStatus

WITHDRAWN = "(данные удалены по просьбе)"
#: Confirmed first, then the waiting list, then cancelled.
STATUS_ORDER = sa.case((Ticket.status == TicketStatus.CONFIRMED, 0),
                       (Ticket.status == TicketStatus.WAITLISTED, 1), else_=2)


@dataclass
class ContactRow:
    name: str
    phone: str
    email: str
    school: str
    grade: str
    source: str
    status: str
    checked_in: str
    note: str = ""


@dataclass
class EventContacts:
    parents: list[ContactRow]
    teachers: list[ContactRow]

    @property
    def parents_live(self) -> int:
        return sum(1 for r in self.parents if r.status != TicketStatus.CANCELLED.title)


def _checked_in(event_id: int) -> dict[int, object]:
    rows = db.session.execute(
        sa.select(Scan.ticket_id, Scan.scanned_at).where(
            Scan.event_id == event_id, Scan.outcome == ScanOutcome.OK, Scan.undone_at.is_(None))
    ).all()
    return {ticket_id: at for ticket_id, at in rows}


def event_contacts(event: Event) -> EventContacts:
    checkins = _checked_in(event.id)
    parents: list[ContactRow] = []
    rows = db.session.execute(
        sa.select(Ticket, ParentSignup).join(ParentSignup, Ticket.parent_signup_id
                                             == ParentSignup.id)
        .where(Ticket.event_id == event.id).order_by(STATUS_ORDER, ParentSignup.name, Ticket.id)
    ).all()
    for ticket, signup in rows:
        withdrawn = signup.withdrawn_at is not None
        parents.append(ContactRow(
            name=WITHDRAWN if withdrawn else (signup.name or ""),
            phone="" if withdrawn else (signup.phone or ""),
            email="" if withdrawn else (signup.email or ""),
            school=signup.child_organization.display_name if signup.child_organization else "",
            grade=("детский сад" if signup.child_grade == 0 else str(signup.child_grade))
            if signup.child_grade is not None else "",
            source="самозапись", status=ticket.status.title,
            checked_in=format_datetime(checkins[ticket.id]) if ticket.id in checkins else "",
            note=f"согласие {signup.consent_version} от {format_datetime(signup.consent_at)}"
            if not withdrawn else f"согласие отозвано {format_datetime(signup.withdrawn_at)}",
        ))

    teachers: list[ContactRow] = []
    self_signups = {s.ticket_id: s for s in TeacherSignup.query.filter(
        TeacherSignup.event_id == event.id, TeacherSignup.ticket_id.is_not(None))}
    teacher_rows = db.session.execute(
        sa.select(Ticket, Teacher).join(Teacher, Ticket.teacher_id == Teacher.id)
        .outerjoin(Registration, Ticket.registration_id == Registration.id)
        .where(Ticket.event_id == event.id, Ticket.kind == TicketKind.TEACHER)
        .order_by(STATUS_ORDER, folded(Teacher.last_name), folded(Teacher.first_name), Ticket.id)
    ).all()
    for ticket, teacher in teacher_rows:
        own = self_signups.get(ticket.id)
        teachers.append(ContactRow(
            name=teacher.full_name, phone=(own.phone or "") if own else "",
            email=(own.email if own else None) or teacher.email or "",
            school=teacher.organization.display_name, grade="",
            source="самозапись, подтверждена школой" if own else "в группе школы",
            status=ticket.status.title,
            checked_in=format_datetime(checkins[ticket.id]) if ticket.id in checkins else "",
        ))
    for signup in TeacherSignup.query.filter_by(event_id=event.id,
                                                status=TeacherSignupStatus.PENDING).order_by(
            TeacherSignup.created_at):
        teachers.append(ContactRow(
            name=signup.full_name, phone=signup.phone or "", email=signup.email,
            school=signup.organization.display_name, grade="", source="самозапись",
            status=signup.status.title, checked_in="",
        ))
    return EventContacts(parents=parents, teachers=teachers)


PARENT_HEADER = ["ФИО", "Телефон", "Эл. почта", "Школа ребёнка", "Класс", "Статус",
                 "Отмечен на входе", "Согласие"]
TEACHER_HEADER = ["ФИО", "Телефон", "Эл. почта", "Школа", "Как записан", "Статус",
                  "Отмечен на входе"]


def _sheet(workbook, title, header, rows, first=False):
    sheet = workbook.active if first else workbook.create_sheet()
    sheet.title = title
    for cell in append_row(sheet, header):
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for row in rows:
        append_row(sheet, row)
    for index, name in enumerate(header, start=1):
        width = max([len(name)] + [len(str(r[index - 1])) for r in rows] + [10])
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = min(width + 2, 60)
    sheet.freeze_panes = "A2"
    return sheet


def contacts_xlsx(event: Event) -> bytes:
    data = event_contacts(event)
    workbook = Workbook()
    _sheet(workbook, "Родители", PARENT_HEADER,
           [[r.name, r.phone, r.email, r.school, r.grade, r.status, r.checked_in, r.note]
            for r in data.parents], first=True)
    _sheet(workbook, "Педагоги", TEACHER_HEADER,
           [[r.name, r.phone, r.email, r.school, r.source, r.status, r.checked_in]
            for r in data.teachers])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
