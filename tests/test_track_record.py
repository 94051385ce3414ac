"""The track record's forecasts: which weekly dates it needs, and filling them from the vintages.

Fits run on the real releases (every one held, so each Sunday sees the data known then); the
scores the report draws from them are tested on small hand-made frames.
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from report_store import save_payload

from forecasting import metrics, store
from forecasting.report import accuracy
from forecasting.track_record import TrackRecordProgress, fill_track_record, track_record_dates


@pytest.fixture
def vintages(releases_store: Path, tmp_path: Path) -> Path:
    db = tmp_path / "crossings.duckdb"
    shutil.copy2(releases_store, db)
    return db


def test_track_record_dates_are_sundays_whose_week_has_ended() -> None:
    thursday = date(2026, 2, 26)
    assert track_record_dates(thursday, 3) == [
        date(2026, 2, 1),
        date(2026, 2, 8),
        date(2026, 2, 15),
    ]
    sunday = date(2026, 2, 22)
    assert track_record_dates(sunday, 1) == [date(2026, 2, 15)]  # its week ended on the 22nd
    dates = track_record_dates(thursday)
    assert len(dates) == 52 and all(d.weekday() == 6 for d in dates)
    assert all(b - a == timedelta(weeks=1) for a, b in zip(dates, dates[1:], strict=False))
    assert all(accuracy.target_week(d) == d + timedelta(days=7) <= thursday for d in dates)
    with pytest.raises(ValueError, match="at least 1"):
        track_record_dates(thursday, 0)


def test_target_week_is_the_first_whole_week_after() -> None:
    assert accuracy.target_week(date(2026, 2, 15)) == date(2026, 2, 22)  # Sunday: next week
    assert accuracy.target_week(date(2026, 2, 26)) == date(2026, 3, 8)  # Thursday: not this one
    assert accuracy.target_week(date(2026, 2, 28)) == date(2026, 3, 8)  # Saturday
    assert accuracy.target_week(date(2026, 2, 23)) == date(2026, 3, 8)  # Monday


def test_scores() -> None:
    actual = np.array([10.0, 20.0, 30.0, 40.0])
    assert metrics.coverage([5, 25, 0, 40], [15, 30, 40, 41], actual) == 0.75
    assert metrics.mae([12, 20, 27, 40], actual) == pytest.approx(5 / 4)
    assert metrics.relative_mae([12, 20, 27, 40], [20, 20, 20, 20], actual) == pytest.approx(
        (5 / 4) / (40 / 4)
    )
    assert np.isnan(metrics.relative_mae([1.0], [2.0], [2.0]))  # a perfect baseline: no ratio
    assert np.isnan(metrics.coverage([], [], []))


def test_week_ahead_record_takes_the_newest_forecast_of_each_week() -> None:
    weeks = pd.DataFrame(
        {
            "week_ending": [date(2025, 1, 5) + timedelta(weeks=k) for k in range(60)],
            "migrants_arrived": [100 + k for k in range(60)],
        }
    )
    last = weeks["week_ending"].iloc[-1]

    def row(as_of: date, week: date, p50: float, production: bool = True) -> dict:
        return {
            "as_of": as_of,
            "model": "ensemble" if production else "prophet",
            "production": production,
            "week_ending": week,
            "mean": p50,
            "p10": p50 - 5,
            "p50": p50,
            "p90": p50 + 5,
        }

    sunday = last - timedelta(weeks=1)
    earlier = pd.DataFrame(
        [
            row(sunday - timedelta(days=3), last, 1.0),  # Thursday before: superseded
            row(sunday, last, float(weeks["migrants_arrived"].iloc[-1]) + 4),  # newest: held
            row(sunday, last + timedelta(weeks=1), 5.0),  # two weeks ahead of it: not week-ahead
            row(sunday, last, 0.0, production=False),  # another model: not ours
            row(sunday - timedelta(weeks=1), sunday, 0.0),  # a miss, one week earlier
        ]
    )
    record = accuracy.week_ahead_record(earlier, weeks)
    assert record["week_ending"].tolist() == [sunday, last]
    assert record["as_of"].tolist() == [sunday - timedelta(weeks=1), sunday]
    assert record["inside_80"].tolist() == [False, True]
    assert record["same_week_last_year"].tolist() == [158 - 52, 159 - 52]
    summary = accuracy.summarise(record)
    assert (summary.weeks, summary.held) == (2, 1)
    assert summary.typical_error == pytest.approx((158 + 4) / 2)
    assert summary.naive_error == pytest.approx(52.0) and summary.beats_naive is False
    assert accuracy.summarise(accuracy.week_ahead_record(earlier.head(0), weeks)) is None


def test_fill_fits_what_is_missing_from_the_data_known_then(vintages: Path) -> None:
    held = date(2026, 2, 8)
    read = store.read_as_of(vintages, held)
    payload = {
        "as_of": held.isoformat(),
        "model": "ensemble",
        "weekly": [{"week_ending": "2026-02-15", "mean": 1.0, "p10": 0.0, "p50": 1.0, "p90": 2.0}],
        "year_end": {
            "year": 2026,
            "observed_ytd": 1,
            "mean": 1.0,
            "p10": 1.0,
            "p50": 1.0,
            "p90": 1.0,
            "prob_exceeds": {},
        },
    }
    save_payload(vintages, payload, read)
    events: list[TrackRecordProgress] = []
    out = fill_track_record(vintages, date(2026, 2, 26), 3, progress=events.append)
    assert out.wanted == [date(2026, 2, 1), held, date(2026, 2, 15)]
    assert out.already_held == [held] and out.fitted == [date(2026, 2, 1), date(2026, 2, 15)]
    assert out.failed == {}
    stored = store.read_frame(vintages, "SELECT * FROM forecasts ORDER BY as_of")
    assert stored["as_of"].dt.date.tolist() == out.wanted
    assert stored["production"].all() and set(stored["model"]) == {"ensemble"}
    assert stored["year_end_p50"].iloc[1] == 1.0  # the forecast already held is left alone
    for day, row in zip(out.wanted, stored.itertuples(), strict=True):
        known = store.read_as_of(vintages, day)  # the vintage: data as known that Sunday
        assert row.data_through.date() == known.data_through < day
        assert list(row.publications) == list(known.publications)
    weeks = store.read_frame(vintages, "SELECT as_of, week_ending FROM forecast_weeks")
    for day in out.fitted:  # each holds the week it is judged on
        assert (day + timedelta(days=7)) in set(
            weeks[weeks["as_of"].dt.date == day]["week_ending"].dt.date
        )
    steps = [e.step for e in events]
    assert steps[0] == "planned" and steps[-1] == "done" and "stored" in steps
    fitted = [e for e in events if e.step == "fitted"]
    assert [(e.as_of, e.done, e.total) for e in fitted] == [
        (date(2026, 2, 1), 1, 2),
        (date(2026, 2, 15), 2, 2),
    ]
    assert fitted[0].remaining_seconds is not None and "fitted" in fitted[0].message
    again = fill_track_record(vintages, date(2026, 2, 26), 3)  # nothing left to do
    assert again.fitted == [] and again.already_held == out.wanted


def test_fill_records_dates_it_cannot_fit(vintages: Path) -> None:
    out = fill_track_record(vintages, date(2018, 1, 6), 1)  # 24 Dec 2017: before any figure
    assert out.wanted == [date(2017, 12, 24)] and out.fitted == []
    assert out.failed == {date(2017, 12, 24): "no figures known on that date"}
    assert "1 could not be fitted" in out.describe()
