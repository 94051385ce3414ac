"""Headers and cells as the Home Office writes them, read one way for the ODS and the page alike.

Both publications carry the same table (Date, Migrants arrived, Boats arrived, ...); a header or
a cell means the same wherever it comes from, so the rules for reading them live here once. A
cell that cannot be read raises `CellError` with the problem in words; the caller adds the file
name (and decides whether one bad cell sinks the whole publication).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

__all__ = [
    "MAX_COUNT",
    "DAILY_COLUMNS",
    "WEEKLY_COLUMNS",
    "SB01_HEADERS",
    "SB02_HEADERS",
    "MAY_BE_MISSING",
    "CellError",
    "normalise_header",
    "column_positions",
    "required_columns",
    "missing_columns",
    "blank",
    "to_date",
    "to_count",
]

# The busiest day on record is under 1,500 arrivals; anything near the store's INTEGER limit is
# a corrupt cell, not a count.
MAX_COUNT = 1_000_000

DAILY_COLUMNS = [
    "date",
    "migrants_arrived",
    "boats_arrived",
    "boats_uncontrolled",
    "revised",
    "note",
]
WEEKLY_COLUMNS = [
    "week_ending",
    "migrants_arrived",
    "boats_arrived",
    "boats_uncontrolled",
    "migrants_prevented",
    "events_prevented",
]

# Published header (normalised) -> store column. Several spellings seen on GOV.UK map to one name.
SB01_HEADERS = {
    "date": "date",
    "migrants arrived": "migrants_arrived",
    "boats arrived": "boats_arrived",
    "boats arrived - involved in uncontrolled landings": "boats_uncontrolled",
    "boats involved in uncontrolled landings": "boats_uncontrolled",
    "notes": "note",
}
SB02_HEADERS = {
    "week ending": "week_ending",
    "migrants arrived": "migrants_arrived",
    "boats arrived": "boats_arrived",
    "boats arrived - involved in uncontrolled landings": "boats_uncontrolled",
    "boats involved in uncontrolled landings": "boats_uncontrolled",
    "migrants prevented": "migrants_prevented",
    "events prevented": "events_prevented",
    "notes": "note",
}
# Counts that the Home Office marks "-" (not available) in some periods; NULL in the store.
MAY_BE_MISSING = {"boats_uncontrolled", "migrants_prevented", "events_prevented"}
NOT_AVAILABLE = {"", "-", "\u2013", "\u2014", ".."}
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d %B %Y", "%d %b %Y", "%A %d %B %Y")
# A count written as text: digits, an optional sign (to name a negative count) and decimals (to
# name a fractional one). Anything else ("1e3", "0x10", "1_000", "nan") is not a count.
COUNT_TEXT = re.compile(r"^[+-]?\d+(?:\.\d+)?$")


class CellError(ValueError):
    """One cell (or row) that cannot be read; `str()` is the problem, without the file name."""


def normalise_header(text: Any) -> str:
    """Trim, lower-case and unify dashes and spaces, so headers match however they are typed."""
    text = str(text or "").replace("\u2013", "-").replace("\u2014", "-").replace("\xa0", " ")
    text = re.sub(r"\s*-\s*", " - ", text.strip().lower())
    return re.sub(r"\s+", " ", text)


def column_positions(row: Sequence[Any], headers: Mapping[str, str]) -> dict[str, int]:
    """Store column -> index in `row`, for the cells that are known headers (first one wins)."""
    positions: dict[str, int] = {}
    for index, cell in enumerate(row):
        column = headers.get(normalise_header(cell))
        if column and column not in positions:
            positions[column] = index
    return positions


def required_columns(headers: Mapping[str, str]) -> list[str]:
    """The columns a table must have: all but the notes, key first."""
    return [c for c in dict.fromkeys(headers.values()) if c != "note"]


def missing_columns(positions: Mapping[str, int], headers: Mapping[str, str]) -> str | None:
    """The missing required headers as the problem text, or None when all are there."""
    missing = [c for c in required_columns(headers) if c not in positions]
    if not missing:
        return None
    wanted = [next(h for h, col in headers.items() if col == c) for c in missing]
    return f"missing the column(s) {', '.join(repr(w) for w in wanted)}"


def blank(value: Any) -> bool:
    """An empty cell: None, or text with nothing but spaces."""
    return value is None or (isinstance(value, str) and not value.replace("\xa0", " ").strip())


def _text(value: str) -> str:
    return " ".join(value.replace("\xa0", " ").split())


def to_date(value: Any, where: str) -> date:
    """A date cell (a spreadsheet date, or text such as "21 February 2026") as a date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(str(value))
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise CellError(f"{where} has {text[:40]!r} where a date should be")


def to_count(value: Any, column: str, where: str) -> int | None:
    """A count cell as an int; None for "-" where the Home Office marks a count not available."""
    if isinstance(value, str) or value is None:
        text = _text(value or "").replace(",", "")
        if text in NOT_AVAILABLE and column in MAY_BE_MISSING:
            return None
        if not COUNT_TEXT.match(text):
            raise CellError(f"{where} has {text[:40]!r} in {column}, not a count")
        value = float(text)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CellError(f"{where} has {value!r} in {column}, not a count")
    if value != value or value in (float("inf"), float("-inf")):
        raise CellError(f"{where} has no number in {column}")
    if value < 0:
        raise CellError(f"{where} has a negative count ({value:g}) in {column}")
    if value > MAX_COUNT:
        raise CellError(f"{where} has {value:g} in {column}, over the plausible {MAX_COUNT:,}")
    if value != int(value):
        raise CellError(f"{where} has a fractional count ({value:g}) in {column}")
    return int(value)
