"""The one rule for a person's name, wherever one is entered (students, teachers, parents,
walk-ins, users; forms, the API and spreadsheet imports).

A name is letters (of any alphabet, with their accents), spaces, hyphens, apostrophes and dots:
«Анна-Мария», «Д’Артаньян», «Иванова А. С.». Anything else — markup such as ``<b>``, digits,
quotes, brackets, ``&``, ``@`` — is refused where the name is typed, with a Russian message,
instead of being stored and only escaped later wherever it is shown (a PDF, a letter, a CSV, a
scanner phone).
"""

from __future__ import annotations

import unicodedata

#: Hyphen-minus, hyphen, non-breaking hyphen; apostrophe, right single quote, modifier letter
#: apostrophe; dot; space and no-break space.
_SIGNS = frozenset("-\u2010\u2011'\u2019\u02bc. \u00a0")

NAME_RULE = "только буквы, пробелы, дефисы, апострофы и точки"


def person_name_error(value: str | None, label: str | None = None) -> str | None:
    """The Russian message when ``value`` is not a person's name by the rule above, else None.
    An empty value is not judged here (required or not is the caller's business)."""
    if not value:
        return None
    has_letter = False
    for char in value:
        category = unicodedata.category(char)
        if category.startswith("L"):
            has_letter = True
        elif category.startswith("M") and has_letter:
            continue  # a combining accent on a letter
        elif char not in _SIGNS:
            return _message(label)
    return None if has_letter else _message(label)


def _message(label: str | None) -> str:
    if label:
        return f"{label}: {NAME_RULE}."
    return f"В имени — {NAME_RULE}."


#: How the name fields are called in messages, by their field names across the application.
FIELD_LABELS = {
    "last_name": "Фамилия",
    "first_name": "Имя",
    "middle_name": "Отчество",
    "name": "Фамилия и имя",
    "full_name": "Фамилия, имя, отчество",
}


def add_name_problems(problems, **values: str | None) -> None:
    """Add to ``problems`` (an ``errors.FieldErrors``: ``add(field, message)``) a message for
    every named value that breaks the rule, e.g. ``add_name_problems(p, last_name=...)``."""
    for field, value in values.items():
        error = person_name_error(value, FIELD_LABELS.get(field))
        if error:
            problems.add(field, error)
