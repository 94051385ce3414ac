"""The release shipped inside the package for a first run offline (forecasting/bundled/)."""

from __future__ import annotations

import hashlib
import tomllib
from datetime import date
from pathlib import Path

from ods_factory import rows_like, write_release

from forecasting import bundled
from forecasting.ingest import ingest_source
from forecasting.store import read_frame

ROOT = Path(__file__).resolve().parents[1]


def test_the_snapshot_is_one_real_release_shipped_as_package_data() -> None:
    path = bundled.snapshot_path()
    assert path.is_file() and path.name == bundled.SNAPSHOT_NAME
    assert sorted(p.name for p in path.parent.glob("*.ods")) == [bundled.SNAPSHOT_NAME]
    readme = (path.parent / "README.md").read_text(encoding="utf-8")
    assert "Open Government Licence v3.0" in readme and "27 February 2026" in readme
    assert hashlib.sha256(path.read_bytes()).hexdigest() in readme  # the README says which file
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert config["tool"]["setuptools"]["package-data"]["forecasting.bundled"] == [
        "*.ods",
        "README.md",
    ]


def test_seeding_records_a_bundled_snapshot(tmp_path: Path) -> None:
    db = tmp_path / "crossings.duckdb"
    outcome = bundled.seed(db)
    assert outcome.stored and outcome.data_through == date(2026, 2, 26)
    held = read_frame(db, "SELECT file_name, discovered_via, url, source FROM publications")
    assert held.to_dict("records") == [
        {
            "file_name": bundled.SNAPSHOT_NAME,
            "discovered_via": "bundled_snapshot",
            "url": None,
            "source": f"bundled:{bundled.SNAPSHOT_NAME}",
        }
    ]
    assert not bundled.seed(db).stored  # the same bytes twice: already held


def test_a_newer_release_supersedes_the_snapshot(tmp_path: Path) -> None:
    db = tmp_path / "crossings.duckdb"
    bundled.seed(db)
    newer = write_release(
        tmp_path, date(2026, 3, 6), daily=rows_like(bundled.snapshot_path(), date(2026, 3, 5))
    )
    outcome = ingest_source(db, newer)
    assert outcome.is_latest
    held = read_frame(db, "SELECT DISTINCT publication FROM daily_arrivals")
    assert set(held["publication"]) == {newer.name}
