"""The quarterly "Irregular migration to the UK" detailed dataset (table Irr_D01), checked.

Detected irregular arrivals per quarter by method of entry, nationality, region, sex and age
group: the official, final record beside the weekly provisional series. The table is found by
its content, not its position: the sheet named for Irr_D01, the header row located by its
column names (any number of title rows above it; extra columns such as notes are ignored).
Labels are kept as published and mapped to one vocabulary (`quarterly_labels`). Anything that
cannot be true raises `BadInput`: one line naming the file, the sheet and the row.
"""

from __future__ import annotations

import hashlib
import re
from calendar import monthrange
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from forecasting.errors import BadInput
from forecasting.sources.archive import read_capped
from forecasting.sources.cells import CellError, blank, normalise_header, to_count
from forecasting.sources.quarterly_labels import age_group, plain_label, sex
from forecasting.sources.workbook import (
    check_workbook_container,
    read_workbook_sheets,
    sheet_names,
)

__all__ = [
    "QuarterlyRelease",
    "MAX_WORKBOOK_BYTES",
    "QUARTERLY_HEADERS",
    "VALUE_COLUMNS",
    "quarter_end",
    "read_quarterly",
    "parse_quarterly_bytes",
    "is_quarterly_workbook",
]

# A real release is about 0.4 MB; room to grow for decades.
MAX_WORKBOOK_BYTES = 20 * 1024 * 1024
TABLE_SHEET = re.compile(r"irr[\s_-]*d0?1\b", re.IGNORECASE)
# header as typed (normalised) -> column
QUARTERLY_HEADERS = {
    "year": "year",
    "quarter": "quarter",
    "method of entry": "method_of_entry",
    "nationality": "nationality",
    "region": "region",
    "sex": "sex",
    "age group": "age_group",
    "number of detections": "detections",
}
VALUE_COLUMNS = [
    "year", "quarter", "method_of_entry", "nationality", "region", "sex", "age_group",
    "nationality_as_published", "region_as_published", "sex_as_published",
    "age_group_as_published", "detections", "sheet_row",
]  # fmt: skip
_KEY = ["year", "quarter", "method_of_entry", "nationality_as_published",
        "region_as_published", "sex_as_published", "age_group_as_published"]  # fmt: skip
QUARTER_TEXT = re.compile(r"^\s*(\d{4})\s*Q\s*([1-4])\s*$", re.IGNORECASE)
PUBLISHED = re.compile(r"published:?\s+(\d{4}-\d{2}-\d{2}|\d{1,2}\s+[A-Za-z]+\s+\d{4})", re.I)


@dataclass(frozen=True)
class QuarterlyRelease:
    """One quarterly release as parsed, before it is stored."""

    file_name: str
    sha256: str
    sheet: str
    values: pd.DataFrame  # VALUE_COLUMNS, one row per published row
    published_on: date | None  # the vintage; None when neither GOV.UK nor the cover says
    vintage_source: str  # "govuk_metadata", "cover_sheet" or "unknown"
    provenance: dict[str, Any] = field(default_factory=dict)
    kind: str = "quarterly_detailed"

    @property
    def data_from(self) -> date:
        first = self.values.sort_values(["year", "quarter"]).iloc[0]
        return date(int(first["year"]), 3 * int(first["quarter"]) - 2, 1)

    @property
    def data_through(self) -> date:
        last = self.values.sort_values(["year", "quarter"]).iloc[-1]
        return quarter_end(int(last["year"]), int(last["quarter"]))


def quarter_end(year: int, quarter: int) -> date:
    """The last day of a quarter (2022 Q3 -> 30 September 2022)."""
    month = 3 * quarter
    return date(year, month, monthrange(year, month)[1])


def read_quarterly(path: str | Path, *, today: date | None = None) -> QuarterlyRelease:
    """Read and check a quarterly workbook from disk (xlsx or ODS)."""
    path = Path(path)
    content = read_capped(path, MAX_WORKBOOK_BYTES, "a quarterly workbook")
    return parse_quarterly_bytes(content, path.name, today=today)


def is_quarterly_workbook(path: Path) -> bool:
    """True for an xlsx file, or an ODS whose sheet names include Irr_D01 (bounded check)."""
    if path.suffix.lower() == ".xlsx":
        return True
    if path.suffix.lower() != ".ods":
        return False
    try:
        content = read_capped(path, MAX_WORKBOOK_BYTES, "a workbook")
        check_workbook_container(content, path.name)
        names = sheet_names(content, path.name)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # noqa: BLE001 - the weekly reader gives the proper refusal
        return False
    return any(TABLE_SHEET.search(name) for name in names)


def parse_quarterly_bytes(
    content: bytes,
    file_name: str,
    *,
    today: date | None = None,
    from_web: bool = False,
    published_on: date | None = None,
) -> QuarterlyRelease:
    """Parse and check a quarterly workbook's bytes. `published_on`: GOV.UK's date, when known."""
    if len(content) > MAX_WORKBOOK_BYTES:
        raise BadInput(file_name, f"is over the {MAX_WORKBOOK_BYTES:,}-byte limit for a workbook")
    check_workbook_container(content, file_name, from_web=from_web)
    sheets = read_workbook_sheets(content, file_name)
    sheet = next((s for s in sheets if TABLE_SHEET.search(s)), None)
    if sheet is None:
        listed = ", ".join(repr(s) for s in sheets) or "none"
        raise BadInput(file_name, f"has no Irr_D01 sheet (the detailed dataset); sheets: {listed}")
    from forecasting.calendar import london_today

    values = _read_table(sheets[sheet], sheet, file_name, today or london_today())
    vintage_source = "govuk_metadata" if published_on else "unknown"
    if published_on is None:
        published_on = _cover_date(sheets, sheet)
        vintage_source = "cover_sheet" if published_on else "unknown"
    return QuarterlyRelease(
        file_name=file_name,
        sha256=hashlib.sha256(content).hexdigest(),
        sheet=sheet,
        values=values,
        published_on=published_on,
        vintage_source=vintage_source,
        provenance={"discovered_via": "file"},
    )


