"""«Профминимум» pages: the school's (its coordinator, admins), a class's list, the city's
(admins), their XLSX. They read ``reports.profminimum``; levels and formats are written by
``webapp.services.profminimum_levels``."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from errors import ConflictError, ServiceError
from formats.text import natural_key
from models import Organization, OrgKind, ProfminimumFormat, Role, db
from models.academic_year import academic_year_title
from models.profminimum import LEVEL_TITLES, PROFMINIMUM_GRADES
from reports.profminimum import (
    STATUS_TITLES,
    city_ledger,
    events_for_grades,
    events_of_students,
    levels_row,
    pace_bounds,
    school_ledger,
)
from reports.profminimum_xlsx import city_xlsx, school_xlsx
from webapp.access import roles_required
from webapp.downloads import file_response
from webapp.forms import EmptyForm
from webapp.profminimum.forms import FormatForm, LevelsForm
from webapp.reports.routes import _chosen_year
from webapp.schools.context import school_url
from webapp.services.profminimum_levels import add_format, save_levels, set_levels_lock
from webapp.transaction import unit_of_work

bp = Blueprint("profminimum", __name__, url_prefix="/reports/profminimum")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CITY_SORTS = ("name", "students", "done", "on_pace", "behind", "ovz")


def _school(org_id: int) -> Organization:
    org = db.session.get(Organization, org_id)
    if org is None or org.kind != OrgKind.SCHOOL:
        abort(404)
    if current_user.role == Role.ADMIN or current_user.organization_id == org.id:
        return org
    abort(403)


def _year_or_422(template: str, **context):
    form, year = _chosen_year()
    if year is None:
        return form, None, (render_template(template, form=form, ledger=None, **context), 422)
    return form, year, None


def _pace_text(year: int) -> str:
    first, last = pace_bounds(year)
    return (f"«В графике» — часов не меньше, чем цель × доля учебного года, прошедшая с "
            f"{first:%d.%m.%Y} (до {last:%d.%m.%Y} — равномерно по дням)")


@bp.get("/")
@roles_required(Role.ADMIN, Role.COORDINATOR)
def index():
    """Admins: the city page; a coordinator: the own school's page."""
    if current_user.role == Role.COORDINATOR:
        org = db.session.get(Organization, current_user.organization_id)
        if org is None or org.kind != OrgKind.SCHOOL:
            abort(404)
        return redirect(url_for("profminimum.school", org_id=org.id, **request.args))
    return city()


def _sorted_schools(ledger, sort: str, descending: bool):
    def share(counts, key):
        return counts.share(key) if counts.students else -1

    keys = {
        "name": lambda s: natural_key(s.display_name),
        "students": lambda s: s.counts.students,
        "done": lambda s: share(s.counts, "done"),
        "on_pace": lambda s: share(s.counts, "on_pace"),
        "behind": lambda s: share(s.counts, "behind"),
        "ovz": lambda s: share(s.ovz, "done") + share(s.ovz, "on_pace") / 1000,
    }
    return sorted(ledger.schools, key=keys[sort], reverse=descending)


def city():
    form, year, error = _year_or_422("profminimum/city.html", title="Профминимум: город")
    if error:
        return error
    ledger = city_ledger(year)
    sort = request.args.get("sort", "name")
    sort = sort if sort in CITY_SORTS else "name"
    descending = request.args.get("dir") == "desc"
    city_row = levels_row(None, year)
    levels_form = LevelsForm(prefix="city")
    levels_form.fill(default_title=None,
                     current=city_row.hours() if city_row else {}, fill_data=True)
    return render_template(
        "profminimum/city.html", form=form, ledger=ledger, year=year,
        year_title=academic_year_title(year), schools=_sorted_schools(ledger, sort, descending),
        sort=sort, descending=descending, grades=PROFMINIMUM_GRADES, pace_text=_pace_text(year),
        levels_form=levels_form, format_form=FormatForm(),
        formats=ProfminimumFormat.query.order_by(ProfminimumFormat.sort_order,
                                                 ProfminimumFormat.id).all(),
        title="Профминимум: город")


@bp.post("/city-levels")
@roles_required(Role.ADMIN)
def city_levels():
    year = request.args.get("year", type=int)
    form = LevelsForm(prefix="city")
    form.fill(default_title=None, current={}, fill_data=False)
    if year is None or not form.validate_on_submit():
        flash("Уровни города не сохранены: проверьте значения.", "danger")
        return redirect(url_for("profminimum.index", year=year), 303)
    with unit_of_work(flash_errors=True) as uow:
        save_levels(current_user, None, year, form.values())
    if uow.error is None:
        flash(f"Уровни города на {academic_year_title(year)} сохранены.", "success")
    return redirect(url_for("profminimum.index", year=year), 303)


@bp.post("/formats")
@roles_required(Role.ADMIN)
def formats():
    form = FormatForm()
    year = request.args.get("year", type=int)
    if not form.validate_on_submit():
        flash(" ".join(form.name.errors) or "Укажите название формата.", "danger")
    else:
        with unit_of_work(flash_errors=True) as uow:
            added = add_format(current_user, form.name.data)
        if uow.error is None:
            flash(f"Формат «{added.name}» добавлен: его можно выбрать в мероприятиях.",
                  "success")
    return redirect(url_for("profminimum.index", year=year) + "#formats", 303)


