"""forecast_as_of on the real 27 Feb 2026 release: the long frames, partial weeks, as-of rules."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting.contract import published
from forecasting.forecast import forecast_as_of
from forecasting.frames import (
    CUMULATIVE_COLUMNS,
    MILESTONE_COLUMNS,
    RUN_COLUMNS,
    WEEKLY_COLUMNS,
    YEAR_END_COLUMNS,
)
from forecasting.metrics import roughness
from forecasting.models import DEFAULT_MODELS, PRODUCTION_MODEL
from forecasting.sources.release import read_release

AS_OF = date(2026, 2, 26)  # a Thursday, the last day in the release


@pytest.fixture(scope="module")
def daily(latest_release: Path) -> pd.DataFrame:
    return read_release(latest_release).daily


@pytest.fixture(scope="module")
def frames(daily: pd.DataFrame):
    return forecast_as_of(daily, AS_OF)


def _sum(daily: pd.DataFrame, start: date, end: date) -> int:
    d = daily["date"]
    return int(daily.loc[(d >= start) & (d <= end), "migrants_arrived"].sum())


def test_frames_have_every_default_model_in_the_long_shape(frames) -> None:
    assert list(frames.runs.columns) == RUN_COLUMNS
    assert list(frames.weekly.columns) == WEEKLY_COLUMNS
    assert list(frames.year_end.columns) == YEAR_END_COLUMNS
    assert list(frames.cumulative.columns) == CUMULATIVE_COLUMNS
    assert list(frames.milestones.columns) == MILESTONE_COLUMNS
    assert list(frames.runs["model"]) == list(DEFAULT_MODELS)
    assert frames.runs.set_index("model")["production"].to_dict()[PRODUCTION_MODEL]
    assert frames.runs["production"].sum() == 1
    assert (frames.runs["data_through"] == AS_OF).all()
    for _, weeks in frames.weekly.groupby("model"):
        assert list(weeks["horizon"]) == list(range(1, 14))
        ends = list(weeks["week_ending"])
        assert all(e.weekday() == 6 for e in ends)
        assert all(b - a == timedelta(days=7) for a, b in zip(ends, ends[1:], strict=False))
        assert ends[0] - timedelta(days=6) <= AS_OF + timedelta(days=1) <= ends[0]


def test_quantiles_are_ordered_and_non_negative(frames) -> None:
    for frame in (frames.weekly, frames.year_end, frames.cumulative):
        q = frame[["p10", "p50", "p90"]].to_numpy(float)
        assert (q >= 0).all()
        assert (np.diff(q, axis=1) >= -1e-9).all()
        assert (frame["mean"] >= 0).all()
    ye = frames.year_end
    assert (ye["year"] == 2026).all() and (ye["observed_ytd"] == 2209).all()
    assert (ye["p10"] >= 2209).all()


def test_the_part_observed_week_starts_from_what_was_seen(frames, daily) -> None:
    """Data cut on a Thursday: Monday-Thursday are known, Friday-Sunday forecast; the lower bound
    may be "no more crossings this week" but never below what was already counted."""
    first = frames.weekly[frames.weekly["horizon"] == 1]
    seen = _sum(daily, date(2026, 2, 23), AS_OF)
    assert (first["days_observed"] == 4).all()
    assert (first["observed"] == seen).all()
    assert (first["p10"] >= seen - 1e-6).all()
    later = frames.weekly[frames.weekly["horizon"] > 1]
    assert (later["days_observed"] == 0).all() and (later["observed"] == 0).all()


def test_a_sunday_as_of_starts_with_the_next_whole_week(daily) -> None:
    fr = forecast_as_of(daily, date(2026, 2, 22), models=["ensemble"])
    first = fr.weekly.iloc[0]
    assert first["week_ending"] == date(2026, 3, 1) and first["days_observed"] == 0


def test_no_look_ahead(daily) -> None:
    """A forecast as of D is unchanged when data after D changes or is added."""
    d = date(2025, 9, 4)
    before = forecast_as_of(daily, d)
    later = daily.copy()
    later.loc[later["date"] > d, "migrants_arrived"] = 9999
    extra = pd.DataFrame({"date": [date(2026, 2, 27)], "migrants_arrived": [5]})
    after = forecast_as_of(pd.concat([later, extra], ignore_index=True), d)
    for name in ("runs", "weekly", "year_end", "cumulative", "milestones"):
        pd.testing.assert_frame_equal(getattr(before, name), getattr(after, name))


def test_deterministic_for_a_seed(daily) -> None:
    a = forecast_as_of(daily, AS_OF, models=["ensemble"], seed=3)
    b = forecast_as_of(daily, AS_OF, models=["ensemble"], seed=3)
    pd.testing.assert_frame_equal(a.year_end, b.year_end)
    pd.testing.assert_frame_equal(a.weekly, b.weekly)


def test_data_ending_before_as_of_forecasts_the_gap(daily) -> None:
    """Published with a lag: the days between the data's end and as_of are forecast too."""
    fr = forecast_as_of(daily, date(2026, 3, 10), models=["ensemble"])
    assert fr.runs["data_through"].iloc[0] == AS_OF
    weeks = fr.weekly
    assert weeks.iloc[0]["week_ending"] == date(2026, 3, 15)
    assert (weeks["days_observed"] == 0).all()


