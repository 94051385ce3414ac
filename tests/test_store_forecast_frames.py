"""Forecasts in the long shape go into the store and come back the same, in one transaction."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from forecasting import store
from forecasting.frames import (
    CUMULATIVE_COLUMNS,
    MILESTONE_COLUMNS,
    RUN_COLUMNS,
    WEEKLY_COLUMNS,
    YEAR_END_COLUMNS,
    ForecastFrames,
)
from forecasting.store.forecast_frames import read_forecast_frames, save_forecast_frames


def hand_made(as_of: date, models: tuple[str, ...] = ("ensemble", "naive"), shift: float = 0.0):
    """Frames for one as_of, as a fit would return them (two models, 3 weeks, 2 milestones)."""
    runs, weekly, year_end, cumulative, milestones = [], [], [], [], []
    first_sunday = as_of + timedelta(days=6 - as_of.weekday())
    for i, model in enumerate(models):
        base = 100.0 * (i + 1) + shift
        misses = json.dumps({"2024": 0.3, "2025": -0.1 - shift / 100}) if i == 0 else None
        runs.append([as_of, model, i == 0, as_of - timedelta(days=1), 3, 1.1, 0.9,
                     "pre-origin errors", misses])  # fmt: skip
        for h in range(1, 4):
            week = first_sunday + timedelta(weeks=h - 1)
            days = 3 if h == 1 else 0
            weekly.append([as_of, model, week, h, days, 42.0 if days else 0.0,
                           base + h, base, base + h + 0.5, base + 2 * h])  # fmt: skip
        year_end.append([as_of, model, as_of.year, 1234.0, 40_000.5 + base, 30_000.0,
                         40_000.0, 50_000.0])  # fmt: skip
        for k in range(3):
            week = first_sunday + timedelta(weeks=k)
            cumulative.append([as_of, model, week, 1234.0 + k * base, 1200.0, 1230.0, 1300.0])
        milestones.append([as_of, model, as_of.year, "year_total", "2025", 41_472.0, 0.35,
                           date(as_of.year, 11, 1), date(as_of.year, 12, 1), None])  # fmt: skip
        milestones.append([as_of, model, as_of.year, "round", "50,000", 50_000.0, 0.1,
                           None, None, None])  # fmt: skip
    return ForecastFrames(
        runs=pd.DataFrame(runs, columns=RUN_COLUMNS),
        weekly=pd.DataFrame(weekly, columns=WEEKLY_COLUMNS),
        year_end=pd.DataFrame(year_end, columns=YEAR_END_COLUMNS),
        cumulative=pd.DataFrame(cumulative, columns=CUMULATIVE_COLUMNS),
        milestones=pd.DataFrame(milestones, columns=MILESTONE_COLUMNS),
    )


def _same(got: pd.DataFrame, want: pd.DataFrame, columns: list[str]) -> None:
    got = got[columns].sort_values(columns[:3]).reset_index(drop=True)
    want = want[columns].sort_values(columns[:3]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_frames_round_trip(db_path: Path, latest_store: Path) -> None:
    as_of = date(2026, 2, 26)
    frames = ForecastFrames.concat([hand_made(as_of), hand_made(date(2026, 2, 19), shift=5)])
    read = store.read_as_of(latest_store, as_of)
    assert save_forecast_frames(db_path, frames, {as_of: read}) == 4

    back = read_forecast_frames(db_path)
    for name, columns in [
        ("runs", RUN_COLUMNS),
        ("weekly", WEEKLY_COLUMNS),
        ("year_end", YEAR_END_COLUMNS),
        ("cumulative", CUMULATIVE_COLUMNS),
    ]:
        _same(getattr(back, name), getattr(frames, name), columns)  # fmt: skip
    milestones = back.milestones.sort_values(["as_of", "model", "threshold"])
    want = frames.milestones.sort_values(["as_of", "model", "threshold"])
    assert milestones["label"].tolist() == want["label"].tolist()
    assert milestones["date_p50"].tolist() == want["date_p50"].tolist()  # None stays None
    assert all(isinstance(d, date) for d in back.weekly["week_ending"])

    # What it was fitted on is recorded as a list of sha256; no read given -> NULL.
    runs = back.runs.set_index(["as_of", "model"])
    assert list(runs.loc[(as_of, "ensemble"), "publications"]) == read.publications
    assert runs.loc[(as_of, "ensemble"), "as_of_rule"] == "vintage"
    assert runs.loc[(date(2026, 2, 19), "naive"), "publications"] in (None, pd.NA)

    # The legacy JSON column is derived from the year_total milestones.
    legacy = store.read_frame(
        db_path, "SELECT prob_exceeds FROM forecasts WHERE as_of = ? AND model = 'naive'", [as_of]
    )
    assert json.loads(legacy["prob_exceeds"][0]) == {"2025": 0.35}

    only = read_forecast_frames(db_path, as_of, production_only=True)
    assert set(only.runs["model"]) == {"ensemble"} and set(only.weekly["as_of"]) == {as_of}
    assert len(only.weekly) == 3 and len(only.milestones) == 2


def test_saving_again_replaces_the_whole_forecast(db_path: Path) -> None:
    as_of = date(2026, 2, 26)
    save_forecast_frames(db_path, hand_made(as_of))
    fewer = hand_made(as_of, models=("ensemble",), shift=7)
    fewer = ForecastFrames(
        runs=fewer.runs, weekly=fewer.weekly.head(2), year_end=fewer.year_end,
        cumulative=fewer.cumulative, milestones=fewer.milestones.head(1),
    )  # fmt: skip
    save_forecast_frames(db_path, fewer)
    back = read_forecast_frames(db_path, as_of, models=["ensemble"])
    assert len(back.weekly) == 2 and len(back.milestones) == 1  # no stale rows left behind
    assert back.year_end["mean"].iloc[0] == pytest.approx(40_000.5 + 107)
    naive = read_forecast_frames(db_path, as_of, models=["naive"])  # untouched
    assert len(naive.weekly) == 3


def test_a_failed_save_leaves_the_previous_forecast_whole(db_path: Path) -> None:
    as_of = date(2026, 2, 26)
    save_forecast_frames(db_path, hand_made(as_of))
    broken = hand_made(as_of, shift=9)
    weekly = broken.weekly.copy()
    weekly.loc[0, "mean"] = None  # forecast_weeks.mean is NOT NULL: the insert fails midway
    broken = ForecastFrames(broken.runs, weekly, broken.year_end, broken.cumulative,
                            broken.milestones)  # fmt: skip
    with pytest.raises(duckdb.ConstraintException):
        save_forecast_frames(db_path, broken)
    back = read_forecast_frames(db_path, as_of)
    _same(back.year_end, hand_made(as_of).year_end, YEAR_END_COLUMNS)
    assert len(back.weekly) == 6


def test_a_run_without_year_end_is_refused(db_path: Path) -> None:
    frames = hand_made(date(2026, 2, 26))
    frames = ForecastFrames(frames.runs, frames.weekly, frames.year_end.head(1),
                            frames.cumulative, frames.milestones)  # fmt: skip
    with pytest.raises(ValueError, match="no year_end row"):
        save_forecast_frames(db_path, frames)
    assert read_forecast_frames(db_path).runs.empty


class _Read:
    publications = ["a" * 64, "b" * 64]
    rule = "vintage"
    data_through = date(2026, 2, 25)


def test_frames_and_legacy_payloads_share_the_cache(db_path: Path) -> None:
    """held_forecasts sees forecasts written either way, with their horizon and publications."""
    as_of = date(2026, 2, 26)
    save_forecast_frames(db_path, hand_made(as_of), {as_of: _Read()})
    held = store.held_forecasts(db_path, [as_of], horizon_weeks=3)
    assert held[as_of]["ensemble"] == tuple(_Read.publications)
    assert store.held_forecasts(db_path, [as_of], horizon_weeks=13) == {}


def test_is_a_forecast_held_has_two_answers_chosen_by_name(db_path: Path) -> None:
    """SAME_PUBLICATIONS (forecast, backfill): these models and horizon, fitted on exactly these
    publications. ANY_PRODUCTION (the track record): any production forecast of that date."""
    as_of, other, empty = date(2026, 2, 26), date(2026, 2, 19), date(2026, 2, 12)
    save_forecast_frames(db_path, hand_made(as_of), {as_of: _Read()})
    not_production = hand_made(other)
    not_production.runs["production"] = False
    save_forecast_frames(db_path, not_production, {other: _Read()})
    dates, pubs = [as_of, other, empty], _Read.publications

    def same(publications: list[str], models: list[str], horizon_weeks: int = 3) -> set[date]:
        return store.forecasts_held(
            db_path,
            dates,
            store.HeldIf.SAME_PUBLICATIONS,
            publications=dict.fromkeys(dates, publications),
            models=models,
            horizon_weeks=horizon_weeks,
        )

    assert same(pubs, ["ensemble", "naive"]) == {as_of, other}
    assert same(pubs[:1], ["ensemble"]) == set()  # other figures since: refit
    assert same(pubs, ["ensemble", "prophet"]) == set()  # a model not held
    assert same(pubs, ["naive"], horizon_weeks=13) == set()  # another horizon
    any_production = store.HeldIf.ANY_PRODUCTION
    assert store.forecasts_held(db_path, dates, any_production) == {as_of}
    assert store.forecasts_held(db_path, [], any_production) == set()
    with pytest.raises(ValueError, match="needs each date's publications"):
        store.forecasts_held(db_path, dates, store.HeldIf.SAME_PUBLICATIONS)
