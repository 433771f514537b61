"""Admin: the targets table (save, errors, locks, import, export) and where the forecast shows
(the school page, the dashboard, the backtest page)."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from models import AuditLog, Role, Target, db
from webapp.services.targets import CITY_LABEL, TARGET_LABELS

YEAR = 2025


@pytest.fixture
def city(client, auth, db, factory):
    admin = factory.create_user(Role.ADMIN, email="admin@test.local")
    s1 = factory.create_org(name="МАОУ СОШ № 1", external_id="S-1")
    s2 = factory.create_org(name="МАОУ СОШ № 2")
    uni = factory.create_org(name="ТГУ", kind=factory.OrgKind.UNIVERSITY)
    db.session.commit()
    auth.login("admin@test.local")
    return {"admin": admin, "s1": s1, "s2": s2, "uni": uni}


def _target(org_id):
    db.session.expire_all()
    return db.session.execute(db.select(Target).where(
        Target.year == YEAR, Target.organization_id.is_(None) if org_id is None
        else Target.organization_id == org_id)).scalar_one_or_none()


def test_table_saves_the_city_and_a_school(client, city):
    page = client.get(f"/admin/targets?year={YEAR}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert CITY_LABEL in html and "МАОУ СОШ № 1" in html and "ТГУ" not in html
    response = client.post_form(f"/admin/targets?year={YEAR}", {
        "t-city-students": "60", "t-city-events": "72,5",
        f"t-{city['s1'].id}-students": "55 %"})
    assert response.status_code == 302
    city_row, own = _target(None), _target(city["s1"].id)
    assert (city_row.students, city_row.events, city_row.teachers) == (
        Decimal("60.0"), Decimal("72.5"), None)
    assert own.students == Decimal("55.0") and _target(city["s2"].id) is None
    assert AuditLog.query.filter_by(action="target.save").count() == 1


def test_a_bad_value_saves_nothing_and_is_shown_by_its_field(client, city):
    response = client.post_form(f"/admin/targets?year={YEAR}", {
        "t-city-students": "60", f"t-{city['s2'].id}-teachers": "120"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'href="#t-{city["s2"].id}-teachers"' in html
    assert "МАОУ СОШ № 2, Педагоги: Цель — от 0 до 100 %." in html
    assert 'value="120"' in html  # what was typed stays
    assert _target(None) is None


def test_locked_row_is_read_only_until_unlocked(client, city):
    client.post_form(f"/admin/targets?year={YEAR}", {"t-city-students": "60"})
    assert client.post_form(f"/admin/targets/city/lock?year={YEAR}").status_code == 302
    assert _target(None).locked
    html = client.get(f"/admin/targets?year={YEAR}").get_data(as_text=True)
    assert 'id="t-city-students"' not in html and "Разблокировать" in html
    # A posted value for a locked row is ignored; the others save.
    client.post_form(f"/admin/targets?year={YEAR}", {
        "t-city-students": "10", f"t-{city['s1'].id}-students": "50"})
    assert _target(None).students == Decimal("60.0")
    assert _target(city["s1"].id).students == Decimal("50.0")
    client.post_form(f"/admin/targets/city/unlock?year={YEAR}")
    assert not _target(None).locked
    client.post_form(f"/admin/targets/lock-all?year={YEAR}")
    assert _target(None).locked and _target(city["s1"].id).locked
    client.post_form(f"/admin/targets/unlock-all?year={YEAR}")
    assert not _target(city["s1"].id).locked
    assert client.post_form(f"/admin/targets/{city['uni'].id}/lock?year={YEAR}").status_code \
        == 404


def _csv(rows) -> bytes:
    header = ["Внешний ID", "Организация", *TARGET_LABELS.values()]
    lines = [";".join(header)] + [";".join(str(v) for v in r) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _upload(client, data, name="цели.csv"):
    return client.post_form("/admin/targets/import", {
        "year": str(YEAR), "file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def test_import_sets_rows_and_export_reads_them_back(client, city):
    blank = [""] * 8
    data = _csv([["", CITY_LABEL, "60", *blank],
                 ["S-1", "что угодно", "55,5", "", "40", *[""] * 6]])
    response = _upload(client, data)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _target(None).students == Decimal("60.0")
    own = _target(city["s1"].id)
    assert (own.students, own.students_ovz) == (Decimal("55.5"), Decimal("40.0"))
    exported = client.get(f"/admin/targets/targets.csv?year={YEAR}")
    assert exported.status_code == 200
    text = exported.get_data().decode("utf-8-sig")
    assert f";{CITY_LABEL};60,0;" in text and "S-1;МАОУ СОШ № 1;55,5;;40,0;" in text
    assert client.get(f"/admin/targets/targets.xlsx?year={YEAR}").status_code == 200


def test_import_errors_are_per_cell_and_save_nothing(client, city):
    data = _csv([["", CITY_LABEL, "60", *[""] * 8],
                 ["", "Нет такой школы", "1", *[""] * 8],
                 ["", "ТГУ", "1", *[""] * 8],
                 ["S-1", "", "много", *[""] * 8]])
    response = _upload(client, data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "«Нет такой школы» не найдена" in html
    assert "«ТГУ» — не школа" in html
    assert "Ожидается число от 0 до 100" in html
    assert _target(None) is None


def test_only_admins_open_the_targets_and_the_backtest(client, auth, factory, db):
    school = factory.create_org()
    factory.create_user(Role.COORDINATOR, organization=school, email="c@test.local")
    db.session.commit()
    auth.login("c@test.local")
    assert client.get("/admin/targets").status_code == 403
    assert client.get("/admin/forecast-backtest").status_code == 403
