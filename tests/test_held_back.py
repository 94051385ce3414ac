"""A release held back for review does not move the figures' last day.

The store holds an official release with data to 26 February 2026 and a later one, with data to
27 February, held back because it rewrites 2024's total (forecasting/store/review.py). The
figures' last day is the last OFFICIAL day (`store.last_official_day`): `crossings forecast`
forecasts as of 26 February and refuses 27 February, the nightly (`crossings run`) reports
figures to 26 February and judges staleness from it, and the report's stale banner names it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from ods_factory import daily_rows, write_release

from forecasting import store
from forecasting.calendar import london_today
from forecasting.ingest import ingest_source

pytestmark = pytest.mark.integration  # the nightly runs its flow against a Prefect API

OFFICIAL, HELD = date(2026, 2, 26), date(2026, 2, 27)


@pytest.fixture
def held_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """(the store, the held release's file): official to 26 February, held to 27 February."""
    monkeypatch.delenv("CROSSINGS_SOURCE", raising=False)
    monkeypatch.setenv("CROSSINGS_LOG_DIR", str(tmp_path / "logs"))
    db = tmp_path / "crossings.duckdb"
    assert ingest_source(db, write_release(tmp_path / "a", date(2026, 2, 27))).stored
    rows = daily_rows(HELD)
    for row in rows[1:]:
        if row[0].year == 2024:  # 2024's total up by about a tenth: held for review
            row[1] = round(row[1] * 1.10)
            row[2] = min(row[2], row[1])
    held = write_release(tmp_path / "b", date(2026, 2, 28), daily=rows)
    outcome = ingest_source(db, held)
    assert outcome.held and not outcome.is_latest
    assert store.last_official_day(db) == OFFICIAL
    # the store does hold a later day, only not an official one
    assert _dates(db, "SELECT max(data_through) AS d FROM publications") == [HELD]
    return db, held


def _dates(db: Path, sql: str) -> list[date]:
    """The one column of a query's rows, as dates."""
    frame = store.read_frame(db, sql)
    return [d.date() if hasattr(d, "date") else d for d in frame.iloc[:, 0]]


def _stale_line(day: date) -> str:
    age = (london_today() - day).days
    return f"stale: the figures end on {day.day} {day:%B %Y}, {age} days ago (stale after 8)"


def test_forecast_uses_the_last_official_day(held_back: tuple[Path, Path], crossings) -> None:
    db, _ = held_back
    run = crossings(["forecast", "--db", db])
    assert run.status == 0, run.stderr
    assert '"as_of": "2026-02-26"' in run.stdout and '"data_through": "2026-02-26"' in run.stdout
    assert _dates(db, "SELECT DISTINCT as_of FROM forecasts") == [OFFICIAL]
    assert _dates(db, "SELECT DISTINCT data_through FROM forecasts") == [OFFICIAL]
    refused = crossings(["forecast", "--as-of", "2026-02-27", "--db", db])
    assert refused.status == 2
    assert "is after the last day with figures (26 February 2026)" in refused.stderr


def test_the_nightly_and_its_report_use_the_last_official_day(
    prefect_api: None,
    held_back: tuple[Path, Path],
    tmp_path: Path,
    crossings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db, held = held_back
    monkeypatch.setenv("CROSSINGS_STALE_AFTER_DAYS", "8")
    reports = tmp_path / "reports"
    run = crossings(["run", "--source", held, "--db", db, "--reports-dir", reports])
    assert run.status == 10, run.stderr  # stale, as documented: judged from 26 February
    assert _stale_line(OFFICIAL) in run.stderr, run.stderr
    assert "figures to 26 February 2026" in run.stdout and "forecast as of 2026-02-26" in run.stdout
    # the newest forecast (the track record's weekly ones are older) is as of 26 February
    assert _dates(db, "SELECT max(as_of) FROM forecasts") == [OFFICIAL]
    page = (reports / "2026-02-26" / "index.html").read_text(encoding="utf-8")
    assert "the newest publication held runs to 26 February 2026" in page
    assert not (reports / "2026-02-27").exists()


def test_the_alerts_name_the_last_official_day(held_back: tuple[Path, Path]) -> None:
    """The quiet-source alert: the held release was published (the source is not quiet), but
    the figures it cites run to the last official day."""
    from forecasting.alerts import quiet_alerts
    from forecasting.settings import Settings
    from forecasting.store.alert_reads import source_freshness

    db, _ = held_back
    row = source_freshness(db).set_index("kind").loc["weekly_release"]
    assert pd.Timestamp(row["last_published"]).date() == date(2026, 2, 28)
    assert pd.Timestamp(row["data_through"]).date() == OFFICIAL
    (alert,) = quiet_alerts(source_freshness(db), date(2026, 3, 31), Settings())
    assert "31 days ago" in alert.body and "its figures run to 26 February 2026" in alert.body
