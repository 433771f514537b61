"""Pages of attendance imports (URLs fixed in docs/api.md): one page per event with the
upload form, the result and the event's uploads, each with «Отозвать»."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from errors import ServiceError
from formats.spreadsheets import ImportProblems
from models import Event, Role, db
from models.user import manages_event
from webapp.access import roles_required
from webapp.attendance import bp
from webapp.attendance.forms import AttendanceUploadForm, WithdrawForm
from webapp.attendance.imports import (
    COLUMNS,
    check_may_import,
    counts_of,
    import_attendance_file,
    imports_of,
    may_withdraw,
    template_xlsx,
    withdraw_import,
)
from webapp.downloads import file_response
from webapp.transaction import unit_of_work

STAFF = (Role.ADMIN, Role.ORGANIZER, Role.COORDINATOR)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _event(event_id: int) -> Event:
    event = db.session.get(Event, event_id)
    if event is None:
        abort(404)
    if current_user.role != Role.COORDINATOR and not manages_event(
            current_user.role, current_user.organization_id, event.organizer_id):
        abort(403)
    return event


def section_context(event: Event, form=None) -> dict:
    """What the section and the page show: the form (when an upload is allowed now, else why
    not), and the uploads this user sees with their check-ins."""
    try:
        check_may_import(current_user, event)
        refusal = None
    except ServiceError as err:
        refusal = err.message
    uploads = imports_of(event.id, current_user)
    return {"att_event": event, "att_form": form or AttendanceUploadForm(),
            "att_refusal": refusal, "att_uploads": uploads,
            "att_counts": counts_of([u.id for u in uploads]),
            "att_may_withdraw": {u.id: may_withdraw(current_user, u) for u in uploads},
            "att_withdraw_form": WithdrawForm,
            "att_may_manage": manages_event(current_user.role, current_user.organization_id,
                                            event.organizer_id)}


@bp.route("/events/<int:event_id>/attendance", methods=["GET", "POST"])
@roles_required(*STAFF)
def page(event_id: int):
    event = _event(event_id)
    form = AttendanceUploadForm()
    problems = None
    if form.validate_on_submit():
        upload = form.file.data
        with unit_of_work(catch=ServiceError) as uow:
            outcome = import_attendance_file(current_user, event, upload.filename or "",
                                             upload.read())
        if isinstance(uow.error, ImportProblems):
            problems = uow.error
        elif uow.error is not None:
            form.file.errors = [*form.file.errors, uow.error.message]
        else:
            if outcome.upload is None:
                flash("Все люди из списка уже были отмечены: ничего не изменено. "
                      + outcome.summary(), "info")
            else:
                flash("Список присутствовавших загружен. " + outcome.summary(), "success")
            return redirect(url_for("attendance.page", event_id=event.id), 303)
    return render_template("attendance/page.html", event=event, problems=problems,
                           columns=COLUMNS, **section_context(event, form))


@bp.post("/events/<int:event_id>/attendance/<int:import_id>/withdraw")
@roles_required(*STAFF)
def withdraw(event_id: int, import_id: int):
    event = _event(event_id)
    form = WithdrawForm(prefix=f"withdraw-{import_id}")
    target = url_for("attendance.page", event_id=event.id)
    if not form.validate_on_submit():
        messages = [m for errors in form.errors.values() for m in errors]
        flash("Список не отозван: " + (" ".join(messages) or "форма устарела, обновите "
                                                            "страницу."), "danger")
        return redirect(target, 303)
    with unit_of_work(catch=ServiceError) as uow:
        upload = withdraw_import(current_user, import_id, form.reason.data, event=event)
    if uow.error is not None:
        if uow.error.status == 403:
            abort(403)
        flash("Список не отозван: " + uow.error.message, "danger")
        return redirect(target, 303)
    flash(f"Список «{upload.file_name}» отозван: его отметки больше не учитываются.",
          "success")
    return redirect(target, 303)


@bp.get("/attendance-imports/template.xlsx")
@roles_required(*STAFF)
def template():
    return file_response(template_xlsx(), mimetype=XLSX, name="шаблон-присутствовавшие.xlsx",
                         ascii_name="attendance-template.xlsx", as_attachment=True)
