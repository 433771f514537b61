from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from webapp.attendance.imports import MAX_REASON
from webapp.forms import DateTimeLocalField, IntegerField


class AttendanceUploadForm(FlaskForm):
    file = FileField("Файл XLSX или CSV",
                     validators=[FileRequired("Выберите файл XLSX или CSV.")])


class WithdrawForm(FlaskForm):
    reason = TextAreaField("Причина отзыва",
                           validators=[DataRequired("Укажите причину, по которой список "
                                                    "отзывается."),
                                       Length(max=MAX_REASON,
                                              message=f"Не длиннее {MAX_REASON} символов.")])


class ActivityForm(FlaskForm):
    """An outside activity: the school's own event in one form (issue #13 item 2)."""

    title = StringField("Название", validators=[DataRequired("Укажите название."),
                                                Length(max=300, message="Не длиннее 300 "
                                                                        "символов.")])
    starts_at = DateTimeLocalField("Дата и время начала (время томское)",
                                   format="%Y-%m-%dT%H:%M",
                                   validators=[InputRequired("Укажите дату и время.")])
    minutes = IntegerField("Длительность, минут",
                           validators=[InputRequired("Укажите длительность в минутах."),
                                       NumberRange(1, 1440, "От 1 до 1440 минут.")],
                           render_kw={"inputmode": "numeric"})
    category = SelectField("Категория", validators=[DataRequired("Выберите категорию.")])
    early = SelectField("Ранняя профориентация",
                        choices=[SelectChoice("", "По правилу города"),
                                 SelectChoice("1", "Да"), SelectChoice("0", "Нет")])
    then = RadioField("Как отметить присутствовавших",
                      choices=[SelectChoice("classes", "Отметить классы по списку"),
                               SelectChoice("import", "Загрузить файл со списком")],
                      default="classes")

