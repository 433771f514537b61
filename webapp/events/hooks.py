"""Extension points of the events area: other areas append callables here.

These are plain lists so a feature package can plug into the event pages without editing
the events blueprint. Register at import time of your package, e.g. in
``webapp/schools/__init__.py``::

    from webapp.events.hooks import EVENT_PAGE_ACTIONS
    EVENT_PAGE_ACTIONS.append(my_actions)

Contracts:

* ``EVENT_MANAGE_SECTIONS``: ``(event) -> list[(template_name, context_dict)]``; each pair is
  rendered (``render_template(template, **context)``) on the organizer's page of one event
  (``events.manage``).
* ``EVENT_PAGE_ACTIONS``: ``(event, user) -> list[(template_name, context_dict)]``; rendered as
  calls to action on the public event page (``events.detail``). ``user`` is ``current_user``
  (may be anonymous).
* ``EVENT_CANCELLED_HOOKS``: ``(event) -> None``; called by ``services.cancel_event`` after the
  status change was flushed (same transaction; do not commit).
"""

from __future__ import annotations

from collections.abc import Callable

EVENT_MANAGE_SECTIONS: list[Callable] = []
EVENT_PAGE_ACTIONS: list[Callable] = []
EVENT_CANCELLED_HOOKS: list[Callable] = []


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
