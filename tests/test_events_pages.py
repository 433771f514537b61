"""Event pages: catalogue filters, visibility, organizer forms (nothing saved on errors),
Tomsk time display, safe descriptions, hooks, categories, organizer profiles."""

from __future__ import annotations

import re
import time as time_module
from datetime import UTC, datetime, timedelta

import pytest
from jinja2 import ChoiceLoader, DictLoader

from formats.timefmt import TOMSK
from models import Audience, Category, Event, EventStatus, Organization, OrgKind, Role, now_utc
from webapp.events import hooks


@pytest.fixture
def utc_server(monkeypatch):
    """The server's own clock zone is UTC, as in production containers."""
    monkeypatch.setenv("TZ", "UTC")
    time_module.tzset()
    yield
    monkeypatch.undo()
    time_module.tzset()


def text(response) -> str:
    return response.get_data(as_text=True)


def _future(days=10, hour=10):
    day = (now_utc() + timedelta(days=days)).astimezone(TOMSK).date()
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=TOMSK)


@pytest.fixture
def organizer(factory, db):
    user = factory.create_user(Role.ORGANIZER)
    db.session.commit()
    return user


def form_data(**overrides):
    start = _future()
    data = {
        "title": "Профпроба «Юный химик»", "description": "", "category": "university",
        "audience": "students", "grades_min": "8", "grades_max": "11",
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "venue_name": "Химический корпус", "venue_address": "г. Томск, пр. Ленина, 36",
        "venue_room": "", "capacity": "25", "per_school_quota": "",
        "registration_opens_at": "", "registration_closes_at": "", "checkin_opens_at": "",
        "checkin_closes_at": "", "early": "auto", "roadmap_item": "",
    }
    data.update(overrides)
    return data


# --- organizer: create, validation, publish -----------------------------------------------

def test_create_event_as_organizer_then_publish(client, auth, db, organizer):
    auth.login(organizer.email)
    response = client.post_form("/organizer/events/new", form_data(roadmap_item="3.2"))
    assert response.status_code == 303
    event = Event.query.one()
    assert response.headers["Location"].endswith(f"/organizer/events/{event.id}")
    assert event.status == EventStatus.DRAFT
    assert event.organizer_id == organizer.organization_id
    assert event.roadmap_item.number == "3.2"
    assert client.get("/events").get_data(as_text=True).count("Юный химик") == 0

    response = client.post_form(f"/organizer/events/{event.id}/publish")
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Event, event.id).status == EventStatus.PUBLISHED
    auth.logout()
    assert "Юный химик" in text(client.get("/events"))


@pytest.mark.parametrize("overrides, message", [
    ({"ends_at": _future(hour=9).strftime("%Y-%m-%dT%H:%M")}, "Окончание должно быть позже начала"),
    ({"capacity": "0"}, "Мест должно быть не меньше 1"),
    ({"registration_closes_at": _future(hour=23).strftime("%Y-%m-%dT%H:%M")},
     "Регистрация должна закрываться не позже окончания мероприятия"),
    ({"grades_min": "12"}, "Класс должен быть от 0 до 11"),
    ({"grades_max": "-1"}, "Класс должен быть от 0 до 11"),
    ({"category": "no_such"}, "Категория"),
    ({"capacity": "много"}, "Неверное целое число"),
    ({"starts_at": "завтра"}, "Неверное значение даты и времени"),
    ({"title": ""}, "Обязательное поле"),
])
def test_form_errors_shown_and_nothing_saved(client, auth, db, organizer, overrides, message):
    auth.login(organizer.email)
    response = client.post_form("/organizer/events/new", form_data(**overrides))
    assert response.status_code == 200
    body = text(response)
    assert "Исправьте ошибки" in body
    assert message in body
    assert Event.query.count() == 0


