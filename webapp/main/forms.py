from flask_wtf import FlaskForm
from wtforms import SubmitField
from wtforms.validators import InputRequired, NumberRange, Optional

from webapp.forms import IntegerField

_NONNEG = NumberRange(min=0, message="Не может быть отрицательным.")
_REQUIRED = InputRequired("Обязательное поле.")
_WHOLE = "Введите целое число."


def _count(label: str, required: bool) -> IntegerField:
    first = _REQUIRED if required else Optional()
    return IntegerField(label, validators=[first, _NONNEG], invalid_value_message=_WHOLE)


class BaselineForm(FlaskForm):
    students_total = _count("Число обучающихся (воспитанников)", True)
    students_ovz = _count("Из них с ОВЗ и инвалидностью", True)
    teachers_total = _count("Число педагогов", True)
    planned_events = _count("План профориентационных мероприятий на год", False)
    planned_early_events = _count("Из них мероприятий ранней профориентации", False)
    submit = SubmitField("Сохранить показатели")

    def validate_students_ovz(self, field):
        total = self.students_total.data
        if field.data is not None and total is not None and field.data > total:
            from wtforms.validators import ValidationError

            raise ValidationError("Обучающихся с ОВЗ не может быть больше, чем всех обучающихся.")
