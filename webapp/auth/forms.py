from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Length, Regexp


class LoginForm(FlaskForm):
    email = EmailField("Электронная почта", validators=[
        DataRequired("Введите адрес электронной почты."),
        Regexp(r"^[^@\s]+@[^@\s]+$", message="Введите адрес в формате name@example.ru."),
    ])
    password = PasswordField("Пароль", validators=[DataRequired("Введите пароль.")])
    remember = BooleanField("Запомнить меня на этом устройстве")
    submit = SubmitField("Войти")


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Текущий пароль", validators=[DataRequired("Введите пароль.")])
    new_password = PasswordField("Новый пароль", validators=[
        DataRequired("Введите новый пароль."),
        Length(min=8, message="Не короче 8 символов."),
    ])
    submit = SubmitField("Сменить пароль")
