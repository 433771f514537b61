"""The JSON API under /api/v1 (contract: docs/api.md)."""

from __future__ import annotations

from flask import Blueprint, g, jsonify
from werkzeug.exceptions import HTTPException

from errors import ServiceError
from models import db
from webapp.api.openapi import build_document, documented
from webapp.api_errors import ApiError, error_body, from_service_error
from webapp.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Bearer-token calls carry no cookies, so no CSRF; cookie calls are checked in api.auth.
csrf.exempt(bp)


@bp.before_app_request
def _forget_previous_caller():
    """Who is calling is decided per request. ``g`` lives as long as the app context, which
    outlives one request where a context is pushed by hand (tests, CLI scripts)."""
    for key in ("api_caller", "caller", "_login_user"):
        g.pop(key, None)


@bp.errorhandler(ApiError)
def handle_api_error(err: ApiError):
    db.session.rollback()
    return jsonify(error_body(err.code, err.message, err.fields)), err.status


@bp.errorhandler(ServiceError)
def handle_service_error(err: ServiceError):
    """A service's refusal that no view mapped otherwise (see webapp.transaction)."""
    return handle_api_error(from_service_error(err))


@bp.errorhandler(HTTPException)
def handle_http_error(err: HTTPException):
    db.session.rollback()
    codes = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
             405: "method_not_allowed", 409: "conflict", 413: "too_large", 422: "validation_error"}
    messages = {400: "Неверный запрос.", 401: "Нужна авторизация.", 403: "Недостаточно прав.",
                404: "Не найдено.", 405: "Метод не поддерживается.", 413: "Слишком большой запрос."}
    code = err.code or 500
    return jsonify(error_body(codes.get(code, "error"),
                              messages.get(code, err.description or "Ошибка."))), code


@bp.get("/openapi.json")
@documented("Документ OpenAPI", tags=["Служебное"], auth="none", response={"type": "object"})
def openapi_document():
    return jsonify(build_document())


# Route modules register on ``bp`` when imported.
from webapp.api import (
    organizations,  # noqa: E402,F401
    routes_registry,  # noqa: E402,F401
)