def _cover_date(sheets: dict[str, list[list[Any]]], table: str) -> date | None:
    """`Published YYYY-MM-DD` (or "Published 29 February 2024") anywhere on the other sheets."""
    for name, rows in sheets.items():
        if name == table:
            continue
        for row in rows[:200]:
            for cell in row:
                match = PUBLISHED.search(str(cell or ""))
                if match:
                    return _as_date(match[1])
    return None


def _as_date(text: str) -> date | None:
    for fmt in ("%Y-%m-%d", "%d %B %Y"):
        try:
            return datetime.strptime(" ".join(text.split()), fmt).date()
        except ValueError:
            continue
    return None


def _header_row(rows: list[list[Any]], sheet: str, name: str) -> tuple[int, dict[str, int]]:
    """The first row (of 50) holding the table's column names, and where each column is."""
    best: tuple[int, dict[str, int]] | None = None
    for index, row in enumerate(rows[:50]):
        positions: dict[str, int] = {}
        for at, cell in enumerate(row):
            column = QUARTERLY_HEADERS.get(normalise_header(cell))
            if column and column not in positions:
                positions[column] = at
        if len(positions) == len(set(QUARTERLY_HEADERS.values())):
            return index, positions
        if len(positions) >= 3 and (best is None or len(positions) > len(best[1])):
            best = (index, positions)
    if best is None:
        raise BadInput(name, f"sheet {sheet!r} has no header row with the Irr_D01 column names")
    missing = [h for h, c in QUARTERLY_HEADERS.items() if c not in best[1]]
    raise BadInput(
        name,
        f"sheet {sheet!r} row {best[0] + 1}: the header lacks the column(s) "
        + ", ".join(repr(m.capitalize()) for m in missing),
    )


def _read_table(rows: list[list[Any]], sheet: str, name: str, today: date) -> pd.DataFrame:
    header_at, positions = _header_row(rows, sheet, name)
    records = []
    for number, row in enumerate(rows[header_at + 1 :], start=header_at + 2):
        cells = {col: (row[i] if i < len(row) else None) for col, i in positions.items()}
        if blank(cells["quarter"]) and blank(cells["detections"]):
            continue  # a blank row, or a footnote under the table
        try:
            records.append(_record(cells, f"sheet {sheet!r} row {number}", today) | {
                "sheet_row": number
            })  # fmt: skip
        except CellError as exc:
            raise BadInput(name, str(exc)) from None
    if not records:
        raise BadInput(name, f"sheet {sheet!r} has no data rows under its header")
    values = pd.DataFrame.from_records(records)
    _check_duplicates(values, sheet, name)
    return values.drop_duplicates(_KEY)[VALUE_COLUMNS].reset_index(drop=True)


def _record(cells: dict[str, Any], where: str, today: date) -> dict[str, Any]:
    match = QUARTER_TEXT.match(str(cells["quarter"] or ""))
    if not match:
        raise CellError(f"{where} has {str(cells['quarter'])[:40]!r} where a quarter (2023 Q4) is")
    year, quarter = int(match[1]), int(match[2])
    if not blank(cells["year"]):
        stated = to_count(cells["year"], "Year", where)
        if stated != year:
            raise CellError(f"{where} has year {stated} but quarter {year} Q{quarter}")
    if date(year, 3 * quarter - 2, 1) > today:
        raise CellError(f"{where} has the quarter {year} Q{quarter}, which has not begun yet")
    method = plain_label(cells["method_of_entry"])
    if method == "Not given":
        raise CellError(f"{where} has no method of entry")
    count = to_count(cells["detections"], "Number of detections", where)
    if count is None:  # to_count allows "-" only for columns that may be missing
        raise CellError(f"{where} has no number of detections")
    as_published = {k: _published(cells[k]) for k in ("nationality", "region", "sex", "age_group")}
    return {
        "year": year,
        "quarter": quarter,
        "method_of_entry": method,
        "nationality": plain_label(cells["nationality"]),
        "region": plain_label(cells["region"]),
        "sex": sex(cells["sex"]),
        "age_group": age_group(cells["age_group"]),
        **{f"{k}_as_published": v for k, v in as_published.items()},
        "detections": count,
    }


def _published(value: Any) -> str:
    return "" if blank(value) else str(value).strip()


def _check_duplicates(values: pd.DataFrame, sheet: str, name: str) -> None:
    """Two rows for the same quarter and breakdown with different counts cannot both be true."""
    counts = values.groupby(_KEY, dropna=False)["detections"].transform("nunique")
    clash = values[counts > 1]
    if clash.empty:
        return
    first = clash.iloc[0]
    same = clash[(clash[_KEY] == first[_KEY]).all(axis=1)]
    rows = " and ".join(str(r) for r in same["sheet_row"].head(2))
    raise BadInput(
        name,
        f"sheet {sheet!r} rows {rows} give {first['year']} Q{first['quarter']} "
        f"{first['method_of_entry']}, {first['nationality']}, {first['sex']}, "
        f"{first['age_group']} twice with different counts "
        f"({', '.join(str(c) for c in same['detections'].head(2))})",
    )
