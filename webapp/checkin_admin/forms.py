"""Forms of the organizer's door pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from models import ScanOutcome
from webapp.forms import DateTimeLocalField


class ScannerLinkForm(FlaskForm):
    label = StringField("Кому выдана", validators=[
                            DataRequired("Укажите, кому выдана ссылка: например, «Волонтёр Маша»."),
                            Length(max=100, message="Не длиннее 100 символов.")],
                        description="Например: «Волонтёр Маша» или «Планшет у гардероба».")
    gate = StringField("Вход", validators=[Optional(), Length(max=100)],
                       description="Например: «Главный вход». Попадёт в журнал и на табло.")
    expires_at = DateTimeLocalField(
        "Действует до", format="%Y-%m-%dT%H:%M", validators=[Optional()],
        description="Время томское. Если не указать — через 2 часа после окончания отметки.")


class UndoForm(FlaskForm):
    reason = TextAreaField("Причина отмены",
                           validators=[DataRequired("Укажите причину отмены отметки."),
                                       Length(max=500, message="Не длиннее 500 символов.")])


class ScanFilterForm(FlaskForm):
    class Meta:
        csrf = False

    outcome = SelectField("Исход", choices=[SelectChoice(value, label) for value, label in
                                            [("", "Все исходы"), *ScanOutcome.choices()]],
                          validators=[Optional()])
    flagged = BooleanField("Только требующие внимания")
