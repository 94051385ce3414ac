"""Forecast scores: the one implementation the backtests and the report share."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting import metrics


def test_mae_pinball_coverage_rmsse() -> None:
    assert metrics.mae([1, 2, 3], [2, 2, 5]) == pytest.approx(1.0)
    # the 0.9 quantile: under-forecasts cost 0.9 a unit, over-forecasts 0.1
    assert metrics.pinball_loss([10, 10], [20, 0], 0.9) == pytest.approx((9 + 1) / 2)
    assert metrics.coverage([0, 5], [10, 6], [10, 7]) == pytest.approx(0.5)  # bounds included
    assert metrics.rmsse([1, 1], [3, 3], 4.0) == pytest.approx(1.0)


def test_roughness_is_zero_for_a_straight_line_and_large_for_a_zigzag() -> None:
    smooth = np.exp(np.linspace(5, 6, 13))
    zigzag = np.where(np.arange(13) % 2, 100.0, 1000.0)
    assert metrics.roughness(smooth) == pytest.approx(0.0, abs=1e-12)
    assert metrics.roughness(zigzag) > 2.0


def _weekly(model: str, horizons: list[int], inside: list[bool]) -> pd.DataFrame:
    rows = []
    for i, (h, ok) in enumerate(zip(horizons, inside, strict=True)):
        actual = 100.0 if ok else 500.0
        rows.append(
            {"model": model, "as_of": f"o{i // 13}", "horizon": h, "p10": 50.0, "p50": 100.0,
             "p90": 200.0, "actual": actual, "naive": 150.0}
        )  # fmt: skip
    return pd.DataFrame(rows)


def test_coverage_by_horizon_band() -> None:
    """Weeks 1-4, 5-8 and 9-13 are scored apart: a model that fails only far ahead shows it."""
    horizons = list(range(1, 14)) * 4
    inside = [h <= 8 or k % 2 == 0 for k in range(4) for h in range(1, 14)]
    scores = metrics.weekly_scores(_weekly("m", horizons, inside)).set_index("model")
    assert scores.loc["m", "coverage weeks 1-4"] == 1.0
    assert scores.loc["m", "coverage weeks 5-8"] == 1.0
    assert scores.loc["m", "coverage weeks 9-13"] == pytest.approx(0.5)
    assert scores.loc["m", "coverage_80"] == pytest.approx(sum(inside) / len(inside))
    assert scores.loc["m", "n_origins"] == 4 and scores.loc["m", "n_weeks"] == 52


def test_mae_is_relative_to_the_seasonal_naive_on_the_same_weeks() -> None:
    frame = _weekly("m", list(range(1, 14)), [True] * 13)
    frame.loc[0, "naive"] = np.nan  # a week without last year's value is not scored
    scores = metrics.weekly_scores(frame).set_index("model")
    assert scores.loc["m", "n_weeks"] == 12
    assert scores.loc["m", "mae_vs_naive"] == pytest.approx(0.0)
    frame["p50"] = 150.0
    assert metrics.weekly_scores(frame).iloc[0]["mae_vs_naive"] == pytest.approx(1.0)


def test_year_end_scores_use_the_median() -> None:
    ye = pd.DataFrame(
        {"model": ["m", "m"], "p10": [80.0, 105.0], "p50": [90.0, 120.0], "p90": [150.0, 130.0],
         "mean": [500.0, 500.0], "actual": [100.0, 100.0]}
    )  # fmt: skip
    s = metrics.year_end_scores(ye).iloc[0]
    assert s["mape_median"] == pytest.approx(0.15)
    assert s["hits"] == 1 and s["n"] == 2
