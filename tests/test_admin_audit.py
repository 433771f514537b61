"""The audit log page: admins only, filters by object and by user, paginated."""

from __future__ import annotations

from models import AuditLog, Role, record_audit


def test_audit_log_filters_and_paginates(client, auth, db, factory):
    admin = factory.create_user(Role.ADMIN, email="admin@test.local")
    other = factory.create_user(Role.ADMIN, email="other@test.local")
    school = factory.create_org(name="МАОУ СОШ № 4")
    for n in range(60):
        record_audit(admin, "baseline.save", object_type="baselines", object_id=n, year=2025)
    record_audit(other, "organization.update", school, name=school.name)
    record_audit(None, "user.create", other, via="cli")
    db.session.commit()
    auth.login("admin@test.local")

    page = client.get("/admin/audit").get_data(as_text=True)
    assert "страница 1 из 2" in page and "Вперёд" in page
    second = client.get("/admin/audit?page=2").get_data(as_text=True)
    assert "страница 2 из 2" in second

    page = client.get("/admin/audit?object_type=organizations"
                      f"&object_id={school.id}").get_data(as_text=True)
    assert "организация изменена" in page and "показатели сохранены" not in page
    assert "Записей: 1" in page

    page = client.get(f"/admin/audit?user={other.id}").get_data(as_text=True)
    assert "организация изменена" in page and "показатели сохранены" not in page

    page = client.get("/admin/audit?user=system").get_data(as_text=True)
    assert "пользователь создан" in page and "Записей: 1" in page


def test_admin_actions_land_in_the_log(client, auth, db, factory):
    factory.create_user(Role.ADMIN, email="admin@test.local")
    db.session.commit()
    auth.login("admin@test.local")
    client.post_form("/admin/organizations/new", {"name": "ТГАСУ", "kind": "university"})
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "организация добавлена" in page and "admin@test.local" in page
    assert AuditLog.query.filter_by(action="organization.create").count() == 1
