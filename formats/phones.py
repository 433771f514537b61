"""Russian phone numbers as people type them («8 (3822) 12-34-56», «+7 913…») and as we store
(+7XXXXXXXXXX) and show them («+7 913 123-45-67»)."""

from __future__ import annotations

import re

from errors import ServiceError

PHONE_HINT = "Например: +7 913 123-45-67 или 8 (3822) 12-34-56."
_PHONE_CHARS = re.compile(r"^[0-9+\s()\-.]+$")


def normalize_phone(raw: str | None) -> str | None:
    """Russian numbers as +7XXXXXXXXXX from «8…», «+7…» or «7…» with spaces, brackets,
    dashes or dots. Empty gives None; anything else raises ``ServiceError``."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    if not _PHONE_CHARS.match(text) or text.count("+") > 1 or ("+" in text
                                                                and not text.startswith("+")):
        raise ServiceError("invalid_phone", "Номер телефона может содержать только цифры, "
                           "пробелы, скобки и дефисы. " + PHONE_HINT, field="phone")
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        if not digits.startswith("7") or len(digits) != 11:
            raise ServiceError("invalid_phone", "Нужен российский номер: +7 и ещё 10 цифр. "
                               + PHONE_HINT, field="phone")
    elif len(digits) != 11 or digits[0] not in "78":
        raise ServiceError("invalid_phone", "Нужен российский номер из 11 цифр, начиная с 8 "
                           "или +7. " + PHONE_HINT, field="phone")
    return "+7" + digits[1:]


def format_phone(phone: str | None) -> str:
    """+79131234567 → «+7 913 123-45-67» for people to read."""
    if not phone or len(phone) != 12 or not phone.startswith("+7"):
        return phone or ""
    d = phone[2:]
    return f"+7 {d[:3]} {d[3:6]}-{d[6:8]}-{d[8:]}"
