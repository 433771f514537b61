"""Who is told when an event they are registered for changes: the one list behind the
letters (``webapp.parents.emails.event_moved``) and the organizer's «Об изменении узнают: …»
line on the edit form, so the count shown is the count told.

Only live tickets (confirmed or on the waiting list) count; a cancelled one is nobody's
business any more. Schools: every school holding a live ticket (its coordinators get the
letter and the school a notice on its pages). Parents and teachers: those with an e-mail —
a parent who signed up with a phone only sees the change on the private page
(``/my/<secret>``); a teacher's address is the one given when signing up on their own, else
the roster's. Teachers still waiting for their school's confirmation are told too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from formats.text import plural
from models import (
    LIVE_TICKET_STATUSES,
    Event,
    Role,
    Ticket,
    TicketKind,
    User,
    db,
)
from models.teacher_signup import TeacherSignup, TeacherSignupStatus


@dataclass
class Contact:
    email: str
    name: str | None


@dataclass
class PeopleToTell:
    school_ids: list[int] = field(default_factory=list)
    coordinators: list[User] = field(default_factory=list)
    parents: list[Contact] = field(default_factory=list)
    teachers: list[Contact] = field(default_factory=list)
    #: Parents with a phone only: nobody to write to; the private page shows the change.
    parents_without_email: int = 0

    @property
    def anyone(self) -> bool:
        return bool(self.school_ids or self.parents or self.teachers
                    or self.parents_without_email)

    def summary(self) -> str:
        """«Об изменении узнают: 2 школы, 1 родитель, 3 педагога» (and the phone-only
        parents, who see it on their page)."""
        n, m, k = len(self.school_ids), len(self.parents), len(self.teachers)
        text = (f"Об изменении узнают: {n} {plural(n, ('школа', 'школы', 'школ'))}, "
                f"{m} {plural(m, ('родитель', 'родителя', 'родителей'))}, "
                f"{k} {plural(k, ('педагог', 'педагога', 'педагогов'))}")
        p = self.parents_without_email
        if p:
            text += (f"; ещё {p} {plural(p, ('родитель', 'родителя', 'родителей'))} без "
                     "почты увидят новые время и место на странице своей записи")
        return text + "."


def people_to_tell(event: Event) -> PeopleToTell:
    """Everyone registered for ``event`` who is told of a change, each address once."""
    tickets = db.session.execute(
        sa.select(Ticket).where(Ticket.event_id == event.id,
                                Ticket.status.in_(LIVE_TICKET_STATUSES))
        .options(joinedload(Ticket.registration), joinedload(Ticket.parent_signup),
                 joinedload(Ticket.teacher), joinedload(Ticket.student))
        .order_by(Ticket.id)).scalars().all()
    own_signups = TeacherSignup.query.filter(
        TeacherSignup.event_id == event.id,
        TeacherSignup.status.in_([TeacherSignupStatus.CONFIRMED,
                                  TeacherSignupStatus.PENDING])).order_by(TeacherSignup.id).all()
    self_signups = {s.ticket_id: s for s in own_signups if s.ticket_id is not None}
    people = PeopleToTell()
    seen: set[str] = set()

    def add(bucket: list[Contact], email: str | None, name: str | None) -> None:
        if email and email not in seen:
            seen.add(email)
            bucket.append(Contact(email, name))

    school_ids: set[int] = set()
    for ticket in tickets:
        if ticket.kind == TicketKind.PARENT:
            signup = ticket.parent_signup
            if signup is None or signup.withdrawn_at is not None:
                continue
            if signup.email:
                add(people.parents, signup.email, signup.name)
            else:
                people.parents_without_email += 1
            continue
        if ticket.school_id is not None:
            school_ids.add(ticket.school_id)
        if ticket.kind == TicketKind.TEACHER:
            own = self_signups.get(ticket.id)
            if own is not None:
                add(people.teachers, own.email, own.full_name)
            elif ticket.teacher is not None and ticket.teacher.anonymized_at is None:
                add(people.teachers, ticket.teacher.email, ticket.teacher.full_name)
    for signup in own_signups:
        if signup.status == TeacherSignupStatus.PENDING:
            add(people.teachers, signup.email, signup.full_name)
    people.school_ids = sorted(school_ids)
    if school_ids:
        people.coordinators = User.query.filter(
            User.role == Role.COORDINATOR, User.active.is_(True),
            User.organization_id.in_(school_ids)).order_by(User.id).all()
    return people
