"""Pages of class lists and outside activities (issue #13 items 2 and 3): the school's
coordinator picks an event (or records a new activity), picks classes, unticks the absent."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

from errors import ServiceError
from formats.timefmt import local_to_utc, to_local
from models import Category, Event, Role, db
from webapp.access import roles_required
from webapp.attendance import bp
from webapp.attendance.class_lists import (
    NEXT_LESSON,
    check_may_mark,
    class_students,
    create_activity,
    mark_classes,
    markable_events,
    resolve_classes,
    school_classes,
)
from webapp.attendance.forms import ActivityForm
from webapp.transaction import unit_of_work


def _classes_arg() -> list[str]:
    return [c for c in request.values.getlist("classes") if c.strip()][:40]


@bp.get("/school/class-attendance")
@roles_required(Role.COORDINATOR)
def class_events():
    """Where a coordinator starts: the events to tick, or a new activity."""
    return render_template("attendance/class_events.html",
                           events=markable_events(current_user.organization_id))


@bp.route("/school/activities/new", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def activity_new():
    form = ActivityForm()
    form.category.choices = [SelectChoice("", "— выберите категорию —")] + [
        SelectChoice(c.code, c.name) for c in db.session.execute(
            sa.select(Category).where(Category.active.is_(True))
            .order_by(Category.sort_order, Category.name)).scalars()]
    classes = _classes_arg()
    source = db.session.get(Event, request.args.get("from", type=int) or 0)
    if request.method == "GET" and source is not None and \
            source.organizer_id == current_user.organization_id:
        # «Повторить для следующего урока»: the same lesson a week later, the same classes.
        form.title.data = source.title
        form.category.data = source.category.code
        form.minutes.data = int((source.ends_at - source.starts_at).total_seconds() // 60)
        form.starts_at.data = to_local(source.starts_at + NEXT_LESSON).replace(tzinfo=None)
        form.early.data = "1" if source.early else "0"
    if form.validate_on_submit():
        early = {"1": True, "0": False}.get(form.early.data)
        with unit_of_work(form) as uow:
            event = create_activity(current_user, title=form.title.data,
                                    starts_at=local_to_utc(form.starts_at.data),
                                    minutes=form.minutes.data, category=form.category.data,
                                    early=early)
        if uow.error is None:
            flash(f"Занятие «{event.title}» записано.", "success")
            if form.then.data == "import":
                return redirect(url_for("attendance.page", event_id=event.id), 303)
            return redirect(url_for("attendance.class_list", event_id=event.id,
                                    classes=classes), 303)
    return render_template("attendance/activity_form.html", form=form, classes=classes)


@bp.route("/events/<int:event_id>/class-attendance", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def class_list(event_id: int):
    event = db.session.get(Event, event_id)
    if event is None:
        abort(404)
    school_id = current_user.organization_id
    try:
        check_may_mark(current_user, event)
    except ServiceError as err:
        if err.status == 403:
            abort(403)
        flash(err.message, "danger")
        return redirect(url_for("attendance.class_events"), 303)
    all_classes = school_classes(school_id)
    chosen, error, students = _classes_arg(), None, []
    if chosen:
        try:
            chosen = resolve_classes(school_id, chosen)
            students = class_students(school_id, chosen)
        except ServiceError as err:
            error, chosen = err.message, []
    form = FlaskForm()
    if request.method == "POST" and chosen and form.validate_on_submit():
        present = {int(v) for v in request.form.getlist("present") if v.isdigit()}
        absent = [s.id for s in students if s.id not in present]
        with unit_of_work(catch=ServiceError) as uow:
            outcome = mark_classes(current_user, event, chosen, absent)
        if uow.error is None:
            flash("Отметка по списку класса сохранена. " + outcome.summary(), "success")
            return redirect(url_for("attendance.class_list", event_id=event.id,
                                    classes=chosen, saved=1), 303)
        error = uow.error.message
    elif request.method == "POST":
        error = error or "Выберите хотя бы один класс." if not chosen else \
            "Форма устарела: обновите страницу и отметьте ещё раз."
    return render_template("attendance/class_list.html", event=event, form=form,
                           all_classes=all_classes, chosen=chosen, students=students,
                           error=error, saved=bool(request.args.get("saved")),
                           next_lesson=event.organizer_id == school_id)
