"""Forms of the «Профминимум» pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import InputRequired, Length

from models.profminimum import LEVEL_TITLES, PROFMINIMUM_GRADES


class LevelsForm(FlaskForm):
    """Target hours of grades 6–11: 40, 60, 80, or the city's (for a school)."""

    grade_6 = SelectField("6 классы")
    grade_7 = SelectField("7 классы")
    grade_8 = SelectField("8 классы")
    grade_9 = SelectField("9 классы")
    grade_10 = SelectField("10 классы")
    grade_11 = SelectField("11 классы")

    def fill(self, *, default_title: str | None, current: dict[int, int | None],
             fill_data: bool) -> None:
        """Choices: the three levels, and for a school «как в городе»; data from ``current``
        unless the form was posted."""
        first = [("", default_title)] if default_title else [("", "базовый (40 ч)")]
        for grade in PROFMINIMUM_GRADES:
            field = self[f"grade_{grade}"]
            field.choices = first + [(str(h), t) for h, t in LEVEL_TITLES.items()]
            if fill_data:
                value = current.get(grade)
                field.data = "" if value is None else str(value)

    def values(self) -> dict[int, int | None]:
        return {g: int(self[f"grade_{g}"].data) if self[f"grade_{g}"].data else None
                for g in PROFMINIMUM_GRADES}


class FormatForm(FlaskForm):
    name = StringField("Новый формат", validators=[InputRequired("Укажите название формата."),
                                                   Length(max=200)])
