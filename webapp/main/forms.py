from flask_wtf import FlaskForm
from wtforms import IntegerField, SubmitField
from wtforms.validators import InputRequired, NumberRange, Optional

_NONNEG = NumberRange(min=0, message="Не может быть отрицательным.")
_REQUIRED = InputRequired("Обязательное поле.")


class BaselineForm(FlaskForm):
    students_total = IntegerField("Число обучающихся (воспитанников)",
                                  validators=[_REQUIRED, _NONNEG])
    students_ovz = IntegerField("Из них с ОВЗ и инвалидностью", validators=[_REQUIRED, _NONNEG])
    teachers_total = IntegerField("Число педагогов", validators=[_REQUIRED, _NONNEG])
    planned_events = IntegerField("План профориентационных мероприятий на год",
                                  validators=[Optional(), _NONNEG])
    planned_early_events = IntegerField("Из них мероприятий ранней профориентации",
                                        validators=[Optional(), _NONNEG])
    submit = SubmitField("Сохранить показатели")

    def validate_students_ovz(self, field):
        total = self.students_total.data
        if field.data is not None and total is not None and field.data > total:
            from wtforms.validators import ValidationError

            raise ValidationError("Обучающихся с ОВЗ не может быть больше, чем всех обучающихся.")
