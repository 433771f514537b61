"""Class names as people type them, normalized to «7Б» with the grade derived."""

import pytest

from formats.class_names import ClassNameError, next_class, normalize_class


@pytest.mark.parametrize("raw, expected", [
    ("7Б", ("7Б", 7)),
    ("7 б", ("7Б", 7)),
    ("7-Б", ("7Б", 7)),
    ("7b", ("7Б", 7)),
    ("7B", ("7Б", 7)),
    (" 11  а ", ("11А", 11)),
    ("10 «А»", ("10А", 10)),
    ("9 \"в\" класс", ("9В", 9)),
    ("5а кл.", ("5А", 5)),
    ("1", ("1", 1)),
    ("8ё", ("8Е", 8)),
])
def test_normalizes_common_spellings(raw, expected):
    assert normalize_class(raw) == expected


@pytest.mark.parametrize("raw, words", [
    ("", "не указан"),
    ("12А", "от 1 до 11"),
    ("0Б", "от 1 до 11"),
    ("седьмой Б", "не понятен"),
    ("7Б/2x", "не понятен"),
    ("7c", "по-русски"),
    ("7p", "по-русски"),
])
def test_refuses_unknown_formats_with_a_russian_reason(raw, words):
    with pytest.raises(ClassNameError) as err:
        normalize_class(raw)
    assert words in str(err.value)


def test_next_class_keeps_the_letter_and_graduates_after_eleventh():
    assert next_class("7Б", 7) == ("8Б", 8)
    assert next_class("10ИТ", 10) == ("11ИТ", 11)
    assert next_class("11А", 11) is None
