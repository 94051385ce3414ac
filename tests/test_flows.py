"""The Prefect flows in-process, against one temporary Prefect API for the module.

What matters here: a nightly run stores a forecast and a report and says what changed; an
unchanged release is not refitted; GOV.UK being down does not stop the run but a failed step
does, leaving the last good report; backfills store one forecast per as-of date, and a Dask
cluster of processes gives exactly what the default thread runner gives.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from flows import core
from forecasting.models import DEFAULT_MODELS

FAST_MODELS = ["seasonal_naive", "ensemble"]


@pytest.fixture(scope="module")
def prefect_api() -> Iterator[None]:
    """One temporary Prefect server (SQLite in a temp dir) for every flow in this module."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture(scope="module")
def held_store(tmp_path_factory: pytest.TempPathFactory, release_paths: list[Path]) -> Path:
    """A store holding three releases but not the latest: several vintages to read as of."""
    from forecasting.ingest import ingest_source

    db = tmp_path_factory.mktemp("held") / "crossings.duckdb"
    for path in (release_paths[0], release_paths[5], release_paths[-2]):
        ingest_source(db, path)
    return db


@pytest.fixture
def store(held_store: Path, tmp_path: Path) -> Path:
    """A private copy of held_store for one test."""
    db = tmp_path / "crossings.duckdb"
    shutil.copy(held_store, db)
    return db


def _forecasts(db: Path) -> pd.DataFrame:
    from forecasting.store import read_frame

    return read_frame(
        db,
        "SELECT * EXCLUDE (created_at) FROM forecasts ORDER BY as_of, model",
    )


def _weeks(db: Path) -> pd.DataFrame:
    from forecasting.store import read_frame

    return read_frame(db, "SELECT * FROM forecast_weeks ORDER BY as_of, model, week_ending")


# --- plain helpers -----------------------------------------------------------------------------


def test_as_of_dates_include_both_ends() -> None:
    dates = core.as_of_dates(date(2025, 6, 1), date(2025, 8, 31), "1W")
    assert len(dates) == 14
    assert dates[0] == date(2025, 6, 1) and dates[-1] == date(2025, 8, 31)
    assert core.as_of_dates(date(2025, 6, 1), date(2025, 6, 1), "4W") == [date(2025, 6, 1)]
    assert len(core.as_of_dates(date(2025, 6, 1), date(2025, 6, 30), "7D")) == 5


@pytest.mark.parametrize("every", ["", "0W", "1M", "weekly", "-1W"])
def test_bad_every_is_refused(every: str) -> None:
    with pytest.raises(ValueError, match="1W"):
        core.as_of_dates(date(2025, 6, 1), date(2025, 8, 31), every)


def test_unknown_model_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown model"):
        core.model_names(["ensemble", "crystal_ball"])


def test_as_of_reader_gives_read_as_of(held_store: Path) -> None:
    """Reading once per span of publications changes nothing: same figures, rule, publications."""
    from forecasting.store import read_as_of

    dates = [
        date(2025, 6, 1), date(2025, 11, 12), date(2025, 11, 13), date(2025, 12, 20),
        date(2026, 1, 31), date(2026, 2, 19), date(2026, 2, 26),
    ]
    reader = core.AsOfReader(held_store, dates[-1])
    for d in dates:
        direct, cached = read_as_of(held_store, d), reader.read(d)
        pd.testing.assert_frame_equal(cached.daily, direct.daily)
        pd.testing.assert_frame_equal(cached.weekly, direct.weekly, check_dtype=False)
        assert (cached.rule, cached.publications) == (direct.rule, direct.publications), d
    assert reader.reads < len(dates)


# --- nightly -----------------------------------------------------------------------------------


