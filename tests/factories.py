"""Factories for tests: ``create_x(**overrides)`` adds a valid object and flushes it."""

from __future__ import annotations

import itertools
from datetime import timedelta

from models import (
    ApiToken,
    Audience,
    Baseline,
    Category,
    Event,
    EventStatus,
    Organization,
    OrgKind,
    Role,
    Student,
    Teacher,
    User,
    db,
    now_utc,
)

PASSWORD = "secret-pass"
_seq = itertools.count(1)


def create_org(**overrides) -> Organization:
    n = next(_seq)
    values = {"name": f"МАОУ СОШ № {n} (тест)", "kind": OrgKind.SCHOOL, "active": True}
    values.update(overrides)
    org = Organization(**values)
    db.session.add(org)
    db.session.flush()
    return org


def create_user(role: Role = Role.ADMIN, organization: Organization | None = None,
                **overrides) -> User:
    n = next(_seq)
    if organization is None and role != Role.ADMIN:
        kind = OrgKind.SCHOOL if role == Role.COORDINATOR else OrgKind.UNIVERSITY
        organization = create_org(kind=kind)
    values = {"email": f"user{n}@test.local", "role": role, "organization": organization,
              "full_name": f"Пользователь {n}", "active": True}
    values.update(overrides)
    password = values.pop("password", PASSWORD)
    user = User(**values)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def create_token(user: User, name: str = "test") -> str:
    _row, plain = ApiToken.issue(user, name)
    db.session.flush()
    return plain


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def create_baseline(organization: Organization, year: int, **overrides) -> Baseline:
    values = {"students_total": 100, "students_ovz": 5, "teachers_total": 10}
    values.update(overrides)
    baseline = Baseline(organization_id=organization.id, year=year, **values)
    db.session.add(baseline)
    db.session.flush()
    return baseline


def category(code: str = "university") -> Category:
    return Category.query.filter_by(code=code).one()


def create_event(organizer: Organization | None = None, **overrides) -> Event:
    start = overrides.pop("starts_at", now_utc() + timedelta(days=7))
    values = {
        "organizer": organizer or create_org(kind=OrgKind.UNIVERSITY),
        "title": f"Мероприятие {next(_seq)}",
        "category": category(overrides.pop("category_code", "university")),
        "audience": Audience.STUDENTS,
        "grades_min": 1,
        "grades_max": 11,
        "starts_at": start,
        "ends_at": start + timedelta(hours=2),
        "venue_name": "Главный корпус",
        "venue_address": "г. Томск, пр. Ленина, 36",
        "capacity": 30,
        "status": EventStatus.PUBLISHED,
        "published_at": now_utc(),
    }
    values.update(overrides)
    event = Event(**values)
    db.session.add(event)
    db.session.flush()
    return event


def create_student(organization: Organization, **overrides) -> Student:
    n = next(_seq)
    values = {"organization_id": organization.id, "last_name": f"Иванов{n}",
              "first_name": "Пётр", "class_name": "7Б", "grade": 7, "ovz": False}
    values.update(overrides)
    student = Student(**values)
    db.session.add(student)
    db.session.flush()
    return student


def create_teacher(organization: Organization, **overrides) -> Teacher:
    n = next(_seq)
    values = {"organization_id": organization.id, "last_name": f"Петрова{n}",
              "first_name": "Анна", "middle_name": "Сергеевна"}
    values.update(overrides)
    teacher = Teacher(**values)
    db.session.add(teacher)
    db.session.flush()
    return teacher


def create_ticket(event: Event, holder, **overrides):
    """A ticket for a Student, Teacher or ParentSignup (model-level, no capacity rules)."""
    from models import ParentSignup, Ticket, TicketKind, TicketStatus

    values = {"event": event, "status": TicketStatus.CONFIRMED}
    if isinstance(holder, Student):
        values.update(kind=TicketKind.STUDENT, student=holder)
    elif isinstance(holder, Teacher):
        values.update(kind=TicketKind.TEACHER, teacher=holder)
    elif isinstance(holder, ParentSignup):
        values.update(kind=TicketKind.PARENT, parent_signup=holder)
    else:
        raise TypeError(holder)
    values.update(overrides)
    ticket = Ticket(**values)
    db.session.add(ticket)
    db.session.flush()
    return ticket


def create_checkin(ticket, **overrides):
    """A successful scan (check-in) of a ticket at its own event (model-level)."""
    from models import Scan, ScanOutcome

    at = overrides.pop("at", None) or ticket.event.starts_at
    values = {"event_id": ticket.event_id, "ticket": ticket, "raw_code": ticket.token,
              "outcome": ScanOutcome.OK, "scanned_at": at, "received_at": at}
    values.update(overrides)
    scan = Scan(**values)
    db.session.add(scan)
    db.session.flush()
    return scan


def mail_bytes(row) -> bytes:
    """A queued message's body, or, once delivered, the copy written to the development folder
    (the outbox keeps no body after delivery: webapp.mail)."""
    from pathlib import Path

    from flask import current_app

    if row.message:
        return bytes(row.message)
    files = sorted(Path(current_app.config["MAIL_OUTBOX_DIR"]).glob(f"{row.id:06d}-*.eml"))
    assert files, f"message {row.id} was not delivered"
    return files[0].read_bytes()
