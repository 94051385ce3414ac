"""Export of the public tables and views as files (Parquet), for analysts to query at leisure.

DuckDB lets one process hold the store at a time, so an analyst's long session on the store
would block the nightly run. An export takes the lock for a few seconds, writes every public
table and view to a folder, and the files can then be read by DuckDB, pandas, Polars or R
without touching the store. The folder is replaced whole: files are written to a temporary
folder beside it and renamed into place, so a reader sees the previous export or the new one.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from forecasting.errors import BadInput
from forecasting.store.connection import open_store, retry_on_lock
from forecasting.store.schema import SCHEMA_VERSION
from forecasting.store.transaction import as_store_error

__all__ = ["EXPORTED", "FORMATS", "Export", "export_views"]

# In this order in the manifest; backtest tables are exported when a backtest has made them.
EXPORTED = (
    "daily_arrivals",
    "weekly_activity",
    "daily_as_first_published",
    "revision_ledger",
    "revisions",
    "publications",
    "publication_order",
    "daily_values",
    "weekly_values",
    "forecasts",
    "forecast_weeks",
    "forecast_cumulative",
    "forecast_milestones",
    "backtest_runs",
    "backtest_scores",
    "backtest_year_end",
    "backtest_forecasts",
    # the quarterly detailed dataset (who crosses)
    "quarterly_detections",
    "quarterly_reconciliation",
    "quarterly_publications",
    "quarterly_values",
)
FORMATS = {"parquet": "parquet", "csv": "csv"}
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Export:
    """What an export wrote: the folder and, per table or view, its file and row count."""

    out_dir: Path
    files: dict[str, tuple[str, int]]

    def describe(self) -> str:
        rows = sum(n for _, n in self.files.values())
        return f"exported {len(self.files)} tables and views ({rows:,} rows) to {self.out_dir}"


def export_views(db_path: str | Path, out_dir: str | Path, format: str = "parquet") -> Export:
    """Write the public tables and views to `out_dir` (replaced whole, atomically)."""
    if format not in FORMATS:
        raise BadInput(str(format), f"is not an export format; use one of {', '.join(FORMATS)}")
    db_path, out_dir = Path(db_path), Path(out_dir)
    if not db_path.exists():
        raise BadInput(db_path, "no store there; run `crossings ingest` first")
    _check_replaceable(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    partial = out_dir.parent / f".{out_dir.name}.partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    try:
        files = retry_on_lock(lambda: _write_files(db_path, partial, format))
        manifest = {
            "store": str(db_path.resolve()),
            "schema_version": SCHEMA_VERSION,
            "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "format": format,
            "files": {name: {"file": f, "rows": n} for name, (f, n) in files.items()},
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        _swap_into_place(partial, out_dir)
    except OSError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        error = as_store_error(exc, out_dir)
        if error is not None:
            raise error from exc
        raise
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return Export(out_dir, files)


def _write_files(db_path: Path, folder: Path, format: str) -> dict[str, tuple[str, int]]:
    files: dict[str, tuple[str, int]] = {}
    with open_store(db_path, read_only=True) as con:
        present = {
            name
            for (name,) in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
            ).fetchall()
        }
        for name in EXPORTED:
            if name not in present:
                continue
            file_name = f"{name}.{FORMATS[format]}"
            target = str(folder / file_name).replace("'", "''")
            con.execute(f"COPY (SELECT * FROM {name}) TO '{target}' (FORMAT {format})")
            count = con.execute(f"SELECT count(*) FROM {name}").fetchone()
            assert count is not None  # an aggregate query returns exactly one row
            files[name] = (file_name, int(count[0]))
    return files


def _check_replaceable(out_dir: Path) -> None:
    """Only an empty folder or an earlier export is replaced: never someone's own files."""
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise BadInput(out_dir, "exists and is not a folder")
    if any(out_dir.iterdir()) and not (out_dir / MANIFEST).is_file():
        raise BadInput(
            out_dir,
            f"is not empty and holds no {MANIFEST} of an earlier export; choose a new folder",
        )


def _swap_into_place(partial: Path, out_dir: Path) -> None:
    """Rename the new folder into place; an earlier export is moved aside, then removed."""
    old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
    if out_dir.exists():
        out_dir.rename(old)
    partial.rename(out_dir)
    shutil.rmtree(old, ignore_errors=True)
