"""Group registration from the event page, the school's registrations, printing, door lists."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from checkin.seats.printing import group_sheet_pdf, tickets_pdf
from checkin.seats.registration import (
    add_people,
    availability,
    cancel_registration,
    cancel_ticket,
    grades_text,
    register_group,
    registration_window_problem,
    student_grade_problem,
)
from checkin.seats.tickets import group_url, ticket_url
from errors import ServiceError
from formats.class_names import class_sort_key
from models import (
    LIVE_TICKET_STATUSES,
    Audience,
    Event,
    Organization,
    Registration,
    RegistrationStatus,
    Role,
    SchoolNotice,
    Student,
    Teacher,
    Ticket,
    TicketKind,
    TicketStatus,
    db,
    now_utc,
)
from models.roster import person_sort_key
from webapp.access import roles_required
from webapp.downloads import file_response
from webapp.events.visibility import can_view_event
from webapp.forms import EmptyForm
from webapp.schools import bp
from webapp.schools.context import current_school, school_url
from webapp.schools.forms import GroupForm
from webapp.transaction import unit_of_work

coordinator_pages = roles_required(Role.COORDINATOR, Role.ADMIN)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _visible_event(event_id: int) -> Event:
    event = db.session.get(Event, event_id)
    if event is None or not can_view_event(current_user, event):
        abort(404)
    return event


def _get_registration(school: Organization, registration_id: int) -> Registration:
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.organization_id != school.id:
        abort(404)
    return registration


def _taken_ids(event: Event, organization_id: int) -> tuple[set[int], set[int]]:
    rows = db.session.execute(
        sa.select(Ticket.student_id, Ticket.teacher_id)
        .where(Ticket.event_id == event.id, Ticket.status.in_(LIVE_TICKET_STATUSES),
               Ticket.kind != TicketKind.PARENT)
    ).all()
    return ({s for s, _t in rows if s is not None}, {t for _s, t in rows if t is not None})


def _picker(event: Event, school: Organization):
    """Classes (eligible for the event) with their active students, and the teachers."""
    taken_students, taken_teachers = _taken_ids(event, school.id)
    # Light rows, not objects: a school may have 3,000 students (bench/roster_bench.py).
    students = db.session.execute(
        sa.select(Student.id, Student.last_name, Student.first_name, Student.middle_name,
                  Student.class_name, Student.grade)
        .where(Student.organization_id == school.id, Student.active.is_(True),
               Student.anonymized_at.is_(None))).all()
    eligible, refused_classes = {}, set()
    for s in students:
        if student_grade_problem(event, s):
            refused_classes.add(s.class_name)
            continue
        eligible.setdefault(s.class_name, []).append(s)
    classes = []
    for class_name in sorted(eligible, key=class_sort_key):
        people = sorted(eligible[class_name],
                        key=lambda s: person_sort_key(s.last_name, s.first_name, s.middle_name))
        classes.append({"name": class_name, "students": people,
                        "free": [s for s in people if s.id not in taken_students]})
    teachers = sorted(Teacher.query.filter(Teacher.organization_id == school.id,
                                           Teacher.active.is_(True),
                                           Teacher.anonymized_at.is_(None)).all(),
                      key=lambda t: t.sort_key)
    return {"classes": classes, "teachers": teachers, "taken_students": taken_students,
            "taken_teachers": taken_teachers,
            "refused_classes": sorted(refused_classes - set(eligible), key=class_sort_key)}


def _selected_ids(form: GroupForm, picker: dict) -> tuple[list[int], list[int]]:
    """Individually picked students plus every free student of each «весь класс»."""
    student_ids = list(dict.fromkeys(form.students.data or []))
    chosen_classes = set(form.classes.data or [])
    for klass in picker["classes"]:
        if klass["name"] in chosen_classes:
            for s in klass["free"]:
                if s.id not in student_ids:
                    student_ids.append(s.id)
    return student_ids, list(dict.fromkeys(form.teachers.data or []))


MAX_PROPOSED = 2000


def proposed_student_ids(picker: dict) -> list[int]:
    """``?student=ID`` (repeated) of a link that proposes whom to send: the ids among the
    school's free, eligible students, in the order given; anything else is dropped."""
    free = {s.id for klass in picker["classes"] for s in klass["free"]}
    wanted = []
    for raw in request.args.getlist("student")[:MAX_PROPOSED]:
        if raw.isdigit() and len(raw) <= 12 and int(raw) in free:
            wanted.append(int(raw))
    return list(dict.fromkeys(wanted))


def _event_can_take_groups(event: Event) -> bool:
    return event.audience in (Audience.STUDENTS, Audience.PRESCHOOL, Audience.TEACHERS)


