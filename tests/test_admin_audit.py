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


def test_audit_details_read_as_russian_sentences(client, auth, db, factory):
    """Issue #20 item 13: no ``None``, no dict or list dumps, no English keys on the page."""
    import re
    from datetime import UTC, datetime

    from webapp.admin.audit_text import describe_details

    admin = factory.create_user(Role.ADMIN, email="admin@test.local")
    school = factory.create_org(name="МАОУ СОШ № 4")
    record_audit(admin, "scanner_link.create", object_type="scanner_links", object_id=3,
                 event_id=12, label="Волонтёр Маша", gate=None,
                 expires_at=datetime(2026, 12, 3, 11, 0, tzinfo=UTC).isoformat())
    record_audit(admin, "baseline.save", object_type="baselines", object_id=5,
                 organization_id=school.id, year=2025,
                 values={"students_total": 500, "students_ovz": 12})
    record_audit(admin, "checkin.undo", object_type="scans", object_id=9,
                 reason="Отметили по ошибке", ticket_id=44)
    record_audit(admin, "ticket.cancel", object_type="tickets", object_id=44, event_id=12,
                 walk_in_undone=True)
    record_audit(admin, "registration.add_people", object_type="registrations", object_id=2,
                 tickets=[7, 8])
    record_audit(None, "user.create", admin, via="cli", role="organizer")
    db.session.commit()
    auth.login("admin@test.local")
    html = client.get("/admin/audit").get_data(as_text=True)
    cells = [re.sub(r"\s+", " ", c).strip() for c in
             re.findall(r'<td class="small"[^>]*>(.*?)</td>', html, re.S)]
    text = " | ".join(cells)
    assert "None" not in text and "{" not in text and "[" not in text and "_id" not in text
    assert ("Мероприятие № 12. Кому выдана: «Волонтёр Маша». Действует до 03.12.2026 18:00."
            in cells)
    assert (f"Организация № {school.id}. Учебный год 2025/26. Значения: обучающихся — 500, "
            "из них с ОВЗ — 12.") in cells
    assert "Причина: «Отметили по ошибке». Билет № 44." in cells
    assert ("Мероприятие № 12. Билет пришедшего без записи отменён вместе с отметкой: место "
            "освободилось.") in cells
    assert "Билеты № 7, 8." in cells
    assert "Через: командная строка. Роль: Организатор мероприятий." in cells
    # a key nobody taught it yet still reads as words
    assert describe_details({"extra_note": {"a": None}, "skipped": None}) == \
        "Extra note: a — не указано."
