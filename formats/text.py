"""Low-level text helpers every part shares: how two spellings of a name compare and sort."""

import re

_DIGITS = re.compile(r"(\d+)")


def fold(text: str | None) -> str:
    """Lower-cased, ё→е, runs of spaces collapsed: the key two spellings of a name share."""
    return " ".join(str(text or "").lower().replace("ё", "е").split())


def natural_key(text: str | None) -> tuple:
    """«СОШ № 2» before «СОШ № 10»: numbers inside a folded name compare as numbers.

    Text and numbers alternate (text at even positions, possibly empty), so two keys always
    compare without mixing types.
    """
    return tuple(int(part) if i % 2 else part for i, part in enumerate(_DIGITS.split(fold(text))))


#: The letters whose folding SQL must do itself (PostgreSQL's lower() depends on the database's
#: locale, SQLite's knows only ASCII): Russian capitals and ё, each with its :func:`fold`.
SQL_FOLD_FROM = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯё"
SQL_FOLD_TO = "".join(fold(letter) for letter in SQL_FOLD_FROM)


def like_contains(text: str | None) -> str:
    """A LIKE pattern (escape character ``\\``) matching values that contain ``fold(text)``."""
    needle = fold(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{needle}%"


def plural(count: int, one: str, few: str, many: str) -> str:
    """The Russian form of a noun for ``count``: 1 страница, 2 страницы, 5 страниц, 21 страница."""
    n = abs(count) % 100
    if 11 <= n <= 14:
        return many
    return {1: one, 2: few, 3: few, 4: few}.get(n % 10, many)
