"""Pages: parent and teacher sign-up, the private /my/<secret> page, the coordinator's
confirmation of teachers, and the organizer's contacts of an event (page and XLSX)."""

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

from checkin.tickets import qr_png, ticket_url
from errors import ServiceError
from models import Audience, Event, ParentSignup, Role, TicketStatus, db, now_utc, record_audit
from models.outbox import OutboxMessage, OutboxStatus
from models.teacher_signup import TeacherSignup, TeacherSignupStatus
from webapp.access import can_manage_event, roles_required
from webapp.forms import EmptyForm, apply_service_error
from webapp.mail import deliver_outbox, outbox_counts
from webapp.parents import bp, services
from webapp.parents.consent import CURRENT_CONSENT_VERSION, consent_text
from webapp.parents.contacts import contacts_xlsx, event_contacts
from webapp.parents.forms import (
    ConfirmTeacherForm,
    ParentSignupForm,
    RejectTeacherForm,
    TeacherSignupForm,
    grade_or_none,
    radio_choices,
    school_choices,
)
from webapp.transaction import unit_of_work

HONEYPOT_MESSAGE = ("Поле «Сайт» должно оставаться пустым — его заполняют только программы-"
                    "роботы. Если вы человек, очистите это поле и нажмите кнопку ещё раз.")


def _client_ip() -> str | None:
    return request.remote_addr


def _submit_signup(form, sign_up):
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


def _merge_problems(form, problems: dict[str, str]) -> None:
    for name, message in problems.items():
        field = getattr(form, name, None)
        if field is not None and not field.errors:
            field.errors = [message]


