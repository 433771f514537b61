"""Reading a page's table as a person does: the cells' text, row by row."""

from __future__ import annotations

from html.parser import HTMLParser


class _TableReader(HTMLParser):
    def __init__(self, table_class: str):
        super().__init__()
        self.table_class = table_class
        self.depth = 0  # >0 inside the wanted table's <tbody>
        self.in_table = False
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and self.table_class in (attrs.get("class") or "").split():
            self.in_table = True
        elif self.in_table and tag == "tbody":
            self.depth = 1
        elif self.depth and tag == "tr":
            self.rows.append([])
        elif self.depth and tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if self.in_table and tag == "table":
            self.in_table = False
            self.depth = 0
        elif self.cell is not None and tag in ("td", "th"):
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def table_rows(page: str, table_class: str) -> list[tuple[str, ...]]:
    """The body rows of the tables with ``table_class``, each as its cells' text."""
    reader = _TableReader(table_class)
    reader.feed(page)
    return [tuple(row) for row in reader.rows]
