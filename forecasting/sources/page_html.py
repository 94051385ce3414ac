"""The daily page's HTML as a sequence of blocks: lines of text and tables, in page order.

Keeping text lines beside the tables lets the page parser find a table GOV.UK sent as markdown
text, or a header row shown as text above its table. Only text is kept: tags (a `<script>` in a
cell included) are dropped, so nothing from the page can ever become markup in a report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from forecasting.errors import BadInput, one_line

__all__ = ["Page", "read_page"]

# Tags that end a line of text outside tables (as a browser would break it).
_BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "footer", "h1",
    "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre",
    "section", "ul",
}  # fmt: skip
# Their text outside tables is never page content (inside a cell, text is kept as text).
_SKIPPED_TAGS = {"script", "style", "template", "noscript"}


@dataclass
class Page:
    """What the page says: its govuk:updated-at and its blocks of text and tables."""

    updated_at: str | None = None
    # ("line", text) outside tables, or ("table", rows of cell texts)
    blocks: list[tuple[str, Any]] = field(default_factory=list)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._tables: list[list[list[str]]] = []  # open tables, innermost last
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._line: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta":
            attributes = dict(attrs)
            if attributes.get("name") == "govuk:updated-at" and self.page.updated_at is None:
                self.page.updated_at = attributes.get("content") or ""
        elif tag in _SKIPPED_TAGS and self._cell is None:
            self._skipping += 1
        elif tag == "table":
            self._close_cell()
            self._end_line()
            self._tables.append([])
            self.page.blocks.append(("table", self._tables[-1]))
        elif tag == "tr" and self._tables:
            self._close_cell()
            self._tables[-1].append([])
        elif tag in ("td", "th") and self._tables:
            self._close_cell()
            if not self._tables[-1]:
                self._tables[-1].append([])
            self._row = self._tables[-1][-1]
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")
        elif tag in _BLOCK_TAGS and not self._tables:
            self._end_line()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS and self._cell is None:
            self._skipping = max(0, self._skipping - 1)
        elif tag in ("td", "th", "tr"):
            self._close_cell()
        elif tag == "table" and self._tables:
            self._close_cell()
            self._tables.pop()
        elif tag in _BLOCK_TAGS and not self._tables:
            self._end_line()

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        elif not self._tables and not self._skipping:
            first, *rest = data.split("\n")
            self._line.append(first)
            for part in rest:
                self._end_line()
                self._line.append(part)

    def close(self) -> None:
        super().close()
        self._close_cell()
        self._end_line()

    def _close_cell(self) -> None:
        if self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
        self._cell = None
        self._row = None

    def _end_line(self) -> None:
        text = " ".join("".join(self._line).split())
        self._line = []
        if text:
            self.page.blocks.append(("line", text))


def read_page(html: bytes, name: str) -> Page:
    """The page's blocks; `BadInput` if the HTML cannot be read at all."""
    reader = _Reader()
    try:
        reader.feed(html.decode("utf-8", errors="replace"))
        reader.close()
    except Exception as exc:  # html.parser rarely raises; never let it escape as non-BadInput
        raise BadInput(name, f"could not be read as HTML ({one_line(exc)[:120]})") from None
    return reader.page
