"""Capacity and quota hold under parallel requests; the waiting list moves up in order.

Real parallel requests: 24 threads, each with its own test client, app context and database
connection, call the API at the same moment (a barrier). Runs on SQLite (BEGIN IMMEDIATE) and on
PostgreSQL (row lock), see ``checkin/seats/capacity.py``.
"""

import threading

import pytest
import sqlalchemy as sa

from models import Registration, Role, Ticket, TicketStatus, db

SCHOOLS = 4
PER_SCHOOL = 6
CAPACITY = 7


def _storm(app, factory, quota):
    event = factory.create_event(capacity=CAPACITY, per_school_quota=quota)
    jobs = []
    for _ in range(SCHOOLS):
        school = factory.create_org()
        user = factory.create_user(Role.COORDINATOR, organization=school)
        token = factory.create_token(user)
        for _ in range(PER_SCHOOL):
            jobs.append((token, factory.create_student(school).id, school.id))
    db.session.commit()
    event_id = event.id
    barrier = threading.Barrier(len(jobs))
    results, errors = [], []

    def worker(token, student_id):
        with app.app_context():
            try:
                client = app.test_client()
                barrier.wait()
                response = client.post(f"/api/v1/events/{event_id}/registrations",
                                       json={"student_ids": [student_id]},
                                       headers={"Authorization": f"Bearer {token}"})
                results.append((response.status_code, response.get_json()))
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(t, s)) for t, s, _o in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.rollback()
    assert errors == []
    assert [code for code, _body in results] == [201] * len(jobs), results[:3]
    return event_id, {s: o for _t, s, o in jobs}


def _tickets(event_id):
    return db.session.execute(
        sa.select(Ticket).where(Ticket.event_id == event_id)
        .order_by(Ticket.queued_at, Ticket.id)).scalars().all()


@pytest.mark.parametrize("quota", [None, 2])
def test_parallel_registrations_never_exceed_capacity_or_quota(app, factory, quota):
    event_id, school_of = _storm(app, factory, quota)
    tickets = _tickets(event_id)
    assert len(tickets) == SCHOOLS * PER_SCHOOL
    confirmed = [t for t in tickets if t.status == TicketStatus.CONFIRMED]
    waitlisted = [t for t in tickets if t.status == TicketStatus.WAITLISTED]
    assert len(confirmed) == CAPACITY  # 7 seats; with quota 2 × 4 schools = 8 ≥ 7
    assert len(waitlisted) == SCHOOLS * PER_SCHOOL - CAPACITY
    per_school = {}
    for t in confirmed:
        per_school[school_of[t.student_id]] = per_school.get(school_of[t.student_id], 0) + 1
    if quota:
        assert max(per_school.values()) <= quota


def test_cancelling_promotes_the_waiting_list_in_order(app, factory):
    event_id, _school_of = _storm(app, factory, None)
    waiting = [t.id for t in _tickets(event_id) if t.status == TicketStatus.WAITLISTED]
    confirmed_regs = [t.registration_id for t in _tickets(event_id)
                      if t.status == TicketStatus.CONFIRMED][:3]
    tokens = {}
    for reg_id in confirmed_regs:
        registration = db.session.get(Registration, reg_id)
        user = factory.create_user(Role.COORDINATOR, organization=registration.organization)
        tokens[reg_id] = factory.create_token(user)
    db.session.commit()
    barrier = threading.Barrier(len(confirmed_regs))
    results, errors = [], []

    def cancel(reg_id):
        with app.app_context():
            try:
                client = app.test_client()
                barrier.wait()
                response = client.delete(f"/api/v1/registrations/{reg_id}",
                                         headers={"Authorization": f"Bearer {tokens[reg_id]}"})
                results.append((response.status_code, response.get_json()))
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=cancel, args=(r,)) for r in confirmed_regs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.rollback()
    assert errors == []
    assert sorted(code for code, _b in results) == [200, 200, 200]
    assert sum(body["promoted"] for _c, body in results) == 3
    tickets = {t.id: t for t in _tickets(event_id)}
    # Exactly the first three of the waiting list moved up, the rest still wait in order.
    assert [tickets[i].status for i in waiting[:3]] == [TicketStatus.CONFIRMED] * 3
    assert all(tickets[i].status == TicketStatus.WAITLISTED for i in waiting[3:])
    assert sum(t.status == TicketStatus.CONFIRMED for t in tickets.values()) == CAPACITY
