"""Who is told when something happens: every receiver of the domain's signals
(``checkin.notifications``), connected in one place.

- A seat is freed and a ticket moves up from the waiting list (``ticket_promoted``, per
  ticket): the parent, or the teacher who signed up on their own, gets the ticket by e-mail
  (``webapp.parents.emails.ticket_promoted``).
- A promotion run confirmed tickets (``waitlist_promoted``, once per run): the coordinators of
  each school concerned get one e-mail listing their people
  (``webapp.schools.hooks.email_coordinators_on_promotion``); the school's notice on the
  dashboard is recorded by the allocation itself (``checkin.seats.registration``).
- A published event is cancelled (``event_cancelled``): parents, self-signed-up teachers
  (confirmed or still pending), teachers of a school's group with a roster e-mail and the
  coordinators of registered schools get one e-mail each, and each registered school a
  notice on its pages (``webapp.parents.emails.event_cancelled``).
- A published event's date, time or venue changed (``event_moved``, once per change): every
  school holding a live ticket gets a notice on its pages and its coordinators an e-mail;
  parents and teachers with an e-mail get one too, with the updated calendar entry
  (``webapp.parents.emails.event_moved``; who exactly: ``webapp.parents.recipients``, which
  also counts them for the organizer's edit form).

Receivers run in the sender's transaction and only queue mail (sent after the response).
"""

from __future__ import annotations

from checkin.notifications import (
    event_cancelled,
    event_moved,
    ticket_promoted,
    waitlist_promoted,
)
from webapp.parents import emails as parent_emails
from webapp.schools.hooks import email_coordinators_on_promotion

RECEIVERS = (
    (ticket_promoted, parent_emails.ticket_promoted),
    (waitlist_promoted, email_coordinators_on_promotion),
    (event_cancelled, parent_emails.event_cancelled),
    (event_moved, parent_emails.event_moved),
)


def connect_receivers() -> None:
    """Called by ``create_app``. Idempotent: blinker keeps one entry per receiver, and the
    strong references (``weak=False``) keep module functions connected for the process."""
    for signal, receiver in RECEIVERS:
        signal.connect(receiver, weak=False)
