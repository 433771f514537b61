"""The two halves of a yearly table kept in a spreadsheet (baselines, targets): the import page
(upload, every problem at once, nothing changed unless all is right) and the download shaped
like the import template."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from errors import ServiceError
from formats.spreadsheets import Column, ImportProblems, csv_bytes, xlsx_template
from models.academic_year import academic_year_title
from webapp.admin.forms import BaselineImportForm, select_choices
from webapp.downloads import file_response
from webapp.transaction import unit_of_work

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def import_page(*, year: int, years: list[int], run_import: Callable[..., int], template: str,
                columns: list[Column], done: Callable[[int, int], str], done_endpoint: str):
    """GET: the form for ``year``; POST: ``run_import(actor, year, filename, data)`` in one
    unit of work, then ``done(year, changed)`` flashed on ``done_endpoint`` — or the file's
    problems on the page (422)."""
    form = BaselineImportForm()
    form.year.choices = select_choices([(y, academic_year_title(y)) for y in years])
    if request.method == "GET":
        form.year.data = year
    problems = None
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        with unit_of_work(catch=ServiceError) as uow:
            changed = run_import(current_user, form.year.data, upload.filename or "",
                                 upload.read())
        if uow.error is None:
            flash(done(form.year.data, changed), "success")
            return redirect(url_for(done_endpoint, year=form.year.data))
        err = uow.error
        problems = err if isinstance(err, ImportProblems) else ImportProblems(
            [(None, m) for m in (getattr(err, "messages", None) or [err.message])])
        status = 422
    elif request.method == "POST":
        status = 422
    return render_template(template, form=form, problems=problems, year=year,
                           columns=columns), status


def table_download(fmt: str, columns: list[Column], rows: list[list], *, sheet_title: str,
                   name: str, ascii_name: str, csv_cell: Callable[[object], object] = str):
    """The rows as ``<name>.xlsx`` or ``.csv`` (a blank cell for None); another format: 404."""
    if fmt == "xlsx":
        body, mimetype = xlsx_template(columns, rows, sheet_title=sheet_title), XLSX
    elif fmt == "csv":
        body = csv_bytes([c.header for c in columns],
                         [["" if v is None else csv_cell(v) for v in r] for r in rows])
        mimetype = "text/csv; charset=utf-8"
    else:
        abort(404)
    return file_response(body, mimetype=mimetype, name=f"{name}.{fmt}",
                         ascii_name=f"{ascii_name}.{fmt}", as_attachment=True)