def test_edit_capacity_below_taken_seats_is_refused(client, auth, db, factory, organizer):
    event = factory.create_event(organizer.organization, capacity=5)
    school = factory.create_org()
    for _ in range(4):
        factory.create_ticket(event, factory.create_student(school))
    db.session.commit()
    auth.login(organizer.email)
    form = client.get(f"/organizer/events/{event.id}/edit")
    assert 'value="5"' in text(form)
    local = event.starts_at.astimezone(TOMSK)
    response = client.post_form(f"/organizer/events/{event.id}/edit", form_data(
        title=event.title, capacity="3", category="university",
        starts_at=local.strftime("%Y-%m-%dT%H:%M"),
        ends_at=(local + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")))
    assert response.status_code == 200
    assert "уже занято (4)" in text(response)
    db.session.expire_all()
    assert db.session.get(Event, event.id).capacity == 5


def test_organizer_cannot_manage_another_organizers_event(client, auth, db, factory, organizer):
    foreign = factory.create_event(title="Чужое мероприятие")
    draft = factory.create_event(title="Чужой черновик", status=EventStatus.DRAFT,
                                 published_at=None)
    db.session.commit()
    auth.login(organizer.email)
    for url in (f"/organizer/events/{foreign.id}", f"/organizer/events/{foreign.id}/edit",
                f"/organizer/events/{foreign.id}/repeat", f"/organizer/events/{foreign.id}/cancel"):
        assert client.get(url).status_code == 403, url
    assert client.post_form(f"/organizer/events/{foreign.id}/edit",
                            form_data(title="Взлом")).status_code == 403
    assert client.post_form(f"/organizer/events/{foreign.id}/cancel",
                            {"reason": "x"}).status_code == 403
    assert client.post_form(f"/organizer/events/{foreign.id}/duplicate").status_code == 403
    # Someone else's draft is not even acknowledged.
    assert client.get(f"/organizer/events/{draft.id}").status_code == 404
    assert client.post_form(f"/organizer/events/{draft.id}/publish").status_code == 404
    db.session.expire_all()
    assert db.session.get(Event, foreign.id).title == "Чужое мероприятие"
    assert db.session.get(Event, foreign.id).status == EventStatus.PUBLISHED
    assert db.session.get(Event, draft.id).status == EventStatus.DRAFT
    assert Event.query.count() == 2


def test_my_events_lists_own_with_counts(client, auth, db, factory, organizer):
    own = factory.create_event(organizer.organization, title="Моё мероприятие", capacity=10)
    factory.create_event(title="Не моё мероприятие")
    school = factory.create_org()
    tickets = [factory.create_ticket(own, factory.create_student(school)) for _ in range(2)]
    factory.create_checkin(tickets[0])
    db.session.commit()
    auth.login(organizer.email)
    body = text(client.get("/organizer/events"))
    assert "Моё мероприятие" in body and "Не моё мероприятие" not in body
    row = body[body.index("Моё мероприятие"):].split("</tr>")[0]
    assert ('<td class="num text-nowrap">2<div class="small text-body-secondary">из 10</div>'
            '</td>') in row
    assert '<td class="num">1</td>' in row


def test_anonymous_and_coordinator_cannot_reach_organizer_pages(client, auth, factory, db):
    assert client.get("/organizer/events").status_code == 302
    assert client.get("/organizer/events/new").status_code == 302
    assert client.get("/organizer/categories").status_code == 302


def test_cancel_with_reason(client, auth, db, factory, organizer):
    event = factory.create_event(organizer.organization)
    db.session.commit()
    auth.login(organizer.email)
    response = client.post_form(f"/organizer/events/{event.id}/cancel", {"reason": ""})
    assert "Укажите причину отмены" in text(response)
    db.session.expire_all()
    assert db.session.get(Event, event.id).status == EventStatus.PUBLISHED
    response = client.post_form(f"/organizer/events/{event.id}/cancel",
                                {"reason": "Карантин в школах"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Event, event.id).status == EventStatus.CANCELLED
    auth.logout()
    page = text(client.get(f"/events/{event.id}"))
    assert "Мероприятие отменено" in page and "Карантин в школах" in page
    assert event.title not in text(client.get("/events"))


def test_duplicate_and_repeat(client, auth, db, factory, organizer):
    start = datetime(2031, 10, 2, 10, 0, tzinfo=TOMSK)
    event = factory.create_event(organizer.organization, title="Серия", starts_at=start)
    db.session.commit()
    auth.login(organizer.email)
    response = client.post_form(f"/organizer/events/{event.id}/duplicate")
    assert response.status_code == 303 and "/edit" in response.headers["Location"]
    assert Event.query.filter_by(title="Серия", status=EventStatus.DRAFT).count() == 1

    response = client.post_form(f"/organizer/events/{event.id}/repeat",
                                {"mode": "dates", "dates": "32.10.2031", "count": ""})
    assert "не дата" in text(response)
    assert Event.query.filter_by(title="Серия").count() == 2
    response = client.post_form(f"/organizer/events/{event.id}/repeat",
                                {"mode": "weekly", "count": "3", "publish": "y"})
    assert response.status_code == 303
    copies = Event.query.filter_by(title="Серия", status=EventStatus.PUBLISHED).order_by(
        Event.starts_at).all()
    assert [c.starts_at.astimezone(TOMSK).strftime("%d.%m.%Y %H:%M") for c in copies] == [
        "02.10.2031 10:00", "09.10.2031 10:00", "16.10.2031 10:00", "23.10.2031 10:00"]
    response = client.post_form(f"/organizer/events/{event.id}/repeat",
                                {"mode": "dates", "dates": "05.11.2031, 12.11.2031"})
    assert response.status_code == 303
    assert Event.query.filter_by(title="Серия", status=EventStatus.DRAFT).count() == 3


# --- time -------------------------------------------------------------------------------

def test_ten_oclock_tomsk_stored_as_three_utc_and_shown_as_ten(
        utc_server, client, auth, db, organizer):
    auth.login(organizer.email)
    response = client.post_form("/organizer/events/new", form_data(
        title="Утреннее мероприятие", starts_at="2031-10-01T10:00", ends_at="2031-10-01T12:00"))
    assert response.status_code == 303
    event = Event.query.one()
    assert event.starts_at == datetime(2031, 10, 1, 3, 0, tzinfo=UTC)
    raw = db.session.execute(db.text("SELECT starts_at FROM events")).scalar_one()
    assert str(raw).startswith("2031-10-01 03:00:00")
    client.post_form(f"/organizer/events/{event.id}/publish")
    page = text(client.get(f"/events/{event.id}"))
    assert "01.10.2031, 10:00" in page and "12:00" in page
    assert "03:00" not in re.sub(r"<[^>]+>", " ", page)
    edit = text(client.get(f"/organizer/events/{event.id}/edit"))
    assert 'value="2031-10-01T10:00"' in edit
    catalogue = text(client.get("/events?date_from=2031-10-01&date_to=2031-10-01"))
    assert "Утреннее мероприятие" in catalogue and "01.10.2031, 10:00" in catalogue


# --- catalogue --------------------------------------------------------------------------

def test_catalogue_lists_only_upcoming_published_public(client, db, factory):
    factory.create_event(title="Опубликованное будущее")
    factory.create_event(title="Прошедшее", starts_at=now_utc() - timedelta(days=3))
    factory.create_event(title="Черновик", status=EventStatus.DRAFT, published_at=None)
    school = factory.create_org()
    factory.create_event(school, title="Внутришкольное", school_internal=True)
    db.session.commit()
    body = text(client.get("/events"))
    assert "Опубликованное будущее" in body
    for hidden in ("Прошедшее", "Черновик", "Внутришкольное"):
        assert hidden not in body


def test_catalogue_filters(client, db, factory):
    tgu = factory.create_org(kind=OrgKind.UNIVERSITY, name="Томский университет (тест)")
    factory.create_event(tgu, title="Ранняя проба", grades_min=1, grades_max=4, early=True)
    factory.create_event(title="Доступная проба", grades_min=7, grades_max=9, ovz_adapted=True,
                         category_code="abilympics")
    factory.create_event(title="Собрание родителей", audience=Audience.PARENTS,
                         grades_min=None, grades_max=None, category_code="parents",
                         starts_at=_future(days=40))
    factory.create_event(title="Ёлочная профпроба", description="Про **лесничество**",
                         grades_min=9, grades_max=11)
    db.session.commit()

    def titles(query):
        body = text(client.get("/events" + query))
        return {t for t in ("Ранняя проба", "Доступная проба", "Собрание родителей",
                            "Ёлочная профпроба") if t in body}

    assert titles("?early=y") == {"Ранняя проба"}
    assert titles("?ovz=y") == {"Доступная проба"}
    assert titles("?category=abilympics") == {"Доступная проба"}
    assert titles("?audience=parents") == {"Собрание родителей"}
    assert titles("?grade=8") == {"Доступная проба"}
    assert titles("?grade=10") == {"Ёлочная профпроба"}
    assert titles(f"?organizer={tgu.id}") == {"Ранняя проба"}
    assert titles("?q=ЕЛОЧНАЯ") == {"Ёлочная профпроба"}
    assert titles("?q=лесничество") == {"Ёлочная профпроба"}
    assert titles("?q=томский+университет") == {"Ранняя проба"}
    later = _future(days=35).date().isoformat()
    assert titles(f"?date_from={later}") == {"Собрание родителей"}
    assert titles(f"?date_to={_future(days=20).date().isoformat()}") == {
        "Ранняя проба", "Доступная проба", "Ёлочная профпроба"}


def test_catalogue_bad_filters_explained_not_crashing(client, db, factory):
    factory.create_event(title="Любое")
    db.session.commit()
    response = client.get("/events?grade=15&date_from=вчера&category=nope")
    assert response.status_code == 200
    body = text(response)
    assert "Часть фильтров не применена" in body
    assert "Класс — от 0 до 11" in body
    assert "Любое" in body


def test_catalogue_pagination_and_seats_left(client, db, factory):
    base = _future(days=3)
    events = [factory.create_event(title=f"Событие {n:02d}", starts_at=base + timedelta(hours=n),
                                   capacity=10) for n in range(23)]
    school = factory.create_org()
    for _ in range(3):
        factory.create_ticket(events[0], factory.create_student(school))
    db.session.commit()
    first = text(client.get("/events"))
    assert "Найдено мероприятий: 23" in first and "Событие 19" in first
    assert "Событие 20" not in first
    assert "Свободно мест: 7 из 10" in first
    second = text(client.get("/events?page=2"))
    assert "Событие 20" in second and "Событие 22" in second and "Событие 00" not in second


# --- visibility -------------------------------------------------------------------------

def test_school_internal_event_visible_only_to_its_school(client, auth, db, factory):
    school = factory.create_org(name="МАОУ СОШ № 7 (тест)")
    other_school = factory.create_org(name="МАОУ СОШ № 8 (тест)")
    own = factory.create_user(Role.COORDINATOR, organization=school)
    stranger = factory.create_user(Role.COORDINATOR, organization=other_school)
    organizer = factory.create_user(Role.ORGANIZER)
    admin = factory.create_user(Role.ADMIN)
    event = factory.create_event(school, title="Урок профориентации в 7Б",
                                 school_internal=True, category_code="school_internal")
    db.session.commit()
    url = f"/events/{event.id}"

    assert client.get(url).status_code == 404
    assert client.get(url + ".ics").status_code == 404
    assert "Урок профориентации" not in text(client.get("/events"))
    assert b"BEGIN:VEVENT" not in client.get("/events/feed.ics").data
    for user in (stranger, organizer):
        auth.login(user.email)
        assert client.get(url).status_code == 404
        assert client.get(url + ".ics").status_code == 404
        assert "Урок профориентации" not in text(client.get("/events"))
        assert "Урок профориентации" not in text(client.get("/events?q=урок"))
        auth.logout()
    for user in (own, admin):
        auth.login(user.email)
        assert client.get(url).status_code == 200
        auth.logout()
    auth.login(own.email)
    assert "Урок профориентации" in text(client.get("/events"))


def test_coordinator_creates_internal_event(client, auth, db, factory):
    coordinator = factory.create_user(Role.COORDINATOR)
    db.session.commit()
    auth.login(coordinator.email)
    new = text(client.get("/organizer/events/new"))
    assert "внутришкольным" in new
    response = client.post_form("/organizer/events/new", form_data(category="school_internal"))
    assert response.status_code == 303
    event = Event.query.one()
    assert event.school_internal and event.organizer_id == coordinator.organization_id


def test_drafts_invisible_to_public(client, auth, db, factory, organizer):
    draft = factory.create_event(organizer.organization, title="Секретный черновик",
                                 status=EventStatus.DRAFT, published_at=None)
    db.session.commit()
    assert client.get(f"/events/{draft.id}").status_code == 404
    assert client.get(f"/events/{draft.id}.ics").status_code == 404
    assert "Секретный черновик" not in text(client.get("/events"))
    assert "Секретный черновик" not in client.get("/events/feed.ics").get_data(as_text=True)
    auth.login(organizer.email)
    page = text(client.get(f"/events/{draft.id}"))
    assert "Черновик — виден только вашей организации" in page


# --- event page -------------------------------------------------------------------------

def test_description_is_safe_markdown(client, db, factory):
    event = factory.create_event(description="**Важно**\n\n<script>alert(1)</script>\n\n"
                                             "[ссылка](javascript:alert(1))")
    db.session.commit()
    body = text(client.get(f"/events/{event.id}"))
    assert "<strong>Важно</strong>" in body
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;" in body
    assert 'href="javascript:' not in body


def test_page_actions_hook_and_sign_in_hint(client, auth, db, factory, monkeypatch):
    from webapp.events import routes

    monkeypatch.setattr(routes, "EVENT_PAGE_ACTIONS", [])  # no other area plugged in
    event = factory.create_event(title="С действиями")
    parents = factory.create_event(title="Для родителей", audience=Audience.PARENTS,
                                   grades_min=None, grades_max=None)
    db.session.commit()
    body = text(client.get(f"/events/{event.id}"))
    assert "чтобы записать группу" in body
    assert "Как попасть" not in text(client.get(f"/events/{parents.id}"))

    seen = []

    def action(ev, user):
        seen.append((ev.id, user.is_authenticated))
        return [("events/_test_action.html", {"label": "Записаться (тест)"})]

    monkeypatch.setattr(routes, "EVENT_PAGE_ACTIONS", [action])
    env = client.application.jinja_env
    monkeypatch.setattr(env, "loader", ChoiceLoader([
        DictLoader({"events/_test_action.html": '<a class="btn" href="#">{{ label }}</a>'}),
        env.loader]))
    body = text(client.get(f"/events/{parents.id}"))
    assert "Записаться (тест)" in body and "Как попасть" in body
    assert seen == [(parents.id, False)]


def test_manage_sections_hook(client, auth, db, factory, organizer, monkeypatch):
    event = factory.create_event(organizer.organization)
    db.session.commit()
    from webapp.events import routes

    calls = []
    monkeypatch.setattr(routes, "render_sections",
                        lambda hook_list, *args: calls.append((hook_list, args)) or [])
    auth.login(organizer.email)
    assert client.get(f"/organizer/events/{event.id}").status_code == 200
    assert calls and calls[0][0] is hooks.EVENT_MANAGE_SECTIONS
    assert calls[0][1][0].id == event.id


# --- categories and profiles ------------------------------------------------------------

def test_admin_adds_category(client, auth, db, factory):
    admin = factory.create_user(Role.ADMIN)
    organizer = factory.create_user(Role.ORGANIZER)
    db.session.commit()
    auth.login(organizer.email)
    assert client.get("/organizer/categories").status_code == 403
    auth.logout()
    auth.login(admin.email)
    response = client.post_form("/organizer/categories", {"code": "Плохой", "name": ""})
    assert "Исправьте ошибки" in text(response)
    assert Category.query.filter(Category.sort_order > 1000).count() == 0
    response = client.post_form("/organizer/categories",
                                {"code": "open_day", "name": "Дни открытых дверей"})
    assert response.status_code == 303
    assert Category.query.filter_by(code="open_day").one().name == "Дни открытых дверей"
    assert "Дни открытых дверей" in text(client.get("/events"))


def test_organizer_directory_and_profile(client, auth, db, factory):
    uni = factory.create_org(kind=OrgKind.UNIVERSITY, name="Университет профилей (тест)",
                             offer="Профпробы по химии")
    school = factory.create_org(name="Школа не в карте (тест)")
    factory.create_event(uni, title="Университетская проба")
    user = factory.create_user(Role.ORGANIZER, organization=uni)
    other = factory.create_user(Role.ORGANIZER)
    db.session.commit()
    directory = text(client.get("/organizers"))
    assert "Университет профилей" in directory and "Профпробы по химии" in directory
    assert "Школа не в карте" not in directory
    profile = text(client.get(f"/organizers/{uni.id}"))
    assert "Университетская проба" in profile and "Изменить профиль" not in profile
    assert client.get(f"/organizers/{school.id}").status_code == 404

    auth.login(other.email)
    assert client.get(f"/organizers/{uni.id}/edit").status_code == 403
    auth.logout()
    auth.login(user.email)
    response = client.post_form(f"/organizers/{uni.id}/edit", {
        "description": "О нас", "offer": "Экскурсии", "address": "пр. Ленина, 1",
        "phone": "+7 3822 000000", "email": "не почта", "website": "tsu.ru"})
    body = text(response)
    assert "Исправьте ошибки" in body and "http://" in body
    db.session.expire_all()
    assert db.session.get(Organization, uni.id).offer == "Профпробы по химии"
    response = client.post_form(f"/organizers/{uni.id}/edit", {
        "description": "О нас", "offer": "Экскурсии", "address": "пр. Ленина, 1",
        "phone": "+7 3822 000000", "email": "info@example.ru", "website": "https://example.ru"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Organization, uni.id).offer == "Экскурсии"


def test_dashboard_shows_next_own_events(client, auth, db, factory, organizer):
    factory.create_event(organizer.organization, title="Ближайшее моё")
    factory.create_event(organizer.organization, title="Мой черновик", status=EventStatus.DRAFT,
                         published_at=None)
    factory.create_event(title="Чужое ближайшее")
    db.session.commit()
    auth.login(organizer.email)
    body = text(client.get("/dashboard"))
    assert "Ближайшее моё" in body and "Черновики: 1" in body
    assert "Чужое ближайшее" not in body


def test_running_staff_from_own_school(client, auth, db, factory):
    coordinator = factory.create_user(Role.COORDINATOR)
    teacher = factory.create_teacher(coordinator.organization, last_name="Ведущая")
    stranger = factory.create_teacher(factory.create_org(), last_name="Чужая")
    db.session.commit()
    auth.login(coordinator.email)
    page = text(client.get("/organizer/events/new"))
    assert "Ведущая" in page and "Чужая" not in page
    response = client.post_form("/organizer/events/new", form_data(
        category="school_internal", staff_ids=str(stranger.id)))
    assert response.status_code == 200 and Event.query.count() == 0
    response = client.post_form("/organizer/events/new", form_data(
        category="school_internal", staff_ids=str(teacher.id)))
    assert response.status_code == 303
    event = Event.query.one()
    assert [s.teacher_id for s in event.staff] == [teacher.id]
    assert "Ведущая" in text(client.get(f"/organizer/events/{event.id}"))


def test_admin_creates_internal_event_for_a_school_only(client, auth, db, factory):
    admin = factory.create_user(Role.ADMIN)
    school = factory.create_org()
    university = factory.create_org(kind=OrgKind.UNIVERSITY)
    db.session.commit()
    auth.login(admin.email)
    response = client.post_form("/organizer/events/new", form_data(
        organizer_id=str(university.id), school_internal="y"))
    assert "Внутришкольным может быть только" in text(response)
    assert Event.query.count() == 0
    response = client.post_form("/organizer/events/new", form_data(
        organizer_id=str(school.id), school_internal="y"))
    assert response.status_code == 303
    event = Event.query.one()
    assert event.school_internal and event.organizer_id == school.id
