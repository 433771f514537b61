"""Admin: the directory of organizations."""

from __future__ import annotations

import pytest

from models import AuditLog, Organization, OrgKind, Role


@pytest.fixture
def admin(client, auth, db, factory):
    user = factory.create_user(Role.ADMIN, email="admin@test.local")
    db.session.commit()
    auth.login("admin@test.local")
    return user


def _form(**overrides):
    data = {"name": "МАОУ Гимназия № 6", "short_name": "Гимназия № 6", "kind": "school",
            "external_id": "TOMSK-G6", "description": "", "offer": "", "address": "",
            "phone": "", "email": "", "website": ""}
    data.update(overrides)
    return data


def test_list_searches_and_filters_by_kind(client, admin, factory, db):
    factory.create_org(name="МАОУ СОШ № 40", kind=OrgKind.SCHOOL)
    factory.create_org(name="ТУСУР", kind=OrgKind.UNIVERSITY)
    db.session.commit()
    page = client.get("/admin/organizations?q=сош").get_data(as_text=True)
    assert "МАОУ СОШ № 40" in page and "ТУСУР" not in page
    page = client.get("/admin/organizations?kind=university").get_data(as_text=True)
    assert "ТУСУР" in page and "МАОУ СОШ № 40" not in page


def test_admin_creates_an_organization_with_a_public_profile(client, admin, db):
    response = client.post_form("/admin/organizations/new", _form(
        kind="university", name="Томский политехнический университет", short_name="ТПУ",
        external_id="", description="Инженерные профпробы", offer="Экскурсии в лаборатории",
        address="г. Томск, пр. Ленина, 30", phone="+7 3822 606333", email="abit@tpu.ru",
        website="https://tpu.ru"))
    assert response.status_code == 302
    org = Organization.query.filter_by(short_name="ТПУ").one()
    assert org.kind == OrgKind.UNIVERSITY and org.active
    assert org.offer == "Экскурсии в лаборатории" and org.website == "https://tpu.ru"
    assert org.external_id is None  # an empty field is stored as nothing, not ""
    entry = AuditLog.query.filter_by(action="organization.create").one()
    assert entry.user_id == admin.id and entry.object_id == str(org.id)
    assert "добавлена" in client.get("/admin/organizations").get_data(as_text=True)


def test_duplicate_name_is_refused_with_a_clear_message(client, admin, factory, db):
    factory.create_org(name="МАОУ Гимназия № 6")
    db.session.commit()
    response = client.post_form("/admin/organizations/new",
                                _form(name="  маоу  гимназия № 6 ", external_id=""))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Организация с таким названием уже есть в справочнике" in page
    assert "Исправьте ошибки" in page  # the error summary
    assert Organization.query.count() == 1
    assert AuditLog.query.filter(AuditLog.action.like("organization.%")).count() == 0


def test_duplicate_external_id_is_refused(client, admin, factory, db):
    factory.create_org(name="Школа А", external_id="X-1")
    db.session.commit()
    response = client.post_form("/admin/organizations/new", _form(external_id="X-1"))
    assert response.status_code == 422
    assert "внешним идентификатором уже есть" in response.get_data(as_text=True)
    assert Organization.query.count() == 1


@pytest.mark.parametrize(("field", "value", "message"), [
    ("name", "", "Укажите название организации."),
    ("kind", "castle", "Not a valid choice"),
    ("website", "tpu.ru", "http:// или https://"),
    ("email", "not-an-email", "name@example.ru"),
    ("phone", "позвоните", "Введите телефон цифрами"),
])
def test_bad_input_is_explained_and_saves_nothing(client, admin, field, value, message):
    response = client.post_form("/admin/organizations/new", _form(**{field: value}))
    assert response.status_code == 422
    if field != "kind":
        assert message in response.get_data(as_text=True)
    assert Organization.query.count() == 0


def test_admin_edits_an_organization(client, admin, factory, db):
    org = factory.create_org(name="МАОУ СОШ № 3", kind=OrgKind.SCHOOL)
    db.session.commit()
    form_page = client.get(f"/admin/organizations/{org.id}/edit").get_data(as_text=True)
    assert "МАОУ СОШ № 3" in form_page
    response = client.post_form(f"/admin/organizations/{org.id}/edit", _form(
        name="МАОУ СОШ № 3 им. Г. Н. Ворошилова", short_name="СОШ № 3", external_id="S3",
        address="г. Томск, ул. Ленина, 1"))
    assert response.status_code == 302
    db.session.expire_all()
    assert org.name == "МАОУ СОШ № 3 им. Г. Н. Ворошилова" and org.address.endswith("1")
    assert AuditLog.query.filter_by(action="organization.update",
                                    object_id=str(org.id)).count() == 1


def test_renaming_onto_another_name_is_refused(client, admin, factory, db):
    factory.create_org(name="Школа А")
    other = factory.create_org(name="Школа Б")
    db.session.commit()
    response = client.post_form(f"/admin/organizations/{other.id}/edit",
                                _form(name="школа а", external_id=""))
    assert response.status_code == 422
    db.session.expire_all()
    assert other.name == "Школа Б"


def test_deactivate_and_reactivate(client, admin, factory, db):
    org = factory.create_org(name="МАОУ СОШ № 9")
    db.session.commit()
    client.post_form(f"/admin/organizations/{org.id}/deactivate")
    db.session.expire_all()
    assert org.active is False
    page = client.get("/admin/organizations?status=inactive").get_data(as_text=True)
    assert "МАОУ СОШ № 9" in page and "отключена" in page
    client.post_form(f"/admin/organizations/{org.id}/activate")
    db.session.expire_all()
    assert org.active is True
    actions = [a.action for a in AuditLog.query.filter_by(object_type="organizations",
                                                          object_id=str(org.id))
               .order_by(AuditLog.id)]
    assert actions == ["organization.deactivate", "organization.activate"]


def test_deactivate_needs_the_csrf_token(client, admin, factory, db):
    org = factory.create_org(name="МАОУ СОШ № 9")
    db.session.commit()
    assert client.post(f"/admin/organizations/{org.id}/deactivate").status_code == 400
    db.session.expire_all()
    assert org.active is True


def test_unknown_organization_is_a_404(client, admin):
    assert client.get("/admin/organizations/999/edit").status_code == 404
    assert client.post_form("/admin/organizations/999/deactivate").status_code == 404


def test_duplicate_name_is_reported_with_the_other_mistakes(client, admin, factory, db):
    factory.create_org(name="МАОУ Гимназия № 6")
    db.session.commit()
    response = client.post_form("/admin/organizations/new",
                                _form(external_id="", website="tpu.ru"))
    page = response.get_data(as_text=True)
    assert "http:// или https://" in page
    assert "Организация с таким названием уже есть в справочнике" in page
    assert Organization.query.count() == 1
