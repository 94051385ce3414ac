"""The daily page's day rows, found by what they are, wherever and however the page shows them.

GOV.UK has sent the table as HTML, as markdown text in a paragraph (a stray `# ` before each
date, a `|–|–|` separator line, the next heading run into the last row), and as a mix (the
header row as markdown text above an HTML table). So rows are recognised by content: a row with
a date in it is a day's row; a row naming the columns is a header; anything else (a separator,
a heading, prose) is not a data row and is ignored, never an error. A day's row is placed by the
header that governs it (its own table's, else the first on the page) or, when the page shows
none, by the page's usual column order. Only a day's row that cannot be read (a count missing or
not a number, a date that is not one) is left out, with a sentence naming it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from forecasting.errors import BadInput
from forecasting.sources.cells import (
    SB01_HEADERS,
    CellError,
    blank,
    column_positions,
    missing_columns,
    normalise_header,
    required_columns,
    to_count,
    to_date,
)

__all__ = ["DayRow", "Reading", "read_day_rows"]

TEXT = -1  # the container of every markdown line (tables are numbered from 0)
USUAL_HEADER = ["Date", "Migrants arrived", "Boats arrived",
                "Boats involved in uncontrolled landings", "Notes"]  # fmt: skip
HEADER_ABOVE = (
    "Read the column headings from the text line above the table (the page showed them as "
    "literal text, not as the table's first row)."
)
MARKDOWN = (
    "Read the table from markdown text ('| Date | Migrants arrived | ...' lines): the page "
    "did not show it as an HTML table."
)
NO_HEADER = (
    "The page shows no column headings; read the columns in its usual order "
    f"({', '.join(USUAL_HEADER)})."
)
# Markup left around a cell's text: markdown heading marks, emphasis, code, quote marks.
_EDGE_MARKUP = re.compile(r"^[\s#*_`~>]+|[\s#*_`~]+$")
# What a date cell looks like, readable or not: 28 March 2026, 28 Mar. 2026, 2026-03-28, 28/03/2026.
_DATE_LIKE = re.compile(
    r"\b\d{1,2}(?:st|nd|rd|th)?\s+[A-Za-z]{3,}\.?,?\s+\d{4}\b|\b\d{4}-\d{2}-\d{2}\b"
    r"|\b\d{1,2}/\d{1,2}/\d{4}\b"
)
_KNOWN_HEADERS = sorted(SB01_HEADERS, key=len, reverse=True)


@dataclass
class DayRow:
    number: int  # 1-based, as a person counts the page's day rows
    date: date
    figures: dict[str, Any]  # migrants_arrived, boats_arrived, boats_uncontrolled, note


@dataclass(frozen=True)
class Reading:
    """The day rows that could be read, and a sentence for how and for each row left out."""

    rows: list[DayRow]
    notes: list[str]
    left_out: int


@dataclass(frozen=True)
class _Line:
    cells: list[str]  # markup stripped
    container: int  # TEXT, or the table's index on the page


@dataclass(frozen=True)
class _Layout:
    positions: dict[str, int]
    width: int
    note: str | None  # how the columns were placed, when not by the table's own header


def clean(cell: str) -> str:
    """A cell's text without the stray markup around it (`# 28 March 2026` -> `28 March 2026`)."""
    return _EDGE_MARKUP.sub("", " ".join(cell.replace("\xa0", " ").split()))


def _pipe_cells(line: str) -> list[str] | None:
    """A markdown table line's cells, or None when the line is not one.

    A heading run into the line after its last pipe (`| |###For users ...`) is not a cell."""
    text = line.strip()
    if text.count("|") < 2 and not (text.startswith("|") and len(text) > 1):
        return None
    if text.startswith("|"):
        text = text[1:]
    tail = text.rsplit("|", 1)
    if len(tail) == 2 and tail[1].lstrip().startswith("#"):
        text = tail[0] + "|"
    if text.endswith("|"):
        text = text[:-1]
    return text.split("|")


def _plain_heading(line: str) -> list[str] | None:
    """A heading line written without separators ("Date Migrants arrived Boats arrived ...")."""
    text, cells = normalise_header(clean(line)), []
    while text:
        known = next((h for h in _KNOWN_HEADERS if text == h or text.startswith(h + " ")), None)
        if known is None:
            return None
        cells.append(known)
        text = text[len(known) :].strip()
    return cells if _is_header(cells) else None


def _date_like(cell: str) -> bool:
    return bool(_DATE_LIKE.search(cell))


def _is_header(cells: list[str]) -> bool:
    found = column_positions(cells, SB01_HEADERS)
    return "date" in found and "migrants_arrived" in found


def _names_date(cells: list[str]) -> bool:
    """A heading row naming a Date column (perhaps not the figures' other columns)."""
    return any(normalise_header(c) == "date" for c in cells) and not any(map(_date_like, cells))


