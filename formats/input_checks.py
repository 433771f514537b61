"""Input bounds and characters shared by every entry point (the web's ``webapp.input_guard``,
the API's request parsing, the forms, report parameters and spreadsheet imports).

- :data:`INT_MIN`/:data:`INT_MAX`: the id and count columns are 32-bit ``INTEGER``;
- :data:`YEAR_MIN`/:data:`YEAR_MAX`: the years a date may lie in;
- :func:`has_control_chars`: C0 controls, DEL and lone surrogates no field may carry.
"""

from __future__ import annotations

import re

#: The id and count columns are INTEGER (32-bit) on PostgreSQL.
INT_MIN = -(2**31)
INT_MAX = 2**31 - 1
#: Dates the application accepts anywhere (events, reports, filters).
YEAR_MIN = 2000
YEAR_MAX = 2100

#: C0 controls and DEL, and lone UTF-16 surrogates (JSON "\\ud800" decodes to one; neither
#: PostgreSQL nor SQLite can store it).
_CONTROL = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
#: The same without tab, line feed and carriage return, which a textarea legitimately sends.
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


INT_MAX_MESSAGE = f"Не больше {INT_MAX}."
INT_MIN_MESSAGE = f"Не меньше {INT_MIN}."
DATE_MIN_MESSAGE = f"Дата — не раньше 01.01.{YEAR_MIN}."
DATE_MAX_MESSAGE = f"Дата — не позже 31.12.{YEAR_MAX}."


def int_range_error(value: int) -> str | None:
    """The Russian message when ``value`` does not fit the integer columns, else None."""
    if value > INT_MAX:
        return INT_MAX_MESSAGE
    if value < INT_MIN:
        return INT_MIN_MESSAGE
    return None


def date_range_error(value) -> str | None:
    """The Russian message when a date/datetime lies outside YEAR_MIN..YEAR_MAX, else None."""
    if value is None:
        return None
    if value.year < YEAR_MIN:
        return DATE_MIN_MESSAGE
    if value.year > YEAR_MAX:
        return DATE_MAX_MESSAGE
    return None


def has_control_chars(text: str, *, allow_line_breaks: bool = False) -> bool:
    """True when ``text`` holds a character no field may carry (see module docstring)."""
    pattern = _CONTROL_IN_TEXT if allow_line_breaks else _CONTROL
    return pattern.search(text) is not None
