"""Quarterly workbooks for tests: the real shared releases, and ones we write (ODS, xlsx).

The real files are read in place from ../shared/data/govuk/irregular-migration-detailed (tests
skip with a reason where that folder is absent); the files written here are small or made from
the real rows, to show one behaviour each.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest
from ods_factory import write_ods

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CROSSINGS_SHARED_DATA", ROOT.parent / "shared" / "data"))
QUARTERLY_DIR = SHARED / "govuk" / "irregular-migration-detailed"
SHEET = "Data - Irr_D01"
HEADER = [
    "Year", "Quarter", "Method of entry", "Nationality", "Region", "Sex", "Age Group",
    "Number of detections",
]  # fmt: skip
ENDINGS = ["december-2022", "march-2023", "june-2023", "september-2023", "december-2023"]


def quarterly_paths() -> list[Path]:
    """The five shared releases, oldest first (skips when absent)."""
    if not QUARTERLY_DIR.is_dir():
        pytest.skip(f"real quarterly workbooks not found at {QUARTERLY_DIR} (../shared/data)")
    paths = [next(QUARTERLY_DIR.glob(f"*year-ending-{e}.xlsx")) for e in ENDINGS]
    return paths


def quarterly_path(ending: str) -> Path:
    return next(p for p in quarterly_paths() if ending in p.name)


def real_rows(path: Path) -> list[list[Any]]:
    """The data rows (under the header) of a real release's Irr_D01 sheet, as published."""
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(SHEET).to_python()
    at = next(i for i, row in enumerate(rows) if row[:2] == ["Year", "Quarter"])
    return [list(row) for row in rows[at + 1 :]]


def small_rows() -> list[list[Any]]:
    """A small good table: 2023 Q4 small-boat rows of the latest release."""
    rows = real_rows(quarterly_path("december-2023"))
    return [r for r in rows if r[1] == "2023 Q4" and r[2] == "Small boat arrivals"]


def write_quarterly_ods(
    path: Path,
    rows: list[list[Any]],
    *,
    header: list[str] | None = None,
    title_rows: int = 1,
    sheet: str = SHEET,
    cover: str | None = "Published 2024-02-29",
) -> Path:
    """An ODS quarterly workbook: a cover sheet, then `title_rows` title lines, the header, rows."""
    titles = [["Irr_D01: Detected irregular arrivals to the UK"]] + [
        [f"Title line {n}"] for n in range(2, title_rows + 1)
    ]
    sheets: dict[str, list[list[Any]]] = {}
    if cover is not None:
        sheets["Cover"] = [["Irregular migration to the UK: detailed dataset"], [cover]]
    sheets[sheet] = [*titles[:title_rows], header or HEADER, *rows]
    return write_ods(path, sheets)


def with_sheet_renamed(source: Path, target: Path, old: str, new: str) -> Path:
    """A copy of a real xlsx whose sheet `old` is called `new` (same cells)."""
    out = io.BytesIO()
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/workbook.xml":
                data = data.replace(old.encode(), new.encode())
            zout.writestr(info.filename, data)
    target.write_bytes(out.getvalue())
    return target
