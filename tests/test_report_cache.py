"""Kept reports of closed years (``reports.cache``): after each change that can change a closed
year's figures the kept answer is the fresh computation's, byte for byte; without a change the
kept report is answered with one read of the counters.

The scenario is ``tests/test_indicators.py``'s, year 2024/25 (closed by the clock of the run).
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa

from checkin.door.scans import perform_scan, undo_checkin
from models import (
    Baseline,
    CityPlan,
    EventStaff,
    Role,
    Scan,
    ScanOutcome,
    Student,
    Ticket,
    db,
    now_utc,
)
from models.academic_year import Period, academic_year_period, current_academic_year
from models.report_changes import EVERY_YEAR, note_report_change, report_versions
from reports import cache
from reports.indicators import compute_indicators, monthly_trend
from tests import factories
from tests.test_indicators import YEAR, scenario  # noqa: F401  (the fixture)
from webapp.attendance.imports import import_attendance, withdraw_import


@pytest.fixture
def keeping(app):
    app.config["REPORT_CACHE"] = True
    cache.forget_all()
    yield
    cache.forget_all()
    app.config["REPORT_CACHE"] = False


@contextmanager
def fresh(app):
    app.config["REPORT_CACHE"] = False
    try:
        yield
    finally:
        app.config["REPORT_CACHE"] = True


RANGE = Period(academic_year_period(YEAR).first_day + timedelta(days=30),
               academic_year_period(YEAR).last_day - timedelta(days=90))


def answers() -> str:
    """Everything a closed year's pages and the API show, as one text."""
    parts = [compute_indicators(YEAR).to_json(),
             compute_indicators(YEAR, verified_only=True).to_json(),
             compute_indicators(RANGE).to_json(),
             compute_indicators(YEAR, category_codes=["cpc_program"]).to_json(),
             [(p.first_day.isoformat(), p.checkins, p.cumulative) for p in monthly_trend(YEAR)]]
    return json.dumps(parts, ensure_ascii=False, sort_keys=True)


@contextmanager
def counted_statements():
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def test_a_closed_year_is_kept_and_answered_with_one_read(app, keeping, scenario):  # noqa: F811
    first = compute_indicators(YEAR).to_json()
    with counted_statements() as statements:
        again = compute_indicators(YEAR)
    assert again.to_json() == first
    assert len(statements) == 1 and "report_changes" in statements[0]
    # One school's rows are cut from the kept city report; the city totals are the same.
    one = compute_indicators(YEAR, organization_id=scenario["s1"].id)
    assert [o.id for o in one.organizations] == [scenario["s1"].id]
    assert one.city == again.city
    with fresh(app):
        assert compute_indicators(YEAR, organization_id=scenario["s1"].id).to_json() \
            == one.to_json()


def test_the_current_year_is_never_kept(app, keeping, db):
    period = academic_year_period(current_academic_year())
    assert cache.closed_years(period) is None
    assert cache.closed_years(academic_year_period(current_academic_year() - 1)) == [
        current_academic_year() - 1]
    compute_indicators(period)
    with counted_statements() as statements:
        compute_indicators(period)
    assert not any("report_changes" in s for s in statements)


def test_a_check_in_of_the_running_year_leaves_the_counters_alone(app, keeping, db, factory):
    """The door's check-ins of a running year write nothing more than the scan."""
    admin = factory.create_user(Role.ADMIN)
    event = factory.create_event(starts_at=now_utc() - timedelta(minutes=10))
    ticket = factory.create_ticket(event, factory.create_student(factory.create_org()))
    db.session.commit()
    versions = report_versions()  # a new school is a row of every year's report
    assert versions == {EVERY_YEAR: 1}
    assert perform_scan(event, ticket.token, actor_user=admin)["status"] == "ok"
    db.session.commit()
    assert report_versions() == versions


def _student(org) -> Student:
    return db.session.execute(sa.select(Student).where(Student.organization_id == org.id)
                              .order_by(Student.id)).scalars().first()


def _admin():
    """An admin, committed: a service that locks the event must come first in its
    transaction."""
    admin = factories.create_user(Role.ADMIN)
    db.session.commit()
    return admin


def edit_baseline(s):
    baseline = db.session.execute(sa.select(Baseline).where(
        Baseline.organization_id == s["s1"].id, Baseline.year == YEAR)).scalar_one()
    baseline.students_total = 40


def undo_a_check_in(s):
    checkin = db.session.execute(sa.select(Scan).where(
        Scan.event_id == s["e1"].id, Scan.outcome == ScanOutcome.OK,
        Scan.undone_at.is_(None)).order_by(Scan.id)).scalars().first()
    undo_checkin(_admin(), s["e1"], checkin.id, "Отмечен по ошибке")


def _uploaded_list(s):
    # The s1 student with an E2 ticket who never came (``d`` of the scenario) was there after
    # all; the uploaded list says so.
    came = db.session.execute(
        sa.select(Student).join(Ticket, Ticket.student_id == Student.id)
        .where(Ticket.event_id == s["e2"].id, Student.organization_id == s["s1"].id,
               Student.last_name.is_not(None),
               ~sa.exists().where(Scan.ticket_id == Ticket.id, Scan.outcome == ScanOutcome.OK))
    ).scalars().first()
    return import_attendance(_admin(), s["e2"], "список.xlsx", [
        (2, {"last_name": came.last_name, "first_name": came.first_name,
             "class_name": came.class_name, "school": s["s1"].name})])


def import_a_list(s):
    assert _uploaded_list(s).checked_in == 1


def withdraw_a_list(s):
    withdraw_import(_admin(), s["upload"].id, "Не тот список")