@bp.route("/events/<int:event_id>/register", methods=["GET", "POST"])
@coordinator_pages
def register_group_page(event_id: int):
    event = _visible_event(event_id)
    school = current_school()
    if not _event_can_take_groups(event):
        flash("На встречи для родителей родители записываются сами.", "warning")
        return redirect(url_for("events.detail", event_id=event.id), 303)
    form = GroupForm()
    picker = _picker(event, school)
    closed = registration_window_problem(event)
    proposed = [] if form.is_submitted() else proposed_student_ids(picker)
    if proposed:
        form.students.data = proposed
    if form.validate_on_submit() and not closed:
        student_ids, teacher_ids = _selected_ids(form, picker)
        with unit_of_work(catch=ServiceError) as uow:
            registration = register_group(current_user, event, school, student_ids, teacher_ids)
        if uow.error is not None:
            err = uow.error
            form.form_errors.append(err.message)
            picker = _picker(event, school)
        else:
            confirmed = sum(t.status == TicketStatus.CONFIRMED for t in registration.tickets)
            waitlisted = sum(t.status == TicketStatus.WAITLISTED for t in registration.tickets)
            message = f"Группа записана: подтверждено {confirmed}"
            if waitlisted:
                message += f", в листе ожидания {waitlisted} (места освободятся — мы сообщим)"
            flash(message + ". Распечатайте билеты.", "success")
            return redirect(school_url("schools.registration_detail", school,
                                       registration_id=registration.id), 303)
    return render_template("schools/register.html", event=event, school=school, form=form,
                           picker=picker, seats=availability(event, school.id), closed=closed,
                           grades=grades_text(event),
                           title=f"Записать группу: {event.title}",
                           action=school_url("schools.register_group_page", school,
                                             event_id=event.id),
                           submit_label="Зарегистрировать группу", proposed=len(proposed),
                           existing=_school_registrations(event, school))


def _school_registrations(event: Event, school: Organization) -> list[Registration]:
    return Registration.query.filter_by(event_id=event.id, organization_id=school.id,
                                        status=RegistrationStatus.ACTIVE).all()


@bp.route("/school/registrations/<int:registration_id>/add", methods=["GET", "POST"])
@coordinator_pages
def registration_add(registration_id: int):
    school = current_school()
    registration = _get_registration(school, registration_id)
    event = registration.event
    form = GroupForm()
    picker = _picker(event, school)
    closed = registration_window_problem(event)
    if registration.status != RegistrationStatus.ACTIVE:
        closed = "Заявка отменена: добавить людей нельзя."
    if form.validate_on_submit() and not closed:
        student_ids, teacher_ids = _selected_ids(form, picker)
        with unit_of_work(catch=ServiceError) as uow:
            tickets = add_people(current_user, registration, student_ids, teacher_ids)
        if uow.error is not None:
            err = uow.error
            form.form_errors.append(err.message)
            picker = _picker(event, school)
        else:
            confirmed = sum(t.status == TicketStatus.CONFIRMED for t in tickets)
            flash(f"Добавлено: {len(tickets)} (подтверждено {confirmed}, в листе ожидания "
                  f"{len(tickets) - confirmed}).", "success")
            return redirect(school_url("schools.registration_detail", school,
                                       registration_id=registration.id), 303)
    return render_template("schools/register.html", event=event, school=school, form=form,
                           picker=picker, seats=availability(event, school.id), closed=closed,
                           grades=grades_text(event),
                           title=f"Добавить в группу: {event.title}",
                           action=school_url("schools.registration_add", school,
                                             registration_id=registration.id),
                           submit_label="Добавить в группу", existing=[])


@bp.get("/school/registrations")
@coordinator_pages
def registrations():
    school = current_school()
    rows = (Registration.query.join(Event, Event.id == Registration.event_id)
            .filter(Registration.organization_id == school.id)
            .order_by(Event.starts_at.desc()).limit(500).all())
    counts = _ticket_counts([r.id for r in rows])
    now = now_utc()
    upcoming = sorted([r for r in rows if r.event.ends_at >= now],
                      key=lambda r: r.event.starts_at)
    past = [r for r in rows if r.event.ends_at < now]
    notices = (SchoolNotice.query.filter_by(organization_id=school.id, dismissed_at=None)
               .order_by(SchoolNotice.created_at.desc()).all())
    return render_template("schools/registrations.html", school=school, upcoming=upcoming,
                           past=past, counts=counts, notices=notices)


