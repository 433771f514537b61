"""«Письма»: what a coordinator is sent, and the weekly digest they may switch off
(``webapp.schools.mailings``)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from models import Role, record_audit
from webapp.access import roles_required
from webapp.schools import bp
from webapp.schools.context import current_school
from webapp.schools.forms import MailSettingsForm
from webapp.transaction import unit_of_work


@bp.route("/school/mail", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def mail_settings():
    school = current_school()
    form = MailSettingsForm()
    if form.validate_on_submit():
        with unit_of_work(form) as uow:
            current_user.weekly_digest = bool(form.weekly_digest.data)
            record_audit(current_user, "user.mail_settings", current_user,
                         weekly_digest=current_user.weekly_digest)
        if uow.ok:
            flash("Подборка новых мероприятий включена: она будет приходить раз в неделю."
                  if current_user.weekly_digest else
                  "Подборка новых мероприятий отключена. Уведомления о ваших заявках "
                  "приходят по-прежнему.", "success")
            return redirect(url_for("schools.mail_settings"), 303)
    elif not form.is_submitted():
        form.weekly_digest.data = current_user.weekly_digest
    return render_template("schools/mail_settings.html", school=school, form=form,
                           title="Письма")
