"""The OpenAPI 3 document, built from the documented routes of the app.

Every /api/v1 view is decorated with :func:`documented`; a route without it is missing from the
document, and a test fails.
"""

from __future__ import annotations

import re

from flask import current_app

_CONVERTER = re.compile(r"<(?:[a-z]+:)?([a-zA-Z_][a-zA-Z0-9_]*)>")

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            },
            "required": ["code", "message", "fields"],
        }
    },
}


def documented(summary: str, *, tags: list[str] | None = None, request: dict | None = None,
               response: dict | None = None, status: int = 200, auth: str = "bearer",
               description: str | None = None, parameters: list[dict] | None = None,
               multipart: dict | None = None):
    """Attach OpenAPI metadata to a view function; ``multipart``: the schema of a file upload
    the view also takes (``multipart/form-data``) besides the JSON ``request``."""

    def decorator(view):
        view._openapi = {
            "summary": summary,
            "tags": tags or [],
            "request": request,
            "response": response,
            "status": status,
            "auth": auth,
            "description": description,
            "parameters": parameters or [],
            "multipart": multipart,
        }
        return view

    return decorator


def openapi_path(rule: str) -> str:
    return _CONVERTER.sub(r"{\1}", rule)


def _path_schema(converter) -> dict:
    """``<int:...>`` ids are 32-bit integers (a larger one is a 404); the rest are strings."""
    from werkzeug.routing import IntegerConverter

    if isinstance(converter, IntegerConverter):
        schema = {"type": "integer", "format": "int32", "minimum": converter.min or 0}
        if converter.max is not None:
            schema["maximum"] = converter.max
        return schema
    return {"type": "string"}


def build_document() -> dict:
    paths: dict[str, dict] = {}
    for rule in current_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        view = current_app.view_functions[rule.endpoint]
        meta = getattr(view, "_openapi", None)
        if meta is None:
            continue
        path = openapi_path(rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            op: dict = {
                "summary": meta["summary"],
                "tags": meta["tags"],
                "operationId": f"{rule.endpoint}.{method.lower()}",
                "responses": {
                    str(meta["status"]): {
                        "description": "Успех",
                        "content": {"application/json": {"schema": meta["response"] or {}}},
                    },
                    "default": {
                        "description": "Ошибка",
                        "content": {"application/json": {"schema": ERROR_SCHEMA}},
                    },
                },
            }
            if meta["description"]:
                op["description"] = meta["description"]
            params = [
                {"name": name, "in": "path", "required": True,
                 "schema": _path_schema(rule._converters.get(name))}
                for name in sorted(rule.arguments)
            ] + meta["parameters"]
            if params:
                op["parameters"] = params
            if meta["request"] is not None and method in ("POST", "PUT", "PATCH", "DELETE"):
                op["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": meta["request"]}},
                }
                if meta.get("multipart") is not None:
                    op["requestBody"]["content"]["multipart/form-data"] = {
                        "schema": meta["multipart"]}
            if meta["auth"] == "none":
                op["security"] = []
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Профмаршрут API",
            "version": "1.0",
            "description": "Публичный контракт Профмаршрута (см. docs/api.md).",
        },
        "servers": [{"url": current_app.config["PROFROUTE_BASE_URL"]}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": ERROR_SCHEMA},
        },
        "security": [{"bearer": []}],
        "paths": dict(sorted(paths.items())),
    }
