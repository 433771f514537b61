"""Conversions at the edges: aware UTC inside, Asia/Tomsk and ДД.ММ.ГГГГ for people."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

#: The city's time zone: every date and time people see or type is in it.
TOMSK = ZoneInfo("Asia/Tomsk")

MONTHS_GENITIVE = [
    "января", "февраля", "марта", "апреля", "мая", "июня",
    "июля", "августа", "сентября", "октября", "ноября", "декабря",
]


def to_local(value: datetime) -> datetime:
    return value.astimezone(TOMSK)


def local_to_utc(value: datetime) -> datetime:
    """A naive datetime entered by a person in Tomsk, as aware UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=TOMSK)
    return value.astimezone(UTC)


def tomorrow_bounds(now: datetime) -> tuple[datetime, datetime]:
    """Tomorrow in Tomsk as ``[start, end)``: what «the day before» reminders look at."""
    tomorrow = to_local(now).date() + timedelta(days=1)
    start = datetime.combine(tomorrow, time.min, tzinfo=TOMSK)
    return start, start + timedelta(days=1)


def format_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_local(value)
    return value.strftime("%d.%m.%Y")


def format_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    return to_local(value).strftime("%d.%m.%Y %H:%M")


def format_time(value: datetime | None) -> str:
    if value is None:
        return ""
    return to_local(value).strftime("%H:%M")


def format_percent(value: float | Decimal | None) -> str:
    """12.5 → «12,5 %»; None → «нет данных»."""
    if value is None:
        return "нет данных"
    rounded = Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{rounded}".replace(".", ",") + "\u00a0%"


def format_number(value: int | None) -> str:
    if value is None:
        return ""
    return f"{value:,}".replace(",", "\u00a0")


def format_points(value: float | Decimal | None) -> str:
    """A change in percentage points, signed: 0.5 → «+0,5 п. п.», −0.5 → «−0,5 п. п.»,
    0 → «±0,0 п. п.»; None → «—». The one place the unit is written (never «% п. п.»)."""
    if value is None:
        return "—"
    rounded = Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    sign = "+" if rounded > 0 else ("−" if rounded < 0 else "±")
    return f"{sign}{abs(rounded)}".replace(".", ",") + "\u00a0п.\u00a0п."


def format_hours(value: float | Decimal | int | None) -> str:
    """Academic hours: 12 → «12», 1.5 → «1,5»; None → «—»."""
    if value is None:
        return "—"
    rounded = Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    text = f"{rounded.normalize():f}" if rounded != rounded.to_integral() else f"{int(rounded)}"
    return text.replace(".", ",")
