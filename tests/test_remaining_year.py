"""The rest of the year's spread: past misses in units of each past forecast's own spread
(models/remaining.py), and what the paths said at those past origins (models/past_paths.py)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting.models.remaining import (
    OFFSET,
    SEASON_WEEKS,
    Z90,
    RemainingErrors,
    own_spread,
    remaining_errors,
    rescale_remaining,
    rest_of_year,
    season_origins,
    widening,
)

SUNDAYS = np.arange(np.datetime64("2018-01-07"), np.datetime64("2022-08-14"), 7)


def _truth(y: np.ndarray) -> np.ndarray:
    """What was left of its year after each origin (NaN where not all known)."""
    out = np.full(len(y), np.nan)
    for o, end in enumerate(SUNDAYS[: len(y)]):
        k, share = rest_of_year(end)
        if o + k < len(y):
            out[o] = float((y[o + 1 : o + k + 1] * share).sum())
    return out


def test_rescaled_remaining_keeps_ranks_median_and_scales_the_paths_own_spread() -> None:
    rng = np.random.default_rng(1)
    steps = rng.gamma(5.0, 100.0, size=(2000, 6))
    misses = np.array([0.5, -0.6, 0.7, -0.5])  # in units of each past forecast's spread
    out = rescale_remaining(steps, RemainingErrors(misses**2, misses), np.random.default_rng(0))
    before, after = steps.sum(axis=1), out.sum(axis=1)
    assert (np.argsort(before) == np.argsort(after)).mean() > 0.99  # rank order kept
    assert np.median(after) == pytest.approx(np.median(before), rel=0.02)
    # the spread: the paths' own, times the past misses' root mean square, widened for 4 years
    expected = own_spread(np.log(before + OFFSET)) * np.sqrt(np.mean(misses**2)) * widening(4)
    assert own_spread(np.log(after + OFFSET)) == pytest.approx(expected, rel=0.05)
    # each path's weeks scaled by one factor: its shape across the weeks is unchanged
    assert np.allclose(out / after[:, None], steps / before[:, None])
    none = rescale_remaining(steps, None, np.random.default_rng(0))
    assert none is steps


def test_misses_are_measured_from_each_past_forecasts_centre_in_its_own_spread() -> None:
    y = np.full(len(SUNDAYS), 1000.0)
    truth = _truth(y)
    centres = truth / 2  # every past forecast half the outcome
    by_year = {2019: 0.5, 2020: 0.25, 2021: 1.0}  # how unsure each year's paths were
    year = SUNDAYS.astype("datetime64[Y]").astype(int) + 1970
    spreads = np.array([by_year.get(int(v), 1.0) for v in year])
    errors = remaining_errors(y, SUNDAYS, centres, spreads)
    assert errors is not None
    assert list(errors.by_year()) == [2019, 2020, 2021]  # 2018's origins: no year of history
    # the report names the log-ratio miss; the width reads it over each origin's spread
    assert np.allclose(errors.at_point, np.log(2.0), atol=0.02)
    expected = [(np.log(2.0) / by_year[y]) ** 2 for y in (2019, 2020, 2021)]
    assert np.allclose(errors.mean_squares, expected, rtol=0.05)
    # in September 2020 only 2019 is a past year with a year of history: too few to calibrate
    assert remaining_errors(y[:140], SUNDAYS[:140], centres[:140], spreads[:140]) is None


def test_misses_of_opposite_sign_in_neighbouring_weeks_widen_the_range() -> None:
    """A year whose forecasts missed high one week and low the next missed by that much, not by
    their mean: the width reads every origin's miss, each year weighing the same."""
    y = np.full(len(SUNDAYS), 1000.0)
    truth = _truth(y)
    centres = np.where(np.arange(len(y)) % 2 == 0, truth / 2, truth * 2)  # half, then double
    errors = remaining_errors(y, SUNDAYS, centres, np.full(len(y), 0.5))
    assert errors is not None and errors.years == 3
    assert np.allclose(np.abs(errors.at_point), np.log(2.0), atol=0.02)
    q90 = float(errors.quantiles(np.array([0.9]))[0])
    assert q90 == pytest.approx(np.log(2.0) / 0.5 * widening(3) * Z90, rel=0.03)


def test_only_the_past_origins_at_the_same_point_of_the_year_are_read() -> None:
    """`simulate` asks past_paths only for `season_origins`: the year end's misses come out the
    same when every other origin is left unknown."""
    rng = np.random.default_rng(1)
    sundays = np.arange(np.datetime64("2018-01-07"), np.datetime64("2023-03-19"), 7)
    y = rng.gamma(2.0, 300.0, len(sundays))
    centres, spreads = rng.gamma(20.0, 300.0, len(y)), rng.uniform(0.2, 1.0, len(y))
    chosen = season_origins(sundays)
    only_c, only_s = np.full(len(y), np.nan), np.full(len(y), np.nan)
    only_c[chosen], only_s[chosen] = centres[chosen], spreads[chosen]
    full = remaining_errors(y, sundays, centres, spreads)
    skipped = remaining_errors(y, sundays, only_c, only_s)
    assert full is not None and skipped is not None
    assert np.array_equal(full.mean_squares, skipped.mean_squares)
    assert np.array_equal(full.at_point, skipped.at_point)
    days = [int((s - s.astype("datetime64[Y]")).astype(int)) for s in sundays[chosen]]
    last = int((sundays[-1] - sundays[-1].astype("datetime64[Y]")).astype(int))
    assert all(abs(d - last) <= 7 * SEASON_WEEKS + 1 for d in days)
    assert len(chosen) < len(sundays) // 5


