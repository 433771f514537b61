"""Pages: parent sign-up, the private /my/<secret> page (parents and teachers), the
organizer's contacts of an event (page and XLSX), and the mail outbox."""

from __future__ import annotations

import base64
import io

import sqlalchemy as sa
from flask import (
    Response,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from checkin.seats.registration import confirmed_count
from checkin.seats.tickets import qr_png, ticket_url
from errors import ServiceError
from models import Audience, Event, ParentSignup, Role, TicketStatus, db, now_utc, record_audit
from models.outbox import OutboxMessage, OutboxStatus
from models.teacher_signup import TeacherSignupStatus
from webapp.access import can_manage_event, roles_required
from webapp.forms import EmptyForm, apply_service_error
from webapp.mail import deliver_outbox, outbox_counts
from webapp.parents import bp, services
from webapp.parents.consent import CURRENT_CONSENT_VERSION, consent_text
from webapp.parents.contacts import contacts_xlsx, event_contacts
from webapp.parents.forms import (
    ParentSignupForm,
    RecoverLinkForm,
    grade_or_none,
    school_choices,
)
from webapp.transaction import unit_of_work

HONEYPOT_MESSAGE = ("Поле «Сайт» должно оставаться пустым — его заполняют только программы-"
                    "роботы. Если вы человек, очистите это поле и нажмите кнопку ещё раз.")


def client_ip() -> str | None:
    return request.remote_addr


def submit_signup(form, sign_up):
    """The honeypot, then the sign-up service: a redirect to the private page on success,
    else ``(None, status)`` with the form's errors filled in and nothing stored."""
    if form.website.data:
        form.website.errors = [HONEYPOT_MESSAGE]
        return None, 422
    with unit_of_work(catch=ServiceError) as uow:
        result = sign_up()
    if uow.error is not None:
        err = uow.error
        apply_service_error(form, err)
        return None, (err.status if err.status in (409, 422, 429) else 422)
    return redirect(url_for("parents.manage", secret=result.secret, new=1)), 200


def merge_problems(form, problems: dict[str, str]) -> None:
    for name, message in problems.items():
        field = getattr(form, name, None)
        if field is not None and not field.errors:
            field.errors = [message]


def event_or_404(event_id: int) -> Event:
    event = db.session.get(Event, event_id)
    if event is None or event.school_internal or event.published_at is None:
        abort(404)
    return event


def _private(response):
    """Pages behind a secret link: never cached, never leak the link in a Referer."""
    response = make_response(response)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


# ---------------------------------------------------------------------------------------------
# Parents


@bp.route("/events/<int:event_id>/signup", methods=["GET", "POST"])
def signup(event_id: int):
    event = event_or_404(event_id)
    if event.audience != Audience.PARENTS:
        abort(404)
    schools = services.signup_schools()
    form = ParentSignupForm()
    form.child_organization_id.choices = school_choices(schools)
    status = 200
    if form.validate_on_submit():
        done, status = submit_signup(form, lambda: services.sign_up_parent(
            event.id, name=form.name.data, phone=form.phone.data, email=form.email.data,
            child_organization_id=form.child_organization_id.data or None,
            child_grade=grade_or_none(form.child_grade.data),
            consent=bool(form.consent.data), ip=client_ip(),
        ))
        if done is not None:
            return done
    elif request.method == "POST":
        status = 422
        # Show every problem at once, not only those the form itself found.
        problems, _phone, _email = services.parent_field_problems(
            name=form.name.data, phone=form.phone.data, email=form.email.data,
            child_organization_id=form.child_organization_id.data or None,
            child_grade=grade_or_none(form.child_grade.data), consent=bool(form.consent.data))
        merge_problems(form, problems)
    event = db.session.get(Event, event_id)
    # Said before the form, not after it: a full event takes sign-ups onto the waiting list.
    full = confirmed_count(event.id) >= event.capacity
    return render_template("parents/signup.html", form=form, event=event, full=full,
                           consent=consent_text(), consent_version=CURRENT_CONSENT_VERSION,
                           open=event.registration_open(),
                           title=f"Запись родителей: {event.title}"), status


def _qr_data_uri(text: str) -> str:
    return "data:image/png;base64," + base64.b64encode(qr_png(text, box_size=8)).decode()


@bp.route("/my/recover", methods=["GET", "POST"])
def recover():
    """A parent who lost the private link opens the sign-up again by the ticket's code and
    the phone (``services.recover_parent_link``): a new link, or one neutral answer."""
    form = RecoverLinkForm()
    status = 200
    if form.validate_on_submit():
        if form.website.data:
            form.website.errors = [HONEYPOT_MESSAGE]
            status = 422
        else:
            with unit_of_work(catch=ServiceError) as uow:
                secret = services.recover_parent_link(form.code.data, form.phone.data,
                                                      client_ip())
            if uow.error is not None:
                apply_service_error(form, uow.error)
                status = uow.error.status if uow.error.status == 429 else 422
            elif secret is None:
                form.form_errors.append(services.RECOVERY_NEUTRAL)
                status = 422
            else:
                flash("Вот ваша запись. Ссылка на эту страницу теперь новая — сохраните её; "
                      "прежняя ссылка больше не открывается.", "success")
                return _private(redirect(url_for("parents.manage", secret=secret), 303))
    elif request.method == "POST":
        status = 422
        problems, _code, _phone = services.recovery_problems(form.code.data, form.phone.data)
        merge_problems(form, problems)
    return _private(render_template(
        "parents/recover.html", form=form, title="Найти мою запись")), status


@bp.get("/my/<secret>")
def manage(secret: str):
    record = services.find_by_secret(secret)
    if record is None:
        abort(404)
    if isinstance(record, ParentSignup):
        ticket = services.parent_ticket(record)
        return _private(render_template(
            "parents/manage.html", signup=record, ticket=ticket, event=record.event,
            secret=secret, manage_url=services.manage_url(secret),
            qr=_qr_data_uri(ticket_url(ticket.token)) if ticket is not None
            and ticket.status == TicketStatus.CONFIRMED else None,
            ticket_url=ticket_url(ticket.token) if ticket is not None else None,
            is_new=request.args.get("new") == "1", title="Моя запись"))
    ticket = record.ticket
    return _private(render_template(
        "teacher_signups/manage.html", signup=record, ticket=ticket, event=record.event,
        secret=secret, manage_url=services.manage_url(secret), Status=TeacherSignupStatus,
        qr=_qr_data_uri(ticket_url(ticket.token)) if ticket is not None
        and ticket.status == TicketStatus.CONFIRMED else None,
        ticket_url=ticket_url(ticket.token) if ticket is not None else None,
        is_new=request.args.get("new") == "1", title="Моя заявка"))


@bp.route("/my/<secret>/cancel", methods=["GET", "POST"])
def cancel(secret: str):
    record = services.find_by_secret(secret)
    if record is None:
        abort(404)
    form = EmptyForm()
    if form.validate_on_submit():
        with unit_of_work(catch=ServiceError) as uow:
            if isinstance(record, ParentSignup):
                services.cancel_parent_signup(record)
            else:
                services.cancel_teacher_signup(record)
        if uow.error is not None:
            err = uow.error
            flash(err.message, "error")
            return _private(redirect(url_for("parents.manage", secret=secret)))
        flash("Запись отменена.", "success")
        return _private(redirect(url_for("parents.manage", secret=secret)))
    return _private(render_template("parents/confirm_action.html", record=record,
                                    event=record.event, secret=secret, action="cancel",
                                    title="Отменить запись"))


@bp.route("/my/<secret>/withdraw", methods=["GET", "POST"])
def withdraw(secret: str):
    record = services.find_by_secret(secret)
    if record is None or not isinstance(record, ParentSignup):
        abort(404)
    form = EmptyForm()
    if form.validate_on_submit():
        with unit_of_work(catch=ServiceError) as uow:
            services.withdraw_parent_consent(record)
        if uow.error is not None:
            err = uow.error
            flash(err.message, "error")
            return _private(redirect(url_for("parents.manage", secret=secret)))
        flash("Согласие отозвано: ваше имя и контакты удалены.", "success")
        return _private(redirect(url_for("parents.manage", secret=secret)))
    return _private(render_template("parents/confirm_action.html", record=record,
                                    event=record.event, secret=secret, action="withdraw",
                                    now=now_utc(), title="Отозвать согласие"))


# ---------------------------------------------------------------------------------------------
# Organizer: contacts of parents and teachers of an own event


def _managed_event(event_id: int) -> Event:
    event = db.session.get(Event, event_id)
    if event is None:
        abort(404)
    if not current_user.is_authenticated:
        abort(401)
    if not can_manage_event(current_user, event):
        abort(403)
    return event


@bp.get("/organizer/events/<int:event_id>/contacts")
@roles_required(Role.ADMIN, Role.ORGANIZER, Role.COORDINATOR)
def contacts(event_id: int):
    event = _managed_event(event_id)
    data = event_contacts(event)
    return _private(render_template("parents/contacts.html", event=event, data=data,
                                    title=f"Родители и педагоги: {event.title}"))


@bp.get("/organizer/events/<int:event_id>/contacts.xlsx")
@roles_required(Role.ADMIN, Role.ORGANIZER, Role.COORDINATOR)
def contacts_export(event_id: int):
    event = _managed_event(event_id)
    payload = contacts_xlsx(event)
    # Personal data leaves the system: who took it and when is on record.
    with unit_of_work():
        record_audit(current_user, "event.contacts_export", event)
    response = Response(io.BytesIO(payload).getvalue(), mimetype=(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    response.headers["Content-Disposition"] = (
        f"attachment; filename=event-{event.id}-contacts.xlsx")
    response.headers["Cache-Control"] = "no-store"
    return response


# ---------------------------------------------------------------------------------------------
# Admin: the mail outbox


@bp.get("/admin/mail")
@roles_required(Role.ADMIN)
def outbox():
    waiting = (OutboxMessage.query.filter(OutboxMessage.status != OutboxStatus.SENT)
               .order_by(OutboxMessage.id.desc()).limit(100).all())
    sent = (OutboxMessage.query.filter(OutboxMessage.status == OutboxStatus.SENT)
            .order_by(OutboxMessage.sent_at.desc()).limit(20).all())
    return render_template("parents/outbox.html", counts=outbox_counts(), waiting=waiting,
                           sent=sent, Status=OutboxStatus, title="Почта")


@bp.post("/admin/mail/send")
@roles_required(Role.ADMIN)
def outbox_send():
    if not EmptyForm().validate_on_submit():
        abort(400)
    report = deliver_outbox()
    if report.errors and not report.sent:
        flash("Письма не отправлены: " + report.errors[0], "error")
    else:
        flash(f"Отправлено писем: {report.sent}; осталось в очереди: {report.deferred}.",
              "success")
    return redirect(url_for("parents.outbox"))


@bp.post("/admin/mail/retry-failed")
@roles_required(Role.ADMIN)
def outbox_retry_failed():
    if not EmptyForm().validate_on_submit():
        abort(400)
    # A message emptied by the retention rules has nothing left to send.
    count = OutboxMessage.query.filter(OutboxMessage.status == OutboxStatus.FAILED,
                                       sa.func.length(OutboxMessage.message) > 0).update(
        {"status": OutboxStatus.PENDING, "attempts": 0, "next_attempt_at": now_utc()},
        synchronize_session=False)
    with unit_of_work():
        record_audit(current_user, "mail.retry_failed", object_type="mail_outbox", count=count)
    flash(f"Возвращено в очередь писем: {count}.", "success")
    return redirect(url_for("parents.outbox"))
