"""What a phone needs to judge scans of one event on its own while offline.

Per ticket only a hash of the token (never the token), the status, the display fields and the
check-in time; the group lists by hashed group code. Built with one flat query per part so a
6,000-ticket event stays fast and, gzip-compressed, small (see bench/scanner_data_size.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from checkin.door.scans import iso
from checkin.door.walkins import walk_in_school_kinds
from formats.text import natural_key
from models import (
    Event,
    Organization,
    ParentSignup,
    Registration,
    RegistrationStatus,
    Scan,
    ScanOutcome,
    Student,
    Teacher,
    Ticket,
    TicketKind,
    TicketStatus,
    db,
    now_utc,
)
from models.roster import parent_display_name, person_full_name

#: Hex characters of SHA-256 kept per code: 64 bits, enough to tell 10^5 codes apart.
HASH_LENGTH = 16


def code_hash(text: str) -> str:
    """First 16 hex characters of SHA-256 (tokens as they are; short codes upper-case)."""
    return hashlib.sha256(text.encode()).hexdigest()[:HASH_LENGTH]


@dataclass(slots=True)
class DoorTicket:
    """One ticket as the door sees it (flat, no ORM objects: fast for thousands)."""

    id: int
    token: str
    short_code: str
    status: TicketStatus
    kind: TicketKind
    registration_id: int | None
    name: str
    class_name: str | None
    needs_assistance: bool
    organization_id: int | None
    organization: str | None
    checked_in_at: object | None
    last_name: str | None


def door_tickets(event_id: int, *, ticket_ids=None, registration_id=None) -> list[DoorTicket]:
    """The event's tickets with display fields and check-in time, by one query."""
    student_org = aliased(Organization)
    teacher_org = aliased(Organization)
    parent_org = aliased(Organization)
    checkin = (sa.select(Scan.ticket_id, Scan.scanned_at)
               .where(Scan.event_id == event_id, Scan.outcome == ScanOutcome.OK,
                      Scan.undone_at.is_(None))
               .subquery())
    query = (
        sa.select(
            Ticket.id, Ticket.token, Ticket.short_code, Ticket.status, Ticket.kind,
            Ticket.registration_id, Registration.status,
            Student.last_name, Student.first_name, Student.middle_name, Student.class_name,
            Student.ovz, Student.anonymized_at, Student.organization_id,
            Teacher.last_name, Teacher.first_name, Teacher.middle_name, Teacher.anonymized_at,
            Teacher.organization_id,
            ParentSignup.name, ParentSignup.child_organization_id,
            checkin.c.scanned_at,
            student_org.short_name, student_org.name,
            teacher_org.short_name, teacher_org.name,
            parent_org.short_name, parent_org.name,
        )
        .select_from(Ticket)
        .outerjoin(Registration, Registration.id == Ticket.registration_id)
        .outerjoin(Student, Student.id == Ticket.student_id)
        .outerjoin(Teacher, Teacher.id == Ticket.teacher_id)
        .outerjoin(ParentSignup, ParentSignup.id == Ticket.parent_signup_id)
        .outerjoin(student_org, student_org.id == Student.organization_id)
        .outerjoin(teacher_org, teacher_org.id == Teacher.organization_id)
        .outerjoin(parent_org, parent_org.id == ParentSignup.child_organization_id)
        .outerjoin(checkin, checkin.c.ticket_id == Ticket.id)
        .where(Ticket.event_id == event_id)
        .order_by(Ticket.id)
    )
    if ticket_ids is not None:
        query = query.where(Ticket.id.in_(ticket_ids))
    if registration_id is not None:
        query = query.where(Ticket.registration_id == registration_id)
    result = []
    for r in db.session.execute(query):
        (tid, token, short_code, status, kind, reg_id, reg_status,
         s_last, s_first, s_middle, s_class, s_ovz, s_anon, s_org,
         t_last, t_first, t_middle, t_anon, t_org,
         p_name, p_org, checked_in_at,
         so_short, so_name, to_short, to_name, po_short, po_name) = r
        if reg_status == RegistrationStatus.CANCELLED:
            status = TicketStatus.CANCELLED
        class_name = None
        needs_assistance = False
        if kind == TicketKind.STUDENT:
            name = person_full_name(s_last, s_first, s_middle, bool(s_anon))
            org_id, org_name, last = s_org, so_short or so_name, s_last
            class_name = s_class
            needs_assistance = bool(s_ovz)
        elif kind == TicketKind.TEACHER:
            name = person_full_name(t_last, t_first, t_middle, bool(t_anon))
            org_id, org_name, last = t_org, to_short or to_name, t_last
        else:
            name = parent_display_name(p_name)
            org_id, org_name, last = p_org, po_short or po_name, p_name
        result.append(DoorTicket(tid, token, short_code, status, kind, reg_id, name,
                                 class_name, needs_assistance, org_id, org_name,
                                 checked_in_at, last))
    return result


def build_scanner_data(event: Event, *, scanner_link=None) -> dict:
    rows = door_tickets(event.id)
    schools: list[list] = []
    school_index: dict[int, int] = {}

    def index_of(org_id, display):
        if org_id is None:
            return None
        if org_id not in school_index:
            school_index[org_id] = len(schools)
            schools.append([org_id, display])
        return school_index[org_id]

    tickets = []
    members: dict[int, list[int]] = {}
    for t in rows:
        if t.registration_id is not None:
            members.setdefault(t.registration_id, []).append(len(tickets))
        tickets.append([code_hash(t.token), t.status.value, t.name, t.class_name,
                        index_of(t.organization_id, t.organization), t.needs_assistance,
                        t.kind.value, iso(t.checked_in_at), code_hash(t.short_code.upper())])

    registrations = db.session.execute(
        sa.select(Registration.id, Registration.group_code, Registration.organization_id,
                  Organization.short_name, Organization.name)
        .join(Organization, Organization.id == Registration.organization_id)
        .where(Registration.event_id == event.id,
               Registration.status == RegistrationStatus.ACTIVE)
        .order_by(Registration.id)
    ).all()
    groups = [[code_hash(group_code), index_of(org_id, short or full), members.get(reg_id, [])]
              for reg_id, group_code, org_id, short, full in registrations]

    # Every active school (or kindergarten, as the event's audience has it) after those with
    # tickets (indexes of the ticket ones unchanged), «№ 2» before «№ 10»: the walk-in form
    # offers pupils of schools not registered yet.
    offered = db.session.execute(
        sa.select(Organization.id, Organization.short_name, Organization.name)
        .where(Organization.active.is_(True),
               Organization.kind.in_(walk_in_school_kinds(event)))).all()
    for org_id, short, full in sorted(offered, key=lambda o: (natural_key(o[1] or o[2]), o[0])):
        index_of(org_id, short or full)

    return {
        "event": {"id": event.id, "title": event.title, "starts_at": iso(event.starts_at),
                  "ends_at": iso(event.ends_at),
                  "checkin_opens_at": iso(event.effective_checkin_opens_at),
                  "checkin_closes_at": iso(event.effective_checkin_closes_at)},
        "generated_at": iso(now_utc()),
        "valid_until": iso(scanner_link.expires_at) if scanner_link is not None else None,
        "schools": schools,
        "tickets": tickets,
        "groups": groups,
    }
