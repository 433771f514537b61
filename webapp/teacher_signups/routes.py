"""Pages: a teacher's sign-up for an event for teachers, and the coordinator's review of the
requests of their school (confirm against the roster, or reject with a reason)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from errors import ServiceError
from models import Audience, Event, Role, TicketStatus, db
from models.teacher_signup import TeacherSignup, TeacherSignupStatus
from webapp.access import roles_required
from webapp.parents.consent import CURRENT_CONSENT_VERSION, consent_text
from webapp.parents.forms import radio_choices, school_choices
from webapp.parents.routes import client_ip, event_or_404, merge_problems, submit_signup
from webapp.parents.services import signup_schools
from webapp.teacher_signups import bp, services
from webapp.teacher_signups.forms import ConfirmTeacherForm, RejectTeacherForm, TeacherSignupForm
from webapp.transaction import unit_of_work


@bp.route("/events/<int:event_id>/teacher-signup", methods=["GET", "POST"])
def signup(event_id: int):
    event = event_or_404(event_id)
    if event.audience != Audience.TEACHERS:
        abort(404)
    form = TeacherSignupForm()
    form.organization_id.choices = school_choices(signup_schools(), "— выберите —")
    status = 200
    if form.validate_on_submit():
        done, status = submit_signup(form, lambda: services.sign_up_teacher(
            event.id, last_name=form.last_name.data, first_name=form.first_name.data,
            middle_name=form.middle_name.data, email=form.email.data,
            phone=form.phone.data, organization_id=form.organization_id.data or None,
            consent=bool(form.consent.data), ip=client_ip(),
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
        merge_problems(form, problems)
    event = db.session.get(Event, event_id)
    return render_template("teacher_signups/signup.html", form=form, event=event,
                           consent=consent_text(), consent_version=CURRENT_CONSENT_VERSION,
                           open=event.registration_open(),
                           title=f"Запись педагогов: {event.title}"), status


@bp.get("/school/teacher-signups")
@roles_required(Role.COORDINATOR, Role.ADMIN)
def review():
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
    return render_template("teacher_signups/review.html", rows=rows, decided=decided,
                           title="Заявки педагогов")


@bp.post("/school/teacher-signups/<int:signup_id>/confirm")
@roles_required(Role.COORDINATOR, Role.ADMIN)
def confirm(signup_id: int):
    form = ConfirmTeacherForm(prefix=f"s{signup_id}")
    if not form.validate_on_submit():
        flash("Выберите педагога из списка школы или «Добавить в список».", "error")
        return redirect(url_for("teacher_signups.review"))
    choice = form.teacher.data
    teacher_id = None
    if choice != "new":
        try:
            teacher_id = int(choice)
        except (TypeError, ValueError):
            flash("Выберите педагога из списка школы или «Добавить в список».", "error")
            return redirect(url_for("teacher_signups.review"))
    with unit_of_work(catch=ServiceError) as uow:
        signup_row = services.confirm_teacher_signup(
            current_user._get_current_object(), signup_id, teacher_id=teacher_id,
            add_to_roster=choice == "new")
    if uow.error is not None:
        return _refused(uow.error)
    status = signup_row.ticket.status
    flash(f"Заявка подтверждена: {signup_row.full_name}. "
          + ("Билет отправлен на почту." if status == TicketStatus.CONFIRMED
             else "Мест нет — педагог в листе ожидания, письмо отправлено."), "success")
    return redirect(url_for("teacher_signups.review"))


def _refused(err: ServiceError):
    """A refused decision: not yours (403) or gone (404) as pages, anything else as a message
    on the review page."""
    if err.status in (403, 404):
        abort(err.status)
    flash(err.message, "error")
    return redirect(url_for("teacher_signups.review"))


@bp.post("/school/teacher-signups/<int:signup_id>/reject")
@roles_required(Role.COORDINATOR, Role.ADMIN)
def reject(signup_id: int):
    form = RejectTeacherForm(prefix=f"r{signup_id}")
    if not form.validate_on_submit():
        flash("Напишите причину отказа: её получит педагог.", "error")
        return redirect(url_for("teacher_signups.review"))
    with unit_of_work(catch=ServiceError) as uow:
        signup_row = services.reject_teacher_signup(current_user._get_current_object(),
                                                    signup_id, form.reason.data)
    if uow.error is not None:
        return _refused(uow.error)
    flash(f"Заявка отклонена: {signup_row.full_name}. Педагогу отправлено письмо.", "success")
    return redirect(url_for("teacher_signups.review"))
