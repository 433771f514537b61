"""As an administrator on a phone (390 px): the directory, the baseline table with a mistake and
its fix, a lock, a spreadsheet import in Windows-1251, and an API token that works."""

from __future__ import annotations

from models import ApiToken, AuditLog, Baseline, OrgKind, Role
from tests.factories import bearer

YEAR = 2025


def _login(page, url, email, password):
    page.goto(url + "/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("main button[type=submit]")
    page.wait_for_url("**/dashboard")


def test_admin_keeps_baselines_on_a_phone(live_server, browser, factory, db, tmp_path, client):
    admin = factory.create_user(Role.ADMIN, email="admin@test.local")
    s1 = factory.create_org(name="МАОУ СОШ № 1 г. Томска", short_name="СОШ № 1",
                            external_id="S-1")
    s2 = factory.create_org(name="МАОУ СОШ № 2 г. Томска", short_name="СОШ № 2",
                            external_id="S-2")
    factory.create_org(name="МАДОУ № 5", kind=OrgKind.PRESCHOOL)
    factory.create_baseline(s2, YEAR, students_total=800, students_ovz=30, teachers_total=50)
    db.session.commit()

    page = browser.phone(live_server).new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    _login(page, live_server.url, admin.email, factory.PASSWORD)
    for path in ("/admin/organizations", "/admin/users", f"/admin/baselines?year={YEAR}",
                 "/admin/baselines/import", "/admin/audit", "/account/tokens"):
        page.goto(live_server.url + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path

    # A mistake in one row: nothing is saved, the summary names the row and takes the focus.
    page.goto(f"{live_server.url}/admin/baselines?year={YEAR}")
    page.fill(f"[name='b{s1.id}-students_total']", "900")
    page.fill(f"[name='b{s1.id}-students_ovz']", "950")
    page.fill(f"[name='b{s1.id}-teachers_total']", "60")
    page.fill(f"[name='b{s2.id}-students_total']", "810")
    page.get_by_role("button", name="Сохранить все показатели").click()
    summary = page.locator(".error-summary")
    assert "МАОУ СОШ № 1 г. Томска" in summary.inner_text()
    assert "не может быть больше" in summary.inner_text()
    # The focus moves once the page's script has run: wait for it (fails after 5 s).
    page.wait_for_function(
        "() => document.activeElement && document.activeElement.hasAttribute("
        "'data-error-summary')",
        timeout=5000)
    db.session.rollback()
    assert Baseline.query.filter_by(organization_id=s2.id).one().students_total == 800
    # The fix saves both rows at once.
    page.fill(f"[name='b{s1.id}-students_ovz']", "45")
    page.get_by_role("button", name="Сохранить все показатели").click()
    assert "сохранены" in page.locator(".flash-messages").inner_text()
    db.session.rollback()
    assert Baseline.query.filter_by(organization_id=s1.id).one().students_ovz == 45
    assert Baseline.query.filter_by(organization_id=s2.id).one().students_total == 810

    # Lock school 2: its row becomes read-only.
    page.get_by_role("button", name="Заблокировать МАОУ СОШ № 2 г. Томска").click()
    assert "заблокированы" in page.locator(".flash-messages").inner_text()
    assert page.locator(f"[name='b{s2.id}-students_total']").count() == 0

    # Import a Windows-1251 CSV: the locked school is refused with its row number, then a
    # correct file goes through.
    bad = tmp_path / "bad.csv"
    bad.write_bytes(("Внешний ID;Организация;Обучающихся;С ОВЗ;Педагогов\r\n"
                     "S-1;;901;45;60\r\nS-2;;1;0;1\r\n").encode("cp1251"))
    page.goto(f"{live_server.url}/admin/baselines/import?year={YEAR}")
    page.set_input_files("#file", str(bad))
    page.get_by_role("button", name="Загрузить показатели").click()
    errors = page.locator(".error-summary").inner_text()
    assert "заблокированы" in errors
    assert page.locator(".import-problems td[data-label='Строка']").all_inner_texts() == ["3"]
    db.session.rollback()
    assert Baseline.query.filter_by(organization_id=s1.id).one().students_total == 900
    good = tmp_path / "good.csv"
    good.write_bytes(("Внешний ID;Организация;Обучающихся;С ОВЗ;Педагогов\r\n"
                      "S-1;;901;45;60\r\n").encode("cp1251"))
    page.set_input_files("#file", str(good))
    page.get_by_role("button", name="Загрузить показатели").click()
    assert "Файл загружен" in page.locator(".flash-messages").inner_text()
    db.session.rollback()
    assert Baseline.query.filter_by(organization_id=s1.id).one().students_total == 901

    # A token, shown once, that the API accepts.
    page.goto(live_server.url + "/account/tokens")
    page.fill("#name", "Выгрузка в ИС")
    page.get_by_role("button", name="Создать токен").click()
    token = page.input_value("#new-token")
    db.session.rollback()
    assert ApiToken.query.one().name == "Выгрузка в ИС"
    response = client.put(f"/api/v1/organizations/{s2.id}/baselines/{YEAR}",
                          headers=bearer(token),
                          json={"students_total": 1, "students_ovz": 0, "teachers_total": 1})
    assert response.status_code == 409  # locked
    page.goto(live_server.url + "/admin/audit")
    log = page.locator("table").inner_text()
    assert "показатели загружены из файла" in log and "показатели заблокированы" in log
    assert AuditLog.query.filter_by(action="baseline.import").count() == 1
