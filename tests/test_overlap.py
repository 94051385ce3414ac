"""Overlapping runs on one DuckDB file all finish and lose nothing.

DuckDB lets one process hold a file at a time. A nightly run, a backfill and a series of ingests
started together, as real `crossings` processes, must each wait their turn for short
transactions (never holding the file while fitting) and all exit 0, with every publication and
every as-of forecast stored.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from forecasting.calendar import as_of_dates
from forecasting.models import DEFAULT_MODELS

ROOT = Path(__file__).resolve().parents[1]
ALL_MODELS = set(DEFAULT_MODELS)  # what a forecast fits unless told otherwise


def _crossings() -> list[str]:
    script = Path(sys.executable).with_name("crossings")
    return [str(script)] if script.exists() else [sys.executable, "-m", "flows.cli"]


@pytest.mark.slow
@pytest.mark.integration
def test_nightly_backfill_and_ingests_overlap(
    tmp_path: Path, release_paths: list[Path], latest_release: Path
) -> None:
    from forecasting.ingest import ingest_source
    from forecasting.store import read_frame
    from forecasting.track_record import track_record_dates

    db, reports = tmp_path / "crossings.duckdb", tmp_path / "reports"
    ingest_source(db, release_paths[0])  # the backfill needs something to read
    others = release_paths[1:-1]
    env = {
        **os.environ,
        # The two Prefect processes share one Prefect home, as they would on a real machine.
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "CROSSINGS_DB": str(db),
        "CROSSINGS_LOG_DIR": str(tmp_path / "logs"),
        # The releases are from February 2026: counted fresh here, so every exit status is 0.
        "CROSSINGS_STALE_AFTER_DAYS": "100000",
    }
    env.pop("PREFECT_API_URL", None)  # each starts its own temporary API, offline
    crossings = _crossings()
    # The Prefect processes spend their first seconds starting a temporary API; start the
    # ingests a little later so they land while the others read, fit and write.
    ingests = "sleep 8 && " + " && ".join(
        f"{' '.join(crossings)} ingest --source '{p}'" for p in others
    )
    commands = {
        "run": [*crossings, "run", "--source", str(latest_release), "--reports-dir", str(reports)],
        "backfill": [
            *crossings,
            "backfill",
            "--start",
            "2025-06-01",
            "--end",
            "2025-07-13",
            "--every",
            "1W",
        ],
        "ingest": ["sh", "-c", ingests],
    }
    started = time.perf_counter()
    procs = {
        name: subprocess.Popen(
            argv,
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for name, argv in commands.items()
    }
    timings: dict[str, float] = {}
    try:
        while len(timings) < len(procs) and time.perf_counter() - started < 400:
            for name, proc in procs.items():
                if name not in timings and proc.poll() is not None:
                    timings[name] = round(time.perf_counter() - started, 1)
            time.sleep(0.2)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
    outputs = {name: proc.communicate()[0] for name, proc in procs.items()}
    print("finished after (s):", timings)
    for name, proc in procs.items():
        assert proc.returncode == 0, f"{name} exited {proc.returncode}:\n{outputs[name][-3000:]}"

    held = read_frame(db, "SELECT file_name FROM publications")
    assert set(held["file_name"]) == {p.name for p in [release_paths[0], *others, latest_release]}

    forecasts = read_frame(db, "SELECT as_of, model, production FROM forecasts")
    wanted = {*as_of_dates(date(2025, 6, 1), date(2025, 7, 13), "1W"), date(2026, 2, 26)}
    # the nightly run also fills its track record: the production model as of the last 52
    # Sundays, where the backfill had not already stored every model
    track = set(track_record_dates(date(2026, 2, 26))) - wanted
    by_date = forecasts.groupby(forecasts["as_of"].dt.date)
    assert set(by_date.groups) == wanted | track
    for as_of, rows in by_date:
        assert set(rows["model"]) == (ALL_MODELS if as_of in wanted else {"ensemble"}), as_of
        assert rows["production"].sum() == 1, as_of
    weeks = read_frame(db, "SELECT count(*) AS n FROM forecast_weeks")
    assert weeks["n"].iloc[0] == (len(wanted) * len(ALL_MODELS) + len(track)) * 13
    assert (reports / "index.html").is_file()
    assert (reports / "2026-02-26" / "index.html").is_file()
