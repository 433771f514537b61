"""The error every service raises: a stable code, a Russian message, and the field at fault."""

from __future__ import annotations


class ServiceError(Exception):
    """A business rule said no. Routes map ``code`` to a page message or a JSON error."""

    #: HTTP status the API uses for this error (422 invalid input, 409 conflict with state, ...).
    status = 422

    def __init__(self, code: str, message: str, field: str | None = None,
                 fields: dict[str, str] | None = None, status: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = dict(fields or {})
        if field:
            self.fields.setdefault(field, message)
        if status is not None:
            self.status = status


class ConflictError(ServiceError):
    status = 409


class NotFoundError(ServiceError):
    status = 404


class PermissionDenied(ServiceError):
    status = 403
