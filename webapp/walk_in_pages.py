"""What the organizer's door review and the school's page share when a person decides on a
walk-in a volunteer entered (``checkin.door.walkins``): one unit of work and one message."""

from __future__ import annotations

from flask import flash
from flask_login import current_user

from checkin.door.walkins import confirm_walk_in, reject_walk_in
from errors import ServiceError
from models import WalkIn
from webapp.transaction import unit_of_work


def decide_walk_in(walk_in: WalkIn, action: str) -> None:
    """Confirm (``action == "confirm"``) or reject the walk-in and flash what happened."""
    name = walk_in.full_name
    with unit_of_work(catch=ServiceError) as uow:
        if action == "confirm":
            confirm_walk_in(current_user, walk_in)
        else:
            reject_walk_in(current_user, walk_in)
    if uow.error is not None:
        flash(f"{name}: {uow.error.message}", "danger")
    elif action == "confirm":
        flash(f"{name}: подтверждён(а) и отмечен(а) как пришедший(ая).", "success")
    else:
        flash(f"{name}: запись отклонена, ничего не засчитано.", "success")
