"""Reading and checking JSON request bodies, with Russian messages per field."""

from __future__ import annotations

from datetime import date, datetime

from flask import request

from formats.input_checks import INT_MAX, INT_MIN, date_range_error
from webapp.api_errors import ApiError, validation_error


def json_body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "bad_request", "Тело запроса должно быть JSON-объектом.")
    return data


class Fields:
    """Collects per-field errors; ``raise_if_any()`` ends with a 422 listing all of them."""

    def __init__(self, data: dict):
        self.data = data
        self.errors: dict[str, str] = {}

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def string(self, name: str, *, required: bool = True, max_length: int = 300,
               default: str | None = None) -> str | None:
        value = self.data.get(name, default)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.error(name, "Обязательное поле.")
            return default if value is None else None
        if not isinstance(value, str):
            self.error(name, "Ожидается строка.")
            return None
        value = value.strip()
        if len(value) > max_length:
            self.error(name, f"Не длиннее {max_length} символов.")
            return None
        if "\x00" in value:
            # PostgreSQL refuses NUL in text: told here, not as a failed statement.
            self.error(name, "Недопустимый символ NUL.")
            return None
        return value

    def integer(self, name: str, *, required: bool = True, minimum: int | None = INT_MIN,
                maximum: int | None = INT_MAX, default: int | None = None) -> int | None:
        """An integer within ``minimum``..``maximum``: by default the 32-bit columns' range."""
        minimum = INT_MIN if minimum is None else max(minimum, INT_MIN)
        maximum = INT_MAX if maximum is None else min(maximum, INT_MAX)
        value = self.data.get(name, default)
        if value is None:
            if required:
                self.error(name, "Обязательное поле.")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(name, "Ожидается целое число.")
            return None
        if minimum is not None and value < minimum:
            self.error(name, f"Не меньше {minimum}.")
            return None
        if maximum is not None and value > maximum:
            self.error(name, f"Не больше {maximum}.")
            return None
        return value

    def boolean(self, name: str, *, required: bool = False, default: bool = False) -> bool:
        value = self.data.get(name)
        if value is None:
            if required:
                self.error(name, "Обязательное поле.")
            return default
        if not isinstance(value, bool):
            self.error(name, "Ожидается true или false.")
            return default
        return value

    def datetime(self, name: str, *, required: bool = True) -> datetime | None:
        value = self.data.get(name)
        if value is None:
            if required:
                self.error(name, "Обязательное поле.")
            return None
        try:
            parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            self.error(name, "Ожидается время ISO 8601 со смещением, "
                             "например 2025-10-01T10:00:00+07:00.")
            return None
        return self._in_range(name, parsed)

    def date(self, name: str, *, required: bool = True) -> date | None:
        value = self.data.get(name)
        if value is None:
            if required:
                self.error(name, "Обязательное поле.")
            return None
        try:
            parsed = date.fromisoformat(value)
        except (TypeError, ValueError):
            self.error(name, "Ожидается дата в формате ГГГГ-ММ-ДД.")
            return None
        return self._in_range(name, parsed)

    def _in_range(self, name: str, value):
        message = date_range_error(value)
        if message:
            self.error(name, message)
            return None
        return value

    def raise_if_any(self) -> None:
        if self.errors:
            raise validation_error(self.errors)
