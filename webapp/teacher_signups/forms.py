"""Forms of a teacher's sign-up and of the coordinator's decision; rules live in
``webapp.teacher_signups.services``."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields import EmailField, TelField
from wtforms.validators import DataRequired, Optional

from webapp.parents.forms import HoneypotMixin, int_or_zero, max_length


class TeacherSignupForm(HoneypotMixin, FlaskForm):
    last_name = StringField("Фамилия", validators=[DataRequired("Введите фамилию."),
                                                   max_length(100)],
                            render_kw={"autocomplete": "family-name"})
    first_name = StringField("Имя", validators=[DataRequired("Введите имя."), max_length(100)],
                             render_kw={"autocomplete": "given-name"})
    middle_name = StringField("Отчество (если есть)", validators=[Optional(), max_length(100)],
                              render_kw={"autocomplete": "additional-name"})
    organization_id = SelectField("Школа или детский сад, где вы работаете",
                                  coerce=int_or_zero, default=0, validate_choice=False)
    email = EmailField("Электронная почта", validators=[
        DataRequired("Введите адрес электронной почты: на него придёт билет."), max_length(254)
    ], render_kw={"autocomplete": "email", "inputmode": "email"})
    phone = TelField("Телефон (необязательно)", validators=[Optional(), max_length(40)],
                     render_kw={"autocomplete": "tel", "inputmode": "tel"})
    consent = BooleanField("Я даю согласие на обработку моих персональных данных "
                           "на условиях, изложенных выше", default=False)


class ConfirmTeacherForm(FlaskForm):
    #: A roster teacher's id, or "new" to add the person to the school's list.
    teacher = RadioField("Кто это в списке педагогов школы", validators=[
        DataRequired("Выберите педагога из списка или «Добавить в список».")
    ], validate_choice=False)


class RejectTeacherForm(FlaskForm):
    reason = TextAreaField("Причина (её получит педагог)", validators=[
        DataRequired("Напишите причину: её получит педагог."), max_length(1000)
    ])
