"""The organizer invites a school at risk to an event (issue #15, item 6): POST from the
section «Школы, которым это мероприятие поможет» of the organizer's event page."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_login import current_user

from errors import ConflictError
from formats.timefmt import format_datetime
from models import Event, Organization, Role, SchoolInvitation, db
from webapp.access import can_manage_event, roles_required
from webapp.forms import EmptyForm
from webapp.reports.gap_sections import event_demand
from webapp.schools import bp
from webapp.schools.invitations import invite_school
from webapp.transaction import unit_of_work


@bp.post("/organizer/events/<int:event_id>/invitations/<int:org_id>")
@roles_required(Role.ORGANIZER, Role.ADMIN)
def invite(event_id: int, org_id: int):
    event = db.session.get(Event, event_id)
    if event is None:
        abort(404)
    if not can_manage_event(current_user, event):
        abort(403)
    # Back to the top of the page, where the message is shown (the row then says it was sent).
    back = url_for("events.manage", event_id=event.id)
    if not EmptyForm().validate_on_submit():
        flash("Форма устарела: обновите страницу и повторите.", "danger")
        return redirect(back, 303)
    school = db.session.get(Organization, org_id)
    if school is None:
        abort(404)
    sent = SchoolInvitation.query.filter_by(event_id=event.id, organization_id=school.id).first()
    if sent is not None:
        flash(f"Приглашение школе «{school.display_name}» уже отправлено "
              f"{format_datetime(sent.created_at)}.", "info")
        return redirect(back, 303)
    demand = next((d for d in event_demand(event) if d.organization.id == school.id), None)
    if demand is None:
        flash(f"«{school.display_name}» сейчас не в списке: школа уже записалась, её прогноз "
              "дошёл до цели, для неё нет мест или запись закрыта.", "warning")
        return redirect(back, 303)
    with unit_of_work(catch=ConflictError) as uow:
        _invitation, letters = invite_school(current_user, event, school, demand)
    if uow.error is not None:
        flash(uow.error.message, "info")
    elif letters:
        flash(f"Приглашение отправлено: «{school.display_name}» увидит его на своих страницах, "
              "профкоординатору школы ушло письмо.", "success")
    else:
        flash(f"Приглашение отправлено: «{school.display_name}» увидит его на своих страницах. "
              "Письмо не ушло: у школы нет профкоординатора с учётной записью.", "success")
    return redirect(back, 303)
