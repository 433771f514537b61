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
  (confirmed or still pending) and the coordinators of registered schools get one e-mail each
  (``webapp.parents.emails.event_cancelled``).

Receivers run in the sender's transaction and only queue mail (sent after the response).
"""

from __future__ import annotations

from checkin.notifications import event_cancelled, ticket_promoted, waitlist_promoted
from webapp.parents import emails as parent_emails
from webapp.schools.hooks import email_coordinators_on_promotion

RECEIVERS = (
    (ticket_promoted, parent_emails.ticket_promoted),
    (waitlist_promoted, email_coordinators_on_promotion),
    (event_cancelled, parent_emails.event_cancelled),
)


def connect_receivers() -> None:
    """Called by ``create_app``. Idempotent: blinker keeps one entry per receiver, and the
    strong references (``weak=False``) keep module functions connected for the process."""
    for signal, receiver in RECEIVERS:
        signal.connect(receiver, weak=False)
