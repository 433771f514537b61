"""Report pages: what each role sees, sorting and highlighting, drill-downs, the analytical
report (HTML and PDF), and the spreadsheets (XLSX opened with openpyxl, CSV read back)."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from models import EventStatus, OrgKind, Role, Target, now_utc

YEAR = 2024


@pytest.fixture
def city(db, factory):
    f = factory
    s1 = f.create_org(name="МАОУ СОШ № 101", short_name="СОШ № 101")
    s2 = f.create_org(name="МАОУ СОШ № 102", short_name="СОШ № 102")
    s3 = f.create_org(name="МАОУ СОШ № 103", short_name="СОШ № 103")
    k1 = f.create_org(name="МАДОУ № 55", short_name="ДОО № 55", kind=OrgKind.PRESCHOOL)
    uni = f.create_org(name="Томский вуз (отчёт)", short_name="Вуз", kind=OrgKind.UNIVERSITY)
    other = f.create_org(name="Другой организатор", kind=OrgKind.PARTNER)
    f.create_baseline(s1, YEAR, students_total=4, students_ovz=2, teachers_total=2)
    f.create_baseline(s2, YEAR, students_total=2, students_ovz=1, teachers_total=1)
    f.create_baseline(s3, YEAR, students_total=0, students_ovz=0, teachers_total=0)
    e1 = f.create_event(uni, title="День открытых дверей (отчёт)",
                        starts_at=datetime(2024, 10, 10, 5, tzinfo=UTC))
    e2 = f.create_event(uni, title="Ранняя профпроба (отчёт)", early=True,
                        starts_at=datetime(2024, 11, 11, 5, tzinfo=UTC))
    foreign = f.create_event(other, title="Чужое мероприятие",
                             starts_at=datetime(2024, 12, 1, 5, tzinfo=UTC))
    f.create_event(uni, title="Отменённое (отчёт)", status=EventStatus.CANCELLED,
                   cancel_reason="Перенос", starts_at=datetime(2024, 12, 5, 5, tzinfo=UTC))
    soon = now_utc() + timedelta(days=10)
    f.create_event(uni, title="Мастерская для детей с ОВЗ", ovz_adapted=True, starts_at=soon)
    f.create_event(uni, title="Ранняя профориентация: квест", early=True,
                   starts_at=soon + timedelta(days=2))
    a = f.create_student(s1, last_name="Алексеев", first_name="Антон", class_name="7А")
    b = f.create_student(s1, last_name="Борисова", first_name="Вера", class_name="7А", ovz=True)
    f.create_student(s1, last_name="Васильев", first_name="Глеб", class_name="8Б")
    d = f.create_student(s2, last_name="Дмитриева", first_name="Ева", class_name="3А", grade=3,
                         ovz=True)
    f.create_checkin(f.create_ticket(e1, a))
    f.create_ticket(e1, b)  # registered, did not come
    f.create_checkin(f.create_ticket(e1, d))
    f.create_checkin(f.create_ticket(e2, d))
    f.create_checkin(f.create_ticket(foreign, a))
    t1 = f.create_teacher(s1)
    f.create_checkin(f.create_ticket(e1, t1))
    users = {
        "admin": f.create_user(Role.ADMIN, email="admin@rep.local"),
        "coordinator": f.create_user(Role.COORDINATOR, organization=s1, email="coord@rep.local"),
        "organizer": f.create_user(Role.ORGANIZER, organization=uni, email="org@rep.local"),
    }
    db.session.commit()
    return {"s1": s1, "s2": s2, "s3": s3, "k1": k1, "e1": e1, "foreign": foreign,
            "users": users}


def login(auth, city, role):
    response = auth.login(city["users"][role].email)
    assert response.status_code in (302, 303)


def text(response) -> str:
    return response.get_data(as_text=True)


def test_admin_dashboard_shows_city_figures_and_every_school(client, auth, city):
    login(auth, city, "admin")
    page = text(client.get(f"/reports/?year={YEAR}"))
    assert "Показатели профориентационной работы" in page
    assert "2024/25 учебный год" in page
    assert "33,3\u00a0%" in page          # city students: a and d of 6
    assert "СОШ № 101" in page and "СОШ № 103" in page and "ДОО № 55" in page
    assert "нет данных" in page           # СОШ № 103 has B = 0
    assert f"/reports/schools/{city['s1'].id}?year={YEAR}" in page  # drill-down
    assert "<svg" in page and "<desc" in page and 'role="img"' in page


def test_city_students_figure_counts_distinct_people(client, auth, city):
    login(auth, city, "admin")
    body = client.get(f"/api/v1/reports/indicators?year={YEAR}").get_json()
    # a and d checked in (a twice, d twice); b only registered: 2 of 6.
    assert body["city"]["students"] == {"a": 2, "b": 6, "percent": 33.3}


def test_schools_table_sorts_and_highlights_below_threshold(client, auth, city):
    login(auth, city, "admin")
    page = text(client.get(f"/reports/?year={YEAR}&sort=students&dir=desc&threshold=40"))
    table = page[page.index('id="schools"'):page.index('id="pre-h"')]
    # СОШ № 102: 1/2 = 50 %, СОШ № 101: 1/4 = 25 %, СОШ № 103: нет данных (last).
    assert table.index("СОШ № 102") < table.index("СОШ № 101") < table.index("СОШ № 103")
    assert 'aria-sort="descending"' in table
    assert "(ниже порога)" in table       # 25 % < 40 %
    ascending = text(client.get(f"/reports/?year={YEAR}&sort=students&dir=asc"))
    table = ascending[ascending.index('id="schools"'):ascending.index('id="pre-h"')]
    assert table.index("СОШ № 101") < table.index("СОШ № 102")
    assert "(ниже городского уровня)" in table


def test_bad_filter_shows_a_russian_error_and_no_report(client, auth, city):
    login(auth, city, "admin")
    response = client.get("/reports/?year=1999&threshold=500")
    assert response.status_code == 422
    page = text(response)
    assert "Исправьте ошибки" in page
    assert "Выберите значение из списка." in page
    assert "Порог — от 0 до 100." in page
    assert "Город: общеобразовательные организации" not in page


def test_coordinator_sees_own_school_beside_the_city(client, auth, city):
    login(auth, city, "coordinator")
    response = client.get(f"/reports/?year={YEAR}", follow_redirects=True)
    page = text(response)
    assert "МАОУ СОШ № 101" in page
    assert "25,0\u00a0%" in page and "33,3\u00a0%" in page   # own 1/4, city 2/6
    not_involved = page[page.index('id="ni-h"'):page.index('id="ev-h"')]
    assert "Борисова Вера" in not_involved and "Васильев Глеб" in not_involved
    assert "Алексеев" not in not_involved
    ovz = page[page.index('id="ovz-h"'):page.index('id="ni-h"')]
    assert "вовлечено 0 из 2" in ovz and "Борисова Вера" in ovz
    gaps = page[page.index('id="gaps-h"'):page.index('id="ovz-h"')]
    assert "Мастерская для детей с ОВЗ" in gaps       # helps the ОВЗ gap
    assert "Ранняя профориентация: квест" in gaps     # helps the early-guidance gap


def test_coordinator_cannot_open_another_school_or_the_city_pages(client, auth, city):
    login(auth, city, "coordinator")
    assert client.get(f"/reports/schools/{city['s2'].id}").status_code == 403
    assert client.get("/reports/spravka").status_code == 403
    assert client.get("/reports/roadmap").status_code == 403
    assert client.get(f"/reports/indicators.csv?organization_id={city['s2'].id}"
                      ).status_code == 403


def test_organizer_report_registered_against_checked_in(client, auth, city):
    login(auth, city, "organizer")
    page = text(client.get(f"/reports/organizer?year={YEAR}"))
    assert "День открытых дверей (отчёт)" in page
    assert "Чужое мероприятие" not in page
    # e1: a, b, d, t1 registered (4), a, d, t1 came (3): no-show 1 (25,0 %).
    row = page[page.index("День открытых дверей (отчёт)"):]
    row = row[:row.index("</tr>")]
    assert ">4<" in row and ">3<" in row and "1 (25,0\u00a0%)" in row
    event = text(client.get(f"/reports/events/{city['e1'].id}"))
    assert "СОШ № 101" in event and "СОШ № 102" in event
    assert "ОВЗ" not in event
    assert client.get(f"/reports/events/{city['foreign'].id}").status_code == 403
    assert client.get(f"/reports/?year={YEAR}", follow_redirects=True).status_code == 200
    assert client.get("/reports/indicators.xlsx").status_code == 403


def test_roadmap_execution_counts_planned_and_held(client, auth, city, db):
    from models import RoadmapItem

    item = RoadmapItem.query.filter_by(number="3.2").first() or RoadmapItem.query.first()
    city["e1"].roadmap_item_id = item.id
    db.session.commit()
    login(auth, city, "admin")
    page = text(client.get(f"/reports/roadmap?year={YEAR}"))
    row = page[page.index(f">{item.number}<"):]
    row = row[:row.index("</tr>")]
    cells = [c.split("<")[0] for c in row.split('class="num">')[1:]]
    assert cells == ["1", "0", "1", "3", "2"]  # planned, cancelled, held, check-ins, students


def test_spravka_html_has_recommendations_and_the_pdf_has_cyrillic(client, auth, city, db):
    # The year is over: its forecast is its result; a goal of 50 % for ОВЗ coverage is missed.
    db.session.add(Target(year=YEAR, organization_id=None, students_ovz=Decimal("50")))
    db.session.commit()
    login(auth, city, "admin")
    page = text(client.get(f"/reports/spravka?year={YEAR}"))
    assert "Аналитическая справка" in page
    advice = page[page.index('id="s5"'):]
    assert "МАОУ СОШ № 101" in advice
    assert "Обучающиеся с ОВЗ" in advice and "Мастерская для детей с ОВЗ" in advice
    assert "нужно вовлечь ещё 1 обучающегося" in advice  # 1/4 → 50 % of 4: 2 of 4
    response = client.get(f"/reports/spravka.pdf?year={YEAR}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf_text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    assert "Аналитическая справка" in pdf_text
    assert "МАОУ СОШ № 101" in pdf_text
    assert "Адресные рекомендации" in pdf_text


def test_xlsx_opens_in_openpyxl_with_the_promised_layout(client, auth, city):
    login(auth, city, "admin")
    response = client.get(f"/reports/indicators.xlsx?year={YEAR}")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    ws = load_workbook(io.BytesIO(response.data))["Показатели"]
    assert "2024/25" in ws["A1"].value
    assert ws.freeze_panes == "C5"
    assert [ws.cell(4, c).value for c in (3, 4, 5)] == ["A", "B", "X, %"]
    assert ws["C3"].value.startswith("1. Обучающиеся")
    assert ws["A5"].value.startswith("Город Томск")
    assert (ws["C5"].value, ws["D5"].value) == (2, 6)
    assert ws["E5"].number_format == "0.0%" and abs(ws["E5"].value - 2 / 6) < 0.001
    names = [ws.cell(r, 1).value for r in range(5, ws.max_row + 1)]
    assert "МАОУ СОШ № 103" in names and "МАДОУ № 55" in names
    row103 = names.index("МАОУ СОШ № 103") + 5
    assert ws.cell(row103, 5).value == "нет данных"


def test_csv_reads_back_with_cyrillic_in_a_russian_excel_format(client, auth, city):
    login(auth, city, "coordinator")
    response = client.get(f"/reports/indicators.csv?year={YEAR}")
    assert response.status_code == 200
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Организация", "Тип", "1. Обучающиеся, вовлечённые в "
                                                 "профориентационные мероприятия: A"]
    names = [r[0] for r in rows[1:]]
    assert names[0].startswith("Город Томск") and "МАОУ СОШ № 101" in names
    assert "МАОУ СОШ № 102" not in names  # a coordinator gets own school and the totals
    own = rows[names.index("МАОУ СОШ № 101") + 1]
    assert own[2:5] == ["1", "4", "25,0"]


def test_dashboard_for_a_date_range_and_a_bad_range(client, auth, city):
    login(auth, city, "admin")
    page = text(client.get("/reports/?from=2024-10-01&to=2024-10-31"))
    assert "01.10.2024 – 31.10.2024" in page
    assert "/reports/indicators.xlsx?from=2024-10-01&amp;to=2024-10-31" in page
    bad = client.get("/reports/?from=2024-10-31&to=2024-10-01")
    assert bad.status_code == 422
    assert "Дата окончания раньше даты начала." in text(bad)
    half = client.get("/reports/?from=2024-10-01")
    assert half.status_code == 422 and "Укажите обе даты периода" in text(half)


@pytest.mark.skipif(shutil.which("soffice") is None and os.environ.get("CI") != "true",
                    reason="LibreOffice (soffice) not installed (CI installs it: .ci/run)")
def test_xlsx_opens_in_libreoffice(client, auth, city, tmp_path):
    login(auth, city, "admin")
    (tmp_path / "p.xlsx").write_bytes(client.get(f"/reports/indicators.xlsx?year={YEAR}").data)
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                    "--convert-to", "csv:Text - txt - csv (StarCalc):59,34,76,1",
                    "--outdir", str(tmp_path / "out"), str(tmp_path / "p.xlsx")],
                   check=True, capture_output=True, timeout=180)
    rows = list(csv.reader(io.StringIO((tmp_path / "out" / "p.csv").read_text("utf-8")),
                           delimiter=";"))
    city_row = next(r for r in rows if r and r[0].startswith("Город Томск — общеобразовательные"))
    assert city_row[2:5] == ["2", "6", "33.3%"]
