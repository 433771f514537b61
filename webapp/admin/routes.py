"""Admin pages: organizations, users, baselines (table, city plan, locks, import), the audit
log; and the token page every logged-in user has."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from errors import ServiceError
from formats.text import like_contains
from models import (
    ApiToken,
    AuditLog,
    Baseline,
    Category,
    CityPlan,
    Event,
    Organization,
    OrgKind,
    Role,
    User,
    db,
    folded,
)
from models.academic_year import academic_year_of, academic_year_title, current_academic_year
from models.early_rule import EarlyRule, early_rule_for, early_rule_text
from models.organization import in_name_order
from webapp.access import admin_required
from webapp.admin import bp
from webapp.admin.audit_text import ACTION_TITLES, OBJECT_TITLES, describe_entry
from webapp.admin.forms import (
    AnonymizeYearForm,
    AuditFilterForm,
    BaselineRowForm,
    BaselineTableForm,
    CityPlanForm,
    EarlyRuleForm,
    OrganizationForm,
    PasswordResetForm,
    TokenForm,
    UserCreateForm,
    UserEditForm,
    select_choices,
)
from webapp.admin.spreadsheet_pages import import_page, table_download
from webapp.forms import EmptyForm, apply_service_error
from webapp.input_guard import safe_referrer
from webapp.services import accounts, directory, personal_data
from webapp.services.directory import BASELINE_FIELDS, BaselineFigures, BaselineRow
from webapp.transaction import unit_of_work

PROFILE_FIELDS = ("description", "offer", "address", "phone", "email", "website")


def _get_or_404(model, ident):
    obj = db.session.get(model, ident)
    if obj is None:
        abort(404)
    return obj


def _posted(form_cls=EmptyForm) -> None:
    """POST-only buttons: a bad or missing CSRF token is a 400 (handled by Flask-WTF)."""
    form = form_cls()
    if not form.validate_on_submit():
        abort(400)


# --- organizations --------------------------------------------------------------------------

def _by_kind_and_name(orgs: list[Organization]) -> list[Organization]:
    """Kinds in their declared order, then names naturally («СОШ № 2» before «СОШ № 10»)."""
    return in_name_order(orgs, by_kind=True)


@bp.get("/admin/organizations")
@admin_required
def organizations():
    query = Organization.query
    q = (request.args.get("q") or "").strip()
    kind = request.args.get("kind") or ""
    status = request.args.get("status") or ""
    if q:
        like = like_contains(q)
        query = query.filter(db.or_(Organization.name_key.like(like, escape="\\"),
                                    folded(Organization.short_name).like(like, escape="\\"),
                                    folded(Organization.external_id).like(like, escape="\\")))
    if kind in {k.value for k in OrgKind}:
        query = query.filter(Organization.kind == OrgKind(kind))
    if status == "active":
        query = query.filter(Organization.active.is_(True))
    elif status == "inactive":
        query = query.filter(Organization.active.is_(False))
    orgs = _by_kind_and_name(query.all())
    return render_template("admin/organizations.html", orgs=orgs, q=q, kind=kind,
                           status=status, kinds=list(OrgKind))


def _organization_form_page(form, org=None):
    if form.validate_on_submit():
        with unit_of_work(form) as uow:
            saved = directory.save_organization(
                current_user, organization=org, name=form.name.data,
                kind=OrgKind(form.kind.data), short_name=form.short_name.data,
                external_id=form.external_id.data,
                **{f: getattr(form, f).data for f in PROFILE_FIELDS})
        if uow.ok:
            flash(f"Организация «{saved.name}» {'сохранена' if org else 'добавлена'}.",
                  "success")
            return redirect(url_for("admin.organizations", q=saved.name))
    elif request.method == "POST" and form.name.data and not form.name.errors and \
            directory.organization_name_taken(form.name.data, org.id if org else None):
        # Report a duplicate name together with the other mistakes, not one round later.
        form.name.errors = list(form.name.errors) + [
            "Организация с таким названием уже есть в справочнике."]
    status = 422 if form.errors or form.form_errors else 200
    return render_template("admin/organization_form.html", form=form, org=org), status


@bp.route("/admin/organizations/new", methods=["GET", "POST"])
@admin_required
def organization_new():
    return _organization_form_page(OrganizationForm())


@bp.route("/admin/organizations/<int:org_id>/edit", methods=["GET", "POST"])
@admin_required
def organization_edit(org_id: int):
    org = _get_or_404(Organization, org_id)
    form = OrganizationForm(obj=org)
    if request.method == "GET":
        form.kind.data = org.kind.value
    return _organization_form_page(form, org)


@bp.post("/admin/organizations/<int:org_id>/deactivate")
@admin_required
def organization_deactivate(org_id: int):
    org = _get_or_404(Organization, org_id)
    _posted()
    with unit_of_work():
        directory.set_organization_active(current_user, org, False)
    flash(f"Организация «{org.name}» отключена: она не появится в новых списках, "
          "история сохранена.", "success")
    return redirect(safe_referrer() or url_for("admin.organizations"))


@bp.post("/admin/organizations/<int:org_id>/activate")
@admin_required
def organization_activate(org_id: int):
    org = _get_or_404(Organization, org_id)
    _posted()
    with unit_of_work():
        directory.set_organization_active(current_user, org, True)
    flash(f"Организация «{org.name}» снова действует.", "success")
    return redirect(safe_referrer() or url_for("admin.organizations"))


# --- users ----------------------------------------------------------------------------------

def _organization_choices() -> list:
    """Active organizations grouped by kind; 0 means none (administrators only)."""
    orgs = _by_kind_and_name(Organization.query.filter(Organization.active.is_(True)).all())
    choices = select_choices([(0, "— нет (только для администратора) —")])
    for org in orgs:
        choices += select_choices([(org.id, org.name)], optgroup=org.kind.title)
    return choices


def _chosen_organization(form) -> Organization | None:
    if not form.organization.data:
        return None
    org = db.session.get(Organization, form.organization.data)
    if org is None:
        form.organization.errors = list(form.organization.errors) + ["Выберите организацию."]
    return org


@bp.get("/admin/users")
@admin_required
def users():
    query = User.query
    q = (request.args.get("q") or "").strip()
    role = request.args.get("role") or ""
    if q:
        like = like_contains(q)
        query = query.outerjoin(Organization, User.organization_id == Organization.id).filter(
            db.or_(folded(User.email).like(like, escape="\\"),
                   folded(User.full_name).like(like, escape="\\"),
                   Organization.name_key.like(like, escape="\\")))
    if role in {r.value for r in Role}:
        query = query.filter(User.role == Role(role))
    people = query.order_by(User.role, User.email).all()
    return render_template("admin/users.html", users=people, q=q, role=role, roles=list(Role))


@bp.route("/admin/users/new", methods=["GET", "POST"])
@admin_required
def user_new():
    form = UserCreateForm()
    form.organization.choices = _organization_choices()
    if form.validate_on_submit():
        org = _chosen_organization(form)
        if not form.organization.errors:
            with unit_of_work(form) as uow:
                user = accounts.create_user(
                    current_user, email=form.email.data, password=form.password.data,
                    role=Role(form.role.data), organization=org,
                    full_name=form.full_name.data)
            if uow.ok:
                flash(f"Пользователь {user.email} создан. Передайте ему пароль лично.",
                      "success")
                return redirect(url_for("admin.users"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("admin/user_form.html", form=form, user=None), status


@bp.route("/admin/users/<int:user_id>/edit", methods=["GET", "POST"])
@admin_required
def user_edit(user_id: int):
    user = _get_or_404(User, user_id)
    form = UserEditForm(obj=user)
    form.organization.choices = _organization_choices()
    if request.method == "GET":
        form.role.data = user.role.value
        form.organization.data = user.organization_id or 0
    if form.validate_on_submit():
        org = _chosen_organization(form)
        if not form.organization.errors:
            with unit_of_work(catch=ServiceError) as uow:
                accounts.update_user(current_user, user, full_name=form.full_name.data,
                                     role=Role(form.role.data), organization=org)
            if uow.error is not None:
                err = uow.error
                user = _get_or_404(User, user_id)
                apply_service_error(form, err)
            else:
                flash(f"Пользователь {user.email} сохранён.", "success")
                return redirect(url_for("admin.users"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("admin/user_form.html", form=form, user=user), status


@bp.route("/admin/users/<int:user_id>/password", methods=["GET", "POST"])
@admin_required
def user_password(user_id: int):
    user = _get_or_404(User, user_id)
    form = PasswordResetForm()
    if form.validate_on_submit():
        with unit_of_work(form) as uow:
            accounts.reset_password(current_user, user, form.password.data)
        if uow.ok:
            flash(f"Пароль пользователя {user.email} изменён. Передайте новый пароль лично.",
                  "success")
            return redirect(url_for("admin.users"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("admin/user_password.html", form=form, user=user), status


def _set_user_active(user_id: int, active: bool) -> Response:
    user = _get_or_404(User, user_id)
    _posted()
    with unit_of_work(flash_errors=True) as uow:
        accounts.set_user_active(current_user, user, active)
    if uow.ok:
        flash(f"Пользователь {user.email} снова активен." if active else
              f"Пользователь {user.email} отключён: его сеансы завершены, API-токены отозваны.",
              "success")
    return redirect(url_for("admin.users"))


@bp.post("/admin/users/<int:user_id>/deactivate")
@admin_required
def user_deactivate(user_id: int):
    return _set_user_active(user_id, False)


@bp.post("/admin/users/<int:user_id>/activate")
@admin_required
def user_activate(user_id: int):
    return _set_user_active(user_id, True)


# --- baselines ------------------------------------------------------------------------------

def _year_arg() -> int:
    year = request.args.get("year", type=int) or current_academic_year()
    if not 2000 <= year <= 2100:
        abort(404)
    return year


def _year_choices(around: int) -> list[int]:
    current = current_academic_year()
    known = {y for (y,) in db.session.query(Baseline.year).distinct()}
    return sorted(known | set(range(current - 3, current + 2)) | {around}, reverse=True)


def _baseline_rows(year: int, formdata=None):
    orgs = directory.baseline_organizations(year)
    existing = directory.baselines_by_organization(year)
    rows = []
    for org in orgs:
        baseline = existing.get(org.id)
        row = BaselineRowForm(formdata=formdata, obj=baseline, prefix=f"b{org.id}")
        rows.append({"org": org, "baseline": baseline, "form": row,
                     "locked": baseline is not None and baseline.locked})
    return rows


@bp.route("/admin/baselines", methods=["GET", "POST"])
@admin_required
def baselines():
    year = _year_arg()
    form = BaselineTableForm()
    posted = request.method == "POST"
    rows = _baseline_rows(year, request.form if posted else None)
    table_messages: list[str] = []
    status = 200
    if posted:
        if not form.validate_on_submit():
            abort(400)
        to_save = []
        for row in rows:
            row_form = row["form"]
            if row["locked"] and row_form.is_empty():
                continue  # shown read-only; unlock first to edit
            if not row_form.validate():
                for f in row_form:
                    for message in f.errors:
                        table_messages.append(f"{row['org'].name}: {f.label.text} — {message}")
                continue
            figures = None if row_form.is_empty() else BaselineFigures(
                **{f: getattr(row_form, f).data for f in BASELINE_FIELDS})
            to_save.append(BaselineRow(row["org"], figures))
        # The rows the form accepted are checked now too: every error shows in one pass.
        err = directory.baseline_table_problems(year, to_save)
        if err is not None:
            table_messages += err.messages
            for row in rows:
                for name, message in err.rows.get(row["org"].id, {}).items():
                    field = getattr(row["form"], name, None) or row["form"].students_total
                    field.errors = list(field.errors) + [message]
        if not table_messages:
            with unit_of_work(catch=directory.BaselineTableErrors) as uow:
                changed = directory.save_baseline_table(current_user, year, to_save)
            if uow.error is not None:  # changed by someone else since the check above
                table_messages = uow.error.messages
            else:
                flash(f"Показатели за {academic_year_title(year)} сохранены "
                      f"(изменено строк: {changed}).", "success")
                return redirect(url_for("admin.baselines", year=year))
        status = 422
    plan = db.session.get(CityPlan, year)
    plan_form = CityPlanForm(obj=plan, formdata=None)
    totals = _baseline_totals(rows)
    return render_template(
        "admin/baselines.html", form=form, rows=rows, year=year,
        year_title=academic_year_title(year), years=_year_choices(year),
        table_messages=table_messages, plan_form=plan_form, plan=plan, totals=totals,
        OrgKind=OrgKind), status


def _baseline_totals(rows) -> dict:
    totals = {}
    for kind in directory.BASELINE_KINDS:
        kind_rows = [r["baseline"] for r in rows if r["org"].kind == kind and r["baseline"]]
        totals[kind] = {f: sum(getattr(b, f) or 0 for b in kind_rows) for f in BASELINE_FIELDS}
        totals[kind]["count"] = len(kind_rows)
        totals[kind]["locked"] = sum(1 for b in kind_rows if b.locked)
    return totals


@bp.post("/admin/baselines/plan")
@admin_required
def city_plan():
    year = _year_arg()
    form = CityPlanForm()
    if form.validate_on_submit():
        with unit_of_work(flash_errors=True) as uow:
            directory.save_city_plan(current_user, year, form.planned_events.data,
                                     form.planned_early_events.data)
        if uow.ok:
            flash(f"План города на {academic_year_title(year)} сохранён.", "success")
    else:
        for field in (form.planned_events, form.planned_early_events):
            for message in field.errors:
                flash(f"План города не сохранён: {field.label.text} — {message}", "danger")
        if form.csrf_token.errors:
            abort(400)
    return redirect(url_for("admin.baselines", year=year) + "#city-plan")


def _set_lock(org_id: int, locked: bool) -> Response:
    year = _year_arg()
    org = _get_or_404(Organization, org_id)
    if org.kind not in directory.BASELINE_KINDS:
        abort(404)
    _posted()
    with unit_of_work():
        directory.set_baseline_lock(current_user, org, year, locked)
    flash(f"{org.name}: показатели за {academic_year_title(year)} "
          f"{'заблокированы' if locked else 'разблокированы'}.", "success")
    return redirect(url_for("admin.baselines", year=year) + f"#org-{org.id}")


@bp.post("/admin/baselines/<int:org_id>/lock")
@admin_required
def baseline_lock(org_id: int):
    return _set_lock(org_id, True)


@bp.post("/admin/baselines/<int:org_id>/unlock")
@admin_required
def baseline_unlock(org_id: int):
    return _set_lock(org_id, False)


@bp.post("/admin/baselines/lock-all")
@admin_required
def baseline_lock_all():
    year = _year_arg()
    _posted()
    with unit_of_work():
        count = directory.lock_all_baselines(current_user, year, True)
    flash(f"Заблокированы показатели за {academic_year_title(year)}: {count}.", "success")
    return redirect(url_for("admin.baselines", year=year))


@bp.post("/admin/baselines/unlock-all")
@admin_required
def baseline_unlock_all():
    year = _year_arg()
    _posted()
    with unit_of_work():
        count = directory.lock_all_baselines(current_user, year, False)
    flash(f"Разблокированы показатели за {academic_year_title(year)}: {count}.", "success")
    return redirect(url_for("admin.baselines", year=year))


@bp.route("/admin/baselines/import", methods=["GET", "POST"])
@admin_required
def baseline_import():
    year = _year_arg()
    return import_page(
        year=year, years=_year_choices(year), run_import=directory.import_baselines,
        template="admin/baseline_import.html", columns=directory.baseline_import_columns(),
        done=lambda chosen, changed: f"Файл загружен. Показатели за "
                                     f"{academic_year_title(chosen)} изменены у организаций: "
                                     f"{changed}.",
        done_endpoint="admin.baselines")


@bp.get("/admin/baselines/template.<fmt>")
@admin_required
def baseline_template(fmt: str):
    year = _year_arg()
    title = f"{year}-{(year + 1) % 100:02d}"
    return table_download(fmt, directory.baseline_import_columns(),
                          directory.baseline_template_rows(year),
                          sheet_title=f"Показатели {title}", name=f"Показатели {title}",
                          ascii_name=f"baselines-{year}", csv_cell=lambda v: v)


# --- audit log ------------------------------------------------------------------------------

# --- the city's «ранняя профориентация» rule --------------------------------------------------

@bp.route("/admin/early-rule", methods=["GET", "POST"])
@admin_required
def early_rule():
    year = _year_arg()
    saved = db.session.get(EarlyRule, year)
    terms = early_rule_for(year)
    form = EarlyRuleForm()
    categories = Category.query.filter(Category.active.is_(True)).order_by(
        Category.sort_order, Category.name).all()
    form.category_codes.choices = select_choices([(c.code, c.name) for c in categories])
    if request.method == "GET":
        form.preschool.data = terms.preschool
        form.max_grade.data = "" if terms.max_grade is None else str(terms.max_grade)
        form.category_codes.data = list(terms.category_codes)
    status = 200
    if form.validate_on_submit():
        with unit_of_work(form) as uow:
            directory.save_early_rule(current_user, year, preschool=form.preschool.data,
                                      max_grade=form.max_grade_value,
                                      category_codes=form.category_codes.data or [])
        if uow.ok:
            flash(f"Правило ранней профориентации на {academic_year_title(year)} сохранено. "
                  "Оно действует для новых мероприятий; у созданных отметка не меняется.",
                  "success")
            return redirect(url_for("admin.early_rule", year=year))
        status = 422
    elif request.method == "POST":
        if form.csrf_token.errors:
            abort(400)
        status = 422
    return render_template(
        "admin/early_rule.html", form=form, year=year, year_title=academic_year_title(year),
        years=_year_choices(year), saved=saved, rule_text=early_rule_text(year)), status


AUDIT_PAGE_SIZE = 50


@bp.get("/admin/audit")
@admin_required
def audit():
    form = AuditFilterForm(request.args)
    types = [t for (t,) in db.session.query(AuditLog.object_type).distinct()
             .order_by(AuditLog.object_type)]
    form.object_type.choices = select_choices(
        [("", "Все объекты")] + [(t, OBJECT_TITLES.get(t, t)) for t in types])
    actors = (User.query.join(AuditLog, AuditLog.user_id == User.id).distinct()
              .order_by(User.email).all())
    form.user.choices = select_choices(
        [("", "Все пользователи"), ("system", "Система (командная строка)")]
        + [(str(u.id), u.email) for u in actors])
    query = AuditLog.query
    if form.object_type.data:
        query = query.filter(AuditLog.object_type == form.object_type.data)
    if form.object_id.data:
        query = query.filter(AuditLog.object_id == form.object_id.data.strip())
    if form.user.data == "system":
        query = query.filter(AuditLog.user_id.is_(None))
    elif form.user.data and form.user.data.isdigit():
        query = query.filter(AuditLog.user_id == int(form.user.data))
    page = query.order_by(AuditLog.at.desc(), AuditLog.id.desc()).paginate(
        per_page=AUDIT_PAGE_SIZE, error_out=False, max_per_page=AUDIT_PAGE_SIZE)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("admin/audit.html", form=form, page=page, args=args,
                           OBJECT_TITLES=OBJECT_TITLES, ACTION_TITLES=ACTION_TITLES,
                           describe_entry=describe_entry)


# --- anonymizing a past academic year ---------------------------------------------------------

def _past_year_choices() -> list[tuple[int, str]]:
    first = db.session.execute(sa.select(sa.func.min(Event.starts_at))).scalar()
    last = current_academic_year() - 1
    start = min(academic_year_of(first), last) if first is not None else last
    return [(y, academic_year_title(y)) for y in range(last, max(start, last - 10) - 1, -1)]


@bp.route("/admin/anonymize-year", methods=["GET", "POST"])
@admin_required
def anonymize_year():
    form = AnonymizeYearForm()
    choices = _past_year_choices()
    form.year.choices = select_choices(choices)
    if request.method == "GET":
        requested = request.args.get("year", type=int)
        form.year.data = requested if requested in dict(choices) else choices[0][0]
    status = 200
    if form.validate_on_submit():
        with unit_of_work(catch=ServiceError) as uow:
            plan = personal_data.anonymize_year(current_user, form.year.data)
        if uow.error is not None:
            err = uow.error
            apply_service_error(form, err)
            status = err.status
        else:
            counts = plan.counts()
            flash(f"Учебный год {plan.title} обезличен: обучающихся — {counts['students']}, "
                  f"педагогов — {counts['teachers']}, записей родителей — "
                  f"{counts['parent_signups']}, заявок педагогов — {counts['teacher_signups']}."
                  " Показатели года не изменились.", "success")
            return redirect(url_for("admin.anonymize_year", year=plan.year), 303)
    elif request.method == "POST":
        status = 422
    plan = None
    if form.year.data in dict(choices):
        plan = personal_data.plan_year(form.year.data)
    return render_template("admin/anonymize_year.html", form=form, plan=plan,
                           title="Обезличивание прошедшего учебного года"), status


# --- API tokens (every role, own tokens; admins see all) ------------------------------------

@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    form = TokenForm()
    new_token = None
    status = 200
    if form.validate_on_submit():
        with unit_of_work(catch=ServiceError) as uow:
            row, new_token = accounts.issue_token(current_user, form.name.data)
        if uow.error is not None:
            err = uow.error
            apply_service_error(form, err)
            status = 422
        else:
            form = TokenForm(formdata=None)
    elif request.method == "POST":
        status = 422
    query = ApiToken.query
    if current_user.role != Role.ADMIN:
        query = query.filter(ApiToken.user_id == current_user.id)
    rows = query.order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(),
                          ApiToken.id.desc()).all()
    response = make_response(render_template("admin/tokens.html", form=form, tokens=rows,
                                             new_token=new_token), status)
    # The page may show a new token once: never keep it in a cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def token_revoke(token_id: int):
    token = _get_or_404(ApiToken, token_id)
    if current_user.role != Role.ADMIN and token.user_id != current_user.id:
        abort(404)  # someone else's token: do not even confirm it exists
    _posted()
    with unit_of_work(catch=ServiceError) as uow:
        accounts.revoke_token(current_user, token)
    if uow.error is not None:
        err = uow.error
        flash(err.message, "warning")
    else:
        flash(f"Токен «{token.name}» отозван: запросы с ним больше не принимаются.", "success")
    return redirect(url_for("admin.tokens"))
