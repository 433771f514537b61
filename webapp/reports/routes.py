"""Report pages (blueprint ``reports``): they only read and render."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from formats.text import natural_key
from models import Event, Organization, OrgKind, Role, db, now_utc
from models.academic_year import (
    Period,
    academic_year_period,
    academic_year_title,
    current_academic_year,
)
from reports import queries
from reports.charts import bar_chart, column_chart
from reports.closing import need_text
from reports.exports import indicators_csv, indicators_xlsx
from reports.forecast import AT_RISK, compute_forecast
from reports.forecast_exports import forecast_csv, forecast_xlsx
from reports.indicators import (
    INDICATOR_KEYS,
    INDICATOR_SHORT,
    INDICATOR_TITLES,
    MONTHS_NOMINATIVE,
    PRESCHOOL_SHORT,
    compute_indicators,
    monthly_trend,
    organization_indicators,
    percent_of,
)
from reports.params import (
    ROADMAP_SECTIONS,
    ReportParamsError,
    ReportQuery,
    organization_scope,
    parse_report_args,
)
from reports.recommendations import school_gaps
from reports.spravka import (
    ADVICE_INTRO,
    BASIS_TEXT,
    NO_ADVICE,
    NO_TARGETS,
    YES_NO,
    build_spravka,
    figure_note,
    gap_text,
    group_events_text,
    group_heading,
    spravka_pdf,
)
from webapp.access import can_manage_event, roles_required
from webapp.downloads import file_response
from webapp.reports import gap_sections
from webapp.reports.forms import ReportFilterForm, YearForm

bp = Blueprint("reports", __name__, url_prefix="/reports")

SORT_KEYS = ("name",) + INDICATOR_KEYS


def _filter_titles(query: ReportQuery) -> list[str]:
    titles = []
    if query.filters.category_codes:
        names = {c.code: c.name for c in queries.categories()}
        titles.append("категория: " + ", ".join(names.get(c, c)
                                                for c in query.filters.category_codes))
    if query.filters.organizer_id is not None:
        org = db.session.get(Organization, query.filters.organizer_id)
        titles.append(f"организатор: {org.display_name if org else query.filters.organizer_id}")
    if query.filters.roadmap_section is not None:
        titles.append(f"раздел дорожной карты {query.filters.roadmap_section}. "
                      f"{ROADMAP_SECTIONS[query.filters.roadmap_section]}")
    if query.filters.verified_only:
        titles.append("только подтверждённое на входе")
    return titles


def _previous_period(query: ReportQuery) -> Period | None:
    if query.year is not None:
        return academic_year_period(query.year - 1)
    first, last = query.period.first_day, query.period.last_day
    try:
        return Period(first.replace(year=first.year - 1), last.replace(year=last.year - 1))
    except ValueError:  # 29 February
        return None


def _sorted_rows(rows, sort: str, descending: bool):
    if sort == "name":
        return sorted(rows, key=lambda r: natural_key(r.display_name), reverse=descending)
    with_data = [r for r in rows if r.indicators[sort].percent is not None]
    without = [r for r in rows if r.indicators[sort].percent is None]
    with_data.sort(key=lambda r: r.indicators[sort].percent, reverse=descending)
    return with_data + sorted(without, key=lambda r: natural_key(r.display_name))


def _trend_chart(trend, b_students: int, title: str, chart_id: str):
    points = [(MONTHS_NOMINATIVE[p.first_day.month - 1], percent_of(p.cumulative, b_students))
              for p in trend]
    return column_chart(points, title=title, chart_id=chart_id)


def _apply_param_errors(form, err: ReportParamsError) -> None:
    for name, message in err.fields.items():
        field = getattr(form, {"from": "date_from", "to": "date_to"}.get(name, name), None)
        if field is not None and hasattr(field, "errors") and name != "submit":
            field.errors = list(field.errors) + [message]
        else:
            form.form_errors.append(message)


@bp.get("/")
@login_required
def dashboard():
    if current_user.role == Role.COORDINATOR:
        return redirect(url_for("reports.school", org_id=current_user.organization_id,
                                **request.args))
    if current_user.role == Role.ORGANIZER:
        return redirect(url_for("reports.organizer", **request.args))
    formdata = request.args.copy()
    if not formdata.get("year"):
        formdata["year"] = str(current_academic_year())
    for name in ("category", "organizer_id", "roadmap_section"):
        formdata.setdefault(name, "")
    form = ReportFilterForm(formdata)
    form.fill_choices(queries.categories(), queries.organizers_with_events())
    context = {"form": form, "report": None, "title": "Показатели города"}
    valid = form.validate()
    if valid:
        args = request.args.copy()
        if args.get("from") or args.get("to"):
            args.pop("year", None)  # a date range replaces the year chosen in the list
        try:
            query = parse_report_args(args)
        except ReportParamsError as err:
            _apply_param_errors(form, err)
            valid = False
    if not valid:
        return render_template("reports/dashboard.html", **context), 422
    report = compute_indicators(query.period, **query.kwargs())
    previous_period = _previous_period(query)
    previous = compute_indicators(previous_period, **query.kwargs()) if previous_period else None
    trend = monthly_trend(query.period, **query.kwargs())
    sort = request.args.get("sort", "name")
    sort = sort if sort in SORT_KEYS else "name"
    descending = request.args.get("dir", "desc" if sort != "name" else "asc") == "desc"
    threshold = form.threshold.data
    prev_title = (academic_year_title(query.year - 1) if query.year is not None
                  else "тот же период годом ранее")
    chart = bar_chart(
        [(INDICATOR_SHORT[k], report.city[k].percent,
          previous.city[k].percent if previous else None) for k in INDICATOR_KEYS],
        title=f"Показатели города: {query.period_title}"
              + (f" и {prev_title}" if previous else ""),
        series=(query.period_title, prev_title if previous else None), chart_id="city-chart")
    trend_chart = _trend_chart(
        trend, report.city["students"].b, chart_id="trend-chart",
        title="Доля обучающихся школ, вовлечённых с начала периода, по месяцам")
    # The forecast is of a whole academic year, counted from everything (not narrowed): then the
    # page's own report is that year's, and the forecast starts from it instead of again.
    forecast = compute_forecast(query.year, whole_year=report) if query.year is not None \
        and not query.filters.narrowed and not query.filters.verified_only else None
    at_risk = {k: sum(1 for s in forecast.schools if s.indicators[k].status == AT_RISK)
               for k in INDICATOR_KEYS} if forecast is not None else None
    context.update(
        forecast=forecast, at_risk=at_risk,
        report=report, previous=previous, prev_title=prev_title, query=query, trend=trend,
        chart=chart, trend_chart=trend_chart, threshold=threshold, sort=sort,
        descending=descending, schools=_sorted_rows(report.schools, sort, descending),
        kindergartens=_sorted_rows(report.kindergartens, sort, descending),
        filter_titles=_filter_titles(query), keys=INDICATOR_KEYS, titles=INDICATOR_TITLES,
        short=INDICATOR_SHORT, preschool_short=PRESCHOOL_SHORT,
        percent_of=percent_of,
        # Issue #15: schools below their targets and events with seats for them (current
        # year, the whole city only).
        risk_schools=(gap_sections.city_at_risk(query.year, forecast)
                      if forecast is not None else None),
        need_text=need_text,
    )
    return render_template("reports/dashboard.html", **context)


def _school_access(org_id: int) -> Organization:
    org = db.session.get(Organization, org_id)
    if org is None or org.kind not in (OrgKind.SCHOOL, OrgKind.PRESCHOOL):
        abort(404)
    if current_user.role == Role.ADMIN:
        return org
    if current_user.role == Role.COORDINATOR and current_user.organization_id == org.id:
        return org
    abort(403)


@bp.get("/schools/<int:org_id>")
@roles_required(Role.ADMIN, Role.COORDINATOR)
def school(org_id: int):
    org = _school_access(org_id)
    form, year = _chosen_year()
    if year is None:
        return render_template("reports/school.html", org=org, form=form, report=None,
                               title=org.display_name), 422
    period = academic_year_period(year)
    report = compute_indicators(period, organization_id=org.id)
    row = report.row_for(org.id)
    section = report.section_for(org.kind)
    # Beside each figure, what was verified at a door where that differs (issue #13): the
    # school's own check-ins only, the city's totals are not shown for it.
    door_row = organization_indicators(period, org.id, verified_only=True)
    door_differs = any(door_row.indicators[k].a != row.indicators[k].a for k in INDICATOR_KEYS)
    short = PRESCHOOL_SHORT if org.kind == OrgKind.PRESCHOOL else INDICATOR_SHORT
    chart = bar_chart([(short[k], row.indicators[k].percent, section[k].percent)
                       for k in INDICATOR_KEYS],
                      title=f"{org.display_name} и город, {academic_year_title(year)}",
                      series=(org.display_name, "Город"), chart_id="school-chart")
    trend = monthly_trend(period, kind=org.kind, organization_id=org.id)
    trend_chart = _trend_chart(trend, row.indicators["students"].b, chart_id="school-trend",
                               title=f"Доля обучающихся {org.display_name}, вовлечённых с "
                                     f"начала года, по месяцам")
    not_involved = queries.students_not_involved(org.id, period)
    by_class: dict[str, list] = {}
    for student in not_involved:
        by_class.setdefault(student.class_name, []).append(student)
    ovz_roster, ovz_covered = queries.roster_ovz_coverage(org.id, period)
    ovz_waiting = [s for s in not_involved if s.ovz]
    gaps = school_gaps(row, section, queries.upcoming_events()) \
        if org.kind == OrgKind.SCHOOL else []
    forecast = compute_forecast(year, organization_id=org.id, whole_year=report) \
        if org.kind == OrgKind.SCHOOL else None
    forecast_block = forecast.school(org.id) if forecast is not None else None
    return render_template(
        "reports/school.html", org=org, form=form, year=year, report=report, row=row,
        door_row=door_row, door_differs=door_differs, section=section, chart=chart,
        trend=trend, trend_chart=trend_chart, keys=INDICATOR_KEYS,
        short=short, titles=INDICATOR_TITLES, not_involved=not_involved, by_class=by_class,
        ovz_roster=ovz_roster, ovz_covered=ovz_covered, ovz_waiting=ovz_waiting,
        events=queries.school_events(org.id, period), gaps=gaps, forecast=forecast,
        forecast_block=forecast_block,
        closing=(gap_sections.school_closing(org, year, forecast)
                 if forecast_block is not None else []),
        year_title=academic_year_title(year), percent_of=percent_of,
        title=f"Показатели: {org.display_name}")


@bp.get("/organizer")
@roles_required(Role.ADMIN, Role.ORGANIZER, Role.COORDINATOR)
def organizer():
    """Per own event: registered against checked in, no-show rate; by school."""
    form, year = _chosen_year()
    if year is None:
        return render_template("reports/organizer.html", form=form, events=None,
                               title="Отчёт организатора"), 422
    organizer_id = current_user.organization_id
    organizers = []
    if current_user.role == Role.ADMIN:
        organizer_id = request.args.get("organizer_id", type=int)
        organizers = queries.organizers_with_events()
    organization = db.session.get(Organization, organizer_id) if organizer_id else None
    period = academic_year_period(year)
    events = queries.organizer_events(period, organizer_id)
    ids = [e.id for e in events]
    now = now_utc()
    attendance = queries.attendance_by_event(ids, now)
    by_school = queries.attendance_by_school(ids, now)
    total = queries.Attendance()
    for figures in attendance.values():
        total.add(figures)
    return render_template(
        "reports/organizer.html", form=form, year=year, events=events, attendance=attendance,
        by_school=by_school, total=total, organization=organization, organizers=organizers,
        organizer_id=organizer_id, year_title=academic_year_title(year), now=now,
        Attendance=queries.Attendance, title="Отчёт организатора")


@bp.get("/events/<int:event_id>")
@roles_required(Role.ADMIN, Role.ORGANIZER, Role.COORDINATOR)
def event(event_id: int):
    event = db.session.get(Event, event_id)
    if event is None:
        abort(404)
    if not can_manage_event(current_user, event):
        abort(403)
    by_school = queries.attendance_by_school([event.id])
    total = queries.attendance_by_event([event.id]).get(event.id, queries.Attendance())
    return render_template("reports/event.html", event=event, by_school=by_school, total=total,
                           title=f"Посещаемость: {event.title}")


@bp.get("/roadmap")
@roles_required(Role.ADMIN)
def roadmap():
    form, year = _chosen_year()
    if year is None:
        return render_template("reports/roadmap.html", form=form, lines=None,
                               title="Исполнение дорожной карты"), 422
    period = academic_year_period(year)
    lines = queries.roadmap_execution(period)
    sections: dict[int, list] = {}
    for line in lines:
        sections.setdefault(line.item.section, []).append(line)
    return render_template(
        "reports/roadmap.html", form=form, year=year, sections=sections, lines=lines,
        section_titles=ROADMAP_SECTIONS, unlinked=queries.unlinked_events_count(period),
        year_title=academic_year_title(year), title="Исполнение дорожной карты")


def _chosen_year() -> tuple[YearForm, int | None]:
    """A report page's year form and the academic year it names (the current one when none is
    chosen; None when the choice is invalid: the page answers 422 with the form)."""
    form = YearForm(request.args)
    form.fill_choices()
    year = request.args.get("year", type=int) or current_academic_year()
    if request.args.get("year") and not form.validate():
        return form, None
    form.year.data = str(year)
    return form, year


@bp.get("/spravka")
@roles_required(Role.ADMIN)
def spravka():
    form, year = _chosen_year()
    if year is None:
        return render_template("reports/spravka.html", form=form, data=None,
                               title="Аналитическая справка"), 422
    data = build_spravka(year)
    chart = bar_chart([(INDICATOR_SHORT[k], data.report.city[k].percent,
                        data.previous.city[k].percent) for k in INDICATOR_KEYS],
                      title=f"Показатели города за {data.year_title} и {data.previous_title}",
                      series=(data.year_title, data.previous_title), chart_id="spravka-chart")
    return render_template("reports/spravka.html", form=form, data=data, keys=INDICATOR_KEYS,
                           chart=chart, advice_intro=ADVICE_INTRO, basis_text=BASIS_TEXT,
                           no_advice=NO_ADVICE, no_targets=NO_TARGETS,
                           yes_no=YES_NO,
                           figure_note=figure_note, group_heading=group_heading,
                           gap_text=gap_text, group_events_text=group_events_text,
                           titles=INDICATOR_TITLES, short=INDICATOR_SHORT,
                           preschool_short=PRESCHOOL_SHORT, months=MONTHS_NOMINATIVE,
                           title=f"Аналитическая справка за {academic_year_title(year)}")


@bp.get("/spravka.pdf")
@roles_required(Role.ADMIN)
def spravka_pdf_view():
    form, year = _chosen_year()
    if year is None:
        abort(404)
    body = spravka_pdf(build_spravka(year))
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="spravka-{year}.pdf"'})


def _export_report():
    try:
        query = parse_report_args(request.args)
    except ReportParamsError as err:
        return None, None, Response("Неверные параметры отчёта: " + "; ".join(
            err.fields.values()), status=422, mimetype="text/plain; charset=utf-8")
    try:
        organization_id = organization_scope(current_user, query)
    except PermissionError:
        abort(403)
    report = compute_indicators(query.period, organization_id=organization_id,
                                **query.kwargs())
    return query, report, None


def _export_name(query: ReportQuery, extension: str) -> str:
    if query.year is not None:
        stem = f"pokazateli-{query.year}-{query.year + 1}"
    else:
        stem = f"pokazateli-{query.period.first_day}-{query.period.last_day}"
    return f"{stem}.{extension}"


@bp.get("/indicators.xlsx")
@roles_required(Role.ADMIN, Role.COORDINATOR)
def indicators_xlsx_view():
    query, report, error = _export_report()
    if error is not None:
        return error
    body = indicators_xlsx(report, title=f"Показатели профориентационной работы: "
                                         f"{query.period_title}",
                           filter_titles=_filter_titles(query))
    return Response(body, mimetype="application/vnd.openxmlformats-officedocument."
                                    "spreadsheetml.sheet", headers={
        "Content-Disposition": f'attachment; filename="{_export_name(query, "xlsx")}"'})


@bp.get("/indicators.csv")
@roles_required(Role.ADMIN, Role.COORDINATOR)
def indicators_csv_view():
    query, report, error = _export_report()
    if error is not None:
        return error
    return Response(indicators_csv(report), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{_export_name(query, "csv")}"'})


def _forecast_export(fmt: str) -> Response:
    """The year-end forecast as a file: the city and every school (admin), or one school (its
    coordinator, or an admin with ``organization_id``)."""
    year = request.args.get("year", type=int) or current_academic_year()
    if not 2000 <= year <= 2100:
        abort(404)
    organization_id = request.args.get("organization_id", type=int)
    if current_user.role == Role.COORDINATOR:
        if organization_id not in (None, current_user.organization_id):
            abort(403)
        organization_id = current_user.organization_id
    if organization_id is not None:
        org = db.session.get(Organization, organization_id)
        if org is None or org.kind != OrgKind.SCHOOL:
            abort(404)
    forecast = compute_forecast(year, organization_id=organization_id)
    title = f"{year}-{(year + 1) % 100:02d}"
    if fmt == "xlsx":
        body = forecast_xlsx(forecast, organization_id)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body, mimetype = forecast_csv(forecast, organization_id), "text/csv; charset=utf-8"
    return file_response(body, mimetype=mimetype, name=f"Прогноз {title}.{fmt}",
                         ascii_name=f"forecast-{title}.{fmt}", as_attachment=True)


@bp.get("/forecast.xlsx")
@roles_required(Role.ADMIN, Role.COORDINATOR)
def forecast_xlsx_view():
    return _forecast_export("xlsx")


@bp.get("/forecast.csv")
@roles_required(Role.ADMIN, Role.COORDINATOR)
def forecast_csv_view():
    return _forecast_export("csv")


@bp.app_template_filter("short_date")
def short_date(value: date) -> str:
    return value.strftime("%d.%m.%Y")
