"""CLI commands of docs/api.md: ``demo``, ``users create``, ``tokens create``, the letters cron
sends (``send-reminders``, ``send-digest``; ``db`` comes from Flask-Migrate)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from errors import ServiceError
from formats.person_names import FIELD_LABELS, person_name_error
from models import ApiToken, Organization, Role, User, db, record_audit
from models.user import normalize_email
from webapp.demo import DEMO_LOGINS, database_is_empty, load_demo
from webapp.demo.directory import DEMO_PASSWORD
from webapp.mail import deliver_outbox
from webapp.parents.cli import register_parents_commands  # parents area: send-mail, reminders
from webapp.parents.emails import queue_reminders
from webapp.schools.mailings import queue_coordinator_reminders, queue_digests
from webapp.services import personal_data


def register_commands(app: Flask) -> None:
    users = AppGroup("users", help="Пользователи.")
    tokens = AppGroup("tokens", help="API-токены.")

    @users.command("create")
    @click.option("--email", required=True)
    @click.option("--password", required=True)
    @click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
    @click.option("--org", "org_id", type=int, default=None, help="id организации")
    @click.option("--name", "full_name", default="")
    def create_user(email, password, role, org_id, full_name):
        """Create a user; prints the new user's id as the last line."""
        email = normalize_email(email)
        role = Role(role)
        if User.query.filter_by(email=email).first():
            raise click.ClickException(f"Пользователь {email} уже существует.")
        if role != Role.ADMIN and org_id is None:
            raise click.ClickException("Для организатора и координатора укажите --org.")
        if org_id is not None and db.session.get(Organization, org_id) is None:
            raise click.ClickException(f"Организация {org_id} не найдена.")
        if len(password) < 4:
            raise click.ClickException("Пароль слишком короткий.")
        name_error = person_name_error(full_name.strip(), FIELD_LABELS["full_name"])
        if name_error:
            raise click.ClickException(name_error)
        user = User(email=email, role=role, organization_id=org_id, full_name=full_name,
                    active=True)
        user.set_password(password)
        db.session.add(user)
        db.session.flush()
        record_audit(None, "user.create", user, via="cli", role=role.value)
        db.session.commit()
        click.echo(user.id)

    @tokens.command("create")
    @click.option("--email", required=True)
    @click.option("--name", default="CLI")
    def create_token(email, name):
        """Create an API token for a user; prints only the token."""
        user = User.query.filter_by(email=normalize_email(email)).first()
        if user is None or not user.active:
            raise click.ClickException(f"Активный пользователь {email} не найден.")
        row, plain = ApiToken.issue(user, name)
        db.session.flush()
        record_audit(None, "token.create", row, via="cli", user_id=user.id)
        db.session.commit()
        click.echo(plain)

    @app.cli.command("demo")
    @click.option("--size", type=click.Choice(["small", "city"]), default="small")
    @click.option("--if-empty", is_flag=True, help="Загрузить, только если база пуста.")
    def demo(size, if_empty):
        """Load the deterministic demo data set."""
        if not database_is_empty():
            if if_empty:
                click.echo("База не пуста: демо-данные не загружаются.")
                return
            raise click.ClickException("База не пуста. Демо-данные загружаются в пустую базу.")
        load_demo(size)
        click.echo(f"Демо-данные загружены. Входы (пароль «{DEMO_PASSWORD}»):")
        for email, who in DEMO_LOGINS:
            click.echo(f"  {email} — {who}")

    @app.cli.command("anonymize-year")
    @click.argument("year", type=int)
    @click.option("--yes", is_flag=True, help="Не спрашивать подтверждения.")
    def anonymize_year_command(year, yes):
        """Anonymize a past academic year (YEAR is the year it starts in: 2024 = 2024/25).

        Names, contacts and external ids of that year's people are removed for good; the
        indicators of every period stay the same (docs/security.md)."""
        try:
            plan = personal_data.plan_year(year)
        except ServiceError as err:
            raise click.ClickException(err.message) from err
        counts = plan.counts()
        click.echo(f"Учебный год {plan.title}: мероприятий — {counts['events']}, обучающихся — "
                   f"{counts['students']}, педагогов — {counts['teachers']}, записей родителей "
                   f"— {counts['parent_signups']}, заявок педагогов — "
                   f"{counts['teacher_signups']}.")
        if not yes and not click.confirm("Обезличить безвозвратно?", default=False):
            raise click.ClickException("Отменено: ничего не изменено.")
        plan = personal_data.anonymize_year(None, year, via="cli")
        db.session.commit()
        click.echo(f"Учебный год {plan.title} обезличен.")

    @app.cli.command("send-reminders")
    @click.option("--no-send", is_flag=True, help="Только поставить в очередь, не отправлять.")
    def send_reminders(no_send):
        """Queue (and send) the reminders the day before: parents and teachers with a ticket,
        and the coordinators of schools with a group registered; nobody gets two."""
        queued = queue_reminders()
        coordinators = queue_coordinator_reminders()
        db.session.commit()
        click.echo(f"Напоминаний поставлено в очередь: {queued}; координаторам школ: "
                   f"{coordinators}.")
        if not no_send:
            report = deliver_outbox()
            click.echo(f"Отправлено писем: {report.sent}; в очереди: {report.deferred}.")

    @app.cli.command("send-digest")
    @click.option("--no-send", is_flag=True, help="Только поставить в очередь, не отправлять.")
    def send_digest(no_send):
        """Queue (and send) the weekly digest of new events to school coordinators; one per
        coordinator per week however often it runs (cron: once a week, e.g. Monday 8:00)."""
        report = queue_digests()
        db.session.commit()
        click.echo(f"Подборок поставлено в очередь: {report.queued}; уже отправлены на этой "
                   f"неделе: {report.already}; отключены координатором: "
                   f"{report.switched_off}.")
        if not no_send:
            sent = deliver_outbox()
            click.echo(f"Отправлено писем: {sent.sent}; в очереди: {sent.deferred}.")

    app.cli.add_command(users)
    app.cli.add_command(tokens)

    register_parents_commands(app)
