"""A file sent to the browser under a Russian name and an ASCII one that says the same.

Flask's ``send_file`` writes ``filename*=UTF-8''…`` for a Cyrillic name but makes the plain
``filename=`` fallback by dropping every non-ASCII letter («билеты-5.pdf» → «-5.pdf»), which is
what older mail clients, download managers and some Android browsers save the file as. Here
the fallback is given: «tickets-event-93.pdf».
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Response


def file_response(data: bytes, *, mimetype: str, name: str, ascii_name: str,
                  as_attachment: bool = False) -> Response:
    """``data`` with ``Content-Disposition: inline|attachment; filename="<ascii_name>";
    filename*=UTF-8''<name>``."""
    if not ascii_name.isascii() or any(c in ascii_name for c in '"\\;\r\n'):
        raise ValueError(f"not a plain ASCII file name: {ascii_name!r}")
    disposition = "attachment" if as_attachment else "inline"
    return Response(data, mimetype=mimetype, headers={
        "Content-Disposition": f"{disposition}; filename=\"{ascii_name}\"; "
                               f"filename*=UTF-8''{quote(name, safe='')}"})
