"""The school confirms (or rejects) its pupils and teachers whom a volunteer's scanner link
entered at an event's door without a ticket (``models.WalkIn``): only then are they added to
the school's lists and counted."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template

from models import Role, WalkIn, db
from webapp import walk_in_pages
from webapp.access import roles_required
from webapp.forms import EmptyForm
from webapp.schools import bp
from webapp.schools.context import current_school, school_url

coordinator_pages = roles_required(Role.COORDINATOR, Role.ADMIN)


@bp.get("/school/walk-ins")
@coordinator_pages
def walk_ins():
    school = current_school()
    rows = (WalkIn.query.filter_by(organization_id=school.id)
            .order_by(WalkIn.arrived_at, WalkIn.id).limit(500).all())
    return render_template("schools/walk_ins.html", school=school, rows=rows, form=EmptyForm(),
                           title="Пришли без записи")


@bp.post("/school/walk-ins/<int:walk_in_id>/<any(confirm, reject):action>")
@coordinator_pages
def decide_walk_in(walk_in_id: int, action: str):
    school = current_school()
    back = school_url("schools.walk_ins", school)
    if not EmptyForm().validate_on_submit():
        flash("Форма устарела: обновите страницу и повторите.", "danger")
        return redirect(back, 303)
    walk_in = db.session.get(WalkIn, walk_in_id)
    if walk_in is None:
        flash("Такой записи нет: её уже подтвердили или отклонили.", "warning")
        return redirect(back, 303)
    if walk_in.organization_id != school.id:
        abort(404)
    walk_in_pages.decide_walk_in(walk_in, action)
    return redirect(back, 303)
