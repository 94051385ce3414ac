"""The store keeps every publication and every value, and reads data as known on any date."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from ods_factory import daily_rows, write_release

from forecasting import store
from forecasting.ingest import ingest_source
from forecasting.sources.release import read_release

YEAR_TOTALS = {
    2018: 299,
    2019: 1_843,
    2020: 8_462,
    2021: 28_526,
    2022: 45_755,
    2023: 29_437,
    2024: 36_816,
    2025: 41_472,
}


def snapshot(db: Path) -> dict[str, list[tuple]]:
    """Everything in the store's tables, to compare before and after."""
    with store.open_store(db, read_only=True) as con:
        columns = {"publications": "* EXCLUDE (ingested_at)"}
        return {
            table: con.execute(
                f"SELECT {columns.get(table, '*')} FROM {table} ORDER BY ALL"
            ).fetchall()
            for table in ("publications", "daily_values", "weekly_values")
        }


@pytest.fixture
def full_store(releases_store: Path, tmp_path: Path) -> Path:
    """Every shared release ingested in date order, each the latest when it came (conftest's
    `releases_store`; a copy, as re-ingesting opens it to write)."""
    db = tmp_path / "crossings.duckdb"
    shutil.copy2(releases_store, db)
    return db


def test_year_totals_come_out_of_daily_arrivals(full_store: Path) -> None:
    totals = store.read_frame(
        full_store,
        "SELECT year(date) AS year, sum(migrants_arrived) AS total FROM daily_arrivals "
        "GROUP BY ALL ORDER BY year",
    )
    got = dict(zip(totals["year"], totals["total"], strict=True))
    assert {y: got[y] for y in YEAR_TOTALS} == YEAR_TOTALS
    last = store.read_frame(full_store, "SELECT max(date) AS d FROM daily_arrivals")["d"][0]
    assert last.date() == date(2026, 2, 26)


def test_publications_record_each_release(full_store: Path, release_paths: list[Path]) -> None:
    pubs = store.held_publications(full_store)
    assert len(pubs) == len(release_paths) == 14
    newest = pubs.iloc[0]
    assert newest["file_name"] == "27_February_2026_Small_boats_-_time_series.ods"
    assert newest["released_on"].date() == date(2026, 2, 27)
    assert newest["data_through"].date() == date(2026, 2, 26)
    assert newest["daily_rows"] == 2979 and newest["weekly_rows"] == 425
    assert len(newest["sha256"]) == 64
    v2 = pubs[pubs["file_name"].str.endswith("_v2.ods")].iloc[0]
    assert v2["released_on"].date() == date(2026, 2, 20)


def test_reingesting_any_release_is_a_no_op(
    full_store: Path, release_paths: list[Path], real_releases: list
) -> None:
    """The same bytes again, from any source, change nothing (one through the whole command
    path, the rest as already-parsed publications)."""
    before = snapshot(full_store)
    outcomes = [ingest_source(full_store, release_paths[0])]
    outcomes += store.ingest_all(full_store, [(r, "again") for r in real_releases])
    assert len(outcomes) == 15
    for outcome in outcomes:
        assert not outcome.stored
        assert "already held" in outcome.describe()
    assert snapshot(full_store) == before


def test_older_release_after_newer_leaves_latest_figures_alone(
    tmp_path: Path, release_paths: list[Path]
) -> None:
    db = tmp_path / "s.duckdb"
    ingest_source(db, release_paths[-1])
    before = store.read_frame(db, "SELECT * EXCLUDE (publication_id) FROM daily_arrivals")
    outcome = ingest_source(db, release_paths[0])
    assert outcome.stored and not outcome.is_latest
    assert "kept as history" in outcome.describe()
    after = store.read_frame(db, "SELECT * EXCLUDE (publication_id) FROM daily_arrivals")
    assert after.equals(before)
    assert len(store.held_publications(db)) == 2


