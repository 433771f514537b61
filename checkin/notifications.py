"""The named signals of the domain: what happened, declared in one place.

The domain sends them; who is told is decided in one web module, ``webapp/notifications.py``,
which connects every receiver in one function called by the app factory. Receivers run
inside the sender's transaction, after the change was flushed, and must not commit.

* ``ticket_promoted``: sent with the ticket (``sender``) for every ticket moved from the
  waiting list to confirmed.
* ``waitlist_promoted``: sent once per promotion run with the event (``sender``) and
  ``tickets``, every ticket the run confirmed.
* ``event_cancelled``: sent with the event (``sender``) when a published event is cancelled.
* ``event_moved``: sent with the event (``sender``) and ``before`` (its old ``starts_at``,
  ``ends_at``, ``venue_name``, ``venue_address`` and ``venue_room``) when a published
  event's date, time or venue really changed: once per change, never for a save that
  changed none of them.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

ticket_promoted = _signals.signal("ticket-promoted")
waitlist_promoted = _signals.signal("waitlist-promoted")
event_cancelled = _signals.signal("event-cancelled")
event_moved = _signals.signal("event-moved")
