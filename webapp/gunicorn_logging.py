"""gunicorn's logger for Профмаршрут (``logger_class`` in ``gunicorn.conf.py``): the access and
error logs never hold a credential from a URL (``formats.log_redaction``). A module of its own so
the application itself never imports gunicorn."""

from __future__ import annotations

from gunicorn.glogging import Logger as GunicornLogger

from formats.log_redaction import REDACTED, SECRET_HEADERS, RedactingFilter, redact


class RedactingGunicornLogger(GunicornLogger):
    """gunicorn's logger with every access-log atom redacted: the request line (``%(r)s``),
    path (``%(U)s``), query (``%(q)s``), Referer (``%(f)s``), and any header or environ atom an
    operator adds to ``access_log_format``; credential headers are never written at all."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():
            name = key[1:-2] if key.startswith("{") and key[-2:] in ("}i", "}o", "}e") else None
            if name is not None and name.lower() in SECRET_HEADERS:
                atoms[key] = REDACTED
            elif isinstance(value, str):
                atoms[key] = redact(value)
        return atoms

    def setup(self, cfg):
        super().setup(cfg)
        # The error log names the path of a failed request too.
        if not any(isinstance(f, RedactingFilter) for f in self.error_log.filters):
            self.error_log.addFilter(RedactingFilter())
