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
    NavEntry("Показатели школы", "main.own_baseline", (Role.COORDINATOR,)),
    NavEntry("Ученики", "schools.students", (Role.COORDINATOR,)),
    NavEntry("Педагоги", "schools.teachers", (Role.COORDINATOR,)),
    NavEntry("Заявки", "schools.registrations", (Role.COORDINATOR,)),
    NavEntry("Списки школ", "schools.students", (Role.ADMIN,)),
    NavEntry("Заявки педагогов", "parents.teacher_signups", (Role.COORDINATOR,)),
    NavEntry("Почта", "parents.outbox", (Role.ADMIN,)),
    NavEntry("Журнал", "admin.audit", (Role.ADMIN,)),
    NavEntry("Отчёты", "reports.dashboard", (Role.ADMIN, Role.ORGANIZER, Role.COORDINATOR)),
    NavEntry("Аналитическая справка", "reports.spravka", (Role.ADMIN,)),
    NavEntry("API-токены", "admin.tokens", (Role.ADMIN, Role.ORGANIZER, Role.COORDINATOR)),
]


def nav_items() -> list[dict]:
    from flask import current_app

    who = current_user.role if current_user.is_authenticated else ANONYMOUS
    items = []
    for entry in NAV_ENTRIES:
        if who not in entry.audience or entry.endpoint not in current_app.view_functions:
            continue
        url = url_for(entry.endpoint)
        items.append({"title": entry.title, "url": url,
                      "active": request.path == url or (url != "/" and
                                                        request.path.startswith(url + "/"))})
    return items
