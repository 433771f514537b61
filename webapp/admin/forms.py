"""Forms of the admin pages and the token page."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    Form,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from models import OrgKind, Role
from webapp.forms import IntegerField
from webapp.services.accounts import MIN_PASSWORD_LENGTH


def select_choices(pairs, optgroup: str | None = None) -> list[SelectChoice]:
    """WTForms 3.3 wants SelectChoice objects rather than tuples."""
    return [SelectChoice(value, label, optgroup=optgroup) for value, label in pairs]


_NONNEG = NumberRange(min=0, message="Не может быть отрицательным.")
_WHOLE = "Введите целое число."


class OrganizationForm(FlaskForm):
    name = StringField("Полное название", validators=[
        DataRequired("Укажите название организации."), Length(max=300, message="Слишком длинно.")])
    short_name = StringField("Краткое название", validators=[
        Optional(), Length(max=120, message="Не длиннее 120 символов.")])
    kind = SelectField("Тип", choices=select_choices(OrgKind.choices()),
                       validators=[DataRequired("Выберите тип.")])
    external_id = StringField("Внешний ID", validators=[
        Optional(), Length(max=64, message="Не длиннее 64 символов.")])
    description = TextAreaField("Описание", validators=[Optional(), Length(max=5000)])
    offer = TextAreaField("Что предлагает школам", validators=[Optional(), Length(max=5000)])
    address = StringField("Адрес", validators=[Optional(), Length(max=300)])
    phone = StringField("Телефон", validators=[
        Optional(), Length(max=40),
        Regexp(r"^[0-9+()\-\s]{5,40}$",
               message="Введите телефон цифрами, например +7 3822 123456.")])
    email = EmailField("Электронная почта", validators=[
        Optional(), Length(max=254), Email("Введите адрес в формате name@example.ru.")])
    website = StringField("Сайт", validators=[
        Optional(), Length(max=300),
        Regexp(r"^https?://\S+$", message="Адрес сайта начинается с http:// или https://.")])


class UserCreateForm(FlaskForm):
    email = EmailField("Электронная почта (логин)", validators=[
        DataRequired("Введите адрес электронной почты."), Length(max=254),
        Email("Введите адрес в формате name@example.ru.")])
    full_name = StringField("Фамилия, имя, отчество", validators=[Optional(), Length(max=200)])
    role = SelectField("Роль", choices=select_choices(Role.choices()),
                       validators=[DataRequired("Выберите роль.")])
    organization = SelectField("Организация", coerce=int, validate_choice=False)
    password = PasswordField("Пароль", validators=[
        DataRequired("Введите пароль."),
        Length(min=MIN_PASSWORD_LENGTH, message=f"Не короче {MIN_PASSWORD_LENGTH} символов.")])
    password_confirm = PasswordField("Пароль ещё раз", validators=[
        DataRequired("Повторите пароль."), EqualTo("password", "Пароли не совпадают.")])


class UserEditForm(FlaskForm):
    full_name = StringField("Фамилия, имя, отчество", validators=[Optional(), Length(max=200)])
    role = SelectField("Роль", choices=select_choices(Role.choices()),
                       validators=[DataRequired("Выберите роль.")])
    organization = SelectField("Организация", coerce=int, validate_choice=False)


class PasswordResetForm(FlaskForm):
    password = PasswordField("Новый пароль", validators=[
        DataRequired("Введите новый пароль."),
        Length(min=MIN_PASSWORD_LENGTH, message=f"Не короче {MIN_PASSWORD_LENGTH} символов.")])
    password_confirm = PasswordField("Новый пароль ещё раз", validators=[
        DataRequired("Повторите пароль."), EqualTo("password", "Пароли не совпадают.")])


def count_field(label: str, required: bool = False) -> IntegerField:
    """A whole non-negative number, with Russian messages."""
    first = InputRequired("Обязательное поле.") if required else Optional()
    return IntegerField(label, validators=[first, _NONNEG], invalid_value_message=_WHOLE)


class BaselineRowForm(Form):
    """One row of the baseline table: a subform prefixed ``b<organization id>``.

    The CSRF token is on the outer form. Fields are optional here: the service decides
    whether an empty row is allowed and reports missing values per row.
    """

    students_total = count_field("Обучающихся")
    students_ovz = count_field("С ОВЗ")
    teachers_total = count_field("Педагогов")
    planned_events = count_field("План мероприятий")
    planned_early_events = count_field("План ранних мероприятий")

    def is_empty(self) -> bool:
        return all(not (f.raw_data or [""])[0].strip() for f in self)


class BaselineTableForm(FlaskForm):
    """The whole table: only the CSRF token; the view adds a ``BaselineRowForm`` per row."""


class CityPlanForm(FlaskForm):
    planned_events = count_field("План мероприятий города на год")
    planned_early_events = count_field("Из них мероприятий ранней профориентации")


class EarlyRuleForm(FlaskForm):
    """The city's «ранняя профориентация» rule of one academic year (the page sets the
    category choices: the active categories)."""

    preschool = BooleanField("Мероприятия для дошкольников")
    max_grade = SelectField("Мероприятия для обучающихся — по какой класс включительно",
                            choices=select_choices(
                                [("", "— не отмечать по классам —")] +
                                [(str(g), "1 класс" if g == 1 else f"1–{g} классы")
                                 for g in range(1, 12)]),
                            validate_choice=False)
    category_codes = SelectMultipleField("Категории, ранние для любой аудитории",
                                         validate_choice=False)

    def validate_max_grade(self, field):
        if field.data and field.data not in {str(g) for g in range(1, 12)}:
            raise ValidationError("Выберите класс из списка: от 1 до 11.")

    def validate_category_codes(self, field):
        known = {choice.value for choice in field.choices or ()}
        if any(code not in known for code in field.data or ()):
            raise ValidationError("Неизвестная категория. Выберите категории из списка.")

    @property
    def max_grade_value(self) -> int | None:
        return int(self.max_grade.data) if self.max_grade.data else None


class BaselineImportForm(FlaskForm):
    year = SelectField("Учебный год", coerce=int, validate_choice=True)
    file = FileField("Файл XLSX или CSV", validators=[
        FileRequired("Выберите файл."),
        FileAllowed(["xlsx", "csv"], "Поддерживаются файлы XLSX и CSV."),
    ])


class TokenForm(FlaskForm):
    name = StringField("Название токена", validators=[
        DataRequired("Укажите название токена, например «Сканер на входе» или «Выгрузка в ИС»."),
        Length(max=100, message="Не длиннее 100 символов.")])


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    object_type = SelectField("Объект", validate_choice=False, validators=[Optional()])
    object_id = StringField("ID объекта", validators=[Optional(), Length(max=64)])
    user = SelectField("Пользователь", coerce=str, validate_choice=False,
                       validators=[Optional()])


__all__ = [
    "AuditFilterForm", "BaselineImportForm", "BaselineRowForm", "BaselineTableForm",
    "CityPlanForm", "EarlyRuleForm", "OrganizationForm", "PasswordResetForm", "TokenForm",
    "UserCreateForm", "UserEditForm", "count_field", "select_choices",
]


class AnonymizeYearForm(FlaskForm):
    """Anonymizing a past academic year: the year, and the year typed again to confirm."""

    year = SelectField("Учебный год", coerce=lambda v: int(v) if str(v).isdigit() else None,
                       validate_choice=False,
                       validators=[InputRequired("Выберите учебный год.")])
    confirm = StringField("Для подтверждения введите год начала (например, 2024)",
                          validators=[DataRequired("Введите год для подтверждения."),
                                      Length(max=10)])

    def validate_year(self, field):
        if field.data not in [choice.value for choice in field.choices]:
            raise ValidationError("Выберите прошедший учебный год из списка: текущий год "
                                  "обезличить нельзя.")

    def validate_confirm(self, field):
        if (field.data or "").strip() != str(self.year.data):
            raise ValidationError(f"Введите «{self.year.data}» — год начала выбранного "
                                  "учебного года.")
