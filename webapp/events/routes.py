"""Pages of the events area: the public catalogue, event pages, iCalendar, organizer pages,
categories and organizer profiles («Карта ресурсов»)."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import sqlalchemy as sa
from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markdown_it import MarkdownIt
from markupsafe import Markup

from formats.timefmt import TOMSK
from models import (
    Audience,
    Category,
    Event,
    EventStatus,
    Organization,
    OrgKind,
    RoadmapItem,
    Role,
    Teacher,
    db,
    now_utc,
)
from models.academic_year import academic_year_title, current_academic_year
from models.base import folded
from models.early_rule import early_rule_text
from models.organization import in_name_order
from models.profminimum import ProfminimumFormat
from webapp.access import can_manage_event, events_managed_by, roles_required
from webapp.events import bp
from webapp.events import services as svc
from webapp.events.catalogue import (
    FEED_PAST_DAYS,
    PAGE_SIZE,
    CatalogueFilters,
    catalogue_query,
    run_page,
)
from webapp.events.forms import (
    CancelForm,
    CatalogueFilterForm,
    CategoryForm,
    EventForm,
    ProfileForm,
    RepeatForm,
    choices,
    parse_dates,
)
from webapp.events.hooks import (
    EVENT_MANAGE_SECTIONS,
    EVENT_PAGE_ACTIONS,
    EVENT_PAGE_SECTIONS,
    render_sections,
)
from webapp.events.ical import calendar_bytes
from webapp.events.visibility import can_view_event
from webapp.forms import EmptyForm
from webapp.paging import Paging, page_arg
from webapp.parents.recipients import people_to_tell
from webapp.transaction import unit_of_work

EVENT_MANAGERS = (Role.ADMIN, Role.ORGANIZER, Role.COORDINATOR)
#: Kinds shown in the organizers' directory («Карта ресурсов»).
DIRECTORY_KINDS = (OrgKind.UNIVERSITY, OrgKind.COLLEGE, OrgKind.PARTNER, OrgKind.DEPARTMENT)
FEED_LIMIT = 1000

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


@bp.app_template_filter("markdown")
def markdown_filter(text: str | None) -> Markup:
    """Light Markdown with raw HTML disabled (escaped), so descriptions cannot inject markup."""
    return Markup(_markdown.render(text or ""))  # noqa: S704 - html disabled above


@bp.app_template_filter("grades")
def grades_filter(event: Event) -> str:
    if event.audience == Audience.STUDENTS:
        if event.grades_min is not None and event.grades_max is not None:
            if event.grades_min == event.grades_max:
                return f"{event.grades_min} класс"
            return f"{event.grades_min}–{event.grades_max} классы"
        if event.grades_min is not None:
            return f"с {event.grades_min} класса"
        if event.grades_max is not None:
            return f"до {event.grades_max} класса"
        return "все классы"
    return ""


# --- helpers ------------------------------------------------------------------------------

def _event_or_404(event_id: int) -> Event:
    event = db.session.get(Event, event_id)
    if event is None or not can_view_event(current_user, event):
        abort(404)
    return event


def _managed_event(event_id: int) -> Event:
    """The event if the current user may manage it: 404 when they may not even see it."""
    event = _event_or_404(event_id)
    if not can_manage_event(current_user, event):
        abort(403)
    return event


def _category_choices(current: Category | None = None) -> list[tuple[str, str]]:
    categories = Category.query.filter(
        sa.or_(Category.active.is_(True), Category.id == (current.id if current else -1))
    ).order_by(Category.sort_order, Category.name).all()
    return [(c.code, c.name) for c in categories]


def _prepare_early_field(form: EventForm) -> None:
    """The hint under «ранняя профориентация» states the city's rule of the current academic
    year (the «По правилу города» choice, the default, applies it when the event is saved)."""
    year = current_academic_year()
    form.early_hint = (f"Правило города на {academic_year_title(year)} учебный год: ранние — "
                       f"{early_rule_text(year)}. Для мероприятия берётся правило учебного "
                       "года, в котором оно начинается. Можно выбрать «Да» или «Нет» "
                       "самостоятельно.")


def _prepare_event_form(form: EventForm, event: Event | None = None) -> EventForm:
    _prepare_early_field(form)
    form.category.choices = choices([("", "— выберите категорию —")] + _category_choices(
        event.category if event else None))
    form.roadmap_item.choices = choices([("", "— не относится к пункту дорожной карты —")] + [
        (item.number, f"{item.number}. {_shorten(item.title, 110)}")
        for item in RoadmapItem.query.order_by(RoadmapItem.sort_order).all()])
    current = event.profminimum_format if event else None
    form.profminimum_format.choices = choices([("", "— не указан —")] + [
        (f.code, f.name) for f in ProfminimumFormat.query.order_by(
            ProfminimumFormat.sort_order, ProfminimumFormat.id).all()
        if f.active or f is current])
    if current_user.role == Role.ADMIN:
        orgs = in_name_order(Organization.query.filter_by(active=True).all())
        form.organizer_id.choices = choices([(0, "— моя организация —")] + [
            (org.id, org.name) for org in orgs])
    else:
        del form.organizer_id
        del form.school_internal
    organizer_id = event.organizer_id if event else current_user.organization_id
    teachers = Teacher.query.filter_by(organization_id=organizer_id, active=True).filter(
        Teacher.anonymized_at.is_(None)).order_by(
        folded(Teacher.last_name), folded(Teacher.first_name), Teacher.id).all() \
        if organizer_id else []
    if teachers:
        form.staff_ids.choices = choices([(t.id, t.full_name) for t in teachers])
    else:
        del form.staff_ids
    return form


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _filters_from_request():
    form = CatalogueFilterForm(formdata=request.args)
    form.category.choices = choices([("", "Все категории")] + _category_choices())
    organizers = in_name_order(
        Organization.query.filter(Organization.active.is_(True))
        .filter(Organization.id.in_(sa.select(Event.organizer_id).where(
            Event.status == EventStatus.PUBLISHED, Event.school_internal.is_(False)))).all(),
        shown="display_name")
    form.organizer.choices = choices([("", "Все организаторы")] + [
        (str(org.id), org.display_name) for org in organizers])
    form.validate()

    def ok(field):
        return None if field.errors else field.data

    audience = ok(form.audience)
    organizer = ok(form.organizer)
    filters = CatalogueFilters(
        q=(ok(form.q) or "").strip() or None,
        category=ok(form.category) or None,
        date_from=ok(form.date_from),
        date_to=None if form.date_to.errors else form.date_to.data,
        audience=Audience(audience) if audience else None,
        grade=ok(form.grade),
        early=bool(form.early.data),
        ovz=bool(form.ovz.data),
        organizer_id=int(organizer) if organizer else None,
    )
    return form, filters


def _filter_args() -> dict:
    """The current filter arguments without the page number (for links and the feed)."""
    return {k: v for k, v in request.args.items(multi=False) if k != "page" and v}


# --- catalogue and event pages ------------------------------------------------------------

@bp.get("/events")
def catalogue():
    form, filters = _filters_from_request()
    page = page_arg()
    events, total = run_page(catalogue_query(current_user, filters), page)
    paging = Paging(page=page, per_page=PAGE_SIZE, total=total)
    counts = svc.event_counts([e.id for e in events])
    args = _filter_args()
    base = current_app.config["PROFROUTE_BASE_URL"].rstrip("/")
    feed_url = base + url_for("events.feed", **args)
    return render_template(
        "events/catalogue.html", form=form, events=events, paging=paging, counts=counts,
        args=args, feed_url=feed_url, filtered=not filters.is_empty(),
        filters_chosen=len(args)), \
        404 if paging.past_end else 200


@bp.get("/events/<int:event_id>")
def detail(event_id: int):
    event = _event_or_404(event_id)
    registered, checked_in = svc.event_counts([event.id])[event.id]
    actions = render_sections(EVENT_PAGE_ACTIONS, event, current_user)
    sections = render_sections(EVENT_PAGE_SECTIONS, event, current_user)
    return render_template(
        "events/detail.html", event=event, registered=registered,
        seats_left=max(event.capacity - registered, 0), actions=actions, sections=sections,
        can_manage=can_manage_event(current_user, event), now=now_utc())


@bp.get("/events/<int:event_id>.ics")
def event_ics(event_id: int):
    event = _event_or_404(event_id)
    body = calendar_bytes([event], event.title)
    return Response(body, mimetype="text/calendar", headers={
        "Content-Disposition": f'attachment; filename="event-{event.id}.ics"'})


@bp.get("/events/feed.ics")
def feed():
    """The catalogue's filtered view as a calendar subscription. Calendar services poll it, so
    unchanged answers are served from a small cache and as 304 to conditional requests."""
    _form, filters = _filters_from_request()
    stmt = catalogue_query(current_user, filters, include_cancelled=True,
                           past_days=FEED_PAST_DAYS)
    matching = stmt.order_by(None).subquery()
    count, latest, top = db.session.execute(sa.select(
        sa.func.count(), sa.func.max(matching.c.updated_at), sa.func.max(matching.c.id))).one()
    scope = current_user.organization_id if current_user.is_authenticated else "-"
    etag = hashlib.sha256(repr((
        sorted(request.args.items(multi=True)), scope, count, str(latest), top,
        now_utc().strftime("%Y%m%d%H"), current_app.config["PROFROUTE_BASE_URL"],
    )).encode()).hexdigest()[:32]
    body = _FEED_CACHE.get(etag)
    if body is None:
        events = db.session.execute(
            stmt.options(sa.orm.joinedload(Event.organizer), sa.orm.joinedload(Event.category))
            .order_by(Event.starts_at, Event.id).limit(FEED_LIMIT)).unique().scalars().all()
        name = "Профмаршрут: мероприятия" + (" (с фильтром)" if not filters.is_empty() else "")
        body = calendar_bytes(events, name)
        _FEED_CACHE.put(etag, body)
    response = Response(body, mimetype="text/calendar", headers={
        "Content-Disposition": 'inline; filename="profroute-events.ics"',
        "Cache-Control": ("private" if current_user.is_authenticated else "public")
        + ", max-age=300"})
    response.set_etag(etag)
    return response.make_conditional(request)


class _SmallCache:
    """A bounded, thread-safe map of recent feed bodies (per process)."""

    def __init__(self, size: int):
        self.size = size
        self.items: OrderedDict[str, bytes] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def put(self, key: str, value: bytes) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)


_FEED_CACHE = _SmallCache(64)


# --- organizer pages ----------------------------------------------------------------------

MY_EVENTS_TABS = {
    "upcoming": "Предстоящие",
    "drafts": "Черновики",
    "past": "Прошедшие",
    "cancelled": "Отменённые",
}


@bp.get("/organizer/events")
@roles_required(*EVENT_MANAGERS)
def my_events():
    tab = request.args.get("tab", "upcoming")
    if tab not in MY_EVENTS_TABS:
        tab = "upcoming"
    now = now_utc()
    query = events_managed_by(current_user)
    if tab == "upcoming":
        query = query.filter(Event.status == EventStatus.PUBLISHED, Event.ends_at >= now)
        order = (Event.starts_at, Event.id)
    elif tab == "drafts":
        query = query.filter(Event.status == EventStatus.DRAFT)
        order = (Event.starts_at, Event.id)
    elif tab == "past":
        query = query.filter(Event.status == EventStatus.PUBLISHED, Event.ends_at < now)
        order = (Event.starts_at.desc(), Event.id.desc())
    else:
        query = query.filter(Event.status == EventStatus.CANCELLED)
        order = (Event.starts_at.desc(), Event.id.desc())
    paging = Paging(page=page_arg(), per_page=50, total=query.count())
    events = [] if paging.past_end else (
        query.options(sa.orm.joinedload(Event.organizer), sa.orm.joinedload(Event.category))
        .order_by(*order).offset(paging.offset).limit(paging.per_page).all())
    counts = svc.event_counts([e.id for e in events])
    return render_template("events/my_events.html", events=events, counts=counts, tab=tab,
                           tabs=MY_EVENTS_TABS, paging=paging), \
        404 if paging.past_end else 200


@bp.route("/organizer/events/new", methods=["GET", "POST"])
@roles_required(*EVENT_MANAGERS)
def new_event():
    form = _prepare_event_form(EventForm())
    if request.method == "GET" and current_user.role == Role.COORDINATOR:
        form.category.data = "school_internal"
    if form.validate_on_submit():
        with unit_of_work(form) as uow:
            event = svc.create_event(current_user, confirm_past=form.confirm_past.data,
                                     **form.service_values())
        if uow.ok:
            flash("Черновик мероприятия сохранён. Проверьте его и опубликуйте.", "success")
            return redirect(url_for("events.manage", event_id=event.id), 303)
    return render_template("events/event_form.html", form=form, event=None,
                           title="Новое мероприятие")


@bp.get("/organizer/events/<int:event_id>")
@roles_required(*EVENT_MANAGERS)
def manage(event_id: int):
    event = _managed_event(event_id)
    registered, checked_in = svc.event_counts([event.id])[event.id]
    sections = render_sections(EVENT_MANAGE_SECTIONS, event)
    return render_template("events/manage.html", event=event, registered=registered,
                           checked_in=checked_in, sections=sections, now=now_utc())


@bp.route("/organizer/events/<int:event_id>/edit", methods=["GET", "POST"])
@roles_required(*EVENT_MANAGERS)
def edit_event(event_id: int):
    event = _managed_event(event_id)
    if event.status == EventStatus.CANCELLED:
        flash("Отменённое мероприятие изменить нельзя. Можно создать его копию.", "warning")
        return redirect(url_for("events.manage", event_id=event.id), 303)
    form = _prepare_event_form(EventForm(), event)
    if request.method == "GET":
        form.fill_from(event)
    if form.validate_on_submit():
        with unit_of_work(form) as uow:
            event = svc.update_event(current_user, event, confirm_past=form.confirm_past.data,
                                     **form.service_values())
        if uow.ok:
            flash("Изменения сохранены.", "success")
            return redirect(url_for("events.manage", event_id=event.id), 303)
    told = people_to_tell(event) if event.status == EventStatus.PUBLISHED else None
    return render_template("events/event_form.html", form=form, event=event, told=told,
                           title="Изменить мероприятие")


@bp.post("/organizer/events/<int:event_id>/duplicate")
@roles_required(*EVENT_MANAGERS)
def duplicate(event_id: int):
    event = _managed_event(event_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    with unit_of_work():
        copy = svc.duplicate_event(current_user, event)
    flash("Создана копия-черновик. Укажите новую дату и сохраните.", "success")
    return redirect(url_for("events.edit_event", event_id=copy.id), 303)


@bp.route("/organizer/events/<int:event_id>/repeat", methods=["GET", "POST"])
@roles_required(*EVENT_MANAGERS)
def repeat(event_id: int):
    event = _managed_event(event_id)
    form = RepeatForm()
    if form.validate_on_submit():
        if form.mode.data == "weekly":
            dates = svc.repeat_dates_weekly(event, form.count.data)
        else:
            dates = parse_dates(form.dates.data)
        with unit_of_work(form) as uow:
            copies = svc.repeat_event(current_user, event, dates, publish=form.publish.data,
                                      confirm_past=form.confirm_past.data)
        if uow.ok:
            state = "опубликованы" if form.publish.data else "сохранены как черновики"
            flash(f"Создано копий: {len(copies)} ({state}): "
                  + ", ".join(f"{c.starts_at.astimezone(TOMSK):%d.%m.%Y}" for c in copies)
                  + ".", "success")
            return redirect(url_for("events.my_events",
                                    tab="upcoming" if form.publish.data else "drafts"), 303)
    return render_template("events/repeat.html", form=form, event=event)


@bp.post("/organizer/events/<int:event_id>/publish")
@roles_required(*EVENT_MANAGERS)
def publish(event_id: int):
    event = _managed_event(event_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    with unit_of_work(flash_errors=True) as uow:
        svc.publish_event(current_user, event)
    if uow.ok:
        flash("Мероприятие опубликовано: оно видно в каталоге"
              + (" вашей школы." if event.school_internal else "."), "success")
    return redirect(url_for("events.manage", event_id=event.id), 303)


@bp.route("/organizer/events/<int:event_id>/cancel", methods=["GET", "POST"])
@roles_required(*EVENT_MANAGERS)
def cancel(event_id: int):
    event = _managed_event(event_id)
    if event.status == EventStatus.CANCELLED:
        flash("Мероприятие уже отменено.", "info")
        return redirect(url_for("events.manage", event_id=event.id), 303)
    form = CancelForm()
    if form.validate_on_submit():
        with unit_of_work(form) as uow:
            svc.cancel_event(current_user, event, form.reason.data)
        if uow.ok:
            flash("Мероприятие отменено. Записавшиеся увидят причину отмены.", "success")
            return redirect(url_for("events.manage", event_id=event.id), 303)
    registered, _ = svc.event_counts([event.id])[event.id]
    return render_template("events/cancel.html", form=form, event=event,
                           registered=registered)


# --- categories (admin) -------------------------------------------------------------------

@bp.route("/organizer/categories", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def categories():
    form = CategoryForm()
    if form.validate_on_submit():
        with unit_of_work(form) as uow:
            category = svc.create_category(current_user, form.code.data, form.name.data)
        if uow.ok:
            flash(f"Категория «{category.name}» добавлена.", "success")
            return redirect(url_for("events.categories"), 303)
    usage = dict(db.session.query(Event.category_id, sa.func.count(Event.id))
                 .group_by(Event.category_id).all())
    rows = Category.query.order_by(Category.sort_order, Category.name).all()
    return render_template("events/categories.html", form=form, categories=rows, usage=usage)


# --- organizer profiles («Карта ресурсов», roadmap 1.9) -----------------------------------

def _upcoming_counts() -> dict[int, int]:
    return dict(db.session.query(Event.organizer_id, sa.func.count(Event.id)).filter(
        Event.status == EventStatus.PUBLISHED, Event.school_internal.is_(False),
        Event.ends_at >= now_utc()).group_by(Event.organizer_id).all())


@bp.get("/organizers")
def organizers():
    kind_value = request.args.get("kind", "")
    kinds = [k for k in DIRECTORY_KINDS if k.value == kind_value] or list(DIRECTORY_KINDS)
    orgs = in_name_order(Organization.query.filter(Organization.active.is_(True),
                                                   Organization.kind.in_(kinds)).all(),
                         by_kind=True)
    return render_template("events/organizers.html", organizations=orgs,
                           upcoming=_upcoming_counts(), kinds=DIRECTORY_KINDS,
                           kind=kind_value if len(kinds) == 1 else "")


def _profile_org(org_id: int) -> Organization:
    org = db.session.get(Organization, org_id)
    if org is None or not org.active:
        abort(404)
    own = current_user.is_authenticated and (current_user.role == Role.ADMIN
                                             or current_user.organization_id == org.id)
    if org.kind not in DIRECTORY_KINDS and not own:
        abort(404)
    return org


@bp.get("/organizers/<int:org_id>")
def organizer_profile(org_id: int):
    org = _profile_org(org_id)
    stmt = catalogue_query(current_user, CatalogueFilters(organizer_id=org.id))
    events, total = run_page(stmt, 1, page_size=10)
    counts = svc.event_counts([e.id for e in events])
    can_edit = current_user.is_authenticated and (
        current_user.role == Role.ADMIN or current_user.organization_id == org.id)
    return render_template("events/organizer.html", org=org, events=events, total=total,
                           counts=counts, can_edit=can_edit)


@bp.route("/organizers/<int:org_id>/edit", methods=["GET", "POST"])
@roles_required(*EVENT_MANAGERS)
def edit_profile(org_id: int):
    org = _profile_org(org_id)
    if current_user.role != Role.ADMIN and current_user.organization_id != org.id:
        abort(403)
    form = ProfileForm(obj=org)
    if form.validate_on_submit():
        with unit_of_work(form) as uow:
            svc.update_profile(current_user, org, **{name: getattr(form, name).data
                                                     for name in svc.PROFILE_FIELDS})
        if uow.ok:
            flash("Профиль организации сохранён.", "success")
            return redirect(url_for("events.organizer_profile", org_id=org.id), 303)
    return render_template("events/profile_form.html", form=form, org=org)


# --- dashboard ----------------------------------------------------------------------------

def dashboard_section():
    """«Главная» of organizers and coordinators: their next events and drafts."""
    if not current_user.is_authenticated or current_user.role not in (Role.ORGANIZER,
                                                                      Role.COORDINATOR):
        return []
    own = Event.query.filter(Event.organizer_id == current_user.organization_id)
    upcoming = (own.filter(Event.status == EventStatus.PUBLISHED, Event.ends_at >= now_utc())
                .order_by(Event.starts_at, Event.id).limit(5).all())
    drafts = own.filter(Event.status == EventStatus.DRAFT).count()
    return [("events/_dashboard.html", {
        "events": upcoming, "counts": svc.event_counts([e.id for e in upcoming]),
        "drafts": drafts})]




