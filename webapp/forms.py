"""Forms shared by every blueprint."""

from flask_wtf import FlaskForm


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for POST-only buttons."""


def apply_service_error(form, err) -> None:
    """Show a ``ServiceError`` on a form: each message next to its field, messages for fields
    the form does not have (and the general message, when nothing else was shown) in the error
    summary on top."""
    shown = False
    for name, message in err.fields.items():
        if name in form:
            form[name].errors = [*form[name].errors, message]
        else:
            form.form_errors.append(message)
        shown = True
    if not shown:
        form.form_errors.append(err.message)
