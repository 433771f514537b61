"""Forms of the events area (labels and messages in Russian)."""

from __future__ import annotations

import re
from datetime import date, datetime

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.meta import DefaultMeta
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from formats.timefmt import format_hours, local_to_utc, to_local
from models import Audience
from webapp.forms import DateField, DateTimeLocalField, IntegerField

_REQUIRED = InputRequired("Обязательное поле.")
_DT_FORMAT = "%Y-%m-%dT%H:%M"


def choices(pairs) -> list[SelectChoice]:
    """WTForms 3.3 wants SelectChoice objects rather than tuples."""
    return [SelectChoice(value, label) for value, label in pairs]


class RussianForm(FlaskForm):
    """WTForms' own messages («Неверное целое число.» …) in Russian."""

    class Meta:
        locales = ["ru_RU", "ru"]

        def get_translations(self, form):
            return DefaultMeta.get_translations(self, form)


class EventForm(RussianForm):
    title = StringField("Название", validators=[_REQUIRED, Length(max=300)])
    description = TextAreaField("Описание", validators=[Length(max=20000)],
                                render_kw={"rows": 6})
    category = SelectField("Категория", validators=[_REQUIRED])
    audience = SelectField("Для кого", choices=choices(Audience.choices()), validators=[_REQUIRED])
    grades_min = IntegerField("С какого класса", validators=[Optional()],
                              render_kw={"inputmode": "numeric"})
    grades_max = IntegerField("По какой класс", validators=[Optional()],
                              render_kw={"inputmode": "numeric"})
    starts_at = DateTimeLocalField("Начало (время томское)", format=_DT_FORMAT,
                                   validators=[_REQUIRED])
    ends_at = DateTimeLocalField("Окончание (время томское)", format=_DT_FORMAT,
                                 validators=[_REQUIRED])
    venue_name = StringField("Площадка", validators=[Length(max=300)])
    venue_address = StringField("Адрес", validators=[Length(max=300)])
    venue_room = StringField("Аудитория, зал", validators=[Length(max=100)])
    capacity = IntegerField("Число мест", validators=[_REQUIRED],
                            render_kw={"inputmode": "numeric"})
    per_school_quota = IntegerField("Квота на одну школу", validators=[Optional()],
                                    render_kw={"inputmode": "numeric"})
    registration_opens_at = DateTimeLocalField("Регистрация открывается", format=_DT_FORMAT,
                                               validators=[Optional()])
    registration_closes_at = DateTimeLocalField("Регистрация закрывается", format=_DT_FORMAT,
                                                validators=[Optional()])
    checkin_opens_at = DateTimeLocalField("Отметка на входе открывается", format=_DT_FORMAT,
                                          validators=[Optional()])
    checkin_closes_at = DateTimeLocalField("Отметка на входе закрывается", format=_DT_FORMAT,
                                           validators=[Optional()])
    #: «По правилу города» (the default) applies the city's rule of the event's academic year
    #: when it is saved; the page replaces this hint with the rule itself (the rule is data).
    early_hint = "Правило города задаёт администратор на каждый учебный год."
    early = SelectField("«Ранняя профориентация»", choices=choices([
        ("auto", "По правилу города"),
        ("yes", "Да"), ("no", "Нет")]), default="auto")
    ovz_adapted = BooleanField("Адаптировано для обучающихся с ОВЗ")
    roadmap_item = SelectField("Пункт дорожной карты", validators=[Optional()])
    organizer_id = SelectField("Организатор", coerce=int, validators=[Optional()])
    school_internal = BooleanField("Внутришкольное (видно только организующей школе)")
    staff_ids = SelectMultipleField("Ведущие педагоги", coerce=int, validators=[Optional()])
    #: «Профминимум»: empty — the duration in 45-minute academic hours (the page says how many).
    academic_hours = StringField("Академических часов (профминимум)",
                                 validators=[Length(max=10)], render_kw={"inputmode": "decimal"})
    profminimum_format = SelectField("Формат профминимума", validators=[Optional()])
    #: Shown only when the service asks (a start in the past): the second step.
    confirm_past = BooleanField("Да, дата в прошлом — так и задумано")

    def fill_from(self, event) -> None:
        """Show an event's values (times in Asia/Tomsk) in the form."""
        for name in ("title", "description", "grades_min", "grades_max", "venue_name",
                     "venue_address", "venue_room", "capacity", "per_school_quota"):
            getattr(self, name).data = getattr(event, name)
        self.category.data = event.category.code
        self.audience.data = event.audience.value
        for name in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at",
                     "checkin_opens_at", "checkin_closes_at"):
            value = getattr(event, name)
            getattr(self, name).data = None if value is None else \
                to_local(value).replace(tzinfo=None)
        self.early.data = "yes" if event.early else "no"
        self.ovz_adapted.data = event.ovz_adapted
        self.roadmap_item.data = event.roadmap_item.number if event.roadmap_item else ""
        self.academic_hours.data = ("" if event.academic_hours_override is None
                                    else format_hours(event.academic_hours_override))
        self.profminimum_format.data = (event.profminimum_format.code
                                        if event.profminimum_format else "")
        if "organizer_id" in self:
            self.organizer_id.data = event.organizer_id
        if "school_internal" in self:
            self.school_internal.data = event.school_internal
        if "staff_ids" in self:
            self.staff_ids.data = [s.teacher_id for s in event.staff]

    def service_values(self) -> dict:
        """The form's data as ``create_event``/``update_event`` arguments (times in UTC)."""
        values = {
            "title": self.title.data, "description": self.description.data,
            "category": self.category.data, "audience": self.audience.data,
            "grades_min": self.grades_min.data, "grades_max": self.grades_max.data,
            "venue_name": self.venue_name.data, "venue_address": self.venue_address.data,
            "venue_room": self.venue_room.data, "capacity": self.capacity.data,
            "per_school_quota": self.per_school_quota.data,
            "early": {"yes": True, "no": False}.get(self.early.data),
            "ovz_adapted": bool(self.ovz_adapted.data),
            "roadmap_item": self.roadmap_item.data or None,
            "academic_hours": (self.academic_hours.data or "").strip() or None,
            "profminimum_format": self.profminimum_format.data or None,
        }
        for name in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at",
                     "checkin_opens_at", "checkin_closes_at"):
            value = getattr(self, name).data
            values[name] = None if value is None else local_to_utc(value)
        if "organizer_id" in self and self.organizer_id.data:
            values["organizer_id"] = self.organizer_id.data
        if "school_internal" in self:
            values["school_internal"] = bool(self.school_internal.data)
        if "staff_ids" in self:
            values["staff_ids"] = self.staff_ids.data or []
        return values


