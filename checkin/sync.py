"""Offline sync: a phone's queue of scans arrives in one batch and is merged.

Each item is judged by :func:`checkin.services.perform_scan` on its own, so one bad item fails
nothing else and a retried batch records nothing new (``client_scan_id``). Items are processed
in the order they were scanned (``scanned_at``), not the order they arrive, and the scan
service lets an earlier-made scan take over a later check-in from another phone: whichever
phone syncs first, the earliest scan is the check-in and the others are repeats.
"""

from __future__ import annotations

from datetime import datetime

from checkin.services import MAX_CLIENT_SCAN_ID, MAX_LABEL, perform_scan
from models import Event
from models.errors import ServiceError

#: Most scans in one batch request (the phone sends a longer queue in several batches).
MAX_BATCH = 1000


def _error(code: str, message: str, fields: dict | None = None) -> dict:
    return {"status": "error",
            "error": {"code": code, "message": message, "fields": fields or {}}}


def _parse_time(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
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
    client_scan_id = item.get("client_scan_id")
    if client_scan_id is not None and (not isinstance(client_scan_id, str)
                                       or not 0 < len(client_scan_id) <= MAX_CLIENT_SCAN_ID):
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
        if value is not None and (not isinstance(value, str) or len(value) > MAX_LABEL):
            fields[name] = f"Строка до {MAX_LABEL} символов."
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
    return results
