from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from webapp.attendance.imports import MAX_REASON


class AttendanceUploadForm(FlaskForm):
    file = FileField("Файл XLSX или CSV",
                     validators=[FileRequired("Выберите файл XLSX или CSV.")])


class WithdrawForm(FlaskForm):
    reason = TextAreaField("Причина отзыва",
                           validators=[DataRequired("Укажите причину, по которой список "
                                                    "отзывается."),
                                       Length(max=MAX_REASON,
                                              message=f"Не длиннее {MAX_REASON} символов.")])
