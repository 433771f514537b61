"""The Cyrillic font embedded in every PDF: DejaVu Sans, vendored from the npm package
``dejavu-fonts-ttf`` 2.37.3 into ``webapp/static/vendor`` (no system fonts needed; the web pages
serve the same files)."""

from __future__ import annotations

from pathlib import Path

FONT_DIR = (Path(__file__).resolve().parent.parent / "webapp" / "static" / "vendor"
            / "dejavu-fonts-2.37.3")
REGULAR = FONT_DIR / "DejaVuSans.ttf"
BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"
FAMILY = "DejaVu"


def add_fonts(pdf) -> str:
    """Register the family on an ``fpdf.FPDF`` and return its name."""
    pdf.add_font(FAMILY, "", str(REGULAR))
    pdf.add_font(FAMILY, "B", str(BOLD))
    return FAMILY