def _ticket_counts(registration_ids: list[int]) -> dict:
    counts: dict = {}
    if not registration_ids:
        return counts
    for reg_id, status, n in db.session.execute(
            sa.select(Ticket.registration_id, Ticket.status, sa.func.count(Ticket.id))
            .where(Ticket.registration_id.in_(registration_ids))
            .group_by(Ticket.registration_id, Ticket.status)):
        counts.setdefault(reg_id, {})[status.value] = n
    return counts


@bp.post("/school/notices/<int:notice_id>/dismiss")
@coordinator_pages
def notice_dismiss(notice_id: int):
    school = current_school()
    notice = db.session.get(SchoolNotice, notice_id)
    if notice is None or notice.organization_id != school.id:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    with unit_of_work():
        notice.dismissed_at = now_utc()
    return redirect(school_url("schools.registrations", school), 303)


def _sorted_tickets(registration: Registration, live_only: bool = True) -> list[Ticket]:
    tickets = [t for t in registration.tickets
               if not live_only or t.status in LIVE_TICKET_STATUSES]

    def key(t: Ticket):
        if t.kind == TicketKind.TEACHER:
            return (0, (), t.teacher.sort_key)
        return (1, class_sort_key(t.student.class_name), t.student.sort_key)

    return sorted(tickets, key=key)


@bp.get("/school/registrations/<int:registration_id>")
@coordinator_pages
def registration_detail(registration_id: int):
    school = current_school()
    registration = _get_registration(school, registration_id)
    event = registration.event
    tickets = _sorted_tickets(registration)
    cancelled = [t for t in registration.tickets if t.status == TicketStatus.CANCELLED]
    return render_template(
        "schools/registration.html", school=school, registration=registration, event=event,
        tickets=tickets, cancelled=cancelled, window_problem=registration_window_problem(event),
        started=now_utc() >= event.starts_at, group_link=group_url(registration.group_code),
        seats=availability(event, school.id))


@bp.post("/school/registrations/<int:registration_id>/tickets/<int:ticket_id>/cancel")
@coordinator_pages
def registration_remove_person(registration_id: int, ticket_id: int):
    school = current_school()
    registration = _get_registration(school, registration_id)
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or ticket.registration_id != registration.id:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    name = ticket.holder.full_name
    with unit_of_work(flash_errors=True) as uow:
        promoted = cancel_ticket(current_user, ticket)
    if uow.ok:
        message = f"{name} убран(а) из группы."
        if promoted:
            message += f" Из листа ожидания подтверждено мест: {len(promoted)}."
        flash(message, "success")
    return redirect(school_url("schools.registration_detail", school,
                               registration_id=registration_id), 303)


@bp.post("/school/registrations/<int:registration_id>/cancel")
@coordinator_pages
def registration_cancel(registration_id: int):
    school = current_school()
    registration = _get_registration(school, registration_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    with unit_of_work(flash_errors=True) as uow:
        cancel_registration(current_user, registration)
    if uow.ok:
        flash("Заявка отменена, места освобождены.", "success")
    return redirect(school_url("schools.registration_detail", school,
                               registration_id=registration_id), 303)


def _pdf_response(data: bytes, name: str, ascii_name: str):
    return file_response(data, mimetype="application/pdf", name=name, ascii_name=ascii_name)


@bp.get("/school/registrations/<int:registration_id>/tickets.pdf")
@coordinator_pages
def registration_tickets_pdf(registration_id: int):
    school = current_school()
    registration = _get_registration(school, registration_id)
    tickets = _sorted_tickets(registration)
    if not tickets:
        flash("В заявке нет действующих билетов: печатать нечего.", "warning")
        return redirect(school_url("schools.registration_detail", school,
                                   registration_id=registration_id), 303)
    return _pdf_response(tickets_pdf(registration, tickets),
                         f"билеты-{registration.id}.pdf",
                         f"tickets-event-{registration.event_id}-group-{registration.id}.pdf")


@bp.get("/school/registrations/<int:registration_id>/group.pdf")
@coordinator_pages
def registration_group_pdf(registration_id: int):
    school = current_school()
    registration = _get_registration(school, registration_id)
    return _pdf_response(group_sheet_pdf(registration, _sorted_tickets(registration)),
                         f"группа-{registration.id}.pdf",
                         f"group-list-event-{registration.event_id}-group-{registration.id}.pdf")


@bp.get("/school/registrations/<int:registration_id>/print")
@coordinator_pages
def registration_print(registration_id: int):
    school = current_school()
    registration = _get_registration(school, registration_id)
    tickets = _sorted_tickets(registration)
    return render_template("schools/print.html", school=school, registration=registration,
                           event=registration.event, tickets=tickets,
                           ticket_url=ticket_url, group_link=group_url(registration.group_code))
