"""Forms shared by every blueprint, and the bounded fields every form uses for numbers and
dates (a value beyond the columns or the sane date range is a field error, never a 500)."""

from flask_wtf import FlaskForm
from wtforms import fields as wtf_fields

from formats.input_checks import date_range_error, int_range_error


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for POST-only buttons."""


class _Bounded:
    """Mixin: after parsing, a value out of range becomes a field error (data None)."""

    def _range_error(self, value) -> str | None:  # pragma: no cover - overridden
        raise NotImplementedError

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None:
            message = self._range_error(self.data)
            if message:
                self.data = None
                raise ValueError(message)


class IntegerField(_Bounded, wtf_fields.IntegerField):
    """``IntegerField`` bounded to the 32-bit integer columns."""

    def _range_error(self, value):
        return int_range_error(value)


class DateField(_Bounded, wtf_fields.DateField):
    """``DateField`` bounded to the years the application accepts (input_checks.YEAR_MIN..MAX)."""

    def _range_error(self, value):
        return date_range_error(value)


class DateTimeLocalField(_Bounded, wtf_fields.DateTimeLocalField):
    """``DateTimeLocalField`` bounded like :class:`DateField`."""

    def _range_error(self, value):
        return date_range_error(value)


#: The wtforms fields that must not be used directly in a form (tests/test_input_edges.py).
UNBOUNDED_FIELDS = (wtf_fields.IntegerField, wtf_fields.DateField, wtf_fields.DateTimeField,
                    wtf_fields.DecimalField, wtf_fields.FloatField)
BOUNDED_FIELDS = (IntegerField, DateField, DateTimeLocalField)


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