def _event_or_404(event_id: int) -> Event:
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
    event = _event_or_404(event_id)
    if event.audience != Audience.PARENTS:
        abort(404)
    schools = services.signup_schools()
    form = ParentSignupForm()
    form.child_organization_id.choices = school_choices(schools)
    status = 200
    if form.validate_on_submit():
        done, status = _submit_signup(form, lambda: services.sign_up_parent(
            event.id, name=form.name.data, phone=form.phone.data, email=form.email.data,
            child_organization_id=form.child_organization_id.data or None,
            child_grade=grade_or_none(form.child_grade.data),
            consent=bool(form.consent.data), ip=_client_ip(),
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
        _merge_problems(form, problems)
    event = db.session.get(Event, event_id)
    return render_template("parents/signup.html", form=form, event=event,
                           consent=consent_text(), consent_version=CURRENT_CONSENT_VERSION,
                           open=event.registration_open(),
                           title=f"Запись родителей: {event.title}"), status


def _qr_data_uri(text: str) -> str:
    return "data:image/png;base64," + base64.b64encode(qr_png(text, box_size=8)).decode()


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
        "parents/manage_teacher.html", signup=record, ticket=ticket, event=record.event,
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
# Teachers


@bp.route("/events/<int:event_id>/teacher-signup", methods=["GET", "POST"])
def teacher_signup(event_id: int):
    event = _event_or_404(event_id)
    if event.audience != Audience.TEACHERS:
        abort(404)
    form = TeacherSignupForm()
    form.organization_id.choices = school_choices(services.signup_schools(), "— выберите —")
    status = 200
    if form.validate_on_submit():
        done, status = _submit_signup(form, lambda: services.sign_up_teacher(
            event.id, last_name=form.last_name.data, first_name=form.first_name.data,
            middle_name=form.middle_name.data, email=form.email.data,
            phone=form.phone.data, organization_id=form.organization_id.data or None,
            consent=bool(form.consent.data), ip=_client_ip(),
        ))
        if done is not None:
            return done
    elif request.method == "POST":
        status = 422
        problems = {}
        if not form.organization_id.data:
            problems["organization_id"] = "Выберите школу."
        if not form.consent.data:
            problems["consent"] = ("Без согласия на обработку персональных данных записаться "
                                   "нельзя. Отметьте согласие.")
        _merge_problems(form, problems)
    event = db.session.get(Event, event_id)
    return render_template("parents/teacher_signup.html", form=form, event=event,
                           consent=consent_text(), consent_version=CURRENT_CONSENT_VERSION,
                           open=event.registration_open(),
                           title=f"Запись педагогов: {event.title}"), status


@bp.get("/school/teacher-signups")
@roles_required(Role.COORDINATOR, Role.ADMIN)
def teacher_signups():
    org_id = None if current_user.role == Role.ADMIN else current_user.organization_id
    pending = services.pending_teacher_signups(org_id)
    decided_query = TeacherSignup.query.filter(
        TeacherSignup.status != TeacherSignupStatus.PENDING)
    if org_id is not None:
        decided_query = decided_query.filter(TeacherSignup.organization_id == org_id)
    decided = decided_query.order_by(TeacherSignup.decided_at.desc().nullslast(),
                                     TeacherSignup.id.desc()).limit(50).all()
    rows = []
    for signup_row in pending:
        form = ConfirmTeacherForm(prefix=f"s{signup_row.id}")
        matches = services.roster_matches(signup_row)
        form.teacher.choices = radio_choices(
            [(str(t.id), t.full_name + (f" ({t.email})" if t.email else "")) for t in matches]
            + [("new", "Нет в списке — добавить в список педагогов школы")])
        if matches:
            form.teacher.data = str(matches[0].id)
        rows.append({"signup": signup_row, "form": form,
                     "reject_form": RejectTeacherForm(prefix=f"r{signup_row.id}"),
                     "matches": matches})
    return render_template("parents/teacher_signups.html", rows=rows, decided=decided,
                           title="Заявки педагогов")


@bp.post("/school/teacher-signups/<int:signup_id>/confirm")
@roles_required(Role.COORDINATOR, Role.ADMIN)
def confirm_teacher(signup_id: int):
    form = ConfirmTeacherForm(prefix=f"s{signup_id}")
    if not form.validate_on_submit():
        flash("Выберите педагога из списка школы или «Добавить в список».", "error")
        return redirect(url_for("parents.teacher_signups"))
    choice = form.teacher.data
    teacher_id = None
    if choice != "new":
        try:
            teacher_id = int(choice)
        except (TypeError, ValueError):
            flash("Выберите педагога из списка школы или «Добавить в список».", "error")
            return redirect(url_for("parents.teacher_signups"))
    with unit_of_work(catch=ServiceError) as uow:
        signup_row = services.confirm_teacher_signup(
            current_user._get_current_object(), signup_id, teacher_id=teacher_id,
            add_to_roster=choice == "new")
    if uow.error is not None:
        err = uow.error
        if err.status == 403:
            abort(403)
        if err.status == 404:
            abort(404)
        flash(err.message, "error")
        return redirect(url_for("parents.teacher_signups"))
    status = signup_row.ticket.status
    flash(f"Заявка подтверждена: {signup_row.full_name}. "
          + ("Билет отправлен на почту." if status == TicketStatus.CONFIRMED
             else "Мест нет — педагог в листе ожидания, письмо отправлено."), "success")
    return redirect(url_for("parents.teacher_signups"))


@bp.post("/school/teacher-signups/<int:signup_id>/reject")
@roles_required(Role.COORDINATOR, Role.ADMIN)
def reject_teacher(signup_id: int):
    form = RejectTeacherForm(prefix=f"r{signup_id}")
    if not form.validate_on_submit():
        flash("Напишите причину отказа: её получит педагог.", "error")
        return redirect(url_for("parents.teacher_signups"))
    with unit_of_work(catch=ServiceError) as uow:
        signup_row = services.reject_teacher_signup(current_user._get_current_object(),
                                                    signup_id, form.reason.data)
    if uow.error is not None:
        err = uow.error
        if err.status == 403:
            abort(403)
        if err.status == 404:
            abort(404)
        flash(err.message, "error")
        return redirect(url_for("parents.teacher_signups"))
    flash(f"Заявка отклонена: {signup_row.full_name}. Педагогу отправлено письмо.", "success")
    return redirect(url_for("parents.teacher_signups"))


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