def upload_a_list(s):
    s["upload"] = _uploaded_list(s).upload


def late_offline_batch(s):
    student = _student(s["s2"])
    ticket = factories.create_ticket(s["e2"], student)
    result = perform_scan(s["e2"], ticket.token, actor_user=_admin(), force=True, offline=True,
                          scanned_at=s["e2"].starts_at)
    assert result["status"] == "ok"


def rename_a_school(s):
    s["s1"].name = "СОШ № 10 (переименована)"


def mark_ovz(s):
    _student(s["s1"]).ovz = True


def move_an_event(s):
    later = timedelta(days=365 * 2)
    s["e1"].starts_at, s["e1"].ends_at = s["e1"].starts_at + later, s["e1"].ends_at + later


def change_early_flag(s):
    s["e2"].early = False


def add_running_staff(s):
    db.session.add(EventStaff(event_id=s["e1"].id,
                              teacher_id=factories.create_teacher(s["s2"]).id))


def set_city_plan(s):
    db.session.add(CityPlan(year=YEAR, planned_events=40, planned_early_events=4))


def deactivate_a_school(s):
    extra = factories.create_org(name="СОШ № 99 (новая, без базы)")
    db.session.flush()
    extra.active = True  # appears in every year's list of organizations


CHANGES = [edit_baseline, undo_a_check_in, import_a_list, withdraw_a_list, late_offline_batch,
           rename_a_school, mark_ovz, move_an_event, change_early_flag, add_running_staff,
           set_city_plan, deactivate_a_school]


#: What a change needs done (and committed) before the report is kept.
PREPARED = {withdraw_a_list: upload_a_list}


@pytest.mark.parametrize("change", CHANGES, ids=[c.__name__ for c in CHANGES])
def test_a_kept_answer_equals_a_fresh_one_after_each_change(app, keeping, scenario,  # noqa: F811
                                                            change):
    if change in PREPARED:
        PREPARED[change](scenario)
        db.session.commit()
    before = answers()
    assert answers() == before  # kept
    db.session.rollback()  # the next request
    change(scenario)
    db.session.commit()
    kept_answer = answers()
    with fresh(app):
        fresh_answer = answers()
    assert kept_answer == fresh_answer
    assert fresh_answer != before  # the change did change the figures


def test_a_change_made_elsewhere_is_seen_through_the_counters(app, keeping, scenario):  # noqa: F811
    """Another worker or app instance changed the data: only the counter tells this one."""
    before = answers()
    db.session.rollback()
    baseline_table = Baseline.__table__
    with db.engine.begin() as other:  # not this session: no ORM hook runs
        other.execute(sa.update(baseline_table).where(baseline_table.c.year == YEAR)
                      .values(students_total=baseline_table.c.students_total + 1))
    db.session.rollback()  # a new request: a new transaction
    assert answers() == before  # nothing told this process
    with db.engine.begin() as other:
        note_report_change([YEAR], other)
    db.session.rollback()
    changed = answers()
    with fresh(app):
        assert answers() == changed
    assert changed != before


def test_changes_of_every_year_bump_the_shared_row(app, keeping, scenario):  # noqa: F811
    before = report_versions()
    scenario["s2"].short_name = "Школа 2"
    db.session.commit()
    assert report_versions() == {**before, EVERY_YEAR: before.get(EVERY_YEAR, 0) + 1}
    # A change nothing counts (a school's address, a student's name) leaves every counter.
    scenario["s2"].address = "пр. Ленина, 1"
    _student(scenario["s1"]).first_name = "Иван"
    db.session.commit()
    assert report_versions() == {**before, EVERY_YEAR: before.get(EVERY_YEAR, 0) + 1}


@pytest.mark.parametrize("verified_only", [False, True])
def test_one_organization_alone_is_its_row_of_the_whole_report(app, scenario,  # noqa: F811
                                                              verified_only):
    from reports.indicators import organization_indicators

    whole = compute_indicators(YEAR, verified_only=verified_only)
    for row in whole.organizations:
        alone = organization_indicators(YEAR, row.id, verified_only=verified_only)
        assert alone == row
    narrowed = compute_indicators(RANGE, category_codes=["cpc_program"])
    for row in narrowed.organizations:
        assert organization_indicators(RANGE, row.id, category_codes=["cpc_program"]) == row
    assert organization_indicators(YEAR, scenario["uni"].id) is None


def test_a_worker_that_has_just_started_finds_the_shared_copy(app, keeping, scenario,  # noqa: F811
                                                              monkeypatch):
    first = answers()
    db.session.rollback()
    cache.forget_all()  # a new worker: nothing in its memory
    with counted_statements() as statements:
        assert answers() == first
    # Per report: the counters and the shared copy; no aggregate statement over check-ins.
    assert not any("scans" in s for s in statements)
    assert [s for s in statements
            if "report_changes" not in s and "kept_reports" not in s and s != "BEGIN"] == []
    # Another release computes its own: it never reads a copy made by other code.
    cache.forget_all()
    monkeypatch.setattr(cache, "CODE_DIGEST", "another-release")
    with counted_statements() as statements:
        assert answers() == first
    assert any("scans" in s for s in statements)


def test_the_shared_copies_are_bounded(app, keeping, scenario, monkeypatch):  # noqa: F811
    from models import report_changes

    monkeypatch.setattr(report_changes, "MAX_KEPT_REPORTS", 2)
    answers()  # five reports
    db.session.rollback()
    kept_rows = db.session.execute(sa.text("SELECT count(*) FROM kept_reports")).scalar_one()
    assert kept_rows == 2
