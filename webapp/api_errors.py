"""The API's JSON error shape: ``{"error": {"code", "message", "fields"}}``."""

from __future__ import annotations


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, fields: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def validation_error(fields: dict[str, str],
                     message: str = "Проверьте данные запроса.") -> ApiError:
    return ApiError(422, "validation_error", message, fields)


def not_found(message: str = "Не найдено.") -> ApiError:
    return ApiError(404, "not_found", message)


def forbidden(message: str = "Недостаточно прав.") -> ApiError:
    return ApiError(403, "forbidden", message)


def conflict(code: str, message: str, fields: dict | None = None) -> ApiError:
    return ApiError(409, code, message, fields)


def from_service_error(err) -> ApiError:
    """Map a ``errors.ServiceError`` to the API's error."""
    return ApiError(err.status, err.code, err.message, err.fields)
