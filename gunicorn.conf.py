"""gunicorn settings for Профмаршрут (read from the working directory, or ``-c gunicorn.conf.py``).

The access log never holds a credential: scanner links ``/s/<token>``, private links
``/my/<secret>``, tickets ``/t/<token>``, groups ``/g/<code>`` and their QR images are written
as ``/s/[redacted]`` and so on, in the request line, the path, the query and the Referer
(``formats.log_redaction``). Authorization and Cookie headers are never logged.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
wsgi_app = "wsgi:app"

logger_class = "webapp.gunicorn_logging.RedactingGunicornLogger"
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
# The "combined" format (the client's address is nginx's X-Forwarded-For).
access_log_format = ('%({x-forwarded-for}i)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s '
                     '"%(f)s" "%(a)s" %(M)sms')
