"""Server-rendered SVG charts: no JavaScript, readable on a phone, with a text alternative.

Each chart is an ``<svg role="img">`` with ``<title>`` and ``<desc>`` that say in words what the
bars show; pages also print the same numbers in a table beside it.
"""

from __future__ import annotations

from decimal import Decimal

from markupsafe import Markup, escape

from formats.timefmt import format_percent

BLUE = "#0b4f8a"
GREY = "#8a96a3"
TEXT = "#1b1f23"


def _pct(value) -> str:
    return format_percent(value).replace("\u00a0", " ")


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def bar_chart(rows: list[tuple[str, Decimal | None, Decimal | None]], *, title: str,
              series: tuple[str, str | None] = ("Текущий период", None),
              chart_id: str = "chart") -> Markup:
    """Horizontal bars, one group per row: the value (blue) and an optional comparison (grey).

    Values are percentages (0–100, None for «нет данных»); the label sits above its bars so
    long Russian names fit a 390-pixel screen.
    """
    width, left, right = 360, 4, 52
    bar_h, gap = 12, 4
    compare = series[1] is not None
    group_h = 16 + bar_h + (bar_h + 2 if compare else 0) + gap + 6
    height = 24 + group_h * len(rows)
    top = max([100.0] + [float(v) for _l, a, b in rows for v in (a, b) if v is not None])
    scale = (width - left - right) / top
    desc_parts = []
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" '
        f'class="report-chart" font-family="DejaVu Sans, Arial, sans-serif">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
    ]
    legend = [(BLUE, series[0])] + ([(GREY, series[1])] if compare else [])
    x = left
    for colour, name in legend:
        parts.append(f'<rect x="{x}" y="4" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14}" y="13" font-size="11" fill="{TEXT}">'
                     f'{escape(name)}</text>')
        x += 20 + 7 * len(name)
    y = 24
    for label, value, other in rows:
        parts.append(f'<text x="{left}" y="{y + 11}" font-size="11" fill="{TEXT}">'
                     f'{escape(label)}</text>')
        y += 15
        for colour, v in ((BLUE, value),) + (((GREY, other),) if compare else ()):
            length = 0 if v is None else float(v) * scale
            if v is not None and length < 1:
                length = 1
            parts.append(f'<rect x="{left}" y="{y}" width="{_num(length)}" height="{bar_h}" '
                         f'fill="{colour}"/>')
            parts.append(f'<text x="{_num(left + length + 4)}" y="{y + bar_h - 2}" '
                         f'font-size="10.5" fill="{TEXT}">{escape(_pct(v))}</text>')
            y += bar_h + 2
        y += gap + 6 - 2
        text = f"{label}: {_pct(value)}"
        if compare:
            text += f" ({series[1]}: {_pct(other)})"
        desc_parts.append(text)
    parts.insert(2, f'<desc id="{chart_id}-d">{escape("; ".join(desc_parts))}.</desc>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text part went through escape()


def column_chart(points: list[tuple[str, Decimal | None]], *, title: str,
                 chart_id: str = "trend", unit: str = "%") -> Markup:
    """Vertical columns over time (e.g. the share of students reached by the end of each month)."""
    width, height, left, bottom, top_pad = 360, 180, 4, 22, 18
    count = max(len(points), 1)
    slot = (width - left * 2) / count
    values = [float(v) for _l, v in points if v is not None]
    # Scale to the largest value (with room for its label), so small shares stay visible.
    top = max(values + [0.1]) * 1.15
    usable = height - bottom - top_pad
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" '
        f'class="report-chart" font-family="DejaVu Sans, Arial, sans-serif">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
    ]
    desc = []
    baseline_y = height - bottom
    parts.append(f'<line x1="{left}" y1="{baseline_y}" x2="{width - left}" y2="{baseline_y}" '
                 f'stroke="{GREY}" stroke-width="1"/>')
    for index, (label, value) in enumerate(points):
        x = left + index * slot
        h = 0 if value is None else float(value) / top * usable
        shown = _pct(value) if unit == "%" else ("—" if value is None else f"{value}")
        parts.append(f'<rect x="{_num(x + slot * 0.15)}" y="{_num(baseline_y - h)}" '
                     f'width="{_num(slot * 0.7)}" height="{_num(h)}" fill="{BLUE}"/>')
        short = shown.replace(" %", "").replace(",0", "")
        parts.append(f'<text x="{_num(x + slot / 2)}" y="{_num(baseline_y - h - 4)}" '
                     f'font-size="9" text-anchor="middle" fill="{TEXT}">{escape(short)}</text>')
        parts.append(f'<text x="{_num(x + slot / 2)}" y="{height - 7}" font-size="9.5" '
                     f'text-anchor="middle" fill="{TEXT}">{escape(label[:3])}</text>')
        desc.append(f"{label}: {shown}")
    parts.insert(2, f'<desc id="{chart_id}-d">{escape("; ".join(desc))}.</desc>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text part went through escape()
