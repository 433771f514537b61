"""The report filter (a GET form: no CSRF, it changes nothing)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SubmitField
from wtforms.validators import NumberRange, Optional, ValidationError

from models import Baseline, db
from models.academic_year import academic_year_title, current_academic_year
from reports.params import ROADMAP_SECTIONS
from webapp.forms import DateField, IntegerField

_BAD_DATE = "Введите дату полностью, например 01.09.2025."


class ChoiceField(SelectField):
    """A select whose wrong value gets a Russian message."""

    def pre_validate(self, form):
        if self.data not in {value for value, _label in self.choices}:
            raise ValidationError("Выберите значение из списка.")


def year_choices() -> list[tuple[str, str]]:
    """From the earliest year with baselines (or three years back) to the next year."""
    current = current_academic_year()
    earliest = db.session.query(db.func.min(Baseline.year)).scalar()
    first = min(earliest or current, current - 3)
    return [(str(y), f"{academic_year_title(y)} учебный год") for y in
            range(current + 1, first - 1, -1)]


class ReportFilterForm(FlaskForm):
    class Meta:
        csrf = False

    year = ChoiceField("Учебный год")
    category = ChoiceField("Категория мероприятий")
    organizer_id = ChoiceField("Организатор")
    roadmap_section = ChoiceField("Раздел дорожной карты")
    date_from = DateField("Или период: с", name="from", format="%Y-%m-%d",
                          validators=[Optional()], invalid_value_message=_BAD_DATE)
    date_to = DateField("по", name="to", format="%Y-%m-%d", validators=[Optional()],
                        invalid_value_message=_BAD_DATE)
    verified_only = BooleanField("Только подтверждённое на входе",
                                 false_values=("false", "0", "", "no", "off"))
    threshold = IntegerField(
        "Порог, %", validators=[Optional(), NumberRange(min=0, max=100,
                                                         message="Порог — от 0 до 100.")])
    submit = SubmitField("Показать")

    def fill_choices(self, categories, organizers) -> None:
        self.year.choices = year_choices()
        self.category.choices = [("", "Все категории")] + [(c.code, c.name) for c in categories]
        self.organizer_id.choices = [("", "Все организаторы")] + [
            (str(o.id), o.display_name) for o in organizers]
        self.roadmap_section.choices = [("", "Все разделы")] + [
            (str(n), f"{n}. {title}") for n, title in ROADMAP_SECTIONS.items()]


class YearForm(FlaskForm):
    class Meta:
        csrf = False

    year = ChoiceField("Учебный год")
    submit = SubmitField("Показать")

    def fill_choices(self) -> None:
        self.year.choices = year_choices()
