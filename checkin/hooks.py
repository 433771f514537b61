"""Extension points of seat allocation: other areas append callables here at import time.

* ``TICKET_PROMOTED_HOOKS``: ``(ticket) -> None`` for every ticket moved from the waiting list
  to confirmed (the parents area e-mails parents).
* ``WAITLIST_PROMOTED_HOOKS``: ``(event, tickets) -> None`` once per promotion run with all
  the tickets it confirmed (the schools area e-mails coordinators, one message per school).

Hooks run inside the caller's transaction, after the change was flushed; they must not commit.
Register with :func:`register_hook` so that building the app twice does not add a hook twice.
"""

from __future__ import annotations

from collections.abc import Callable

TICKET_PROMOTED_HOOKS: list[Callable] = []
WAITLIST_PROMOTED_HOOKS: list[Callable] = []


def register_hook(hooks: list[Callable], hook: Callable) -> None:
    if hook not in hooks:
        hooks.append(hook)
