"""Forms of the parents area. Rules live in ``webapp.parents.services``; the forms carry the
fields, the CSRF token and the first checks, and show the service's messages per field."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields import EmailField, TelField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from models import OrgKind

GRADE_CHOICES = [SelectChoice("", "— не указывать —"), SelectChoice("0", "Детский сад")] + [
    SelectChoice(str(n), f"{n} класс") for n in range(1, 12)
]


def school_choices(schools, empty_label: str = "— не указывать —") -> list[SelectChoice]:
    """The directory's schools and kindergartens, grouped, after an empty choice."""
    groups = {OrgKind.SCHOOL: "Школы", OrgKind.PRESCHOOL: "Детские сады"}
    return [SelectChoice(0, empty_label)] + [
        SelectChoice(org.id, org.display_name, optgroup=groups.get(org.kind))
        for org in schools
    ]


def radio_choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def max_length(n: int) -> Length:
    return Length(max=n, message=f"Не длиннее {n} символов.")


def int_or_zero(value) -> int:
    """Select coercion that never fails: a tampered value becomes 0 ("not chosen") and the
    service then explains what is missing, in Russian."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def grade_or_none(value: str | None) -> int | None:
    """The chosen grade, None when not given, -1 for anything else (refused by the service)."""
    if value in (None, ""):
        return None
    return int(value) if str(value).isdigit() else -1


class HoneypotMixin:
    #: Hidden from people (CSS and aria-hidden); scripts that fill every field fill it.
    website = StringField("Сайт (оставьте это поле пустым)", validators=[Optional()])


class ParentSignupForm(HoneypotMixin, FlaskForm):
    name = StringField("Фамилия и имя", validators=[
        DataRequired("Введите фамилию и имя."), max_length(200)
    ], render_kw={"autocomplete": "name"})
    phone = TelField("Телефон", validators=[Optional(), max_length(40)],
                     render_kw={"autocomplete": "tel", "inputmode": "tel"})
    email = EmailField("Электронная почта", validators=[Optional(), max_length(254)],
                       render_kw={"autocomplete": "email", "inputmode": "email"})
    child_organization_id = SelectField("Школа или детский сад ребёнка (необязательно)",
                                        coerce=int_or_zero, default=0, validate_choice=False)
    child_grade = SelectField("Класс ребёнка (необязательно)", choices=GRADE_CHOICES,
                              default="", validate_choice=False)
    consent = BooleanField("Я даю согласие на обработку моих персональных данных "
                           "на условиях, изложенных выше", default=False)


class RecoverLinkForm(HoneypotMixin, FlaskForm):
    code = StringField("Код билета", validators=[max_length(40)],
                       render_kw={"autocomplete": "off", "autocapitalize": "characters",
                                  "spellcheck": "false"})
    phone = TelField("Телефон, указанный при записи", validators=[max_length(40)],
                     render_kw={"autocomplete": "tel", "inputmode": "tel"})
