"""The weekly ODS "time series" release, from bytes to a checked `Release`.

A publication is either the weekly ODS release (sheets SB_01 daily and SB_02 weekly) or the
daily "last 7 days" page (`forecasting.sources.page`); both become a `Release` in the store's
column names. The container is checked with bounded reads first (`archive`), then the sheets are
read by header name (`cells`), then the figures must be possible (`checks`). Anything that
fails raises `BadInput`, one line naming the file and the problem.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, cast

import pandas as pd

from forecasting.errors import BadInput
from forecasting.sources.archive import check_ods_container, first_line, read_capped
from forecasting.sources.cells import (
    SB01_HEADERS,
    SB02_HEADERS,
    CellError,
    blank,
    column_positions,
    missing_columns,
    normalise_header,
    required_columns,
    to_count,
    to_date,
)
from forecasting.sources.checks import (
    check_daily,
    check_publication_date,
    check_weekly,
    check_weekly_against_daily,
)

__all__ = [
    "Release",
    "FIRST_DAY",
    "MAX_ODS_BYTES",
    "read_release",
    "parse_release_bytes",
    "released_on_from_name",
    "release_version_from_name",
]

FIRST_DAY = date(2018, 1, 1)
# A real release is about 0.3 MB; this cap leaves room to grow for decades.
MAX_ODS_BYTES = 20 * 1024 * 1024
RELEASE_NAME = re.compile(
    r"(?P<day>\d{1,2})_(?P<month>[A-Za-z]+)_(?P<year>\d{4})_Small_boats_-_time_series"
    r"(?:_v(?P<version>\d{1,3}))?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Release:
    """One publication as parsed: what the store keeps of it, before it is stored."""

    kind: str  # "weekly_release" (the ODS) or "last_7_days" (the HTML page)
    file_name: str
    sha256: str
    daily: pd.DataFrame  # DAILY_COLUMNS, one row per day, sorted
    weekly: pd.DataFrame | None = None  # WEEKLY_COLUMNS for the ODS, None for the page
    released_on: date | None = None  # from the file name ("27_February_2026_...")
    published_at: datetime | None = None  # the page's govuk:updated-at
    # where it came from (url, discovered_via, etag, ...) and "repairs": what the parser had to
    # correct or leave out, one sentence each (empty when the publication was read as it is)
    provenance: dict[str, Any] = field(default_factory=dict)
    version: int = 1  # a reissue's number ("..._v2.ods" is 2), so it can supersede its original

    @property
    def data_from(self) -> date:
        return cast(date, self.daily["date"].iloc[0])

    @property
    def data_through(self) -> date:
        return cast(date, self.daily["date"].iloc[-1])

    @property
    def repairs(self) -> list[str]:
        return list(self.provenance.get("repairs") or [])


def released_on_from_name(name: str) -> date | None:
    """The release date in a file name such as 27_February_2026_Small_boats_-_time_series."""
    match = RELEASE_NAME.search(name)
    if not match:
        return None
    try:
        return datetime.strptime(
            f"{match['day']} {match['month'].title()} {match['year']}", "%d %B %Y"
        ).date()
    except ValueError:
        return None


def release_version_from_name(name: str) -> int:
    """The reissue number in a release's file name (..._v2.ods is 2); 1 when there is none."""
    match = RELEASE_NAME.search(name)
    return int(match["version"]) if match and match["version"] else 1


def read_release(path: str | Path, *, today: date | None = None) -> Release:
    """Read and check a weekly ODS release from disk."""
    path = Path(path)
    content = read_capped(path, MAX_ODS_BYTES, "a release")
    return parse_release_bytes(content, path.name, today=today)


def parse_release_bytes(
    content: bytes, file_name: str, *, today: date | None = None, from_web: bool = False
) -> Release:
    """Parse and check the bytes of a weekly ODS release; the file name gives its release date.

    `from_web` words a refusal for what a server sent ("sent an HTML page where ...").
    """
    if len(content) > MAX_ODS_BYTES:
        raise BadInput(file_name, f"is over the {MAX_ODS_BYTES:,}-byte limit for a release")
    check_ods_container(content, file_name, from_web=from_web)
    released_on = released_on_from_name(file_name)
    check_publication_date(released_on, file_name, what="is named for", today=today)
    sheets = _read_sheets(content, file_name)
    daily = _parse_table(sheets, "SB_01", SB01_HEADERS, file_name)
    weekly = _parse_table(sheets, "SB_02", SB02_HEADERS, file_name)
    daily = check_daily(
        daily, file_name, today=today, starts_on=FIRST_DAY, published_on=released_on
    )
    weekly = check_weekly(weekly, file_name, today=today, published_on=released_on)
    check_weekly_against_daily(weekly, daily, file_name)
    return Release(
        kind="weekly_release",
        file_name=file_name,
        sha256=hashlib.sha256(content).hexdigest(),
        daily=daily,
        weekly=weekly,
        released_on=released_on,
        provenance={"repairs": []},
        version=release_version_from_name(file_name),
    )


def _read_sheets(content: bytes, name: str) -> dict[str, list[list[Any]]]:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
        wanted = {"sb_01", "sb_02"}
        return {
            sheet: workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
            for sheet in workbook.sheet_names
            if sheet.strip().lower() in wanted
        }
    except BadInput:
        raise
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # calamine's errors, and a Rust panic (a BaseException)
        raise BadInput(name, f"could not be read as a spreadsheet ({first_line(exc)})") from None


def _header_row(rows: list[list[Any]], key_header: str) -> int | None:
    """The header row: the first of 50 whose first cell is the key header, else any cell."""
    checks: tuple[Callable[[list[Any]], bool], ...] = (
        lambda row: bool(row) and normalise_header(row[0]) == key_header,
        lambda row: any(normalise_header(cell) == key_header for cell in row),
    )
    for matches in checks:
        found = next((i for i, row in enumerate(rows[:50]) if matches(row)), None)
        if found is not None:
            return found
    return None


def _parse_table(
    sheets: dict[str, list[list[Any]]], sheet: str, headers: dict[str, str], name: str
) -> pd.DataFrame:
    rows = next((r for s, r in sheets.items() if s.strip().lower() == sheet.lower()), None)
    if rows is None:
        raise BadInput(name, f"has no sheet {sheet}")
    required = required_columns(headers)
    key = required[0]
    key_header = next(h for h, col in headers.items() if col == key)
    header_at = _header_row(rows, key_header)
    if header_at is None:
        raise BadInput(
            name, f"sheet {sheet} has no header row with a '{key_header.title()}' column"
        )
    positions = column_positions(rows[header_at], headers)
    missing = missing_columns(positions, headers)
    if missing:
        raise BadInput(name, f"sheet {sheet} is {missing}")
    records = []
    for number, row in enumerate(rows[header_at + 1 :], start=header_at + 2):
        cells = {col: (row[i] if i < len(row) else "") for col, i in positions.items()}
        if all(blank(v) for v in cells.values()):
            continue
        where = f"sheet {sheet} row {number}"
        if blank(cells[key]):
            raise BadInput(name, f"{where} has figures but no date")
        try:
            record: dict[str, Any] = {key: to_date(cells[key], where)}
            for col in required[1:]:
                record[col] = to_count(cells[col], col, where)
        except CellError as exc:
            raise BadInput(name, str(exc)) from None
        note = cells.get("note", "")
        record["note"] = None if blank(note) else str(note).strip()
        records.append(record)
    if not records:
        raise BadInput(name, f"sheet {sheet} has no data rows")
    return pd.DataFrame.from_records(records)