def _split_at_dates(cells: list[str]) -> list[list[str]]:
    """A text line carrying several rows (joined by a lost line break), one row per date."""
    starts = [i for i, c in enumerate(cells) if _date_like(c)]
    if len(starts) < 2:
        return [cells]
    bounds = ([0] if starts[0] else []) + starts + [len(cells)]
    return [cells[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def _lines(blocks: list[tuple[str, Any]]) -> list[_Line]:
    """Every row-shaped thing on the page, in page order: table rows and markdown lines."""
    found: list[_Line] = []
    tables = 0
    for kind, value in blocks:
        if kind == "line":
            cells = _pipe_cells(value)
            if cells is not None:
                found += [_Line([clean(c) for c in row], TEXT) for row in _split_at_dates(cells)]
            elif (heading := _plain_heading(value)) is not None:
                found.append(_Line(heading, TEXT))
            continue
        for row in value:
            filled = [c for c in row if not blank(c)]
            inner = _pipe_cells(filled[0]) if len(filled) == 1 else None
            if inner is not None:  # a whole markdown line in one cell
                found += [_Line([clean(c) for c in r], TEXT) for r in _split_at_dates(inner)]
            else:
                found.append(_Line([clean(c) for c in row], tables))
        tables += 1
    return found


def _layout(header: list[str], note: str | None, name: str) -> _Layout:
    positions = column_positions(header, SB01_HEADERS)
    missing = missing_columns(positions, SB01_HEADERS)
    if missing:
        raise BadInput(name, f"table is {missing}")
    width = len(header)
    while width and blank(header[width - 1]):
        width -= 1
    return _Layout(positions, max(width, max(positions.values()) + 1), note)


def _layouts(lines: list[_Line], name: str) -> dict[int, _Layout]:
    """Each container's layout: its own header, else the page's first, else the usual order."""
    headers = [line for line in lines if _is_header(line.cells)]
    if not headers and any(_names_date(line.cells) for line in lines):
        raise BadInput(
            name, "has no table with 'Date' and 'Migrants arrived' columns (the page changed?)"
        )
    layouts: dict[int, _Layout] = {}
    for container in dict.fromkeys(line.container for line in lines):
        own = next((h for h in headers if h.container == container), None)
        if own is not None:
            layouts[container] = _layout(own.cells, None, name)
        elif headers:
            note = HEADER_ABOVE if headers[0].container == TEXT else None
            layouts[container] = _layout(headers[0].cells, note, name)
        else:
            layouts[container] = _layout(USUAL_HEADER, NO_HEADER, name)
    return layouts


def _aligned(cells: list[str], layout: _Layout) -> list[str]:
    """The row with blank cells before its date dropped (`|| 28 March 2026 | ...`)."""
    at = layout.positions["date"]
    if at < len(cells) and _date_like(cells[at]):
        return cells
    first = next(i for i, c in enumerate(cells) if _date_like(c))
    if first > at and all(blank(c) for c in cells[at:first]):
        return cells[:at] + cells[first:]
    return cells


def _read(cells: list[str], layout: _Layout, number: int) -> DayRow:
    """One day's row; `CellError` (naming the row and its date) when it cannot be read."""
    row = _aligned(cells, layout)
    date_text = next((c for c in row if _date_like(c)), "")
    where = f"table row {number} ({date_text[:40]})"
    filled = len(row)
    while filled and blank(row[filled - 1]):
        filled -= 1
    needed = max(layout.positions[c] for c in required_columns(SB01_HEADERS)) + 1
    if not needed <= filled <= layout.width:
        raise CellError(f"{where} has {len(row)} cells where the header has {layout.width}")
    row = row + [""] * (layout.width - len(row))
    day = to_date(row[layout.positions["date"]], where)
    figures: dict[str, Any] = {
        column: to_count(row[layout.positions[column]], column, where)
        for column in required_columns(SB01_HEADERS)[1:]
    }
    note = row[layout.positions["note"]].strip() if "note" in layout.positions else ""
    figures["note"] = note or None
    return DayRow(number, day, figures)


def read_day_rows(blocks: list[tuple[str, Any]], name: str) -> Reading:
    """The page's day rows that can be read, however shown; `BadInput` only for a page whose
    header names other columns (it changed shape)."""
    lines = _lines(blocks)
    layouts = _layouts(lines, name)
    rows: list[DayRow] = []
    left_out: list[str] = []
    used: dict[int, None] = {}  # the containers that gave day rows, in page order
    for line in lines:
        if _is_header(line.cells) or not any(map(_date_like, line.cells)):
            continue  # not a day's row: a header, a separator, a heading, prose
        used[line.container] = None
        number = len(rows) + len(left_out) + 1
        try:
            rows.append(_read(line.cells, layouts[line.container], number))
        except CellError as exc:
            left_out.append(f"Left out a row that cannot be read: {exc}.")
    notes = [MARKDOWN] if TEXT in used else []
    notes += list(dict.fromkeys(n for c in used if (n := layouts[c].note) is not None))
    return Reading(rows, notes + left_out, len(left_out))
