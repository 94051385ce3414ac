"""Bad quarterly workbooks: one line naming the file, the sheet and the row; exit 2; nothing stored.

Each case writes its own file (from the real rows, changed in one way) and runs the real
`crossings ingest` in this interpreter against a store that already holds the latest weekly
release and a quarterly release; the store's every row is compared before and after.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cli_run import assert_one_line_refusal, snapshot
from quarterly_factory import (
    HEADER,
    SHEET,
    quarterly_path,
    small_rows,
    with_sheet_renamed,
    write_quarterly_ods,
)

from forecasting.calendar import london_today
from forecasting.operations.ingest import ingest_many

NAME = "irregular-migration-detailed-dataset-test.ods"


def _changed(row: int, column: int, value: Any) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        rows = small_rows()
        rows[row][column] = value
        return write_quarterly_ods(folder / NAME, rows)

    return make


def _future(folder: Path) -> Path:
    rows = small_rows()
    ahead = date(london_today().year + 1, 1, 1)
    rows[3][0], rows[3][1] = float(ahead.year), f"{ahead.year} Q1"
    return write_quarterly_ods(folder / NAME, rows)


def _conflicting(folder: Path) -> Path:
    rows = small_rows()
    twin = list(rows[5])
    twin[7] = float(twin[7]) + 10
    return write_quarterly_ods(folder / NAME, [*rows, twin])


def _renamed(folder: Path) -> Path:
    header = [*HEADER[:-1], "Detections"]
    return write_quarterly_ods(folder / NAME, small_rows(), header=header)


def _no_table(folder: Path) -> Path:
    target = folder / "irregular-migration-to-the-UK-detailed-dataset-no-table.xlsx"
    return with_sheet_renamed(quarterly_path("december-2023"), target, SHEET, "Data")


@dataclass(frozen=True)
class Case:
    id: str
    fragments: tuple[str, ...]  # all in the one line (file, sheet and row where there is one)
    make: Callable[[Path], Path]


# The table's first data row is row 3 (a title row, then the header), so rows[i] is row i + 3.
CASES = [
    Case("quarterly_no_table", ("has no Irr_D01 sheet", "'Cover'"), _no_table),
    Case(
        "quarterly_renamed_column",
        (f"sheet '{SHEET}' row 2", "lacks the column(s) 'Number of detections'"),
        _renamed,
    ),
    Case(
        "quarterly_non_numeric_count",
        (f"sheet '{SHEET}' row 7", "'n/a' in Number of detections, not a count"),
        _changed(4, 7, "n/a"),
    ),
    Case(
        "quarterly_negative_count",
        (f"sheet '{SHEET}' row 5", "negative count (-4) in Number of detections"),
        _changed(2, 7, -4.0),
    ),
    Case(
        "quarterly_future_quarter", (f"sheet '{SHEET}' row 6", "which has not begun yet"), _future
    ),
    Case(
        "quarterly_conflicting_duplicates",
        (f"sheet '{SHEET}' rows 8 and ", "twice with different counts"),
        _conflicting,
    ),
]


@pytest.fixture(scope="module")
def held(tmp_path_factory: pytest.TempPathFactory, latest_store: Path) -> Path:
    """The latest weekly release and the oldest quarterly release, stored."""
    db = tmp_path_factory.mktemp("held") / "crossings.duckdb"
    shutil.copy2(latest_store, db)
    ingest_many(db, [str(quarterly_path("december-2022"))], raw_dir=db.parent / "raw")
    return db


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_quarterly_bad_input_refused(
    case: Case, held: Path, tmp_path: Path, crossings: Callable[..., Any]
) -> None:
    db = tmp_path / "crossings.duckdb"
    shutil.copy2(held, db)
    bad = case.make(tmp_path)
    before = snapshot(db)
    run = crossings(["ingest", "--db", db, "--source", bad])
    assert_one_line_refusal(run, 2, bad.name, *case.fragments)
    assert snapshot(db) == before


def test_a_bad_workbook_in_a_batch_stores_nothing(
    held: Path, tmp_path: Path, crossings: Callable[..., Any]
) -> None:
    db = tmp_path / "crossings.duckdb"
    shutil.copy2(held, db)
    bad = _changed(1, 7, "lots")(tmp_path)
    before = snapshot(db)
    run = crossings(["ingest", "--db", db, "--source", quarterly_path("december-2023"), bad])
    assert_one_line_refusal(run, 2, bad.name, "'lots' in Number of detections")
    assert snapshot(db) == before
