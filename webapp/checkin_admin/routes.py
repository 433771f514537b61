"""Organizer pages of one event's door (URLs fixed in docs/api.md)."""

from __future__ import annotations

import base64
import io
from datetime import UTC

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload

from checkin.door.links import (
    DEFAULT_VALIDITY_AFTER_END,
    create_scanner_link,
    default_expiry,
    link_url,
    links_of_event,
    revoke_scanner_link,
)
from checkin.door.lookups import holders_of, live_summary
from checkin.door.scans import FLAG_LATE_REFUSED, FLAG_LATE_SYNC, FLAG_TITLES, undo_checkin
from checkin.door.walkins import pending_walk_ins
from checkin.seats.tickets import qr_png
from errors import ServiceError
from formats.timefmt import TOMSK
from models import Event, Role, Scan, ScannerLink, ScanOutcome, User, WalkIn, db, now_utc
from webapp import walk_in_pages
from webapp.access import can_manage_event, roles_required
from webapp.checkin_admin import bp
from webapp.checkin_admin.door_list import door_list_xlsx
from webapp.checkin_admin.forms import ScanFilterForm, ScannerLinkForm, UndoForm
from webapp.forms import EmptyForm
from webapp.input_guard import safe_next_url
from webapp.services.personal_data import record_personal_export
from webapp.transaction import unit_of_work

DOOR_STAFF = (Role.ADMIN, Role.ORGANIZER, Role.COORDINATOR)
PAGE_SIZE = 100
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def managed_event(event_id: int) -> Event:
    event = db.session.get(Event, event_id)
    if event is None:
        abort(404)
    if not can_manage_event(current_user, event):
        abort(403)
    return event


def local_seconds(value) -> str:
    """ЧЧ:ММ:СС in Tomsk: scans a few seconds apart must be told apart in the log."""
    return value.astimezone(TOMSK).strftime("%H:%M:%S")


def flag_titles(flag: str | None) -> list[str]:
    return [FLAG_TITLES.get(f, f) for f in (flag or "").split(",") if f]


# --------------------------------------------------------------------------- scanner links

