from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_login import current_user, login_required

from errors import ServiceError
from models import Baseline, Organization, OrgKind, Role, User, db
from models.academic_year import academic_year_title, current_academic_year
from webapp.access import roles_required
from webapp.main import bp
from webapp.main.forms import BaselineForm
from webapp.services.directory import BASELINE_FIELDS, BaselineFigures, save_baseline
from webapp.transaction import unit_of_work


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    return render_template("main/index.html")


@bp.get("/favicon.ico")
def favicon():
    """The icon browsers ask for at the root even when a page links its own."""
    return send_from_directory(current_app.static_folder, "img/favicon.ico",
                               mimetype="image/vnd.microsoft.icon", max_age=7 * 24 * 3600)


@bp.get("/privacy")
def privacy():
    return render_template("main/privacy.html")


@bp.get("/dashboard")
@login_required
def dashboard():
    year = current_academic_year()
    context = {"year": year, "year_title": academic_year_title(year)}
    if current_user.role == Role.ADMIN:
        kinds = dict(db.session.query(Organization.kind, db.func.count(Organization.id))
                     .filter(Organization.active.is_(True)).group_by(Organization.kind).all())
        schools = kinds.get(OrgKind.SCHOOL, 0)
        with_baseline = (db.session.query(db.func.count(Baseline.id))
                         .join(Organization).filter(Baseline.year == year,
                                                    Organization.kind == OrgKind.SCHOOL).scalar())
        students = (db.session.query(db.func.coalesce(db.func.sum(Baseline.students_total), 0))
                    .join(Organization).filter(Baseline.year == year,
                                               Organization.kind == OrgKind.SCHOOL).scalar())
        context.update(kinds=kinds, schools=schools, with_baseline=with_baseline,
                       students=students, users=User.query.filter_by(active=True).count(),
                       OrgKind=OrgKind)
    else:
        context["baseline"] = Baseline.query.filter_by(
            organization_id=current_user.organization_id, year=year).first()
    for hook in DASHBOARD_SECTIONS:
        context.setdefault("sections", []).extend(hook() or [])
    return render_template("main/dashboard.html", **context)


#: Callables returning a list of ``(template, context)`` sections, in display order; filled
#: by ``webapp/page_sections.py``.
DASHBOARD_SECTIONS: list = []


@bp.route("/my/baseline", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def own_baseline():
    """A coordinator edits only their own organization's baseline, only while unlocked."""
    org = db.session.get(Organization, current_user.organization_id)
    year = request.args.get("year", type=int) or current_academic_year()
    if not 2000 <= year <= 2100:
        abort(404)
    baseline = Baseline.query.filter_by(organization_id=org.id, year=year).first()
    form = BaselineForm(obj=baseline)
    locked = baseline is not None and baseline.locked
    if form.validate_on_submit():
        if locked:
            flash("Показатели за этот год заблокированы администратором: изменить их нельзя.",
                  "danger")
            return redirect(url_for("main.own_baseline", year=year)), 303
        figures = BaselineFigures(**{f: getattr(form, f).data for f in BASELINE_FIELDS})
        with unit_of_work(catch=ServiceError) as uow:
            save_baseline(current_user, org, year, figures)
        if uow.error is not None:
            err = uow.error
            for name, message in err.fields.items():
                getattr(form, name).errors.append(message)
            if not err.fields:
                form.form_errors.append(err.message)
        else:
            flash("Показатели сохранены.", "success")
            return redirect(url_for("main.own_baseline", year=year))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("main/own_baseline.html", form=form, org=org, year=year,
                           year_title=academic_year_title(year), locked=locked,
                           baseline=baseline), status
