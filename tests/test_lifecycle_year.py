"""Anonymizing a past academic year on the demo data: the year's indicators stay byte-identical
and no name of the year's people is left in any table (every text, JSON and binary column of
every table, found by reflecting the database)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from checkin.door.scans import replayed_attendee
from models import (
    Event,
    EventStatus,
    ParentSignup,
    Role,
    Scan,
    ScannerLink,
    ScanOutcome,
    Student,
    Teacher,
    TeacherSignup,
    Ticket,
    TicketKind,
    TicketStatus,
    User,
    WalkIn,
    db,
    now_utc,
)
from models.academic_year import academic_year_period, current_academic_year
from tests.factories import bearer, create_token
from webapp.mail import queue_mail
from webapp.services.personal_data import message_text

WORD = re.compile(r"[\w@.+-]+")


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes | memoryview):
        return message_text(bytes(value))
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def every_stored_row() -> list[tuple[str, str]]:
    """(table, text of the row) for every row of every table, from the reflected schema:
    all string, text, JSON and binary columns."""
    metadata = sa.MetaData()
    metadata.reflect(bind=db.engine)
    rows = []
    for table in metadata.sorted_tables:
        columns = [c for c in table.columns
                   if isinstance(c.type, sa.String | sa.Text | sa.JSON | sa.LargeBinary)
                   or type(c.type).__name__.upper() in ("JSON", "JSONB", "BLOB", "BYTEA")]
        if not columns:
            continue
        for row in db.session.execute(sa.select(*columns)):
            rows.append((table.name, "\x1f".join(cell_text(v) for v in row)))
    return rows


def name_hits(rows, pairs, strings) -> list[tuple[str, str]]:
    """Rows holding both the surname and the first name of one of ``pairs`` (as words), or
    one of ``strings`` (addresses, phones, whole names) anywhere."""
    hits = []
    for table, text in rows:
        words = set(WORD.findall(text))
        found = [f"{last} {first}" for last, first in pairs if last in words and first in words]
        found += [s for s in strings if s in text]
        hits += [(table, f) for f in found]
    return hits


@pytest.fixture
def demo(runner, db):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    return current_academic_year() - 1


def previous_year_people(year):
    """Leave the roster (graduated, moved away) every student and teacher whose every ticket
    is for an event of ``year``: the people anonymizing the year is about. Add a parent and a
    teacher who signed up themselves for the year's events, with what they leave behind."""
    period = academic_year_period(year)
    in_year = sa.select(Event.id).where(Event.starts_at >= period.starts_at,
                                        Event.starts_at < period.ends_before)
    later = sa.select(Event.id).where(Event.starts_at >= period.ends_before)
    leaving_students = Student.query.filter(
        Student.id.in_(sa.select(Ticket.student_id).where(Ticket.event_id.in_(in_year))),
        Student.id.not_in(sa.select(Ticket.student_id).where(Ticket.event_id.in_(later),
                                                            Ticket.student_id.is_not(None)))
    ).all()
    leaving_teachers = Teacher.query.filter(
        Teacher.id.in_(sa.select(Ticket.teacher_id).where(Ticket.event_id.in_(in_year))),
        Teacher.id.not_in(sa.select(Ticket.teacher_id).where(Ticket.event_id.in_(later),
                                                            Ticket.teacher_id.is_not(None)))
    ).all()
    for person in leaving_students + leaving_teachers:
        person.active = False

    held = Event.query.filter(Event.id.in_(in_year), Event.status == EventStatus.PUBLISHED) \
        .order_by(Event.starts_at).first()
    parent = ParentSignup(event_id=held.id, name="Прошлогодняя Евдокия", phone="+79130001122",
                          email="evdokia@mail.ru", consent_version="2025-1",
                          consent_at=held.starts_at - timedelta(days=5),
                          manage_secret_hash="f" * 64)
    db.session.add(parent)
    db.session.flush()
    parent_ticket = Ticket(event_id=held.id, kind=TicketKind.PARENT, parent_signup=parent,
                           status=TicketStatus.CONFIRMED)
    db.session.add(parent_ticket)
    db.session.flush()
    db.session.add(Scan(event_id=held.id, ticket=parent_ticket, raw_code="x" * 32,
                        outcome=ScanOutcome.OK, scanned_at=held.starts_at,
                        received_at=held.starts_at,
                        response={"status": "ok",
                                  "attendee": replayed_attendee(parent_ticket.id, "ok")}))
    teacher_signup = TeacherSignup(
        event_id=held.id, organization_id=leaving_students[0].organization_id,
        last_name="Самозаписавшаяся", first_name="Агриппина", email="agrippina@school.ru",
        phone="+79130003344", consent_version="2025-1", consent_at=held.starts_at,
        manage_secret_hash="e" * 64, consent_ip="10.1.2.3")
    db.session.add(teacher_signup)
    db.session.add(ScannerLink(event_id=held.id, token_hash="d" * 64,
                               label="Волонтёр Серафима", gate="Вход А",
                               expires_at=held.ends_at))
    # A volunteer's walk-in nobody confirmed: the names typed at the door.
    db.session.add(WalkIn(event_id=held.id, kind="student",
                          organization_id=leaving_students[0].organization_id,
                          last_name="Незаписанная", first_name="Феврония", class_name="8Б",
                          grade=8, arrived_at=held.starts_at))
    row = queue_mail("evdokia@mail.ru", f"Вы записаны: {held.title}",
                     "Здравствуйте, Прошлогодняя Евдокия! Ссылка: http://x/my/secret")
    row.created_at = held.starts_at - timedelta(days=5)
    db.session.commit()
    pairs = {(p.last_name, p.first_name) for p in leaving_students + leaving_teachers}
    pairs |= {("Прошлогодняя", "Евдокия"), ("Самозаписавшаяся", "Агриппина"),
              ("Волонтёр", "Серафима"), ("Незаписанная", "Феврония")}
    strings = {"evdokia@mail.ru", "+79130001122", "agrippina@school.ru", "+79130003344",
               "10.1.2.3"}
    strings |= {t.email for t in leaving_teachers if t.email}
    strings |= {s.external_id for s in leaving_students if s.external_id}
    return leaving_students, leaving_teachers, pairs, strings


