"""School classes as people write them («7 б», «7-Б», «7b») and as we store them («7Б»)."""

from __future__ import annotations

import re

#: Latin letters typed instead of Cyrillic ones (transliteration, as in «7b» → «7Б»).
LATIN_TO_CYRILLIC = {
    "a": "А", "b": "Б", "v": "В", "g": "Г", "d": "Д", "e": "Е", "z": "З", "i": "И", "k": "К",
    "l": "Л", "m": "М", "n": "Н", "o": "О", "r": "Р", "s": "С", "t": "Т", "u": "У", "f": "Ф",
}
#: Latin letters that could mean two different Cyrillic ones: refuse rather than guess.
AMBIGUOUS_LATIN = {"c": "С или Ц", "p": "П или Р", "x": "Х", "y": "У или Ы", "h": "Н или Х",
                   "j": "Й или Ж", "q": "?", "w": "В или Ш"}

_CLASS = re.compile(
    r"^(?P<grade>\d{1,2})"            # 1–11
    r"[\s\-_./«»\"'“”„]*"              # separators and quotes people type
    r"(?P<letter>[a-zа-яё]{0,3})"      # the class letter(s), may be absent
    r"[\s«»\"'“”„]*"
    r"(?:класс|кл\.?)?\s*$",
    re.IGNORECASE,
)


class ClassNameError(ValueError):
    """The class is written in a way we cannot read; the message says why, in Russian."""


def normalize_class(value: str | None) -> tuple[str, int]:
    """«7 б» / «7-Б» / «7b» / «7 «Б» класс» → («7Б», 7). Raises :class:`ClassNameError`."""
    text = " ".join(str(value or "").split())
    if not text:
        raise ClassNameError("не указан класс.")
    match = _CLASS.match(text)
    if not match:
        raise ClassNameError(f"не понятен класс «{text}»: укажите номер и букву, "
                             "например «7Б».")
    grade = int(match.group("grade"))
    if not 1 <= grade <= 11:
        raise ClassNameError(f"класс «{text}»: номер класса должен быть от 1 до 11.")
    letters = []
    for char in match.group("letter"):
        lower = char.lower()
        if lower in LATIN_TO_CYRILLIC:
            letters.append(LATIN_TO_CYRILLIC[lower])
        elif lower in AMBIGUOUS_LATIN:
            raise ClassNameError(f"класс «{text}»: латинская буква «{char}» может означать "
                                 f"{AMBIGUOUS_LATIN[lower]}; напишите букву класса по-русски.")
        else:
            letters.append("Е" if lower == "ё" else char.upper())
    return f"{grade}{''.join(letters)}", grade


def normalize_group(value: str | None) -> tuple[str, int]:
    """A kindergarten group: free text (grade 0)."""
    text = " ".join(str(value or "").split())
    if not text:
        raise ClassNameError("не указана группа.")
    if len(text) > 40:
        raise ClassNameError("название группы длиннее 40 символов.")
    return text, 0


def next_class(class_name: str, grade: int) -> tuple[str, int] | None:
    """The class a year later: «7Б» → («8Б», 8); None when the student leaves (after 11th)."""
    if grade >= 11:
        return None
    suffix = class_name[len(str(grade)):] if class_name.startswith(str(grade)) else ""
    return f"{grade + 1}{suffix}", grade + 1


def class_sort_key(class_name: str) -> tuple:
    match = re.match(r"^(\d+)(.*)$", class_name or "")
    if match:
        return (0, int(match.group(1)), match.group(2))
    return (1, 0, class_name or "")