@bp.route("/organizer/events/<int:event_id>/scanner-links", methods=["GET", "POST"])
@roles_required(*DOOR_STAFF)
def scanner_links(event_id: int):
    event = managed_event(event_id)
    form = ScannerLinkForm()
    created = None
    if form.validate_on_submit():
        expires_at = None
        if form.expires_at.data is not None:
            expires_at = form.expires_at.data.replace(tzinfo=TOMSK).astimezone(UTC)
        with unit_of_work(form) as uow:
            link, token = create_scanner_link(current_user, event, label=form.label.data,
                                              gate=form.gate.data, expires_at=expires_at)
        if uow.ok:
            url = link_url(token)
            created = {"link": link, "url": url,
                       "qr": base64.b64encode(qr_png(url, box_size=8)).decode()}
            form = ScannerLinkForm(formdata=None)
    links = links_of_event(event)
    counts = dict(db.session.execute(
        sa.select(Scan.scanner_link_id, sa.func.count()).where(Scan.event_id == event.id,
                                                               Scan.scanner_link_id.isnot(None))
        .group_by(Scan.scanner_link_id)).all())
    status = 201 if created else (422 if form.errors or form.form_errors else 200)
    return render_template("checkin_admin/scanner_links.html", event=event, form=form,
                           links=links, counts=counts, created=created, now=now_utc(),
                           default_expiry=default_expiry(event),
                           validity_hours=int(DEFAULT_VALIDITY_AFTER_END.total_seconds() // 3600),
                           title=f"Ссылки для сканирования — {event.title}"), status


@bp.post("/organizer/events/<int:event_id>/scanner-links/<int:link_id>/revoke")
@roles_required(*DOOR_STAFF)
def revoke_link(event_id: int, link_id: int):
    event = managed_event(event_id)

    if not EmptyForm().validate_on_submit():
        abort(400)
    link = db.session.get(ScannerLink, link_id)
    if link is None or link.event_id != event.id:
        abort(404)
    with unit_of_work(catch=ServiceError) as uow:
        revoke_scanner_link(current_user, link)
    if uow.error is not None:
        err = uow.error
        flash(err.message, "warning")
    else:
        flash(f"Ссылка «{link.label or link.gate or 'без названия'}» отозвана: сканировать по "
              "ней больше нельзя.", "success")
    return redirect(url_for("checkin_admin.scanner_links", event_id=event.id), 303)


# --------------------------------------------------------------------------- live board

@bp.get("/organizer/events/<int:event_id>/board")
@roles_required(*DOOR_STAFF)
def board(event_id: int):
    event = managed_event(event_id)
    return render_template("checkin_admin/board.html", event=event, live=live_summary(event),
                           title=f"Табло — {event.title}")


# --------------------------------------------------------------------------- scan log

@bp.get("/organizer/events/<int:event_id>/scans")
@roles_required(*DOOR_STAFF)
def scans(event_id: int):
    event = managed_event(event_id)
    filters = ScanFilterForm(request.args)
    query = sa.select(Scan).where(Scan.event_id == event.id)
    if filters.validate():
        if filters.outcome.data:
            query = query.where(Scan.outcome == ScanOutcome(filters.outcome.data))
        if filters.flagged.data:
            query = query.where(Scan.flag.isnot(None))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    rows = db.session.execute(
        query.options(joinedload(Scan.user), joinedload(Scan.scanner_link),
                      joinedload(Scan.attendance_import))
        .order_by(Scan.scanned_at.desc(), Scan.id.desc())
        .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).unique().scalars().all()
    undoers = {u.id: u for u in User.query.filter(
        User.id.in_({r.undone_by_id for r in rows if r.undone_by_id}))} if rows else {}
    flagged_total = db.session.scalar(sa.select(sa.func.count()).where(
        Scan.event_id == event.id, Scan.flag.isnot(None)))
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template(
        "checkin_admin/scans.html", event=event, rows=rows, filters=filters, page=page,
        holders=holders_of(event.id, rows),
        pages=pages, total=total, flagged_total=flagged_total, undoers=undoers, args=args,
        undo_forms={r.id: UndoForm(prefix=f"undo-{r.id}", formdata=None) for r in rows},
        flag_titles=flag_titles, local_seconds=local_seconds, ScanOutcome=ScanOutcome,
        title=f"Журнал сканирований — {event.title}")


@bp.post("/organizer/events/<int:event_id>/scans/<int:scan_id>/undo")
@roles_required(*DOOR_STAFF)
def undo(event_id: int, scan_id: int):
    event = managed_event(event_id)
    form = UndoForm(prefix=f"undo-{scan_id}")
    target = safe_next_url(request.form.get("next"), prefix=f"/organizer/events/{event.id}/") \
        or url_for("checkin_admin.scans", event_id=event.id)
    if not form.validate_on_submit():
        messages = [m for errors in form.errors.values() for m in errors]
        flash("Отметка не отменена: " + (" ".join(messages) or "форма устарела, обновите "
                                                               "страницу."), "danger")
        return redirect(target, 303)
    with unit_of_work(catch=ServiceError) as uow:
        scan = undo_checkin(current_user, event, scan_id, form.reason.data)
    if uow.error is not None:
        err = uow.error
        flash("Отметка не отменена: " + err.message, "danger")
        return redirect(target, 303)
    holder = holders_of(event.id, [scan]).get(scan.ticket_id)
    name = holder.name if holder else "участника"
    flash(f"Отметка {name} отменена. Теперь он(а) считается не пришедшим(ей).", "success")
    return redirect(target, 303)


# --------------------------------------------------------------------------- door review

def late_scans(event: Event) -> list[Scan]:
    """Scans that reached the server after check-in closed: counted within the grace period
    (``late_sync``) or refused after it (``late_sync_refused``)."""
    rows = db.session.execute(
        sa.select(Scan).where(Scan.event_id == event.id, Scan.flag.isnot(None),
                              Scan.flag.like("%late_sync%"))
        .options(joinedload(Scan.scanner_link), joinedload(Scan.user))
        .order_by(Scan.received_at.desc(), Scan.id.desc()).limit(PAGE_SIZE)
    ).unique().scalars().all()
    return [r for r in rows if {FLAG_LATE_SYNC, FLAG_LATE_REFUSED} & set(r.flag.split(","))]


@bp.get("/organizer/events/<int:event_id>/door-review")
@roles_required(*DOOR_STAFF)
def door_review(event_id: int):
    """What the door left for the organizer: walk-ins waiting for confirmation and scans
    synced after check-in closed."""
    event = managed_event(event_id)
    late = late_scans(event)
    return render_template(
        "checkin_admin/door_review.html", event=event, walk_ins=pending_walk_ins(event.id),
        late=late, holders=holders_of(event.id, late), form=EmptyForm(),
        flag_titles=flag_titles, local_seconds=local_seconds, FLAG_LATE_SYNC=FLAG_LATE_SYNC,
        title=f"Проверка после входа — {event.title}")


@bp.post("/organizer/events/<int:event_id>/walk-ins/<int:walk_in_id>/<any(confirm, reject):action>")
@roles_required(*DOOR_STAFF)
def decide_walk_in(event_id: int, walk_in_id: int, action: str):
    event = managed_event(event_id)
    if not EmptyForm().validate_on_submit():
        flash("Форма устарела: обновите страницу и повторите.", "danger")
        return redirect(url_for("checkin_admin.door_review", event_id=event.id), 303)
    walk_in = db.session.get(WalkIn, walk_in_id)
    if walk_in is None or walk_in.event_id != event.id:
        flash("Такой записи нет: её уже подтвердили или отклонили.", "warning")
        return redirect(url_for("checkin_admin.door_review", event_id=event.id), 303)
    walk_in_pages.decide_walk_in(walk_in, action)
    return redirect(url_for("checkin_admin.door_review", event_id=event.id), 303)


# --------------------------------------------------------------------------- the door list

@bp.get("/organizer/events/<int:event_id>/door-list.xlsx")
@roles_required(*DOOR_STAFF)
def door_list(event_id: int):
    event = managed_event(event_id)
    data = door_list_xlsx(event)
    with unit_of_work():
        record_personal_export(current_user, "door_list", event, format="xlsx")
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True,
                     download_name=f"список-на-входе-{event.id}.xlsx")
