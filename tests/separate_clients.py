"""Test clients that behave like separate browsers in one test."""

from __future__ import annotations


def browser(app):
    """A test client of its own whose every request runs in a fresh app context, as in a
    real server: the CSRF token cached in ``g`` and the database session are shared neither
    with other clients nor with the test (the ``client`` fixture's requests run in the test's
    app context)."""

    class Browser(app.test_client_class):
        def open(self, *args, **kwargs):
            with app.app_context():
                return super().open(*args, **kwargs)

    return Browser(app, app.response_class, use_cookies=True)
