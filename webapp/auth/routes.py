from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from models import User, db, now_utc, record_audit
from models.user import normalize_email
from webapp.auth import bp
from webapp.auth.forms import ChangePasswordForm, LoginForm
from webapp.auth.throttle import clear_failures, login_blocked, record_failure
from webapp.extensions import login_manager
from webapp.forms import EmptyForm
from webapp.input_guard import safe_next_url


@login_manager.user_loader
def load_user(user_id: str):
    try:
        return db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        email = normalize_email(form.email.data)
        ip = request.remote_addr or "-"
        if login_blocked(email, ip):
            minutes = current_app.config["LOGIN_FAILURE_WINDOW_MINUTES"]
            form.password.errors.append(
                f"Слишком много неудачных попыток входа. Подождите {minutes} минут "
                "и попробуйте снова или обратитесь к администратору."
            )
            status = 429
        else:
            user = User.query.filter_by(email=email).first()
            if user is None or not user.check_password(form.password.data):
                record_failure(email, ip)
                db.session.commit()
                form.password.errors.append("Неверный адрес электронной почты или пароль.")
                status = 401
            elif not user.active:
                form.email.errors.append("Учётная запись отключена. Обратитесь к администратору.")
                status = 403
            else:
                clear_failures(email)
                user.last_login_at = now_utc()
                record_audit(user, "user.login", user)
                db.session.commit()
                login_user(user, remember=form.remember.data)
                return redirect(safe_next_url(request.args.get("next"))
                                or url_for("main.dashboard"))
    elif request.method == "POST":
        status = 422
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    form = EmptyForm()
    if form.validate_on_submit():
        logout_user()
        flash("Вы вышли из системы.", "info")
    return redirect(url_for("main.index"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current_password.data):
            form.current_password.errors.append("Текущий пароль введён неверно.")
        else:
            current_user.set_password(form.new_password.data)
            record_audit(current_user, "user.change_password", current_user)
            db.session.commit()
            flash("Пароль изменён.", "success")
            return redirect(url_for("main.dashboard"))
    return render_template("auth/change_password.html", form=form)
