"""Numbered migrations: an old file is brought up to date on open, a dropped view comes back."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from forecasting import store
from forecasting.errors import StoreError
from forecasting.store.migrations import MIGRATIONS
from forecasting.store.schema import SCHEMA_VERSION, TABLES, schema_state
from forecasting.store.views import VIEWS

SHA = "ab" * 32


def old_store(path: Path) -> Path:
    """A store as the code before numbered versions made it: migration 1's tables, a hash in
    store_info, one publication, one forecast with its publications comma-separated, and an
    old backtest table without run ids."""
    con = duckdb.connect(str(path))
    MIGRATIONS[0].apply(con)
    con.execute("CREATE TABLE store_info (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute("INSERT INTO store_info VALUES ('schema', '0123456789abcdef')")
    con.execute(
        """
        INSERT INTO publications (sha256, kind, file_name, source, released_on, data_from,
            data_through, daily_rows, weekly_rows, ingested_at)
        VALUES (?, 'weekly_release', '20_February_2026_Small_boats_-_time_series_v2.ods', 'f',
                '2026-02-20', '2026-02-18', '2026-02-19', 2, 0, now())
        """,
        [SHA],
    )
    con.execute("INSERT INTO daily_values VALUES (1, '2026-02-18', 7, 1, 0, false, NULL), "
                "(1, '2026-02-19', 9, 1, 0, false, NULL)")  # fmt: skip
    con.execute(
        "INSERT INTO forecasts VALUES ('2026-02-19', 'ensemble', true, '2026-02-19', ?, "
        "'vintage', 2026, 16, 1, 0, 1, 2, '{}', now())",
        [f"{SHA},{'cd' * 32}"],
    )
    con.execute("INSERT INTO forecast_weeks VALUES ('2026-02-19', 'ensemble', '2026-02-22', "
                "1, 0, 1, 2)")  # fmt: skip
    con.execute(
        "CREATE TABLE backtest_scores AS SELECT 'naive' AS model, 1.5 AS mase, "
        "DATE '2025-01-05' AS run_start, DATE '2025-06-29' AS run_end, '4W' AS run_every, "
        "13 AS horizon_weeks, TIMESTAMPTZ '2026-01-01 10:00:00+00' AS created_at"
    )
    con.close()
    return path


def test_old_file_is_migrated_on_open(tmp_path: Path) -> None:
    db = old_store(tmp_path / "old.duckdb")
    # Even a read-only open brings it up to date first.
    read = store.read_as_of(db, date(2026, 2, 19))
    assert read.publications == [SHA] and read.daily["migrants_arrived"].tolist() == [7, 9]
    with store.open_store(db, read_only=True) as con:
        state = schema_state(con)
        assert state.current and state.version == SCHEMA_VERSION
        info = dict(con.execute("SELECT * FROM store_info").fetchall())
        assert "schema" not in info and info["schema_version"] == str(SCHEMA_VERSION)
        pub = con.execute("SELECT version, repairs, status FROM publications").fetchone()
        assert pub == (2, [], "official")  # the reissue number read from the old file name
        publications = con.execute("SELECT publications FROM forecasts").fetchone()[0]
        assert publications == [SHA, "cd" * 32]
        run = con.execute("SELECT run_id, run_every FROM backtest_runs").fetchall()
        assert run == [(1, "4W")]
        assert con.execute("SELECT run_id FROM backtest_scores").fetchall() == [(1,)]
    held = store.held_forecasts(db, [date(2026, 2, 19)], horizon_weeks=1)
    assert held[date(2026, 2, 19)]["ensemble"] == (SHA, "cd" * 32)


@pytest.mark.parametrize("view", list(VIEWS))
def test_dropped_view_is_rebuilt(tmp_path: Path, latest_store: Path, view: str) -> None:
    db = tmp_path / "s.duckdb"
    shutil.copy2(latest_store, db)
    before = store.read_frame(db, f"SELECT count(*) AS n FROM {view}")["n"][0]
    con = duckdb.connect(str(db))
    con.execute(f"DROP VIEW {view} CASCADE")
    con.close()
    assert store.read_frame(db, f"SELECT count(*) AS n FROM {view}")["n"][0] == before


def test_changed_view_definition_is_rebuilt(tmp_path: Path, latest_store: Path) -> None:
    """A view replaced by hand (or by older code at the same version) is put right."""
    db = tmp_path / "s.duckdb"
    shutil.copy2(latest_store, db)
    con = duckdb.connect(str(db))
    con.execute("CREATE OR REPLACE VIEW daily_arrivals AS SELECT 1 AS date")
    con.execute("UPDATE store_info SET value = 'stale' WHERE key = 'views'")
    con.close()
    got = store.read_frame(db, "SELECT count(*) AS n FROM daily_arrivals")["n"][0]
    assert got == 2979


def test_missing_table_is_reported_not_recreated(tmp_path: Path, latest_store: Path) -> None:
    db = tmp_path / "s.duckdb"
    shutil.copy2(latest_store, db)
    con = duckdb.connect(str(db))
    con.execute("DROP TABLE weekly_values")
    con.close()
    with pytest.raises(StoreError, match="weekly_values are missing"):
        store.read_as_of(db, date(2026, 2, 26))
    con = duckdb.connect(str(db), read_only=True)
    tables = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    con.close()
    assert "weekly_values" not in tables  # nothing was invented


def test_file_from_newer_code_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    with store.open_store(db):
        pass
    con = duckdb.connect(str(db))
    con.execute("UPDATE store_info SET value = ? WHERE key = 'schema_version'",
                [str(SCHEMA_VERSION + 1)])  # fmt: skip
    con.close()
    with pytest.raises(StoreError, match="newer than this code"):
        store.last_official_day(db)


def test_new_store_has_every_table_and_view(db_path: Path) -> None:
    with store.open_store(db_path) as con:
        state = schema_state(con)
    assert state.current and not state.missing_tables and not state.missing_views
    assert set(TABLES) >= {"publications", "forecast_milestones", "announcements"}


def test_migrations_are_numbered_in_order() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))
    assert MIGRATIONS[-1].version == SCHEMA_VERSION
