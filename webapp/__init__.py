"""Профмаршрут: the Flask application factory."""

from __future__ import annotations

import logging
import os

from flask import Flask, render_template, request
from sqlalchemy import text

import models  # noqa: F401  (register every model with the metadata)
from checkin.seats.capacity import SQLITE_AUTOCOMMIT_OPTION, SQLITE_IMMEDIATE_OPTION
from formats import timefmt
from formats.log_redaction import install_log_filters
from formats.text import plural
from models.base import SQLITE_BUSY_TIMEOUT_MS, register_sqlite_functions
from webapp import input_guard, security_headers
from webapp.admin import bp as admin_bp
from webapp.api import bp as api_bp
from webapp.api_errors import error_body
from webapp.auth import bp as auth_bp
from webapp.blueprints import FEATURE_BLUEPRINTS
from webapp.cli import register_commands
from webapp.config import DEV_SECRET_KEY, INSTANCE_DIR, Config, TestConfig
from webapp.extensions import csrf, db, login_manager, migrate
from webapp.forms import EmptyForm
from webapp.main import bp as main_bp
from webapp.navigation import nav_items
from webapp.notifications import connect_receivers
from webapp.page_sections import install_page_sections

log = logging.getLogger(__name__)


class ConfigurationError(RuntimeError):
    pass


def create_app(config: type | dict | None = None) -> Flask:
    """Build the application. ``config`` is a config class, a dict of overrides, or None."""
    app = Flask(__name__, instance_path=_instance_dir())
    app.config.from_object(Config)
    if isinstance(config, type):
        app.config.from_object(config)
    elif isinstance(config, dict):
        app.config.update(config)

    _refuse_insecure_production(app)
    if app.config.get("PROXY_COUNT"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    os.makedirs(app.instance_path, exist_ok=True)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # A file next to the process cannot drop a connection: no ping before every checkout.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}), "pool_pre_ping": False}

    # Names and messages are Cyrillic: sent as UTF-8 they take 2 bytes a letter instead of the
    # 6 of a \uXXXX escape (a scan's answer: 315 bytes instead of 470, on a venue's slow network).
    app.json.ensure_ascii = False

    input_guard.install(app)  # before the blueprints: their <int:...> ids use its converter
    db.init_app(app)
    migrate.init_app(app, db, directory=_migrations_dir())
    csrf.init_app(app)
    login_manager.init_app(app)
    _configure_sqlite(app)

    _register_blueprints(app)
    install_page_sections()
    connect_receivers()
    _register_template_helpers(app)
    _register_error_pages(app)
    _register_cli(app)

    @app.get("/healthz")
    def healthz():
        try:
            db.session.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any database failure means unhealthy
            log.exception("health check failed")
            return {"status": "error", "database": "unavailable"}, 503
        return {"status": "ok", "database": "ok"}

    security_headers.init_app(app)
    install_log_filters(app.logger)

    return app


def _instance_dir() -> str:
    return str(INSTANCE_DIR)


def _migrations_dir() -> str:
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "migrations")


def _refuse_insecure_production(app: Flask) -> None:
    if app.config.get("ENV_NAME") == "production":
        key = app.config.get("SECRET_KEY") or ""
        if key == DEV_SECRET_KEY or len(key) < 32:
            raise ConfigurationError(
                "SECRET_KEY must be set to a random value of at least 32 characters in production"
            )


def _configure_sqlite(app: Flask) -> None:
    """SQLite: enforce foreign keys, wait for locks instead of failing, WAL for readers."""
    from sqlalchemy import event

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):
            # Let SQLAlchemy emit BEGIN itself so "BEGIN IMMEDIATE" can be used for writes.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            register_sqlite_functions(dbapi_connection)
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            if engine.url.database and engine.url.database != ":memory:":
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):
            options = conn.get_execution_options()
            if options.get(SQLITE_AUTOCOMMIT_OPTION):
                return  # every statement is its own transaction (the scan's hot path)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get(SQLITE_IMMEDIATE_OPTION)
                                 else "BEGIN")


def _register_blueprints(app: Flask) -> None:
    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(api_bp)
    # Feature blueprints register themselves here as they are added.
    for module_name in _feature_blueprints():
        module = __import__(module_name, fromlist=["bp"])
        app.register_blueprint(module.bp)


def _feature_blueprints() -> list[str]:
    """Feature packages under webapp/ that expose ``bp`` (kept explicit and ordered)."""
    return FEATURE_BLUEPRINTS


def _register_template_helpers(app: Flask) -> None:
    app.add_template_filter(timefmt.format_date, "date")
    app.add_template_filter(timefmt.format_datetime, "datetime")
    app.add_template_filter(timefmt.format_time, "time")
    app.add_template_filter(timefmt.format_percent, "percent")
    app.add_template_filter(timefmt.format_number, "number")
    app.add_template_filter(plural, "plural")
    app.add_template_filter(timefmt.format_points, "points")
    app.add_template_filter(timefmt.format_hours, "hours")

    @app.context_processor
    def inject_helpers():
        return {"nav_items": nav_items}

    # A global, so macros imported without context (post_button) can use it too.
    app.jinja_env.globals["empty_form"] = EmptyForm


def _register_error_pages(app: Flask) -> None:
    def wants_json() -> bool:
        return request.path.startswith("/api/")

    def render(code: int, title: str, message: str):
        if wants_json():
            api_codes = {403: "forbidden", 404: "not_found", 405: "method_not_allowed",
                         413: "too_large", 500: "server_error", 400: "bad_request"}
            return error_body(api_codes.get(code, "error"), message), code
        return render_template("error.html", code=code, title=title, message=message), code

    @app.errorhandler(400)
    def bad_request(_e):
        return render(400, "Неверный запрос", "Запрос не удалось обработать. "
                      "Обновите страницу и попробуйте ещё раз.")

    @app.errorhandler(403)
    def forbidden(_e):
        return render(403, "Доступ запрещён", "У вас нет прав на эту страницу.")

    @app.errorhandler(404)
    def not_found(_e):
        return render(404, "Страница не найдена", "Такой страницы нет. Проверьте адрес.")

    @app.errorhandler(405)
    def method_not_allowed(_e):
        return render(405, "Действие недоступно", "Этот адрес не поддерживает такое действие.")

    @app.errorhandler(413)
    def too_large(_e):
        return render(413, "Файл слишком большой", "Файл больше 10 МБ. Разделите его на части.")

    @app.errorhandler(500)
    def server_error(_e):
        db.session.rollback()
        return render(500, "Ошибка на сервере", "Что-то пошло не так. Мы уже знаем об этом; "
                      "попробуйте ещё раз через минуту.")

    from flask_wtf.csrf import CSRFError

    @app.errorhandler(CSRFError)
    def csrf_error(_e):
        return render(400, "Форма устарела", "Срок действия формы истёк. "
                      "Обновите страницу и отправьте форму ещё раз.")


def _register_cli(app: Flask) -> None:
    register_commands(app)


__all__ = ["ConfigurationError", "TestConfig", "create_app"]
