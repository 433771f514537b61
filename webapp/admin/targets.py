"""Admin pages: the targets of the nine indicators (table, locks, import, template) and the
forecast's backtest (docs/reports.md «Цели и прогноз»)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from errors import ServiceError
from models import TARGET_KEYS, Organization, OrgKind, db
from models.academic_year import academic_year_title, current_academic_year
from reports.backtest import run_backtest
from reports.indicators import INDICATOR_SHORT
from webapp.access import admin_required
from webapp.admin import bp
from webapp.admin.spreadsheet_pages import import_page, table_download
from webapp.forms import EmptyForm
from webapp.services import targets as target_service
from webapp.transaction import unit_of_work


def _year_arg() -> int:
    year = request.args.get("year", type=int) or current_academic_year()
    if not 2000 <= year <= 2100:
        abort(404)
    return year


def _years(around: int) -> list[int]:
    current = current_academic_year()
    return sorted(set(range(current - 3, current + 2)) | {around}, reverse=True)


def _field_name(org_id: int | None, key: str) -> str:
    return f"t-{'city' if org_id is None else org_id}-{key}"


def _table_rows(year: int, posted=None):
    existing = target_service.target_rows(year)
    rows = []
    for org in [None, *target_service.target_schools()]:
        org_id = None if org is None else org.id
        row = existing.get(org_id)
        values = {}
        for key in TARGET_KEYS:
            current = getattr(row, key) if row is not None else None
            if posted is not None and _field_name(org_id, key) in posted:
                values[key] = posted.get(_field_name(org_id, key), "").strip()
            else:
                values[key] = "" if current is None else f"{current}".replace(".", ",")
        rows.append({"org": org, "org_id": org_id, "row": row, "values": values,
                     "locked": row is not None and row.locked,
                     "label": target_service.CITY_LABEL if org is None else org.name,
                     "anchor": "city" if org is None else f"org-{org.id}"})
    return rows


@bp.route("/admin/targets", methods=["GET", "POST"])
@admin_required
def targets():
    year = _year_arg()
    form = EmptyForm()
    posted = request.method == "POST"
    rows = _table_rows(year, request.form if posted else None)
    errors: dict[str, str] = {}
    status = 200
    if posted:
        if not form.validate_on_submit():
            abort(400)
        table = {}
        for row in rows:
            if row["locked"]:
                continue  # shown read-only; unlock first
            values = {}
            for key in TARGET_KEYS:
                value, problem = target_service.percent_value(row["values"][key])
                if problem:
                    errors[_field_name(row["org_id"], key)] = \
                        f"{row['label']}, {INDICATOR_SHORT[key]}: {problem}"
                values[key] = value
            table[row["org_id"]] = values
        if not errors:
            with unit_of_work(catch=ServiceError) as uow:
                changed = target_service.save_targets(current_user, year, table, replace=True)
            if uow.error is None:
                flash(f"Цели на {academic_year_title(year)} сохранены (изменено строк: "
                      f"{changed}).", "success")
                return redirect(url_for("admin.targets", year=year))
            errors["year"] = uow.error.message
        status = 422
    return render_template(
        "admin/targets.html", form=form, rows=rows, year=year, keys=TARGET_KEYS,
        labels=target_service.TARGET_LABELS, year_title=academic_year_title(year),
        years=_years(year), errors=errors, field_name=_field_name), status


def _lock(org_id: int | None, locked: bool):
    year = _year_arg()
    if org_id is not None:
        org = db.session.get(Organization, org_id)
        if org is None or org.kind != OrgKind.SCHOOL:
            abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    with unit_of_work():
        target_service.set_target_lock(current_user, year, org_id, locked)
    label = target_service.CITY_LABEL if org_id is None else org.name
    flash(f"{label}: цели на {academic_year_title(year)} "
          f"{'заблокированы' if locked else 'разблокированы'}.", "success")
    anchor = "city" if org_id is None else f"org-{org_id}"
    return redirect(url_for("admin.targets", year=year) + f"#{anchor}")


@bp.post("/admin/targets/city/lock")
@admin_required
def target_city_lock():
    return _lock(None, True)


@bp.post("/admin/targets/city/unlock")
@admin_required
def target_city_unlock():
    return _lock(None, False)


@bp.post("/admin/targets/<int:org_id>/lock")
@admin_required
def target_lock(org_id: int):
    return _lock(org_id, True)


@bp.post("/admin/targets/<int:org_id>/unlock")
@admin_required
def target_unlock(org_id: int):
    return _lock(org_id, False)


@bp.post("/admin/targets/lock-all")
@admin_required
def target_lock_all():
    return _lock_all(True)


@bp.post("/admin/targets/unlock-all")
@admin_required
def target_unlock_all():
    return _lock_all(False)


def _lock_all(locked: bool):
    year = _year_arg()
    if not EmptyForm().validate_on_submit():
        abort(400)
    with unit_of_work():
        count = target_service.lock_all_targets(current_user, year, locked)
    flash(f"{'Заблокированы' if locked else 'Разблокированы'} цели на "
          f"{academic_year_title(year)}: строк {count}.", "success")
    return redirect(url_for("admin.targets", year=year))


@bp.route("/admin/targets/import", methods=["GET", "POST"])
@admin_required
def target_import():
    year = _year_arg()
    return import_page(
        year=year, years=_years(year), run_import=target_service.import_targets,
        template="admin/target_import.html", columns=target_service.target_import_columns(),
        done=lambda chosen, changed: f"Файл загружен. Цели на {academic_year_title(chosen)} "
                                     f"изменены в строках: {changed}.",
        done_endpoint="admin.targets")


@bp.get("/admin/targets/targets.<fmt>")
@admin_required
def target_export(fmt: str):
    """The year's targets as a file shaped like the import template (download, edit, load)."""
    year = _year_arg()
    title = f"{year}-{(year + 1) % 100:02d}"
    return table_download(fmt, target_service.target_import_columns(),
                          target_service.target_template_rows(year),
                          sheet_title=f"Цели {title}", name=f"Цели {title}",
                          ascii_name=f"targets-{year}",
                          csv_cell=lambda v: str(v).replace(".", ","))


@bp.get("/admin/forecast-backtest")
@admin_required
def forecast_backtest():
    year = request.args.get("year", type=int) or current_academic_year() - 1
    if not 2000 <= year <= 2100:
        abort(404)
    result = run_backtest(year)
    return render_template("admin/forecast_backtest.html", result=result, year=year,
                           year_title=academic_year_title(year), years=_years(year),
                           short=INDICATOR_SHORT)
