"""Splitting a long list into pages, and what a page past the end says."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request

#: Pages further than this are refused before any query (the number still comes from a URL).
MAX_PAGE = 100_000


def page_arg() -> int:
    """The ``?page=`` of the request: 1 when missing or not a positive number."""
    page = request.args.get("page", 1, type=int) or 1
    return min(max(page, 1), MAX_PAGE)


@dataclass(frozen=True)
class Paging:
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max((self.total + self.per_page - 1) // self.per_page, 1)

    @property
    def past_end(self) -> bool:
        """A page number beyond the last page (an old link, a typed URL)."""
        return self.page > self.pages

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def first_shown(self) -> int:
        return self.offset + 1

    @property
    def last_shown(self) -> int:
        return min(self.offset + self.per_page, self.total)

    def slice(self, items: list) -> list:
        return [] if self.past_end else items[self.offset:self.offset + self.per_page]
