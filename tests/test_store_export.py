"""The Parquet export: analysts read files, not the store, and get the same figures."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from cli_run import run_cli

from forecasting import store
from forecasting.errors import BadInput
from forecasting.store.export import EXPORTED

YEAR_TOTALS = (
    "SELECT year(date) AS year, sum(migrants_arrived) AS total FROM {} GROUP BY 1 ORDER BY 1"
)


def test_export_gives_the_same_year_totals(latest_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "export"
    result = store.export_views(latest_store, out)
    assert "daily_arrivals" in result.files and (out / "daily_arrivals.parquet").is_file()
    want = store.read_frame(latest_store, YEAR_TOTALS.format("daily_arrivals"))
    con = duckdb.connect()  # no store involved: the files alone
    got = con.execute(YEAR_TOTALS.format(f"'{out / 'daily_arrivals.parquet'}'")).df()
    assert got.equals(want)
    weeks = con.execute(
        f"SELECT count(*), sum(migrants_prevented) FROM '{out / 'weekly_activity.parquet'}'"
    ).fetchone()
    assert weeks == tuple(store.read_frame(
        latest_store, "SELECT count(*), sum(migrants_prevented) FROM weekly_activity"
    ).iloc[0])  # fmt: skip
    repairs = con.execute(f"SELECT repairs FROM '{out / 'publications.parquet'}'").fetchone()[0]
    assert repairs == []  # lists stay lists
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["files"]["daily_arrivals"]["rows"] == 2979
    assert set(manifest["files"]) <= set(EXPORTED)
    assert manifest["schema_version"] == store.SCHEMA_VERSION


def test_export_replaces_an_earlier_export_whole(latest_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "export"
    store.export_views(latest_store, out, format="csv")
    assert (out / "daily_arrivals.csv").is_file()
    store.export_views(latest_store, out)
    assert not (out / "daily_arrivals.csv").exists() and (out / "daily_arrivals.parquet").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["export"]  # no temporary folders left


def test_export_never_replaces_someone_elses_folder(latest_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "notes"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    with pytest.raises(BadInput, match="not empty"):
        store.export_views(latest_store, out)
    assert [p.name for p in out.iterdir()] == ["mine.txt"]
    with pytest.raises(BadInput, match="not an export format"):
        store.export_views(latest_store, tmp_path / "x", format="xlsx")


@pytest.mark.integration
def test_export_command(latest_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "export"
    run = run_cli(["export", "--format", "parquet", out, "--db", latest_store])
    assert run.status == 0 and "exported" in run.stdout, run.stderr
    assert (out / "revision_ledger.parquet").is_file()
    refused = run_cli(["export", tmp_path, "--db", latest_store])  # a folder of other things
    assert refused.status == 2 and "not empty" in refused.stderr, refused.stderr
    assert (out / "revision_ledger.parquet").is_file()
