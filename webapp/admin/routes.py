from flask import render_template, request

from models import Organization, OrgKind, db
from webapp.access import admin_required
from webapp.admin import bp


@bp.get("/organizations")
@admin_required
def organizations():
    query = Organization.query
    q = (request.args.get("q") or "").strip()
    kind = request.args.get("kind") or ""
    if q:
        like = f"%{q.lower()}%"
        query = query.filter(db.or_(db.func.lower(Organization.name).like(like),
                                    db.func.lower(Organization.short_name).like(like)))
    if kind in {k.value for k in OrgKind}:
        query = query.filter(Organization.kind == OrgKind(kind))
    orgs = query.order_by(Organization.kind, Organization.name).all()
    return render_template("admin/organizations.html", orgs=orgs, q=q, kind=kind,
                           kinds=list(OrgKind))