def test_nightly_stores_forecast_report_and_artifact(
    prefect_api: None, store: Path, tmp_path: Path, latest_release: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows.pipeline import nightly

    reports = tmp_path / "reports"
    summary = nightly(source=str(latest_release), db=str(store), reports_dir=str(reports))
    assert summary["data_through"] == "2026-02-26"
    assert summary["new_publication"] is True
    assert summary["forecast"]["refitted"] is True
    held = _forecasts(store)
    latest = held[held["as_of"] == pd.Timestamp("2026-02-26")]
    assert len(latest) == len(DEFAULT_MODELS) and latest["production"].sum() == 1
    assert (reports / "index.html").is_file()
    assert (reports / "2026-02-26" / "index.html").is_file()

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["crossings-nightly"]))
        )
    assert artifacts, "the nightly run leaves a markdown artifact"
    text = artifacts[0].data
    assert "2026-02-26" in text and "people crossed" in text and "index.html" in text

    # The same release again: nothing new, so the forecast is not refitted.
    created = _created_at(store)
    started = time.perf_counter()
    again = nightly(source=str(latest_release), db=str(store), reports_dir=str(reports))
    print(f"unchanged nightly: {time.perf_counter() - started:.1f} s")
    assert again["new_publication"] is False
    assert again["forecast"]["refitted"] is False
    assert _created_at(store) == created

    # A failing step fails the run and leaves the last good report in place.
    index_before = (reports / "index.html").read_bytes()
    import forecasting.report

    def broken(*args: object, **kwargs: object) -> Path:
        raise RuntimeError("disk full")

    monkeypatch.setattr(forecasting.report, "write_report", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        nightly(source=str(latest_release), db=str(store), reports_dir=str(reports))
    assert (reports / "index.html").read_bytes() == index_before


def _created_at(db: Path) -> list:
    from forecasting.store import read_frame

    return read_frame(db, "SELECT created_at FROM forecasts ORDER BY as_of, model")[
        "created_at"
    ].tolist()


def test_nightly_carries_on_when_govuk_is_down(
    prefect_api: None, store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The GOV.UK step is retried (only it), then the run goes on with the data held."""
    import forecasting.ingest
    from flows import pipeline
    from forecasting.errors import SourceUnavailable

    calls: list[int] = []

    def down(*args: object, **kwargs: object) -> None:
        calls.append(1)
        raise SourceUnavailable("https://www.gov.uk", "connection refused")

    monkeypatch.setattr(forecasting.ingest, "ingest_from_govuk", down)
    monkeypatch.setattr(pipeline, "FETCH_RETRY_DELAYS", [0, 0, 0])
    monkeypatch.delenv("CROSSINGS_SOURCE", raising=False)
    summary = pipeline.nightly(db=str(store), reports_dir=str(tmp_path / "reports"))
    assert len(calls) == 4  # one try and three retries
    assert "connection refused" in summary["gov_uk_unavailable"]
    assert summary["new_publication"] is False
    assert (tmp_path / "reports" / "index.html").is_file()


def test_bad_release_is_not_retried_and_fails_the_run(
    prefect_api: None, store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import forecasting.ingest
    from flows import pipeline
    from forecasting.errors import BadInput

    calls: list[int] = []

    def bad(*args: object, **kwargs: object) -> None:
        calls.append(1)
        raise BadInput("release.ods", "sheet SB_01 is missing")

    monkeypatch.setattr(forecasting.ingest, "ingest_from_govuk", bad)
    monkeypatch.setattr(pipeline, "FETCH_RETRY_DELAYS", [0, 0, 0])
    monkeypatch.delenv("CROSSINGS_SOURCE", raising=False)
    with pytest.raises(BadInput):
        pipeline.nightly(db=str(store), reports_dir=str(tmp_path / "reports"))
    assert len(calls) == 1
    assert not (tmp_path / "reports").exists()


def test_cli_run_bad_source_is_one_line_exit_2(
    prefect_api: None, store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from flows.cli import main

    bad = tmp_path / "not_a_release.ods"
    bad.write_text("hello")
    status = main(["run", "--source", str(bad), "--db", str(store),
                   "--reports-dir", str(tmp_path / "reports")])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert err[-1].startswith("crossings: ") and "not_a_release.ods" in err[-1]
    assert not any("Traceback" in line for line in err)


# --- backfill ----------------------------------------------------------------------------------


def test_backfill_stores_one_forecast_per_week_and_skips_held(
    prefect_api: None, store: Path
) -> None:
    from flows.pipeline import backfill, progress_to

    ticks: list[tuple[int, int]] = []
    with progress_to(lambda done, total, what: ticks.append((done, total))):
        summary = backfill(
            start=date(2025, 6, 1), end=date(2025, 8, 31), every="1W", models=FAST_MODELS,
            db=str(store),
        )
    assert summary["fitted"] == 14 and summary["skipped"] == 0
    held = _forecasts(store)
    assert held["as_of"].nunique() == 14
    assert set(held["model"]) == set(FAST_MODELS)
    assert held.groupby("as_of")["production"].sum().eq(1).all()
    assert (held["as_of"].min(), held["as_of"].max()) == (
        pd.Timestamp("2025-06-01"), pd.Timestamp("2025-08-31")
    )
    assert len(_weeks(store)) == 14 * len(FAST_MODELS) * 13
    assert ticks[-1] == (14, 14)

    again = backfill(
        start=date(2025, 6, 1), end=date(2025, 8, 31), every="1W", models=FAST_MODELS,
        db=str(store),
    )
    assert again["fitted"] == 0 and again["skipped"] == 14


@pytest.mark.slow
def test_dask_backfill_matches_default_runner(
    prefect_api: None, held_store: Path, tmp_path: Path
) -> None:
    """Seeded fits on a Dask cluster of processes store exactly what threads store."""
    from distributed import LocalCluster

    from flows.pipeline import backfill

    threads_db, dask_db = tmp_path / "threads.duckdb", tmp_path / "dask.duckdb"
    shutil.copy(held_store, threads_db)
    shutil.copy(held_store, dask_db)
    args = {"start": date(2025, 11, 2), "end": date(2025, 12, 28), "every": "4W"}
    backfill(**args, db=str(threads_db))
    with LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    ) as cluster:
        summary = backfill(
            **args, db=str(dask_db), task_runner="dask", dask_address=cluster.scheduler_address
        )
    assert summary["fitted"] == 3
    pd.testing.assert_frame_equal(_forecasts(dask_db), _forecasts(threads_db))
    pd.testing.assert_frame_equal(_weeks(dask_db), _weeks(threads_db))
    assert set(_forecasts(dask_db)["model"]) == set(DEFAULT_MODELS)
