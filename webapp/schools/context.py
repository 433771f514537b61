"""Which school a page is about: the coordinator's own, or (for admins) the one in ``?org=``."""

from __future__ import annotations

from flask import abort, request, url_for
from flask_login import current_user

from models import Organization, Role, db
from models.organization import EDUCATIONAL_KINDS


def current_school() -> Organization:
    """The school the page shows. Coordinators: their own. Admins: ``?org=<id>`` (required)."""
    if current_user.role == Role.ADMIN:
        org_id = request.args.get("org", type=int)
        if org_id is None:
            abort(404)
        org = db.session.get(Organization, org_id)
    elif current_user.role == Role.COORDINATOR:
        org = db.session.get(Organization, current_user.organization_id)
    else:
        abort(403)
    if org is None or org.kind not in EDUCATIONAL_KINDS:
        abort(404)
    return org


def school_url(endpoint: str, school: Organization | None = None, **values) -> str:
    """``url_for`` that keeps ``?org=`` for admins working on a school's pages."""
    if current_user.is_authenticated and current_user.role == Role.ADMIN and school is not None:
        values.setdefault("org", school.id)
    return url_for(endpoint, **values)
