"""The main menu: one list, filtered by role. Feature packages add their entries here."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request, url_for
from flask_login import current_user

from models import Role

ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class NavEntry:
    title: str
    endpoint: str
    #: Who sees it: roles, and/or ANONYMOUS for visitors who are not logged in.
    audience: tuple
    #: Entries with a group are shown together in a drop-down of that title.
    group: str | None = None


MANAGE = "Управление"
MORE = "Ещё"
#: Which entries go into a drop-down, so the bar fits a laptop screen.
GROUPS = {
    "events.organizers": MORE,
    "admin.organizations": MANAGE, "admin.users": MANAGE, "admin.baselines": MANAGE,
    "schools.students": None, "parents.outbox": MANAGE, "admin.audit": MANAGE,
    "admin.anonymize_year": MANAGE, "admin.early_rule": MANAGE, "admin.targets": MANAGE,
    "reports.spravka": MANAGE, "main.own_baseline": MORE, "teacher_signups.review": MORE,
    "admin.tokens": MORE, "schools.mail_settings": MORE,
}


NAV_ENTRIES: list[NavEntry] = [
    NavEntry("Мероприятия", "events.catalogue",
             (ANONYMOUS, Role.ADMIN, Role.ORGANIZER, Role.COORDINATOR)),
    NavEntry("Главная", "main.dashboard", (Role.ADMIN, Role.ORGANIZER, Role.COORDINATOR)),
    NavEntry("Мои мероприятия", "events.my_events", (Role.ORGANIZER, Role.COORDINATOR, Role.ADMIN)),
    NavEntry("Карта ресурсов", "events.organizers",
             (ANONYMOUS, Role.ADMIN, Role.ORGANIZER, Role.COORDINATOR)),
    NavEntry("Организации", "admin.organizations", (Role.ADMIN,)),
    NavEntry("Пользователи", "admin.users", (Role.ADMIN,)),
    NavEntry("Базовые показатели", "admin.baselines", (Role.ADMIN,)),
    NavEntry("Ранняя профориентация", "admin.early_rule", (Role.ADMIN,)),
    NavEntry("Цели по показателям", "admin.targets", (Role.ADMIN,)),
    NavEntry("Показатели школы", "main.own_baseline", (Role.COORDINATOR,)),
    NavEntry("Ученики", "schools.students", (Role.COORDINATOR,)),
    NavEntry("Педагоги", "schools.teachers", (Role.COORDINATOR,)),
    NavEntry("Заявки", "schools.registrations", (Role.COORDINATOR,)),
    NavEntry("Списки школ", "schools.students", (Role.ADMIN,)),
    NavEntry("Заявки педагогов", "teacher_signups.review", (Role.COORDINATOR,)),
    NavEntry("Письма", "schools.mail_settings", (Role.COORDINATOR,)),
    NavEntry("Почта", "parents.outbox", (Role.ADMIN,)),
    NavEntry("Журнал", "admin.audit", (Role.ADMIN,)),
    NavEntry("Обезличивание", "admin.anonymize_year", (Role.ADMIN,)),
    NavEntry("Отчёты", "reports.dashboard", (Role.ADMIN, Role.ORGANIZER, Role.COORDINATOR)),
    NavEntry("Профминимум", "profminimum.index", (Role.ADMIN, Role.COORDINATOR)),
    NavEntry("Аналитическая справка", "reports.spravka", (Role.ADMIN,)),
    NavEntry("API-токены", "admin.tokens", (Role.ADMIN, Role.ORGANIZER, Role.COORDINATOR)),
]


def _group_of(entry: NavEntry, who) -> str | None:
    if entry.group is not None:
        return entry.group
    if entry.endpoint == "schools.students" and who == Role.ADMIN:
        return MANAGE  # «Списки школ» for admins
    if entry.endpoint == "profminimum.index" and who == Role.ADMIN:
        return MANAGE  # the city's «Профминимум» beside the справка
    return GROUPS.get(entry.endpoint)


def nav_items() -> list[dict]:
    """Menu items for the current user: ``{title, url, active}`` or ``{title, children}``."""
    from flask import current_app

    who = current_user.role if current_user.is_authenticated else ANONYMOUS
    items: list[dict] = []
    groups: dict[str, dict] = {}
    for entry in NAV_ENTRIES:
        if who not in entry.audience or entry.endpoint not in current_app.view_functions:
            continue
        url = url_for(entry.endpoint)
        item = {"title": entry.title, "url": url,
                "active": request.path == url or (url != "/" and
                                                  request.path.startswith(url + "/"))}
        group = _group_of(entry, who)
        if group is None:
            items.append(item)
            continue
        if group not in groups:
            groups[group] = {"title": group, "children": [], "active": False}
        groups[group]["children"].append(item)
        groups[group]["active"] = groups[group]["active"] or item["active"]
    # Drop-downs come last; a group of one is shown as a plain link.
    for group in groups.values():
        items.extend(group["children"] if len(group["children"]) == 1 else [group])
    return items
