"""Backtest metrics on hand-made arrays, origin calendars, and one small real backtest."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting import backtest as bt
from forecasting.sources.release import read_release


def test_mae() -> None:
    assert bt.mae([1, 2, 3], [2, 2, 5]) == pytest.approx(1.0)


def test_pinball_loss() -> None:
    assert bt.pinball_loss([10], [12], 0.9) == pytest.approx(1.8)
    assert bt.pinball_loss([10], [5], 0.9) == pytest.approx(0.5)
    assert bt.pinball_loss([10, 10], [12, 5], 0.5) == pytest.approx((1.0 + 2.5) / 2)


def test_coverage_includes_bounds() -> None:
    assert bt.coverage([0, 0, 0, 5], [10, 10, 10, 6], [0, 10, 11, 5.5]) == pytest.approx(0.75)


def test_rmsse() -> None:
    assert bt.rmsse([1, 1], [3, -1], 4.0) == pytest.approx(1.0)
    assert bt.rmsse([0, 0], [2, 2], [1.0, 4.0]) == pytest.approx(np.sqrt((4 + 1) / 2))


def test_score_forecasts_relative_to_naive() -> None:
    df = pd.DataFrame(
        {
            "origin": [date(2024, 1, 7)] * 4,
            "model": ["a", "a", "b", "b"],
            "week_ending": [date(2024, 1, 14), date(2024, 1, 21)] * 2,
            "horizon": [1, 2, 1, 2],
            "mean": [10, 20, 10, 20],
            "p10": [5, 5, 0, 0],
            "p50": [10, 20, 12, 24],
            "p90": [15, 15, 30, 30],
            "actual": [12.0, 18.0, 12.0, 18.0],
            "naive": [8.0, 22.0, 8.0, 22.0],
            "scale": [4.0] * 4,
        }
    )
    s = bt.score_forecasts(df).set_index("model")
    assert s.loc["a", "mae_vs_naive"] == pytest.approx(2 / 4)
    assert s.loc["b", "mae_vs_naive"] == pytest.approx(3 / 4)
    assert s.loc["a", "coverage_80"] == pytest.approx(0.5)
    assert s.loc["b", "coverage_80"] == pytest.approx(1.0)
    assert s.loc["a", "n_weeks"] == 2 and s.loc["a", "n_origins"] == 1
    text = bt.format_scores(s.reset_index())
    assert "a" in text and "MAE/naive" in text and "50.0%" in text


def test_origins() -> None:
    o = bt.origins_between(date(2022, 1, 1), date(2022, 3, 31), "4W")
    assert o == [date(2022, 1, 2), date(2022, 1, 30), date(2022, 2, 27), date(2022, 3, 27)]
    assert all(
        d.weekday() == 6 for d in bt.origins_between(date(2022, 1, 1), date(2022, 12, 31), "1W")
    )
    with pytest.raises(ValueError):
        bt.origins_between(date(2022, 1, 1), date(2022, 3, 31), "4D")
    assert bt.year_end_origins(date(2022, 4, 1), date(2023, 6, 30)) == [
        date(2022, 6, 30),
        date(2022, 9, 30),
        date(2023, 3, 31),
        date(2023, 6, 30),
    ]


@pytest.mark.slow
def test_small_backtest_on_real_data(latest_release: Path) -> None:
    daily = read_release(latest_release).daily
    calls: list[date] = []

    def daily_as_of(d: date) -> pd.DataFrame:
        calls.append(d)
        return daily[daily["date"] <= d]

    seen: list[tuple[int, int]] = []
    models = ["seasonal_naive", "profile", "ensemble"]
    res = bt.run_backtest(
        daily_as_of,
        date(2024, 1, 1),
        date(2024, 4, 30),
        every="4W",
        horizon_weeks=4,
        models=models,
        progress=lambda i, n: seen.append((i, n)),
        actuals=daily,
    )
    assert list(res.scores.columns) == bt.SCORE_COLUMNS
    assert list(res.scores["model"]) == models
    assert (res.scores["n_origins"] == 5).all() and (res.scores["n_weeks"] == 20).all()
    assert res.scores["coverage_80"].between(0, 1).all()
    assert (res.scores["mae_vs_naive"] > 0).all()
    assert seen[-1] == (5, 5)  # 31 March 2024 is itself one of the 5 Sunday origins
    assert date(2024, 3, 31) in calls
    ye = res.year_end
    assert list(ye["model"]) == models and (ye["actual"] == 36816).all()
    assert (ye["origin"] == date(2024, 3, 31)).all()
    f = res.forecasts
    assert (f["week_ending"] > f["origin"]).all()
    assert (f["p10"] <= f["p90"]).all() and f["actual"].notna().all()
    summary = bt.summarise_year_end(ye)
    assert (summary["n"] == 1).all()
