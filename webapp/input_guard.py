"""One validation layer in front of every entry point: no input can cause a 5xx.

- :func:`install` (called by the app factory) adds:
  - an ``int`` URL converter bounded to the 32-bit id columns (a longer id is a 404);
  - a ``before_request`` guard that answers 400 to control characters in the path, the query
    string, form fields, uploaded file names and JSON strings (a form field or JSON string may
    carry tab, line feed and carriage return, as a textarea does; NUL never);
  - error handlers that turn a database ``DataError`` (a value out of the column's range, a
    string PostgreSQL refuses) and SQLite's ``OverflowError`` into a 400 after a rollback.
- :func:`safe_next_url` / :func:`safe_referrer`: the only way a redirect target sent by the
  client is read.
- The bounds and the character check it applies live in ``formats.input_checks`` (shared with
  the API's request parsing, the forms, report parameters and spreadsheet imports).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, jsonify, render_template, request
from werkzeug.routing import IntegerConverter

from formats.input_checks import INT_MAX, has_control_chars
from models import db
from webapp.api_errors import error_body

#: Endpoints whose JSON body is not checked as a whole: a scan batch judges each item on its own
#: (one bad item must not reject the others). Their path, query and form are still checked.
JSON_GUARD_EXEMPT_ENDPOINTS = frozenset({"api.post_scan_batch"})

CONTROL_MESSAGE = ("Запрос содержит недопустимые управляющие символы (например, нулевой байт). "
                   "Уберите их и отправьте ещё раз.")
FIELD_CONTROL_MESSAGE = "Содержит недопустимые управляющие символы."
DATA_ERROR_MESSAGE = ("Значение вне допустимого диапазона или в недопустимом формате. "
                      "Проверьте введённые данные.")


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` that does not match ids beyond the 32-bit columns (→ 404, not a 500)."""

    def __init__(self, map, fixed_digits=0, min=None, max=INT_MAX, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def safe_next_url(target: str | None, *, prefix: str = "/") -> str | None:
    """``target`` when it is a path on this site starting with ``prefix``, otherwise None.

    Refused: absolute URLs, scheme-relative ``//host``, backslashes (browsers read ``/\\host``
    as ``//host``) and control characters (a line feed would split the Location header).
    """
    if not target or not isinstance(target, str):
        return None
    if has_control_chars(target) or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if not target.startswith(prefix):
        return None
    return target


def safe_referrer() -> str | None:
    """The Referer of this request as a path on this site, or None (another site, garbage)."""
    referrer = request.referrer
    if not referrer or has_control_chars(referrer) or "\\" in referrer:
        return None
    parts = urlsplit(referrer)
    if parts.netloc and parts.netloc != request.host:
        return None
    if parts.scheme and parts.scheme not in ("http", "https"):
        return None
    path = parts.path or "/"
    return safe_next_url(path + (f"?{parts.query}" if parts.query else ""))


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _error(status: int, code: str, title: str, message: str, fields: dict | None = None):
    if _wants_json():
        return jsonify(error_body(code, message, fields)), status
    return render_template("error.html", code=status, title=title, message=message), status


def _json_strings_at_fault(data) -> list[str]:
    """Paths (``a.b[0]``) of JSON keys/strings holding forbidden characters; iterative."""
    bad: list[str] = []
    stack = [("", data)]
    while stack and len(bad) < 20:
        where, value = stack.pop()
        if isinstance(value, str):
            if has_control_chars(value, allow_line_breaks=True):
                bad.append(where or "body")
        elif isinstance(value, dict):
            for key, item in value.items():
                name = f"{where}.{key}" if where else str(key)
                if has_control_chars(str(key)):
                    bad.append(where or "body")
                    continue
                stack.append((name, item))
        elif isinstance(value, list):
            stack.extend((f"{where}[{i}]", item) for i, item in enumerate(value))
    return bad


def _fields_at_fault() -> dict[str, str] | None:
    """Which parts of the request hold forbidden characters; None when all is clean."""
    fields: dict[str, str] = {}
    if has_control_chars(request.path):
        fields["path"] = FIELD_CONTROL_MESSAGE
    for key, value in request.args.items(multi=True):
        if has_control_chars(key) or has_control_chars(value):
            fields[key if not has_control_chars(key) else "query"] = FIELD_CONTROL_MESSAGE
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            for key, value in request.form.items(multi=True):
                if has_control_chars(key) or has_control_chars(value, allow_line_breaks=True):
                    fields[key if not has_control_chars(key) else "form"] = FIELD_CONTROL_MESSAGE
            for key, upload in request.files.items(multi=True):
                if upload.filename and has_control_chars(upload.filename):
                    fields[key if not has_control_chars(key) else "form"] = FIELD_CONTROL_MESSAGE
        elif request.is_json:
            data = request.get_json(silent=True)  # parsed (and cached) here for every route
            if request.endpoint not in JSON_GUARD_EXEMPT_ENDPOINTS:
                for name in _json_strings_at_fault(data):
                    fields[name] = FIELD_CONTROL_MESSAGE
    return fields or None


def install(app: Flask) -> None:
    """Wire the guard into ``app``; call before any blueprint is registered (the converter)."""
    app.url_map.converters["int"] = BoundedIntConverter

    @app.before_request
    def reject_control_characters():
        try:
            fields = _fields_at_fault()
        except RecursionError:  # JSON nested deeper than the parser can follow
            return _error(400, "bad_request", "Неверный запрос",
                          "Тело запроса вложено слишком глубоко.")
        if fields:
            return _error(400, "invalid_characters", "Недопустимые символы", CONTROL_MESSAGE,
                          fields)
        return None

    # Registered before the other before_request hooks (CSRF): bad characters are answered
    # with their own message whatever else is wrong with the request.
    funcs = app.before_request_funcs.setdefault(None, [])
    funcs.insert(0, funcs.pop(funcs.index(reject_control_characters)))

    import sqlalchemy.exc

    data_errors: list[type[BaseException]] = [sqlalchemy.exc.DataError, OverflowError]
    try:
        import psycopg

        data_errors.append(psycopg.DataError)  # raised by the door's driver-level statements
    except ImportError:  # pragma: no cover - psycopg is a dependency
        pass

    def data_error(_err):
        db.session.rollback()
        return _error(400, "bad_request", "Неверные данные", DATA_ERROR_MESSAGE)

    for error_class in data_errors:
        app.register_error_handler(error_class, data_error)

    @app.errorhandler(sqlalchemy.exc.StatementError)
    def statement_error(err):
        # SQLAlchemy wraps what the driver raises while binding a parameter, e.g. SQLite's
        # "Python int too large to convert to SQLite INTEGER", or a date out of range.
        if isinstance(err.orig, OverflowError):
            return data_error(err)
        raise err  # anything else is a real server error: the 500 page

