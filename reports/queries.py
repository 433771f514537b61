"""Read-only queries behind the report pages other than the nine indicators.

All grouped in SQL: attendance per event and school, roadmap execution, a school's events and
its students not yet involved, upcoming events for the recommendations.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from formats.text import natural_key
from models import (
    Category,
    Event,
    EventStatus,
    Organization,
    ParentSignup,
    RoadmapItem,
    Student,
    Ticket,
    db,
    now_utc,
)
from models.academic_year import Period
from models.base import folded
from models.organization import in_name_order
from reports.indicators import (
    ReportFilters,
    checkin_conditions,
    checkin_facts_conditions,
    event_conditions,
    events,
    percent_of,
    scans,
    students,
    teachers,
    tickets,
)

_LIVE = "confirmed"


def _checked_in_exists(tk=tickets):
    """EXISTS a check-in of the ticket (used inside per-ticket aggregates)."""
    sc = scans.alias("sc_ci")
    return sa.exists(sa.select(sa.literal(1)).where(
        sc.c.ticket_id == tk.c.id, sc.c.outcome == "ok", sc.c.undone_at.is_(None),
        sc.c.event_id == tk.c.event_id))


parent_signups = ParentSignup.__table__


def _holder_org():
    """The organization a ticket's holder counts for: the student's or teacher's school, the
    school a parent named as the child's (NULL: a parent who named none)."""
    return sa.func.coalesce(students.c.organization_id, teachers.c.organization_id,
                            parent_signups.c.child_organization_id)


def _tickets_with_holders():
    return (tickets.join(events, events.c.id == tickets.c.event_id)
            .outerjoin(students, students.c.id == tickets.c.student_id)
            .outerjoin(teachers, teachers.c.id == tickets.c.teacher_id)
            .outerjoin(parent_signups, parent_signups.c.id == tickets.c.parent_signup_id))


@dataclass
class Attendance:
    """Registrations and check-ins of some events. «Неявка» is counted over events that have
    ended only: a registration for an event still to come (or under way) is not a no-show yet,
    it is shown apart as ``upcoming`` («записано на предстоящие»)."""

    registered: int = 0
    checked_in: int = 0
    waitlisted: int = 0
    students: int = 0
    teachers: int = 0
    parents: int = 0
    #: Registered and checked in at events that have ended (what a no-show is counted over).
    registered_ended: int = 0
    checked_in_ended: int = 0

    @property
    def upcoming(self) -> int:
        """Registered for events that have not ended yet."""
        return self.registered - self.registered_ended

    @property
    def no_show(self) -> int:
        return max(self.registered_ended - self.checked_in_ended, 0)

    @property
    def no_show_rate(self):
        return percent_of(self.no_show, self.registered_ended)

    def add(self, other: Attendance) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _attendance_columns(now):
    checked = _checked_in_exists()
    registered = sa.or_(tickets.c.status == _LIVE, checked)
    ended = events.c.ends_at <= now

    def count_if(condition):
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    # Registered = confirmed tickets now; checked in = tickets with a check-in (a ticket
    # cancelled after its check-in still counts as attended, and then as registered too).
    return [
        count_if(registered),
        count_if(checked),
        count_if(tickets.c.status == "waitlisted"),
        count_if(sa.and_(checked, tickets.c.kind == "student")),
        count_if(sa.and_(checked, tickets.c.kind == "teacher")),
        count_if(sa.and_(checked, tickets.c.kind == "parent")),
        count_if(sa.and_(registered, ended)),
        count_if(sa.and_(checked, ended)),
    ]


def attendance_by_event(event_ids: list[int], now=None) -> dict[int, Attendance]:
    if not event_ids:
        return {}
    rows = db.session.execute(
        sa.select(tickets.c.event_id, *_attendance_columns(now or now_utc()))
        .select_from(tickets.join(events, events.c.id == tickets.c.event_id))
        .where(tickets.c.event_id.in_(event_ids)).group_by(tickets.c.event_id))
    return {row[0]: Attendance(*row[1:]) for row in rows}


def attendance_by_school(event_ids: list[int],
                         now=None) -> list[tuple[Organization | None, Attendance]]:
    """Per organization counted for (parents: the child's school) over the given events
    (None: parents who named no school)."""
    if not event_ids:
        return []
    org = _holder_org().label("org_id")
    rows = db.session.execute(
        sa.select(org, *_attendance_columns(now or now_utc()))
        .select_from(_tickets_with_holders())
        .where(tickets.c.event_id.in_(event_ids)).group_by(org)).all()
    by_id = {o.id: o for o in Organization.query.filter(
        Organization.id.in_([r[0] for r in rows if r[0] is not None]))}
    result = [(by_id.get(r[0]), Attendance(*r[1:])) for r in rows]
    result.sort(key=lambda pair: (pair[0] is None,
                                  natural_key(pair[0].display_name if pair[0] else "")))
    return result


def organizer_events(period: Period, organizer_id: int | None,
                     filters: ReportFilters | None = None) -> list[Event]:
    query = Event.query.filter(*event_conditions(period, filters or ReportFilters(),
                                                 Event.__table__),
                               Event.status != EventStatus.DRAFT)
    if organizer_id is not None:
        query = query.filter(Event.organizer_id == organizer_id)
    return query.order_by(Event.starts_at, Event.id).all()


