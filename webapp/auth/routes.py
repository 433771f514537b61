from flask import current_app, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from models import User, db, now_utc, record_audit
from models.user import (
    check_dummy_password,
    login_still_valid,
    normalize_email,
    parse_login_id,
)
from webapp.auth import bp
from webapp.auth.forms import ChangePasswordForm, LoginForm
from webapp.auth.throttle import claim_attempt, describe_wait, release_attempt
from webapp.extensions import login_manager
from webapp.forms import EmptyForm
from webapp.input_guard import safe_next_url
from webapp.transaction import unit_of_work


@login_manager.user_loader
def load_user(session_id: str):
    """The user named by a session or remember-me cookie (``User.get_id``), if that login is
    still theirs (``models.user.login_still_valid``)."""
    login = parse_login_id(session_id)
    if login is None:
        return None
    user_id, token, started = login
    user = db.session.get(User, user_id)
    if user is None or not login_still_valid(user.active, user.session_token, token, started,
                                             current_app.config["LOGIN_SESSION_MAX_DAYS"]):
        return None
    user.session_started_at = started
    return user


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        email = normalize_email(form.email.data)
        ip = request.remote_addr or "-"
        # Counted before the password is checked (see webapp/auth/throttle.py).
        claim = claim_attempt(email, ip)
        if not claim.allowed:
            wait = describe_wait(claim.retry_after)
            if claim.limit == "address":
                form.password.errors.append(
                    "Слишком много неудачных попыток входа с этого адреса. Повторите через "
                    f"{wait} или обратитесь к администратору.")
            else:
                form.password.errors.append(
                    "Слишком много неудачных попыток входа в эту учётную запись. Повторите "
                    f"через {wait}.")
            response = make_response(render_template("auth/login.html", form=form), 429)
            response.headers["Retry-After"] = str(claim.retry_after)
            return response
        user = User.query.filter_by(email=email).first()
        # An unknown address costs one password check too: the time does not tell.
        if user is None:
            password_ok = check_dummy_password(form.password.data)
        else:
            password_ok = user.check_password(form.password.data)
        if not password_ok:
            form.password.errors.append("Неверный адрес электронной почты или пароль.")
            status = 401
        else:
            with unit_of_work():
                release_attempt(email, ip)  # SQLite: takes the write lock; objects reload
                if user.active:
                    user.last_login_at = now_utc()
                    record_audit(user, "user.login", user)
            if not user.active:
                form.email.errors.append(
                    "Учётная запись отключена. Обратитесь к администратору.")
                status = 403
            else:
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
        if current_user.is_authenticated:
            # Ends every session of the user, on all devices: a copied cookie of this one
            # (or of any other) names nobody from now on.
            user = current_user._get_current_object()
            with unit_of_work():
                user.end_sessions()
                record_audit(user, "user.logout", user)
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
            user = current_user._get_current_object()
            with unit_of_work():
                user.set_password(form.new_password.data)  # ends every earlier session
                record_audit(user, "user.change_password", user)
            # This browser stays signed in, with the new session token; others are out.
            login_user(user, remember=request.cookies.get(
                current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")) is not None)
            flash("Пароль изменён. На других устройствах нужно войти заново.", "success")
            return redirect(url_for("main.dashboard"))
    return render_template("auth/change_password.html", form=form)