def _school_levels_form(org, ledger, *, fill_data: bool) -> LevelsForm:
    city_row = levels_row(None, ledger.year)
    city_targets = {g: (city_row.hours().get(g) if city_row else None) or 40
                    for g in PROFMINIMUM_GRADES}
    form = LevelsForm(prefix="levels")
    form.fill(default_title="как в городе", current=ledger.levels.hours()
              if ledger.levels else {}, fill_data=fill_data)
    for grade in PROFMINIMUM_GRADES:
        field = form[f"grade_{grade}"]
        field.choices[0] = ("", f"как в городе: {LEVEL_TITLES[city_targets[grade]]}")
    return form


def _behind_offers(org, ledger) -> list[dict]:
    """Per class with someone behind: who, and upcoming events that fit the grade with a link
    that opens the group registration with them ticked."""
    offers = []
    by_grade = events_for_grades(org.id, [c.grade for c in ledger.classes if c.behind])
    for klass in ledger.classes:
        behind = klass.behind
        if not behind:
            continue
        offers.append({
            "klass": klass, "behind": behind,
            "events": [{"event": e, "url": school_url(
                "schools.register_group_page", org, event_id=e.id,
                student=[s.id for s in behind])} for e in by_grade[klass.grade]],
        })
    return offers


@bp.route("/schools/<int:org_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN, Role.COORDINATOR)
def school(org_id: int):
    org = _school(org_id)
    form, year, error = _year_or_422("profminimum/school.html", org=org,
                                     title=f"Профминимум: {org.display_name}")
    if error:
        return error
    ledger = school_ledger(org, year)
    posted = request.method == "POST"
    levels_form = _school_levels_form(org, ledger, fill_data=not posted)
    locked = bool(ledger.levels and ledger.levels.locked)
    status = 200
    if posted:
        if locked and current_user.role != Role.ADMIN:
            levels_form.form_errors.append("Уровни профминимума за этот год заблокированы "
                                           "администратором: изменить их нельзя.")
            status = 409
        elif levels_form.validate_on_submit():
            with unit_of_work(catch=ServiceError) as uow:
                save_levels(current_user, org, year, levels_form.values(),
                            allow_locked=current_user.role == Role.ADMIN)
            if uow.error is None:
                flash("Уровни профминимума сохранены.", "success")
                return redirect(url_for("profminimum.school", org_id=org.id, year=year)
                                + "#levels", 303)
            status = 409 if isinstance(uow.error, ConflictError) else 422
            for name, message in uow.error.fields.items():
                target = f"grade_{name}"
                if target in levels_form:
                    levels_form[target].errors = [*levels_form[target].errors, message]
            levels_form.form_errors.append(uow.error.message)
        else:
            status = 422
    return render_template(
        "profminimum/school.html", org=org, form=form, ledger=ledger, year=year,
        year_title=academic_year_title(year), levels_form=levels_form, locked=locked,
        lock_form=EmptyForm(), offers=_behind_offers(org, ledger),
        pace_text=_pace_text(year), status_titles=STATUS_TITLES,
        title=f"Профминимум: {org.display_name}"), status


@bp.post("/schools/<int:org_id>/lock")
@roles_required(Role.ADMIN)
def lock(org_id: int):
    org = _school(org_id)
    year = request.args.get("year", type=int)
    form = EmptyForm()
    if year is None or not form.validate_on_submit():
        abort(400)
    locked = request.args.get("locked") == "1"
    with unit_of_work(flash_errors=True) as uow:
        set_levels_lock(current_user, org, year, locked)
    if uow.error is None:
        flash("Уровни заблокированы: школа их не изменит." if locked
              else "Блокировка снята: школа снова может менять уровни.", "success")
    return redirect(url_for("profminimum.school", org_id=org.id, year=year) + "#levels", 303)


@bp.get("/schools/<int:org_id>/classes/<class_name>")
@roles_required(Role.ADMIN, Role.COORDINATOR)
def school_class(org_id: int, class_name: str):
    org = _school(org_id)
    form, year, error = _year_or_422("profminimum/class.html", org=org, klass=None,
                                     title=f"Профминимум: {class_name}")
    if error:
        return error
    ledger = school_ledger(org, year)
    klass = ledger.class_named(class_name)
    if klass is None:
        abort(404)
    events = events_of_students(year, org.id, [s.id for s in klass.students])
    offer = next((o for o in _behind_offers(org, ledger) if o["klass"] is klass), None)
    return render_template(
        "profminimum/class.html", org=org, form=form, ledger=ledger, klass=klass,
        events=events, offer=offer, year=year, year_title=academic_year_title(year),
        status_titles=STATUS_TITLES, pace_text=_pace_text(year),
        title=f"Профминимум: {klass.class_name}, {org.display_name}")


@bp.get("/schools/<int:org_id>/profminimum.xlsx")
@roles_required(Role.ADMIN, Role.COORDINATOR)
def school_xlsx_view(org_id: int):
    org = _school(org_id)
    _form, year = _chosen_year()
    if year is None:
        abort(422)
    ledger = school_ledger(org, year)
    events = events_of_students(year, org.id, [s.id for s in ledger.students])
    return file_response(school_xlsx(ledger, events), mimetype=XLSX, as_attachment=True,
                         name=f"профминимум-{org.display_name}-{year}.xlsx",
                         ascii_name=f"profminimum-school-{org.id}-{year}.xlsx")


@bp.get("/city.xlsx")
@roles_required(Role.ADMIN)
def city_xlsx_view():
    _form, year = _chosen_year()
    if year is None:
        abort(422)
    return file_response(city_xlsx(city_ledger(year)), mimetype=XLSX, as_attachment=True,
                         name=f"профминимум-город-{year}.xlsx",
                         ascii_name=f"profminimum-city-{year}.xlsx")
