"""The Prefect flows in-process, against one temporary Prefect API for the module.

What matters here: a nightly run stores a forecast and a report and says what changed; an
unchanged release is not refitted; a source that fails (GOV.UK down, a bad file from it, one of
its two publications) does not stop the run but makes it "Stale", while a failed step does stop
it, leaving the last good report; an empty store with GOV.UK out of reach is seeded from the
bundled snapshot; backfills store one forecast per as-of date, and a Dask cluster of processes
gives exactly what the default thread runner gives.
"""

from __future__ import annotations

import shutil
import time
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from forecasting.models import DEFAULT_MODELS

FAST_MODELS = ["seasonal_naive", "ensemble"]
FRESH = "100000"  # CROSSINGS_STALE_AFTER_DAYS for runs whose figures must count as fresh

pytestmark = pytest.mark.integration  # every test here runs flows against a Prefect API


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


# --- nightly -----------------------------------------------------------------------------------


def test_nightly_stores_forecast_report_and_artifact(
    prefect_api: None,
    store: Path,
    tmp_path: Path,
    latest_release: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:

    from flows.pipeline import nightly

    monkeypatch.setenv("CROSSINGS_STALE_AFTER_DAYS", FRESH)  # read when the run starts
    reports = tmp_path / "reports"
    state = nightly(
        source=str(latest_release), db=str(store), reports_dir=str(reports), return_state=True
    )
    summary = state.result()
    assert (state.name, summary.status, summary.reasons) == ("Completed", 0, [])
    assert summary.data_through == date(2026, 2, 26)
    assert summary.new_publication is True
    assert summary.forecast.refitted is True
    held = _forecasts(store)
    latest = held[held["as_of"] == pd.Timestamp("2026-02-26")]
    assert len(latest) == len(DEFAULT_MODELS) and latest["production"].sum() == 1
    assert (reports / "index.html").is_file()
    assert (reports / "2026-02-26" / "index.html").is_file()

    text = _artifact("crossings-nightly")
    assert "2026-02-26" in text and "people crossed" in text and "index.html" in text
    assert "**Status:** fresh" in text

    # The same release again: nothing new, so the forecast is not refitted; with the default
    # staleness (8 days) the same figures now make the run "Stale", saying why.
    monkeypatch.delenv("CROSSINGS_STALE_AFTER_DAYS")
    created = _created_at(store)
    started = time.perf_counter()
    state = nightly(
        source=str(latest_release), db=str(store), reports_dir=str(reports), return_state=True
    )
    again = state.result()
    print(f"unchanged nightly: {time.perf_counter() - started:.1f} s")
    assert again.new_publication is False
    assert again.forecast.refitted is False
    assert _created_at(store) == created
    assert (state.name, state.is_completed(), again.status) == ("Stale", True, 10)
    assert "days ago (stale after 8)" in state.message
    assert "**Status:** stale: the figures end on 26 February 2026" in _artifact(
        "crossings-nightly"
    )

    # A failing step fails the run and leaves the last good report in place.
    index_before = (reports / "index.html").read_bytes()
    import forecasting.report

    def broken(*args: object, **kwargs: object) -> Path:
        raise RuntimeError("disk full")

    monkeypatch.setattr(forecasting.report, "write_report", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        nightly(source=str(latest_release), db=str(store), reports_dir=str(reports))
    assert (reports / "index.html").read_bytes() == index_before


def _artifact(key: str) -> str:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key]))
        )
    assert artifacts, f"the run leaves a markdown artifact {key}"
    return max(artifacts, key=lambda a: a.created).data


def _run_logs(flow_run_id: Any, until: str, wait_seconds: float = 30.0) -> list[str]:
    """The messages Prefect's API holds for one flow run, once one starts with `until`.

    Prefect ships logs to its API from a background worker in batches, so a run can end
    before its last lines are stored: drain that worker, then read again until they are.
    """
    import time

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=wait_seconds)
    deadline = time.monotonic() + wait_seconds
    while True:
        with get_client(sync_client=True) as client:
            logs = client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))
            )
        messages = [log.message for log in logs]
        if any(m.startswith(until) for m in messages) or time.monotonic() > deadline:
            return messages
        time.sleep(0.5)


