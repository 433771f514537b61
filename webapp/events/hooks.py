"""Page extension points of the events area: other areas add sections to the event pages.

Plain lists, filled in display order by ``webapp/page_sections.py`` (one place lists every
section of every shared page, the dashboard's ``webapp.main.routes.DASHBOARD_SECTIONS`` too);
a feature package writes its section function and adds one line there.

What happens after a change (e-mails when a seat is freed or an event is cancelled) is not
here: the domain sends the signals of ``checkin.notifications`` and
``webapp/notifications.py`` connects who is told.

Contracts:

* ``EVENT_MANAGE_SECTIONS``: ``(event) -> list[(template_name, context_dict)]``; each pair is
  rendered (``render_template(template, **context)``) on the organizer's page of one event
  (``events.manage``).
* ``EVENT_PAGE_SECTIONS``: ``(event, user) -> list[(template_name, context_dict)]``; rendered on
  the public event page after its description, whether or not the event is over (the
  attendance upload for a school's coordinator once it is).
* ``EVENT_PAGE_ACTIONS``: ``(event, user) -> list[(template_name, context_dict)]``; rendered as
  calls to action on the public event page (``events.detail``). ``user`` is ``current_user``
  (may be anonymous).
"""

from __future__ import annotations

from collections.abc import Callable

EVENT_MANAGE_SECTIONS: list[Callable] = []
EVENT_PAGE_ACTIONS: list[Callable] = []
EVENT_PAGE_SECTIONS: list[Callable] = []


def collect_sections(hooks: list[Callable], *args) -> list[tuple[str, dict]]:
    """Call every hook with ``args`` and flatten their (template, context) pairs."""
    sections: list[tuple[str, dict]] = []
    for hook in hooks:
        sections.extend(hook(*args) or [])
    return sections


def render_sections(hooks: list[Callable], *args) -> list:
    """Render every (template, context) pair of the hooks; the context's keys become the
    template's variables (``render_template(template, **context)``)."""
    from flask import render_template
    from markupsafe import Markup

    return [Markup(render_template(template, **context))  # noqa: S704 - autoescaped template
            for template, context in collect_sections(hooks, *args)]
