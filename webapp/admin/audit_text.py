"""The audit log read by people: what an action and its object are called, and its details as
Russian sentences (never ``None``, never a dict or a list printed as Python).

``record_audit(user, "thing.verb", obj, **details)`` stores small JSON; :func:`describe_details`
turns each known key into a sentence and anything it does not know into «Название: значение.»
with the value spelled out the same way, so a new key still reads as text.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from formats.timefmt import format_datetime
from models import AuditLog, Role, TicketKind, TicketStatus

OBJECT_TITLES = {
    "organizations": "Организация", "users": "Пользователь", "baselines": "Базовые показатели",
    "city_plans": "План города", "targets": "Цели по показателям",
    "early_rules": "Правило ранней профориентации",
    "api_tokens": "API-токен", "events": "Мероприятие",
    "categories": "Категория", "registrations": "Запись группы", "tickets": "Билет",
    "attendance_imports": "Список присутствовавших",
    "scans": "Отметка", "scanner_links": "Ссылка сканера", "students": "Обучающийся",
    "teachers": "Педагог", "parent_signups": "Запись родителя",
    "teacher_signups": "Запись педагога", "mail_outbox": "Письмо",
    "academic_year": "Учебный год", "walk_ins": "Пришедший без записи",
    "school_invitations": "Приглашение школы",
    "profminimum_levels": "Уровни профминимума",
    "profminimum_formats": "Формат профминимума",
}

ACTION_TITLES = {
    "organization.create": "организация добавлена",
    "organization.update": "организация изменена",
    "organization.deactivate": "организация отключена",
    "organization.activate": "организация снова действует",
    "user.create": "пользователь создан", "user.update": "пользователь изменён",
    "user.reset_password": "пароль сброшен администратором",
    "user.change_password": "пароль изменён владельцем",
    "user.deactivate": "пользователь отключён", "user.activate": "пользователь снова активен",
    "user.login": "вход в систему",
    "user.logout": "выход из системы (все сеансы завершены)",
    "baseline.save": "показатели сохранены", "baseline.lock": "показатели заблокированы",
    "baseline.unlock": "показатели разблокированы",
    "profminimum_levels.save": "уровни профминимума сохранены",
    "profminimum_levels.lock": "уровни профминимума заблокированы",
    "profminimum_levels.unlock": "уровни профминимума разблокированы",
    "profminimum_format.create": "добавлен формат профминимума",
    "baseline.lock_all": "заблокированы все показатели года",
    "baseline.unlock_all": "разблокированы все показатели года",
    "baseline.import": "показатели загружены из файла",
    "city_plan.save": "план города сохранён",
    "target.save": "цели по показателям сохранены", "target.lock": "цели заблокированы",
    "target.unlock": "цели разблокированы", "target.lock_all": "заблокированы все цели года",
    "target.unlock_all": "разблокированы все цели года",
    "target.import": "цели загружены из файла",
    "early_rule.save": "правило ранней профориентации изменено",
    "token.create": "API-токен создан", "token.revoke": "API-токен отозван",
    "organization.profile": "профиль организации изменён",
    "category.create": "категория добавлена",
    "event.create": "мероприятие создано", "event.update": "мероприятие изменено",
    "event.publish": "мероприятие опубликовано", "event.cancel": "мероприятие отменено",
    "event.duplicate": "мероприятие скопировано", "event.repeat": "мероприятие повторено",
    "event.contacts_export": "выгружены контакты участников",
    "registration.create": "группа записана", "registration.cancel": "запись группы отменена",
    "registration.add_people": "в запись добавлены участники",
    "ticket.cancel": "билет отменён",
    "invitation.send": "школа приглашена на мероприятие",
    "roster.import_students": "загружен список обучающихся",
    "roster.import_teachers": "загружен список педагогов",
    "roster.promote": "переход в следующий класс",
    "student.create": "обучающийся добавлен", "student.update": "обучающийся изменён",
    "student.activate": "обучающийся снова в списке", "student.deactivate": "обучающийся выбыл",
    "teacher.create": "педагог добавлен", "teacher.update": "педагог изменён",
    "teacher.activate": "педагог снова в списке", "teacher.deactivate": "педагог выбыл",
    "parent_signup.create": "родитель записался",
    "parent_signup.cancel": "запись родителя отменена",
    "parent_signup.withdraw": "родитель отозвал согласие",
    "parent_signup.erase_past": "удалены данные родителей прошлых лет",
    "teacher_signup.create": "педагог записался",
    "teacher_signup.confirm": "запись педагога подтверждена",
    "teacher_signup.reject": "запись педагога отклонена",
    "teacher_signup.cancel": "запись педагога отменена",
    "scanner_link.create": "ссылка сканера создана",
    "scanner_link.revoke": "ссылка сканера отозвана",
    "checkin.undo": "отметка отменена", "checkin.walk_in": "участник без записи отмечен",
    "checkin.walk_in_pending": "пришедший без записи ждёт подтверждения",
    "checkin.walk_in_confirm": "пришедший без записи подтверждён и отмечен",
    "checkin.walk_in_reject": "пришедший без записи отклонён",
    "attendance.import": "загружен список присутствовавших",
    "attendance.withdraw": "список присутствовавших отозван: его отметки не учитываются",
    "attendance.class_list": "отметка по списку класса",
    "mail.retry_failed": "повторная отправка писем",
    "year.anonymize": "учебный год обезличен",
    "student.anonymize": "данные обучающегося обезличены",
    "teacher.anonymize": "данные педагога обезличены",
    "export.roster_students": "выгружен список обучающихся (с ОВЗ)",
    "export.door_list": "выгружен список на входе («нужна помощь»)",
    "export.scanner_data": "сканер скачал данные для офлайн-отметки («нужна помощь»)",
}

#: Names of the fields an event change lists (``event.update`` → ``fields``).
EVENT_FIELD_TITLES = {
    "title": "название", "description": "описание", "category": "категория",
    "audience": "для кого", "grades_min": "с какого класса", "grades_max": "по какой класс",
    "starts_at": "начало", "ends_at": "окончание", "venue_name": "площадка",
    "venue_address": "адрес", "venue_room": "аудитория", "capacity": "число мест",
    "per_school_quota": "квота на школу", "registration_opens_at": "начало регистрации",
    "registration_closes_at": "конец регистрации", "checkin_opens_at": "начало отметки",
    "checkin_closes_at": "конец отметки", "early": "ранняя профориентация",
    "ovz_adapted": "адаптировано для ОВЗ", "roadmap_item": "пункт дорожной карты",
    "organizer_id": "организатор", "school_internal": "внутришкольное",
    "staff_ids": "ведущие педагоги", "academic_hours": "академические часы",
    "profminimum_format": "формат профминимума",
}

BASELINE_TITLES = {
    "students_total": "обучающихся", "students_ovz": "из них с ОВЗ",
    "teachers_total": "педагогов", "planned_events": "план мероприятий",
    "planned_early_events": "план мероприятий ранней профориентации",
}

VIA_TITLES = {"cli": "командная строка", "teacher_signup": "запись педагога",
              "admin": "страница администратора", "api": "API"}

WALK_IN_KINDS = {k.value: k.title.lower() for k in TicketKind}
STATUS_TITLES = {s.value: s.title.lower() for s in TicketStatus}
ROLE_TITLES = {r.value: r.title for r in Role}


def _time(value) -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return format_datetime(value) if value.tzinfo is not None else value.strftime(
            "%d.%m.%Y %H:%M")
    return spell(value)


def spell(value) -> str:
    """A stored value in words: yes/no, lists joined, mappings as «ключ — значение»."""
    if value is None:
        return "не указано"
    if value is True:
        return "да"
    if value is False:
        return "нет"
    if isinstance(value, (list, tuple)):
        return ", ".join(spell(v) for v in value) if value else "нет"
    if isinstance(value, dict):
        return "; ".join(f"{k} — {spell(v)}" for k, v in value.items()) if value else "нет"
    return str(value)


def _quoted(value) -> str:
    return f"«{value}»"


def _number(title: str) -> Callable[[object], str]:
    return lambda v: f"{title} № {v}."


def _baseline(values) -> str:
    if not isinstance(values, dict):
        return f"Значения: {spell(values)}."
    parts = [f"{BASELINE_TITLES.get(k, k)} — {spell(v)}" for k, v in values.items()]
    return "Значения: " + ", ".join(parts) + "."


def _event_fields(fields) -> str:
    names = [EVENT_FIELD_TITLES.get(f, f) for f in (fields if isinstance(fields, list)
                                                    else [fields])]
    return "Изменено: " + ", ".join(names) + "." if names else ""


def _anonymized_counts(prefix: str) -> Callable[[object], str]:
    return lambda v: f"{prefix}: {spell(v)}."


#: One sentence per detail key. A key whose value is ``None`` or empty says nothing.
SENTENCES: dict[str, Callable[[object], str]] = {
    "reason": lambda v: f"Причина: {_quoted(v)}.",
    "label": lambda v: f"Кому выдана: {_quoted(v)}.",
    "gate": lambda v: f"Вход: {_quoted(v)}.",
    "expires_at": lambda v: f"Действует до {_time(v)}.",
    "ended_before": lambda v: f"Мероприятия, закончившиеся до {_time(v)}.",
    "event_id": _number("Мероприятие"),
    "ticket_id": _number("Билет"),
    "scan_id": _number("Отметка"),
    "walk_in_id": _number("Запись пришедшего"),
    "scanner_link_id": _number("Ссылка сканера"),
    "organization_id": _number("Организация"),
    "teacher_id": _number("Педагог"),
    "user_id": _number("Пользователь"),
    "source": _number("Копия мероприятия"),
    "kind": lambda v: f"Кто: {WALK_IN_KINDS.get(v, spell(v))}.",
    "status": lambda v: f"Статус билета: {STATUS_TITLES.get(v, spell(v))}.",
    "ticket_status": lambda v: f"Статус билета: {STATUS_TITLES.get(v, spell(v))}.",
    "role": lambda v: f"Роль: {ROLE_TITLES.get(v, spell(v))}.",
    "email": lambda v: f"Почта: {v}.",
    "name": lambda v: f"Название: {_quoted(v)}.",
    "title": lambda v: f"Название: {_quoted(v)}.",
    "code": lambda v: f"Код: {v}.",
    "via": lambda v: f"Через: {VIA_TITLES.get(v, spell(v))}.",
    "consent_version": lambda v: f"Версия согласия: {v}.",
    "year": lambda v: f"Учебный год {v}/{str(int(v) + 1)[-2:]}." if str(v).isdigit()
    else f"Год: {v}.",
    "values": _baseline,
    "levels": lambda v: ("Часов в год по классам: " + ", ".join(
        f"{k} — {h if h is not None else 'как в городе'}" for k, h in v.items()) + "."
        if isinstance(v, dict) else f"Уровни: {spell(v)}."),
    "fields": _event_fields,
    "planned_events": lambda v: f"План мероприятий: {v}.",
    "planned_early_events": lambda v: f"План мероприятий ранней профориентации: {v}.",
    "rule": lambda v: f"Ранние по умолчанию: {v}.",
    "rule_before": lambda v: f"Было: {v}.",
    "count": lambda v: f"Записей: {v}.",
    "filename": lambda v: f"Файл: {_quoted(v)}.",
    "rows": lambda v: f"Строк: {v}.",
    "file_name": lambda v: f"Файл: {_quoted(v)}.",
    "checked_in": lambda v: f"Отмечено: {v}.",
    "already": lambda v: f"Уже были отмечены: {v}.",
    "new_tickets": lambda v: f"Новых билетов: {v}.",
    "classes": lambda v: f"Классы: {spell(v)}.",
    "present": lambda v: f"Присутствовали: {v}.",
    "absent": lambda v: (f"Отсутствовали: {len(v)} (ученики № {spell(v)})."
                         if isinstance(v, list) else f"Отсутствовали: {v}."),
    "undone": lambda v: f"Отменено отметок: {v}.",
    "tickets_cancelled": lambda v: f"Отменено билетов, созданных загрузкой: {v}.",
    "attendance_import_id": _number("Список присутствовавших"),
    "changed": lambda v: f"Изменено: {v}.",
    "created": lambda v: f"Добавлено: {v}.",
    "updated": lambda v: f"Обновлено: {v}.",
    "unchanged": lambda v: f"Без изменений: {v}.",
    "moved": lambda v: f"Переведено в следующий класс: {v}.",
    "left": lambda v: f"Выбыло: {v}.",
    "students": lambda v: f"Обучающихся: {spell(v)}.",
    "teachers": lambda v: f"Педагогов: {spell(v)}.",
    "confirmed": lambda v: f"Подтверждено: {v}.",
    "waitlisted": lambda v: f"В листе ожидания: {v}.",
    "freed": lambda v: f"Освобождено мест: {v}.",
    "tickets": lambda v: (f"Билеты № {spell(v)}." if isinstance(v, list)
                          else f"Билетов: {v}."),
    "revoked_token_ids": lambda v: f"Отозваны API-токены № {spell(v)}.",
    "ovz": lambda v: "В выгрузке есть сведения об ОВЗ («нужна помощь»)." if v else "",
    "format": lambda v: f"Формат: {spell(v).upper()}.",
    "walk_in_undone": lambda v: ("Билет пришедшего без записи отменён вместе с отметкой: "
                                 "место освободилось.") if v else "",
    "parent_signups": _anonymized_counts("Записей родителей"),
    "teacher_signups": _anonymized_counts("Записей педагогов"),
    "events": _anonymized_counts("Мероприятий"),
    "letters": lambda v: f"Писем координаторам: {v}.",
}


def describe_details(details: dict | None) -> str:
    """The details of one audit entry as sentences, in the order they were recorded."""
    if not details:
        return ""
    sentences = []
    for key, value in details.items():
        if value is None or value == [] or value == {} or value == "":
            continue
        sentence = SENTENCES.get(key)
        text = sentence(value) if sentence else f"{key.replace('_', ' ').capitalize()}: " \
                                                 f"{spell(value)}."
        if text:
            sentences.append(text)
    return " ".join(sentences)


def describe_entry(entry: AuditLog) -> str:
    return describe_details(entry.details)
