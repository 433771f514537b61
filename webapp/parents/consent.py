"""The personal-data consent text, versioned: the version a person agreed to is stored with the
time and the address. A changed text gets a new version; old versions stay here for the record.
"""

from __future__ import annotations

CONSENT_TEXTS: dict[str, str] = {
    "2025-1": (
        "Я даю согласие оператору Профмаршрута (департамент образования администрации "
        "Города Томска и подведомственные МАУ ИМЦ и МАОУ «Планирование карьеры») на обработку "
        "моих персональных данных — фамилии, имени, номера телефона, адреса электронной почты, "
        "а также школы и класса ребёнка — для записи на это мероприятие, напоминаний о нём, "
        "отметки о присутствии и подсчёта числа участников. Данные хранятся на сервере "
        "оператора в России и не передаются третьим лицам. Согласие действует до его отзыва; "
        "отозвать его можно в любой момент по личной ссылке из письма: имя и контакты будут "
        "удалены, останется только обезличенная отметка о посещении."
    ),
}

CURRENT_CONSENT_VERSION = "2025-1"


def consent_text(version: str = CURRENT_CONSENT_VERSION) -> str:
    return CONSENT_TEXTS[version]
