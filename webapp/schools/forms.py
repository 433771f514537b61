"""Forms of the school coordinator's pages. Labels and messages in Russian."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

REQUIRED = "Заполните это поле."


class StudentForm(FlaskForm):
    last_name = StringField("Фамилия", validators=[DataRequired(REQUIRED), Length(max=100)])
    first_name = StringField("Имя", validators=[DataRequired(REQUIRED), Length(max=100)])
    middle_name = StringField("Отчество (если есть)", validators=[Optional(), Length(max=100)])
    class_name = StringField("Класс", validators=[DataRequired(REQUIRED), Length(max=40)])
    ovz = BooleanField("ОВЗ (ограниченные возможности здоровья)")
    external_id = StringField("Идентификатор в информационной системе школы (если есть)",
                              validators=[Optional(), Length(max=64)])


class TeacherForm(FlaskForm):
    last_name = StringField("Фамилия", validators=[DataRequired(REQUIRED), Length(max=100)])
    first_name = StringField("Имя", validators=[DataRequired(REQUIRED), Length(max=100)])
    middle_name = StringField("Отчество (если есть)", validators=[Optional(), Length(max=100)])
    email = StringField("Эл. почта (если есть)", validators=[Optional(), Length(max=254)])


class ImportForm(FlaskForm):
    file = FileField("Файл XLSX или CSV",
                     validators=[FileRequired("Выберите файл XLSX или CSV.")])


class PromoteForm(FlaskForm):
    confirm = BooleanField("Я проверил(а) список: перевести всех учеников в следующий класс, "
                           "выпускников 11-х классов исключить из списка",
                           validators=[DataRequired("Подтвердите перевод, отметив галочку.")])


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes; choices are checked by the service (Russian messages), not by WTForms."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("coerce", int)
        kwargs.setdefault("validate_choice", False)
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist):
        values = []
        for value in valuelist:
            try:
                values.append(self.coerce(value))
            except (TypeError, ValueError):
                raise ValueError("Выбран неизвестный человек. Обновите страницу.") from None
        self.data = values


class GroupForm(FlaskForm):
    """Pick students (one by one or whole classes) and accompanying teachers."""

    classes = MultiCheckboxField("Весь класс", coerce=str)
    students = MultiCheckboxField("Ученики")
    teachers = MultiCheckboxField("Сопровождающие педагоги")


class AnonymizePersonForm(FlaskForm):
    confirm = BooleanField("Я понимаю: имя, идентификатор и почта будут удалены безвозвратно, "
                           "человек исчезнет из списка школы, а его участие останется в "
                           "показателях без имени",
                           validators=[DataRequired("Подтвердите обезличивание, отметив "
                                                    "галочку.")])


class MailSettingsForm(FlaskForm):
    weekly_digest = BooleanField("Присылать раз в неделю подборку новых мероприятий для моей "
                                 "школы")