def test_year_end_and_cumulative_come_from_the_same_paths(frames) -> None:
    prod = frames.production()
    cum = prod.cumulative.sort_values("week_ending")
    ye = prod.year_end.iloc[0]
    assert cum["week_ending"].iloc[-1] == date(2026, 12, 31)
    assert cum[["p10", "p50", "p90"]].iloc[-1].tolist() == pytest.approx(
        [ye["p10"], ye["p50"], ye["p90"]], abs=0.2
    )
    assert (np.diff(cum["p50"].to_numpy()) >= -1e-6).all()  # running totals only grow


def test_year_end_on_31_december_is_the_observed_total(daily) -> None:
    fr = forecast_as_of(daily, date(2025, 12, 31), models=["ensemble"])
    ye = fr.year_end.iloc[0]
    total = _sum(daily, date(2025, 1, 1), date(2025, 12, 31))
    assert ye["observed_ytd"] == total
    assert ye["p10"] == ye["p50"] == ye["p90"] == pytest.approx(total)


def test_milestones_rank_the_years_and_say_when(frames) -> None:
    m = frames.milestones.set_index("label")
    assert (frames.milestones["model"] == PRODUCTION_MODEL).all()
    # 2018 and 2019 (299; 1,843) are already passed by the 2,209 seen so far.
    assert m.loc["2019", "probability"] == 1.0 and m.loc["2019", "date_p50"] is not None
    years = frames.milestones[frames.milestones["kind"] == "year_total"]
    by_total = years.sort_values("threshold")["probability"].to_numpy()
    assert (np.diff(by_total) <= 1e-9).all()  # a bigger total is never likelier to be passed
    record = frames.milestones[frames.milestones["kind"] == "record"].iloc[0]
    assert record["label"] == "2022" and record["threshold"] == 45755
    for row in frames.milestones.to_dict("records"):
        if row["probability"] < 0.5:
            assert row["date_p50"] is None  # "unlikely this year": no median date
        dates = [row[c] for c in ("date_p10", "date_p50", "date_p90") if row[c] is not None]
        assert dates == sorted(dates)


def test_the_median_path_is_smooth(daily) -> None:
    """No single past week's weather is projected forward: the production median path's
    roughness stays under 0.10 at every origin tried (the issue's measure)."""
    for d in (date(2024, 3, 31), date(2024, 8, 4), date(2025, 5, 4), date(2025, 10, 5)):
        weeks = forecast_as_of(daily, d, models=["ensemble"]).weekly
        assert roughness(weeks.sort_values("horizon")["p50"]) <= 0.10, d


def test_level_check_is_stored_and_follows_the_data(frames) -> None:
    runs = frames.runs.set_index("model")
    assert runs["level_trailing"].notna().all() and runs["level_implied"].notna().all()
    # The last 13 weeks ran at 0.72 of the same weeks of 2025: every member carries a fall on
    # last year into the next 13 weeks (none stays at last year's level, a ratio of 1), and the
    # ensemble's implied ratio is within half of the trailing one either way.
    trailing = runs.loc["ensemble", "level_trailing"]
    assert trailing == pytest.approx(0.72, abs=0.01)
    for name in ("ensemble", "profile", "ets", "trend_fourier"):
        assert runs.loc[name, "level_implied"] < 0.95, name
    assert 0.5 * trailing < runs.loc["ensemble", "level_implied"] < 1.5 * trailing


def test_published_json_keeps_the_contract(frames) -> None:
    js = published(frames).model_dump(mode="json")
    assert list(js) == ["as_of", "model", "weekly", "year_end", "data_through"]
    assert js["as_of"] == "2026-02-26" and js["model"] == PRODUCTION_MODEL
    assert js["data_through"] == "2026-02-26"
    assert len(js["weekly"]) == 13
    assert list(js["weekly"][0]) == [
        "week_ending",
        "mean",
        "p10",
        "p50",
        "p90",
        "days_observed",
        "part_observed",
    ]
    assert js["weekly"][0]["part_observed"] and not js["weekly"][1]["part_observed"]
    ye = js["year_end"]
    assert list(ye) == ["year", "observed_ytd", "mean", "p10", "p50", "p90", "prob_exceeds"]
    assert list(ye["prob_exceeds"]) == [str(y) for y in range(2025, 2017, -1)]
    assert ye["prob_exceeds"]["2019"] == 1.0


def test_bad_arguments(daily) -> None:
    with pytest.raises(ValueError, match="horizon_weeks"):
        forecast_as_of(daily, AS_OF, horizon_weeks=0)
    with pytest.raises(ValueError, match="no daily rows"):
        forecast_as_of(daily, date(2017, 1, 1))
    with pytest.raises(ValueError, match="unknown model"):
        forecast_as_of(daily, AS_OF, models=["crystal_ball"])


def test_first_weeks_of_the_data(daily) -> None:
    """Early 2018: a few weeks of history still give a forecast, wide but valid."""
    fr = forecast_as_of(daily, date(2018, 2, 15), models=["ensemble"])
    q = fr.weekly[["p10", "p50", "p90"]].to_numpy(float)
    assert (q >= 0).all() and (np.diff(q, axis=1) >= 0).all()
