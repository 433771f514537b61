"""Offline sync: a phone's queue of scans arrives in one batch and is merged.

Each item is judged by :func:`checkin.door.scans.perform_scan` on its own, so one bad item fails
nothing else and a retried batch records nothing new (``client_scan_id``). Items are processed
in the order they were scanned (``scanned_at``), not the order they arrive, and the scan
service lets an earlier-made scan take over a later check-in from another phone: whichever
phone syncs first, the earliest scan is the check-in and the others are repeats.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.exc import DBAPIError

from checkin.door.scans import MAX_CLIENT_SCAN_ID, MAX_LABEL, perform_scan
from errors import ServiceError
from models import Event

#: Most scans in one batch request: what the phone sends at most (``BATCH_SIZE`` in
#: webapp/static/js/scanner/app.js); a longer queue goes in several batches.
MAX_BATCH = 200
#: The longest ``code`` an item may carry (as the single-scan endpoint): more is junk, refused
#: before any work; only the first ``checkin.door.scans.MAX_RAW_CODE`` characters are stored.
MAX_ITEM_CODE = 10_000
#: The longest ``scanned_at`` text looked at (an ISO 8601 time is about 32 characters).
MAX_TIME_TEXT = 64
NUL = "\x00"


def _error(code: str, message: str, fields: dict | None = None) -> dict:
    return {"status": "error",
            "error": {"code": code, "message": message, "fields": fields or {}}}


def _parse_time(value) -> datetime | None:
    if not isinstance(value, str) or len(value) > MAX_TIME_TEXT:
        return None
    try:
        parsed = datetime.fromisoformat(value)
        # Far-off years (0001, 9999) with an offset cannot even be told in UTC: not a time.
        parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return parsed if parsed.tzinfo is not None else None


def parse_batch_item(item, *, default_device: str | None = None,
                     default_gate: str | None = None) -> dict:
    """Keyword arguments for ``perform_scan`` from one batch item; raises ServiceError."""
    if not isinstance(item, dict):
        raise ServiceError("validation_error", "Элемент пакета должен быть JSON-объектом.")
    fields: dict[str, str] = {}
    code = item.get("code")
    if not isinstance(code, str) or not code.strip():
        fields["code"] = "Обязательное поле: строка, прочитанная из QR-кода."
    elif len(code) > MAX_ITEM_CODE:
        fields["code"] = f"Не длиннее {MAX_ITEM_CODE} символов."
    elif NUL in code:
        fields["code"] = "Код содержит недопустимый символ NUL."
    client_scan_id = item.get("client_scan_id")
    if client_scan_id is not None and (not isinstance(client_scan_id, str)
                                       or not 0 < len(client_scan_id) <= MAX_CLIENT_SCAN_ID
                                       or NUL in client_scan_id):
        fields["client_scan_id"] = f"Строка до {MAX_CLIENT_SCAN_ID} символов."
    scanned_at = None
    if item.get("scanned_at") is not None:
        scanned_at = _parse_time(item["scanned_at"])
        if scanned_at is None:
            fields["scanned_at"] = ("Ожидается время ISO 8601 со смещением, например "
                                    "2025-10-01T10:00:00+07:00.")
    labels = {}
    for name, default in (("device_label", default_device), ("gate", default_gate)):
        value = item.get(name, default)
        if value is not None and (not isinstance(value, str) or len(value) > MAX_LABEL
                                  or NUL in value):
            fields[name] = f"Строка до {MAX_LABEL} символов без символа NUL."
            value = None
        labels[name] = value
    force = item.get("force", False)
    if not isinstance(force, bool):
        fields["force"] = "Ожидается true или false."
    if fields:
        raise ServiceError("validation_error", "Проверьте данные сканирования.", fields=fields)
    return {"code": code, "client_scan_id": client_scan_id, "scanned_at": scanned_at,
            "force": force, **labels}


def sync_batch(event: Event, items: list, *, actor_user=None, scanner_link=None,
               device_label: str | None = None, gate: str | None = None) -> list[dict]:
    """Judge every item; returns one result per item, in the order given."""
    if len(items) > MAX_BATCH:
        raise ServiceError("batch_too_large",
                           f"В одном пакете — не больше {MAX_BATCH} сканирований.",
                           field="scans", status=413)
    results: list[dict | None] = [None] * len(items)
    parsed: list[tuple[int, dict]] = []
    for index, item in enumerate(items):
        try:
            parsed.append((index, parse_batch_item(item, default_device=device_label,
                                                   default_gate=gate)))
        except ServiceError as err:
            results[index] = _error(err.code, err.message, err.fields)
    # Earliest first; items without a phone time are judged last, at server time.
    parsed.sort(key=lambda pair: (pair[1]["scanned_at"] is None,
                                  pair[1]["scanned_at"].timestamp() if pair[1]["scanned_at"]
                                  else 0.0, pair[0]))
    for index, kwargs in parsed:
        try:
            results[index] = perform_scan(event, actor_user=actor_user,
                                          scanner_link=scanner_link, offline=True, **kwargs)
        except ServiceError as err:
            results[index] = _error(err.code, err.message, err.fields)
        except DBAPIError:
            # The database refused this item's row (its SAVEPOINT is rolled back, the batch's
            # transaction goes on): this item fails alone, the others are processed.
            results[index] = _error("scan_not_recorded", "Сканирование не удалось записать: "
                                    "проверьте код и время.")
    return results