def _history() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Five years of weekly totals with a season, and a point forecast from every origin."""
    rng = np.random.default_rng(7)
    sundays = np.arange(np.datetime64("2018-01-07"), np.datetime64("2023-03-19"), 7)
    week = np.arange(len(sundays))
    y = rng.gamma(2.0, 1.0, len(sundays)) * (200 + 150 * np.sin(2 * np.pi * week / 52))
    horizon = 45
    target = week[:, None] + np.arange(1, horizon + 1)[None, :]
    points = y[np.clip(target - 52, 0, None)]  # the same week a year earlier
    return y, sundays, points


def test_past_paths_remembered_are_the_values_computed_afresh() -> None:
    from forecasting.models.calibration import error_matrix, error_model
    from forecasting.models.memo import forget, origin_keys
    from forecasting.models.past_paths import past_remaining
    from forecasting.models.scale import from_error_scale, to_error_scale

    y, sundays, points = _history()
    chosen = season_origins(sundays)
    keys = origin_keys(y, sundays)
    forget()
    first = past_remaining(y, sundays, points, chosen, "m", keys)
    assert np.isfinite(first.centres[chosen]).all() and (first.spreads[chosen] > 0).all()
    # the same weeks: remembered, so forecasts that differ are not read again ...
    again = past_remaining(y, sundays, points * 2, chosen, "m", keys)
    assert np.array_equal(first.centres, again.centres, equal_nan=True)
    assert np.array_equal(first.spreads, again.spreads, equal_nan=True)
    # ... but another model's are
    other = past_remaining(y, sundays, points * 2, chosen, "other", keys)
    assert (other.centres[chosen] > 1.5 * first.centres[chosen]).all()
    # the remembered bounds give what the error model computes without them
    o = int(chosen[-1])
    k, share = rest_of_year(sundays[o])
    errors, levels = error_matrix(y, points), to_error_scale(points)
    plain = error_model(errors, levels, k, origin=o)
    u = plain.uniforms(1000, np.random.default_rng(0))
    base = to_error_scale(points[o, :k])[None, :]
    wide = np.log(from_error_scale(base + plain.quantiles(u)) @ share + OFFSET)
    assert first.spreads[o] == own_spread(wide)
    assert first.centres[o] == np.median(
        from_error_scale(base + plain.quantiles(u, widened=False)) @ share
    )
    # a revision of an earlier week is a new key: the forecasts given are read again
    revised = y.copy()
    revised[3] += 1
    moved = past_remaining(revised, sundays, points * 2, chosen, "m", origin_keys(revised, sundays))
    assert (moved.centres[chosen] > 1.5 * first.centres[chosen]).all()
    forget()


def test_a_forecast_is_the_same_whatever_is_remembered(latest_release: Path) -> None:
    """Forgotten (every origin run afresh), or remembered from the forecast a week earlier (as
    in a backfill: only the newest origins run), the same forecast, row for row."""
    from forecasting.forecast import forecast_as_of
    from forecasting.models.memo import forget
    from forecasting.sources.release import read_release

    daily = read_release(latest_release).daily
    as_of = date(2025, 10, 12)
    forget()
    cold = forecast_as_of(daily, as_of, models=["ensemble", "profile"])
    forget()
    forecast_as_of(daily, as_of - timedelta(days=7), models=["ensemble", "profile"])
    warm = forecast_as_of(daily, as_of, models=["ensemble", "profile"])
    for name in ("year_end", "weekly", "milestones", "runs"):
        pd.testing.assert_frame_equal(getattr(cold, name), getattr(warm, name))
    ye = cold.year_end.set_index("model")
    assert ye.at["ensemble", "p10"] < ye.at["ensemble", "p50"] < ye.at["ensemble", "p90"]
    forget()


def test_past_paths_of_a_short_forecast_score_only_the_horizons_it_has() -> None:
    """Forecasts with fewer weeks than the recalibration scores (a 4-week backfill in October)
    remember their bounds apart from longer ones."""
    from forecasting.models.memo import forget, origin_keys
    from forecasting.models.past_paths import past_remaining

    y, sundays, points = _history()
    chosen = season_origins(sundays[:-20])  # 30 October 2022: nine weeks left
    keys = origin_keys(y[:-20], sundays[:-20])
    forget()
    short = past_remaining(y[:-20], sundays[:-20], points[:-20, :12], chosen, "m", keys)
    assert np.isfinite(short.spreads[chosen]).all()
    forget()