def _created_at(db: Path) -> list:
    from forecasting.store import read_frame

    return read_frame(db, "SELECT created_at FROM forecasts ORDER BY as_of, model")[
        "created_at"
    ].tolist()


def _govuk_fails(monkeypatch: pytest.MonkeyPatch, error: Exception) -> list[int]:
    """GOV.UK's ingest raises `error` (counting the calls); no CROSSINGS_SOURCE."""
    import forecasting.ingest

    calls: list[int] = []

    def failing(*args: object, **kwargs: object) -> None:
        calls.append(1)
        raise error

    monkeypatch.setattr(forecasting.ingest, "ingest_from_govuk", failing)
    monkeypatch.delenv("CROSSINGS_SOURCE", raising=False)
    monkeypatch.setenv("CROSSINGS_STALE_AFTER_DAYS", FRESH)
    return calls


def test_nightly_carries_on_when_govuk_is_down(
    prefect_api: None, store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Prefect does not retry (the library does); the run goes on with the data held, Stale."""
    from flows import pipeline
    from forecasting.errors import SourceUnavailable

    calls = _govuk_fails(monkeypatch, SourceUnavailable("https://www.gov.uk", "connection refused"))
    state = pipeline.nightly(
        db=str(store), reports_dir=str(tmp_path / "reports"), return_state=True
    )
    summary = state.result()
    assert len(calls) == 1
    assert (state.name, summary.status) == ("Stale", 10)
    assert "connection refused" in summary.failures[0] and "connection refused" in state.message
    assert summary.new_publication is False and summary.seeded is None
    assert (tmp_path / "reports" / "index.html").is_file()


def test_bad_release_from_govuk_does_not_sink_the_night(
    prefect_api: None, store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bad file from GOV.UK is not retried; the night goes on with what is held, and says so."""
    from flows import pipeline
    from forecasting.errors import BadInput

    calls = _govuk_fails(monkeypatch, BadInput("release.ods", "sheet SB_01 is missing"))
    summary = pipeline.nightly(db=str(store), reports_dir=str(tmp_path / "reports"))
    assert len(calls) == 1
    assert summary.status == 10
    assert summary.failures == ["release.ods: sheet SB_01 is missing"]
    assert (tmp_path / "reports" / "index.html").is_file()


def test_one_publication_failing_keeps_the_other(
    prefect_api: None,
    store: Path,
    tmp_path: Path,
    latest_release: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GOV.UK's ingest stored the release but the page failed: stored, forecast, Stale."""

    import forecasting.ingest
    from flows import pipeline

    def release_only(db_path: object, **kwargs: object) -> forecasting.ingest.GovukIngest:
        stored = forecasting.ingest.ingest_source(db_path, latest_release)
        return forecasting.ingest.GovukIngest([stored], "", ["last 7 days page: HTTP 503"])

    monkeypatch.setattr(forecasting.ingest, "ingest_from_govuk", release_only)
    monkeypatch.delenv("CROSSINGS_SOURCE", raising=False)
    monkeypatch.setenv("CROSSINGS_STALE_AFTER_DAYS", FRESH)
    summary = pipeline.nightly(db=str(store), reports_dir=str(tmp_path / "reports"))
    assert summary.new_publication is True and summary.data_through == date(2026, 2, 26)
    assert (summary.status, summary.failures) == (10, ["last 7 days page: HTTP 503"])
    assert summary.forecast.refitted is True


def test_empty_store_and_govuk_down_seeds_the_bundled_snapshot(
    prefect_api: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from flows import pipeline
    from forecasting.bundled import SNAPSHOT_NAME
    from forecasting.errors import SourceUnavailable
    from forecasting.store import read_frame

    _govuk_fails(monkeypatch, SourceUnavailable("https://www.gov.uk", "connection refused"))
    db, reports = tmp_path / "new" / "crossings.duckdb", tmp_path / "reports"
    state = pipeline.nightly(db=str(db), reports_dir=str(reports), return_state=True)
    summary = state.result()
    assert (state.name, summary.status, summary.seeded) == ("Stale", 10, SNAPSHOT_NAME)
    # seeding stored a publication the store did not hold: "new publication: yes", not "no"
    assert summary.new_publication is True
    logged = _run_logs(state.state_details.flow_run_id, until="track record: ")
    assert any(m.startswith("track record: ") for m in logged), logged
    assert not any("track record: track record" in m for m in logged)
    assert summary.data_through == date(2026, 2, 26)
    held = read_frame(db, "SELECT file_name, discovered_via FROM publications")
    assert held.to_dict("records") == [
        {"file_name": SNAPSHOT_NAME, "discovered_via": "bundled_snapshot"}
    ]
    assert (reports / "index.html").is_file()
    artifact = _artifact("crossings-nightly")
    assert "seeded from the bundled snapshot" in artifact
    assert "**New publication:** yes" in artifact


def test_cli_run_bad_source_is_one_line_exit_2(
    prefect_api: None, store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from flows.cli import main

    bad = tmp_path / "not_a_release.ods"
    bad.write_text("hello")
    status = main(
        [
            "run",
            "--source",
            str(bad),
            "--db",
            str(store),
            "--reports-dir",
            str(tmp_path / "reports"),
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert len(err) == 2, err  # the refusal, then where the full log is
    assert err[0].startswith("crossings: ") and "not_a_release.ods" in err[0]
    assert err[1].startswith("full log: ")
    assert not any("Traceback" in line for line in err)
    assert "not_a_release.ods" in Path(err[1].removeprefix("full log: ")).read_text()


# --- backfill ----------------------------------------------------------------------------------


def test_backfill_stores_one_forecast_per_week_and_skips_held(
    prefect_api: None, store: Path
) -> None:
    from flows.backfill import backfill, progress_to

    ticks: list[tuple[int, int]] = []
    with progress_to(lambda done, total, what: ticks.append((done, total))):
        summary = backfill(
            start=date(2025, 6, 1),
            end=date(2025, 8, 31),
            every="1W",
            models=FAST_MODELS,
            db=str(store),
        )
    assert summary.fitted == 14 and summary.skipped == 0
    held = _forecasts(store)
    assert held["as_of"].nunique() == 14
    assert set(held["model"]) == set(FAST_MODELS)
    assert held.groupby("as_of")["production"].sum().eq(1).all()
    assert (held["as_of"].min(), held["as_of"].max()) == (
        pd.Timestamp("2025-06-01"),
        pd.Timestamp("2025-08-31"),
    )
    assert len(_weeks(store)) == 14 * len(FAST_MODELS) * 13
    assert ticks[-1] == (14, 14)

    again = backfill(
        start=date(2025, 6, 1),
        end=date(2025, 8, 31),
        every="1W",
        models=FAST_MODELS,
        db=str(store),
    )
    assert again.fitted == 0 and again.skipped == 14


@pytest.mark.slow
def test_dask_backfill_matches_default_runner(
    prefect_api: None, held_store: Path, tmp_path: Path
) -> None:
    """Seeded fits on a Dask cluster of processes store exactly what threads store."""
    from distributed import LocalCluster

    from flows.backfill import backfill

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
    assert summary.fitted == 3
    pd.testing.assert_frame_equal(_forecasts(dask_db), _forecasts(threads_db))
    pd.testing.assert_frame_equal(_weeks(dask_db), _weeks(threads_db))
    assert set(_forecasts(dask_db)["model"]) == set(DEFAULT_MODELS)
