"""The forecast at city scale without changing its results (issue #15's speed goals): one
school's forecast is its row of the city's; last year's show counts and reach are kept through
``reports.cache`` and, after a change to last year, equal a fresh computation.

The hand-worked school of ``tests/test_forecast.py`` (academic year 2025/26, forecast made on
1 Dec 2025; last year 2024/25 is closed).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from checkin.door.scans import undo_checkin
from models import Role, Scan, ScanOutcome, Target, Ticket, TicketStatus, db, now_utc
from reports import cache
from reports import forecast as fc
from reports.backtest import run_backtest
from tests import factories
from tests.test_forecast import AS_OF, YEAR, at, school  # noqa: F401  (the fixture)


@pytest.fixture
def keeping(app):
    app.config["REPORT_CACHE"] = True
    cache.forget_all()
    yield
    cache.forget_all()
    app.config["REPORT_CACHE"] = False


@pytest.fixture
def city(school, factory):  # noqa: F811
    """The hand-worked school, a second school without any history of its own (the city's show
    rate and last year's share stand in) with students booked, and a city target."""
    f = factory
    other = f.create_org(name="СОШ № 2 (прогноз)")
    f.create_baseline(other, YEAR, students_total=10, students_ovz=1, teachers_total=2)
    kids = [f.create_student(other) for _ in range(3)]
    organizer = f.create_org(name="Колледж (прогноз)", kind=f.OrgKind.UNIVERSITY)
    upcoming = f.create_event(organizer, starts_at=at(2025, 12, 15))
    for kid in kids:
        f.create_ticket(upcoming, kid, created_at=at(2025, 11, 25))
    db.session.add(Target(year=YEAR, organization_id=None, students=Decimal("50")))
    db.session.commit()
    return {"s1": school, "s2": other}


def _forecast_json(forecast, org_id):
    return forecast.school(org_id).to_json()


@pytest.mark.parametrize("as_of", [None, AS_OF], ids=["now", "as_of"])
def test_one_schools_forecast_is_its_row_of_the_citys(city, as_of):
    now = datetime(2026, 1, 20, 5, 0, tzinfo=UTC) if as_of is not None else AS_OF
    whole = fc.compute_forecast(YEAR, now=now, as_of=as_of)
    assert whole.city is not None
    for org in city.values():
        alone = fc.compute_forecast(YEAR, organization_id=org.id, now=now, as_of=as_of)
        assert [s.organization_id for s in alone.schools] == [org.id]
        assert alone.city is None  # the city's line needs every school
        assert _forecast_json(alone, org.id) == _forecast_json(whole, org.id)
    # The second school has no history: the city's show rate and last year's share.
    second = whole.school(city["s2"].id)
    assert not second.own_show_rate and second.show_rate == pytest.approx(0.75)
    assert second.pace_source == "city_last_year"
    if as_of is None:
        assert fc.school_gaps(YEAR, city["s1"].id, now=now) == [
            g for g in fc.city_gaps(YEAR, now=now) if g.organization_id == city["s1"].id]


def _admin():
    admin = factories.create_user(Role.ADMIN)
    db.session.commit()
    return admin


def undo_a_check_in_of_last_year(s):
    checkin = db.session.execute(sa.select(Scan).where(
        Scan.organization_id == s["s1"].id, Scan.outcome == ScanOutcome.OK,
        Scan.undone_at.is_(None), Scan.scanned_at < at(2025, 8, 1))
        .order_by(Scan.id.desc())).scalars().first()
    undo_checkin(_admin(), checkin.event, checkin.id, "Отмечен по ошибке")


def cancel_a_ticket_of_last_year(s):
    ticket = db.session.execute(sa.select(Ticket).where(
        Ticket.status == TicketStatus.CONFIRMED, Ticket.created_at < at(2024, 9, 2),
        ~Ticket.id.in_(sa.select(Scan.ticket_id).where(Scan.ticket_id.is_not(None))))
        .order_by(Ticket.id)).scalars().first()
    ticket.status = TicketStatus.CANCELLED
    ticket.cancelled_at = now_utc()


def _answers(s):
    forecast = fc.compute_forecast(YEAR, now=AS_OF)
    return ([_forecast_json(forecast, org.id) for org in s.values()],
            forecast.city.to_json(),
            fc.closed_year_show_counts(YEAR - 1), fc.closed_year_reach(YEAR - 1),
            run_backtest(YEAR - 1))


@pytest.mark.parametrize("change", [undo_a_check_in_of_last_year, cancel_a_ticket_of_last_year],
                         ids=["undo_a_check_in", "cancel_a_ticket"])
def test_kept_last_year_equals_a_fresh_one_after_a_change(app, keeping, city, change):
    before = _answers(city)
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert _answers(city) == before
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    # Kept: last year's check-ins are not read again (only this year's parts and the counters).
    assert statements and not any("ly_persons" in s or "ly_pairs" in s for s in statements)
    db.session.rollback()  # the next request
    change(city)
    db.session.commit()
    kept_answer = _answers(city)
    app.config["REPORT_CACHE"] = False
    try:
        fresh_answer = _answers(city)
    finally:
        app.config["REPORT_CACHE"] = True
    assert kept_answer == fresh_answer
    assert fresh_answer[2] != before[2] or fresh_answer[3] != before[3]  # last year changed
    assert fresh_answer[0] != before[0]  # and so did the forecast