def test_revision_adds_a_vintage_and_keeps_history(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    first = write_release(tmp_path / "a", date(2026, 2, 20))
    rows = daily_rows(date(2026, 2, 26))
    day = date(2026, 2, 10)
    index = next(i for i, r in enumerate(rows) if r[0] == day)
    original = rows[index][1]
    rows[index][1] = original + 100
    rows[index][4] = "Revised"
    second = write_release(tmp_path / "b", date(2026, 2, 27), daily=rows)
    ingest_source(db, first)
    ingest_source(db, second)

    latest = store.read_frame(
        db, "SELECT migrants_arrived, revised FROM daily_arrivals WHERE date = ?", [day]
    )
    assert latest.iloc[0].tolist() == [original + 100, True]
    vintages = store.read_frame(
        db, "SELECT migrants_arrived FROM daily_values WHERE date = ? ORDER BY ALL", [day]
    )
    assert vintages["migrants_arrived"].tolist() == [original, original + 100]
    revisions = store.read_frame(db, "SELECT * FROM revisions")
    assert len(revisions) == 1
    assert revisions.iloc[0]["migrants_change"] == 100

    # As known before the revision, the original value stands.
    read = store.read_as_of(db, date(2026, 2, 19))
    assert read.rule == "vintage"
    assert read.daily.set_index("date").loc[day, "migrants_arrived"] == original
    read = store.read_as_of(db, date(2026, 2, 26))
    assert read.daily.set_index("date").loc[day, "migrants_arrived"] == original + 100


def test_as_of_read_uses_only_publications_known_then(full_store: Path) -> None:
    read = store.read_as_of(full_store, date(2026, 1, 1))
    assert read.rule == "vintage"
    # The newest release whose data ended by 1 January is the 31 December one (through 28 Dec).
    assert read.publication_names == ["31_December_2025_Small_boats_-_time_series.ods"]
    assert read.data_through == date(2025, 12, 28)
    assert read.daily["date"].iloc[0] == date(2018, 1, 1)
    assert read.daily["migrants_arrived"].dtype == "int64"


def test_as_of_before_any_publication_cuts_the_oldest(full_store: Path) -> None:
    read = store.read_as_of(full_store, date(2025, 6, 30))
    assert read.rule == "earliest_held_cut"
    assert read.publication_names == ["14_November_2025_Small_boats_-_time_series.ods"]
    assert read.data_through == date(2025, 6, 30)
    assert read.weekly["week_ending"].iloc[-1] <= date(2025, 6, 30)
    assert "oldest publication held" in read.describe()


def test_empty_store_reads_as_no_data(tmp_path: Path) -> None:
    read = store.read_as_of(tmp_path / "missing.duckdb", date(2026, 1, 1))
    assert read.rule == "empty" and read.daily.empty
    assert not (tmp_path / "missing.duckdb").exists()


@pytest.mark.integration
def test_writer_waits_for_another_process_lock(tmp_path: Path, latest_release: Path) -> None:
    """A second connection holding the file makes the ingest wait, then succeed."""
    import subprocess
    import sys
    import time

    db = tmp_path / "s.duckdb"
    duckdb.connect(str(db)).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb,sys,time; c=duckdb.connect(sys.argv[1]); print('held', flush=True); "
            "time.sleep(2); c.close()",
            str(db),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    started = time.monotonic()
    outcome = ingest_source(db, latest_release)
    waited = time.monotonic() - started
    holder.wait(timeout=30)
    assert outcome.stored
    assert waited > 0.5  # it really had to wait for the other process


def test_save_frame_replaces_rows_with_same_key(tmp_path: Path) -> None:
    import pandas as pd

    db = tmp_path / "s.duckdb"
    store.save_frame(db, "scores", pd.DataFrame({"model": ["a", "b"], "x": [1, 2]}), key=["model"])
    store.save_frame(db, "scores", pd.DataFrame({"model": ["a"], "x": [5]}), key=["model"])
    got = store.read_frame(db, "SELECT * FROM scores ORDER BY model")
    assert got["x"].tolist() == [5, 2]
    with pytest.raises(ValueError):
        store.save_frame(db, "x; DROP TABLE y", pd.DataFrame({"a": [1]}), key=["a"])


def test_release_days_are_daily_from_2018(latest_release: Path) -> None:
    release = read_release(latest_release)
    days = release.daily["date"]
    assert days.iloc[0] == date(2018, 1, 1)
    assert (days.iloc[-1] - days.iloc[0]) == timedelta(days=len(days) - 1)
    # "-" (not available) is NULL, never 0.
    assert release.daily["boats_uncontrolled"].isna().sum() > 0
    assert release.weekly["migrants_prevented"].isna().sum() > 0
    assert release.weekly["migrants_prevented"].notna().sum() > 0
