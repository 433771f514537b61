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


def plural(number: int, forms: tuple[str, str, str]) -> str:
    """The Russian form for ``number``: ``("школа", "школы", "школ")`` → 1 школа, 3 школы,
    5 школ, 11 школ, 21 школа."""
    n = abs(number) % 100
    if 11 <= n <= 19:
        return forms[2]
    n %= 10
    if n == 1:
        return forms[0]
    if 2 <= n <= 4:
        return forms[1]
    return forms[2]