@dataclass
class RoadmapLine:
    item: RoadmapItem
    planned: int
    cancelled: int
    held: int
    participants: int
    students: int


def roadmap_execution(period: Period, now=None) -> list[RoadmapLine]:
    """Per roadmap item: events planned (published, cancelled ones included), cancelled, held
    (published, already ended, at least one check-in), check-ins and distinct students."""
    now = now or now_utc()
    ev = events
    sc = scans.alias("sc_rm")
    has_checkin = sa.exists(sa.select(sa.literal(1))
                            .where(sc.c.event_id == ev.c.id, *checkin_conditions(sc)))
    where = [*event_conditions(period, ReportFilters()), ev.c.roadmap_item_id.is_not(None),
             ev.c.status != "draft"]
    counts = {row[0]: row[1:] for row in db.session.execute(
        sa.select(ev.c.roadmap_item_id, sa.func.count(),
                  sa.func.sum(sa.case((ev.c.status == "cancelled", 1), else_=0)),
                  sa.func.sum(sa.case((sa.and_(ev.c.status == "published", ev.c.ends_at <= now,
                                               has_checkin), 1), else_=0)))
        .where(*where).group_by(ev.c.roadmap_item_id))}
    people = {row[0]: row[1:] for row in db.session.execute(
        sa.select(ev.c.roadmap_item_id, sa.func.count(),
                  sa.func.count(sa.distinct(scans.c.student_id)))
        .select_from(scans.join(ev, ev.c.id == scans.c.event_id))
        .where(*where, *checkin_conditions()).group_by(ev.c.roadmap_item_id))}
    lines = []
    for item in RoadmapItem.query.order_by(RoadmapItem.sort_order, RoadmapItem.id):
        planned, cancelled, held = counts.get(item.id, (0, 0, 0))
        visits, distinct_students = people.get(item.id, (0, 0))
        lines.append(RoadmapLine(item, planned or 0, cancelled or 0, held or 0, visits,
                                 distinct_students))
    return lines


def unlinked_events_count(period: Period) -> int:
    return db.session.execute(
        sa.select(sa.func.count()).select_from(events)
        .where(*event_conditions(period, ReportFilters()), events.c.roadmap_item_id.is_(None),
               events.c.status != "draft")).scalar_one()


def _involved_students(organization_id: int, period: Period):
    """Students of the organization checked in during the period (from the scans' copies of
    who a check-in counts for: index ranges of the period's events and this organization)."""
    return (sa.select(scans.c.student_id)
            .where(*checkin_facts_conditions(period, ReportFilters()),
                   scans.c.organization_id == organization_id,
                   scans.c.student_id.is_not(None)))


def students_not_involved(organization_id: int, period: Period) -> list[Student]:
    """Active students of the organization without any check-in in the period."""
    involved = _involved_students(organization_id, period)
    return (Student.query
            .filter(Student.organization_id == organization_id, Student.active.is_(True),
                    Student.anonymized_at.is_(None), Student.id.not_in(involved))
            .order_by(Student.grade, Student.class_name, folded(Student.last_name),
                      folded(Student.first_name), folded(Student.middle_name), Student.id)
            .all())


def roster_ovz_coverage(organization_id: int, period: Period) -> tuple[int, int]:
    """(ОВЗ students on the roster, of them checked in during the period)."""
    involved = _involved_students(organization_id, period)
    base = [students.c.organization_id == organization_id, students.c.ovz.is_(True),
            students.c.active.is_(True)]
    total = db.session.execute(sa.select(sa.func.count()).select_from(students)
                               .where(*base)).scalar_one()
    covered = db.session.execute(sa.select(sa.func.count()).select_from(students)
                                 .where(*base, students.c.id.in_(involved))).scalar_one()
    return total, covered


def school_events(organization_id: int, period: Period,
                  filters: ReportFilters | None = None) -> list[tuple[Event, int, int]]:
    """Events where the school's people checked in: (event, students, teachers)."""
    rows = db.session.execute(
        sa.select(scans.c.event_id,
                  sa.func.count(scans.c.student_id), sa.func.count(scans.c.teacher_id))
        .where(*checkin_facts_conditions(period, filters or ReportFilters()),
               scans.c.organization_id == organization_id)
        .group_by(scans.c.event_id)).all()
    by_id = {e.id: e for e in Event.query.filter(Event.id.in_([r[0] for r in rows]))}
    result = [(by_id[r[0]], r[1], r[2]) for r in rows]
    result.sort(key=lambda item: (item[0].starts_at, item[0].id))
    return result


def upcoming_events(limit: int = 200, now=None) -> list[Event]:
    """Published events not yet started and with a seat left (for recommendations: a full
    event cannot take the school's students), soonest first."""
    now = now or now_utc()
    taken = Ticket.seats_taken_sql(Event.id).correlate(Event).scalar_subquery()
    return (Event.query.filter(Event.status == EventStatus.PUBLISHED, Event.starts_at > now,
                               taken < Event.capacity)
            .order_by(Event.starts_at, Event.id).limit(limit).all())


def categories() -> list[Category]:
    return Category.query.filter_by(active=True).order_by(Category.sort_order, Category.name).all()


def organizers_with_events() -> list[Organization]:
    ids = sa.select(events.c.organizer_id).distinct()
    return in_name_order(Organization.query.filter(Organization.id.in_(ids)).all())