class CancelForm(RussianForm):
    reason = TextAreaField("Причина отмены", validators=[
        InputRequired("Укажите причину отмены: её увидят записавшиеся."), Length(max=2000)],
        render_kw={"rows": 3})


_DATE_TOKEN = re.compile(r"\d{1,2}\.\d{1,2}\.\d{4}")


def parse_dates(text: str) -> list[date]:
    """«07.10.2025, 14.10.2025» → dates; raises ValueError naming the first bad token."""
    result = []
    for token in re.split(r"[\s,;]+", text or ""):
        if not token:
            continue
        if not _DATE_TOKEN.fullmatch(token):
            raise ValueError(token)
        try:
            result.append(datetime.strptime(token, "%d.%m.%Y").date())
        except ValueError:
            raise ValueError(token) from None
    return result


class RepeatForm(RussianForm):
    mode = RadioField("Как повторить", choices=choices([
        ("weekly", "Каждую неделю в тот же день и время"),
        ("dates", "В выбранные даты (то же время)")]), default="weekly",
        validators=[_REQUIRED])
    count = IntegerField("Сколько копий (неделя за неделей)", default=4,
                         validators=[Optional(), NumberRange(
                             min=1, max=52, message="От 1 до 52 копий.")],
                         render_kw={"inputmode": "numeric"})
    dates = TextAreaField("Даты", render_kw={"rows": 3,
                                            "placeholder": "07.10.2025, 14.10.2025"})
    publish = BooleanField("Сразу опубликовать копии")
    #: Shown only when the service asks (a start in the past): the second step.
    confirm_past = BooleanField("Да, дата в прошлом — так и задумано")

    def validate_count(self, field):
        if self.mode.data == "weekly" and field.data is None:
            raise ValidationError("Укажите число копий.")

    def validate_dates(self, field):
        if self.mode.data != "dates":
            return
        if not (field.data or "").strip():
            raise ValidationError("Укажите хотя бы одну дату в формате ДД.ММ.ГГГГ.")
        try:
            parse_dates(field.data)
        except ValueError as err:
            raise ValidationError(f"«{err}» — не дата. Пишите даты как ДД.ММ.ГГГГ через "
                                  "запятую или с новой строки.") from None


class CategoryForm(RussianForm):
    code = StringField("Код для API (латиницей)", validators=[_REQUIRED, Length(max=40)])
    name = StringField("Название", validators=[_REQUIRED, Length(max=200)])


class ProfileForm(RussianForm):
    description = TextAreaField("О нас", validators=[Length(max=5000)], render_kw={"rows": 4})
    offer = TextAreaField("Что мы предлагаем школам", validators=[Length(max=5000)],
                          render_kw={"rows": 4})
    address = StringField("Адрес", validators=[Length(max=300)])
    phone = StringField("Телефон", validators=[Length(max=40)], render_kw={"type": "tel"})
    email = StringField("Электронная почта", validators=[Length(max=254)],
                        render_kw={"type": "email"})
    website = StringField("Сайт", validators=[Length(max=300)],
                          render_kw={"placeholder": "https://"})


class CatalogueFilterForm(RussianForm):
    """The catalogue's filters (GET, no CSRF): the same arguments drive the iCalendar feed."""

    class Meta(RussianForm.Meta):
        csrf = False

    q = StringField("Поиск", validators=[Optional(), Length(max=100)])
    category = SelectField("Категория", validators=[Optional()])
    date_from = DateField("С даты", validators=[Optional()])
    date_to = DateField("По дату", validators=[Optional()])
    audience = SelectField("Для кого", choices=choices([("", "Все")] + Audience.choices()),
                           validators=[Optional()])
    grade = IntegerField("Класс", validators=[Optional(), NumberRange(
        min=0, max=11, message="Класс — от 0 до 11.")], render_kw={"inputmode": "numeric"})
    early = BooleanField("Ранняя профориентация")
    ovz = BooleanField("Адаптировано для ОВЗ")
    organizer = SelectField("Организатор", validators=[Optional()])

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("Дата «по» раньше даты «с».")
