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


class FieldErrors:
    """Everything wrong with a request, field by field, raised at once as one ServiceError.

    A field keeps every message added for it (joined with spaces); the first error's code and
    status are the error's. (A spreadsheet import collects by row instead:
    ``ProblemCollector`` in the spreadsheet helpers.)
    """

    def __init__(self):
        self._items: list[tuple[str, str, str, int]] = []  # (field, message, code, status)

    def add(self, field: str, message: str, code: str = "validation_error",
            status: int = 422) -> None:
        self._items.append((field, message, code, status))

    def update(self, fields: dict[str, str]) -> None:
        """Take over the fields of a caught ``ServiceError``."""
        for field, message in fields.items():
            self.add(field, message)

    def __bool__(self) -> bool:
        return bool(self._items)

    def __contains__(self, field: str) -> bool:
        return any(f == field for f, _m, _c, _s in self._items)

    @property
    def fields(self) -> dict[str, str]:
        joined: dict[str, list[str]] = {}
        for field, message, _code, _status in self._items:
            joined.setdefault(field, []).append(message)
        return {field: " ".join(messages) for field, messages in joined.items()}

    def raise_if_any(self, message: str | None = None, code: str | None = None) -> None:
        """Raise when anything was added: ``message`` (default: every message joined) and
        ``code`` (default: the first error's)."""
        if not self._items:
            return
        _field, _message, first_code, status = self._items[0]
        text = message if message is not None else " ".join(m for _f, m, _c, _s in self._items)
        raise ServiceError(code or first_code, text, fields=self.fields, status=status)
