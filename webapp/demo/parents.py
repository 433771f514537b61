"""Demo parents and teachers who signed up themselves.

- Every published parent session gets sign-ups with recorded consent (past ones fuller); one
  past sign-up has its consent withdrawn (name and contacts erased, attendance kept).
- Upcoming teacher events get self-sign-ups of teachers of the demo school (СОШ № 7): some
  wait for the coordinator's confirmation (school@demo.local sees them under «Заявки
  педагогов»), one is already confirmed with a ticket.

Uses ``ctx``: ``parent_events``, ``teacher_events``, ``schools``, ``demo_school``.
Shares: ``parent_signups`` (list).
"""

from __future__ import annotations

from datetime import timedelta

from models import (
    ParentSignup,
    Teacher,
    Ticket,
    TicketKind,
    TicketStatus,
    db,
    now_utc,
)
from models.teacher_signup import TeacherSignup, TeacherSignupStatus
from webapp.parents.consent import CURRENT_CONSENT_VERSION
from webapp.parents.services import new_manage_secret

SURNAMES = ["Иванова", "Смирнова", "Кузнецова", "Попова", "Васильева", "Петрова", "Соколова",
            "Михайлова", "Новикова", "Федорова", "Морозова", "Волкова", "Алексеева",
            "Лебедева", "Семенова", "Егорова", "Павлова", "Козлова", "Степанова", "Николаева"]
MALE_SURNAMES = ["Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов"]
FEMALE_NAMES = ["Анна", "Мария", "Елена", "Ольга", "Наталья", "Татьяна", "Ирина", "Светлана",
                "Юлия", "Екатерина"]
MALE_NAMES = ["Алексей", "Дмитрий", "Сергей", "Андрей", "Михаил", "Игорь"]
TEACHER_PATRONYMICS = ["Сергеевна", "Александровна", "Викторовна", "Николаевна"]


def _parent_name(rng) -> str:
    if rng.random() < 0.75:
        return f"{rng.choice(SURNAMES)} {rng.choice(FEMALE_NAMES)}"
    return f"{rng.choice(MALE_SURNAMES)} {rng.choice(MALE_NAMES)}"


def _phone(rng) -> str:
    return "+79" + "".join(str(rng.randint(0, 9)) for _ in range(9))


def load(rng, size: str, ctx: dict) -> None:
    now = now_utc()
    schools = ctx.get("schools") or []
    signups: list[ParentSignup] = []
    serial = 0
    for event in ctx.get("parent_events", []):
        past = event.ends_at <= now
        count = min(event.capacity, rng.randint(10, 25) if past else rng.randint(3, 9))
        for _ in range(count):
            serial += 1
            has_email = rng.random() < 0.8
            school = rng.choice(schools) if schools and rng.random() < 0.8 else None
            signed_at = min(event.starts_at - timedelta(days=rng.randint(1, 14)),
                            now - timedelta(hours=1))
            signup = ParentSignup(
                event_id=event.id, name=_parent_name(rng),
                phone=_phone(rng) if (not has_email or rng.random() < 0.6) else None,
                email=f"roditel{serial}@example.ru" if has_email else None,
                child_organization_id=school.id if school else None,
                child_grade=rng.randint(1, 11) if school else None,
                consent_version=CURRENT_CONSENT_VERSION, consent_at=signed_at,
                consent_ip="127.0.0.1", manage_secret_hash=new_manage_secret()[1],
                created_at=signed_at,
            )
            db.session.add(signup)
            db.session.flush()
            db.session.add(Ticket(event_id=event.id, kind=TicketKind.PARENT,
                                  parent_signup_id=signup.id, status=TicketStatus.CONFIRMED,
                                  queued_at=signed_at, created_at=signed_at))
            signups.append(signup)
    # One parent of a past session withdrew consent afterwards: the attendance stays, nameless.
    past_signups = [s for s in signups if s.event.ends_at <= now]
    if past_signups:
        withdrawn = past_signups[0]
        withdrawn.name = withdrawn.phone = withdrawn.email = withdrawn.consent_ip = None
        withdrawn.withdrawn_at = now - timedelta(days=1)

    school = ctx.get("demo_school")
    upcoming = [e for e in ctx.get("teacher_events", []) if e.starts_at > now]
    if school is not None and upcoming:
        roster = Teacher.query.filter_by(organization_id=school.id, active=True).order_by(
            Teacher.id).limit(3).all()
        people = [(t.last_name, t.first_name, t.middle_name) for t in roster[:2]]
        people.append(("Новикова", "Ольга", rng.choice(TEACHER_PATRONYMICS)))  # not on roster
        for n, (last, first, middle) in enumerate(people):
            event = upcoming[n % len(upcoming)]
            db.session.add(TeacherSignup(
                event_id=event.id, organization_id=school.id, last_name=last,
                first_name=first, middle_name=middle, email=f"pedagog{n + 1}@example.ru",
                status=TeacherSignupStatus.PENDING, consent_version=CURRENT_CONSENT_VERSION,
                consent_at=now - timedelta(days=1), consent_ip="127.0.0.1",
                manage_secret_hash=new_manage_secret()[1], created_at=now - timedelta(days=1),
            ))
        teacher = roster[2] if len(roster) == 3 else None
        event = upcoming[0]
        taken = teacher is not None and Ticket.query.filter(
            Ticket.event_id == event.id, Ticket.teacher_id == teacher.id,
            Ticket.status != TicketStatus.CANCELLED).first() is not None
        if teacher is not None and not taken:
            ticket = Ticket(event_id=event.id, kind=TicketKind.TEACHER, teacher_id=teacher.id,
                            status=TicketStatus.CONFIRMED, queued_at=now - timedelta(days=2),
                            created_at=now - timedelta(days=2))
            db.session.add(ticket)
            db.session.flush()
            db.session.add(TeacherSignup(
                event_id=event.id, organization_id=school.id, last_name=teacher.last_name,
                first_name=teacher.first_name, middle_name=teacher.middle_name,
                email=teacher.email or "pedagog-podtverzhden@example.ru",
                status=TeacherSignupStatus.CONFIRMED, consent_version=CURRENT_CONSENT_VERSION,
                consent_at=now - timedelta(days=3), consent_ip="127.0.0.1",
                manage_secret_hash=new_manage_secret()[1], teacher_id=teacher.id,
                ticket_id=ticket.id, decided_by_id=getattr(ctx.get("coordinator"), "id", None),
                decided_at=now - timedelta(days=2), created_at=now - timedelta(days=3),
            ))
    db.session.flush()
    ctx["parent_signups"] = signups
