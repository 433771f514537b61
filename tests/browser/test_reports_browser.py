"""On a phone (390 px): the справка's PDF link says it is being prepared while the server makes
the file, and a long name without spaces never widens a page, public or internal, tables
included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from models import Audience, Role, ScanSource, now_utc

YEAR = 2024
#: A real kind of long name: a whole organization's name typed without spaces.
LONG = ("Муниципальноеавтономноеобщеобразовательноеучреждениесредняяобщеобразовательная"
        "школа")


def _login(page, url, email, password):
    page.goto(url + "/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("main button[type=submit]")
    page.wait_for_url("**/dashboard")


def _scroll_width(page) -> int:
    return page.evaluate("() => document.documentElement.scrollWidth")


def test_spravka_pdf_link_says_it_is_being_prepared(live_server, browser, factory, db):
    admin = factory.create_user(Role.ADMIN, email="admin@pdf.local")
    school = factory.create_org(name="МАОУ СОШ № 5", short_name="СОШ № 5")
    factory.create_baseline(school, YEAR, students_total=10, students_ovz=0, teachers_total=1)
    db.session.commit()
    page = browser.phone(live_server).new_page()
    _login(page, live_server.url, admin.email, factory.PASSWORD)
    page.goto(f"{live_server.url}/reports/spravka?year={YEAR}")
    # Stay on the page after the click (the PDF would replace it, and Playwright cannot look
    # into a page while it is being replaced): what the person sees while the server works.
    page.evaluate("() => { window.stay = (e) => e.preventDefault();"
                  " document.addEventListener('click', window.stay) }")
    link = page.get_by_role("link", name="Скачать PDF")
    link.click()
    busy = page.locator("a[data-busy-text]")
    assert busy.get_attribute("aria-busy") == "true"
    assert busy.inner_text().strip() == "PDF готовится…"
    assert busy.locator(".spinner-border").count() == 1
    assert page.locator("#pdf-status").text_content() == "PDF готовится…"
    # A second tap does not ask for a second PDF (the page's own script refuses it now).
    page.evaluate("() => document.removeEventListener('click', window.stay)")
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    busy.click(force=True)
    page.wait_for_timeout(300)
    assert not [url for url in requests if ".pdf" in url]
    # Back from the PDF (the page restored from the browser's cache): the link as before.
    page.evaluate("() => window.dispatchEvent(new PageTransitionEvent('pageshow',"
                  " {persisted: true}))")
    assert busy.get_attribute("aria-busy") is None
    assert busy.inner_text().strip() == "Скачать PDF"


def test_a_long_name_without_spaces_never_widens_a_page(live_server, browser, factory, db):
    admin = factory.create_user(Role.ADMIN, email="admin@wide.local", full_name=LONG)
    school = factory.create_org(name=LONG, short_name=LONG)
    factory.create_baseline(school, YEAR, students_total=10, students_ovz=0, teachers_total=1)
    held = factory.create_event(school, title=LONG,
                                starts_at=datetime(2024, 10, 10, 5, tzinfo=UTC))
    student = factory.create_student(school, last_name=LONG, class_name="7А")
    factory.create_checkin(factory.create_ticket(held, student))
    upcoming = factory.create_event(school, title="Открытый урок " + LONG,
                                    audience=Audience.STUDENTS,
                                    starts_at=now_utc() + timedelta(days=5))
    db.session.commit()
    page = browser.phone(live_server).new_page()
    for path in ("/events", f"/events/{upcoming.id}", "/events/organizers"):
        page.goto(live_server.url + path)
        assert _scroll_width(page) <= 390, path
    _login(page, live_server.url, admin.email, factory.PASSWORD)
    for path in (f"/reports/?year={YEAR}", f"/reports/spravka?year={YEAR}",
                 f"/reports/schools/{school.id}?year={YEAR}", f"/reports/events/{held.id}",
                 "/admin/organizations", "/admin/users", f"/admin/baselines?year={YEAR}",
                 "/dashboard"):
        page.goto(live_server.url + path)
        assert _scroll_width(page) <= 390, path


def test_school_page_on_a_phone_shows_the_door_figure_beside(live_server, browser, factory,
                                                             db):
    """A coordinator's school page (390 px): a class list and an upload counted, and beside
    the figure what was verified at a door; the page does not widen, the table scrolls."""
    school = factory.create_org(name="МАОУ СОШ № 9", short_name="СОШ № 9")
    factory.create_baseline(school, YEAR, students_total=20, students_ovz=0, teachers_total=2)
    coordinator = factory.create_user(Role.COORDINATOR, email="coord@door.local",
                                      organization=school)
    event = factory.create_event(starts_at=datetime(2024, 11, 12, 5, tzinfo=UTC))
    for n, source in enumerate([ScanSource.DOOR, ScanSource.DOOR, ScanSource.CLASS_LIST,
                                ScanSource.IMPORT]):
        student = factory.create_student(school, last_name=f"Ученик {n}")
        factory.create_checkin(factory.create_ticket(event, student), source=source)
    db.session.commit()
    page = browser.phone(live_server).new_page()
    _login(page, live_server.url, coordinator.email, factory.PASSWORD)
    page.goto(f"{live_server.url}/reports/schools/{school.id}?year={YEAR}")
    assert page.get_by_role("columnheader", name="Подтверждено на входе").count() == 1
    cell = page.locator("#door-students")
    cell.scroll_into_view_if_needed()
    assert cell.is_visible()
    assert cell.inner_text().split() == ["2", "10,0", "%"]  # of 4 (20 %) in all
    assert _scroll_width(page) <= 390
