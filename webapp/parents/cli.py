"""``flask --app wsgi send-mail`` and ``erase-parent-data`` (both safe to run from cron);
``send-reminders`` lives in ``webapp/cli.py``: it reminds coordinators too."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask

from models import db, now_utc
from webapp.mail import deliver_outbox, outbox_counts, prune_outbox
from webapp.parents.services import erase_past_parent_data


def register_parents_commands(app: Flask) -> None:
    @app.cli.command("send-mail")
    @click.option("--limit", type=int, default=None, help="Не больше стольких писем за запуск.")
    def send_mail(limit):
        """Deliver the queued e-mails (SMTP, or .eml files without MAIL_SERVER), then apply
        the outbox retention (webapp.mail.prune_outbox)."""
        report = deliver_outbox(limit=limit)
        pruned = prune_outbox()
        db.session.commit()
        counts = outbox_counts()
        click.echo(f"Отправлено: {report.sent}; осталось в очереди: "
                   f"{counts.get('pending', 0) + counts.get('sending', 0)}; "
                   f"не доставлено окончательно: {counts.get('failed', 0)}.")
        if pruned.sent or pruned.unsent:
            click.echo(f"Срок хранения: удалены адреса отправленных писем — {pruned.sent}, "
                       f"недоставленные письма — {pruned.unsent}.")
        for error in report.errors[:20]:
            click.echo(f"  {error}", err=True)

    @app.cli.command("erase-parent-data")
    @click.option("--days", type=int, default=365, show_default=True,
                  help="Удалить имена и контакты родителей мероприятий, прошедших больше "
                       "стольких дней назад.")
    def erase_parent_data(days):
        """Remove parents' names and contacts after the retention period (counts stay)."""
        if days < 0:
            raise click.BadParameter("Число дней не может быть отрицательным.")
        count = erase_past_parent_data(now_utc() - timedelta(days=days))
        db.session.commit()
        click.echo(f"Удалены имена и контакты родителей: {count}.")