def test_anonymizing_the_previous_year_keeps_its_indicators_and_leaves_no_name(
        demo, client, runner, db):
    year = demo
    leaving_students, leaving_teachers, pairs, strings = previous_year_people(year)
    assert len(leaving_students) >= 10 and leaving_teachers
    # A pair shared with someone still named (two «Иванов Иван») is theirs to keep.
    still_named = {(p.last_name, p.first_name) for model in (Student, Teacher)
                   for p in model.query.filter(model.active.is_(True))}
    pairs -= still_named
    assert len(pairs) >= 10
    admin = User.query.filter_by(role=Role.ADMIN).first()
    headers = bearer(create_token(admin))
    db.session.commit()
    url = f"/api/v1/reports/indicators?year={year}"
    before = client.get(url, headers=headers)
    assert before.status_code == 200
    assert before.get_json()["city"]["students"]["a"] > 0
    assert len(name_hits(every_stored_row(), pairs, strings)) > len(pairs)  # the search works

    result = runner.invoke(args=["anonymize-year", str(year), "--yes"])
    assert result.exit_code == 0, result.output
    db.session.rollback()

    after = client.get(url, headers=headers)
    assert after.status_code == 200
    assert after.data == before.data
    assert name_hits(every_stored_row(), pairs, strings) == []
    # Nobody's name is left in the year's stored scan answers, the kept people's included.
    period = academic_year_period(year)
    answers = db.session.execute(
        sa.select(Scan.response).join(Event, Scan.event_id == Event.id)
        .where(Event.starts_at >= period.starts_at, Event.starts_at < period.ends_before,
               Scan.ticket_id.is_not(None))).scalars().all()
    assert answers and all(a["attendee"]["name"] is None for a in answers if a.get("attendee"))
    # The rows stay for the indicators: the school, the grade and the ОВЗ flag.
    student = db.session.get(Student, leaving_students[0].id)
    assert student.anonymized_at is not None and student.last_name is None
    assert student.organization_id == leaving_students[0].organization_id
    assert student.ovz == leaving_students[0].ovz and student.grade == leaving_students[0].grade
    assert student.class_name == str(student.grade)


def test_the_current_year_is_refused(runner, db):
    year = current_academic_year()
    result = runner.invoke(args=["anonymize-year", str(year), "--yes"])
    assert result.exit_code != 0
    assert "ещё не закончился" in result.output
    from models import AuditLog

    assert AuditLog.query.filter_by(action="year.anonymize").count() == 0


def test_admin_page_needs_the_year_typed_and_audits(client, auth, factory, db):
    admin = factory.create_user()
    school = factory.create_org()
    year = current_academic_year() - 1
    event = factory.create_event(starts_at=academic_year_period(year).starts_at
                                 + timedelta(days=40))
    gone = factory.create_student(school, last_name="Выпускникова", first_name="Олеся",
                                  active=False)
    gone.created_at = event.starts_at - timedelta(days=90)
    factory.create_checkin(factory.create_ticket(event, gone))
    db.session.commit()
    auth.login(admin.email)
    page = client.get(f"/admin/anonymize-year?year={year}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Обезличить учебный год" in text and "Обучающихся (нет в списках школ)" in text

    wrong = client.post_form("/admin/anonymize-year", {"year": str(year),
                                                       "confirm": str(year - 1)})
    assert wrong.status_code == 422
    assert f"Введите «{year}»" in wrong.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(Student, gone.id).last_name == "Выпускникова"

    current = client.post_form("/admin/anonymize-year", {"year": str(year + 1),
                                                         "confirm": str(year + 1)})
    assert current.status_code == 422  # not among the choices: a past year only
    assert "текущий год обезличить нельзя" in current.get_data(as_text=True)
    garbage = client.post_form("/admin/anonymize-year", {"year": "двадцать", "confirm": "x"})
    assert garbage.status_code == 422
    assert "Выберите прошедший учебный год" in garbage.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(Student, gone.id).last_name == "Выпускникова"

    done = client.post_form("/admin/anonymize-year", {"year": str(year), "confirm": str(year)})
    assert done.status_code == 303
    db.session.rollback()
    assert db.session.get(Student, gone.id).last_name is None
    from models import AuditLog

    entry = AuditLog.query.filter_by(action="year.anonymize").one()
    assert entry.user_id == admin.id and entry.object_id == str(year)
    assert entry.details["students"] == 1
    assert "Выпускникова" not in json.dumps(entry.details, ensure_ascii=False)
    assert now_utc() - entry.at < timedelta(minutes=5)
