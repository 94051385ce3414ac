"""The members, the ensemble and the calibration: causal, level-following, calibrated by horizon."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting.models import (
    ENSEMBLE_MEMBERS,
    MODEL_NAMES,
    REGISTRY,
    PartWeek,
    check_models,
    simulate,
    weekly_history,
)
from forecasting.models.calibration import (
    ErrorModel,
    error_matrix,
    error_model,
    part_week_model,
)
from forecasting.models.scale import from_model_scale, to_error_scale, to_model_scale
from forecasting.sources.release import read_release

CHEAP = [name for name, spec in REGISTRY.items() if spec.backcast is not None]


@pytest.fixture(scope="module")
def daily(latest_release: Path) -> pd.DataFrame:
    return read_release(latest_release).daily


def _seasonal_weeks(
    years: int, level: float = 500.0, seed: int = 1, weather: bool = True
) -> np.ndarray:
    """A synthetic weekly series: a summer peak and, with `weather`, noise and blocked weeks."""
    rng = np.random.default_rng(seed)
    weeks = np.arange(52 * years)
    y = level * (1 + 0.8 * np.sin(2 * np.pi * weeks / 52.18 - 1.6))
    if weather:
        y *= rng.lognormal(0, 0.35, len(weeks))
        y[rng.random(len(weeks)) < 0.1] = 0.0
    return y


def _history(y: np.ndarray, last_sunday: date = date(2025, 12, 28)):
    days = [last_sunday - timedelta(days=7 * (len(y) - 1 - i)) for i in range(len(y))]
    daily = pd.DataFrame(
        {
            "date": [d - timedelta(days=k) for d in days for k in range(6, -1, -1)],
            "migrants_arrived": np.repeat(np.round(y / 7), 7).astype(int),
        }
    )
    return weekly_history(daily, last_sunday), daily


def test_weekly_history_sums_complete_monday_sunday_weeks(daily) -> None:
    hist = weekly_history(daily, date(2026, 2, 25))  # a Wednesday: its week is not complete
    assert hist.last_week_ending == date(2026, 2, 22)
    end = hist.last_week_ending
    mask = (daily["date"] > end - timedelta(days=7)) & (daily["date"] <= end)
    assert hist.y[-1] == daily.loc[mask, "migrants_arrived"].sum()


@pytest.mark.parametrize("name", CHEAP)
def test_members_are_causal_and_vectorised(name: str) -> None:
    """Each member's forecast from origin o reads x[:o + 1] only: computing every origin in one
    pass equals computing each on its truncated history, and later weeks change nothing."""
    x = to_model_scale(_seasonal_weeks(6))
    backcast = REGISTRY[name].backcast
    origins = np.arange(60, len(x) - 1, 17)
    together = backcast(x, origins, 30)
    for i, o in enumerate(origins):
        alone = backcast(x[: o + 1].copy(), np.array([o]), 30)[0]
        np.testing.assert_allclose(together[i], alone, rtol=1e-9, atol=1e-9)
    changed = x.copy()
    changed[200:] += 3.0
    np.testing.assert_allclose(
        backcast(changed, np.array([199]), 30), backcast(x, np.array([199]), 30)
    )


def _implied(y: np.ndarray, name: str) -> float:
    """The next 13 weeks' median forecast over the same weeks a year earlier."""
    paths = simulate(_history(y)[0], 13, 1000, 0, [name])[name]
    return float(paths.quantiles[:, 1].sum() / y[-52 : -52 + 13].sum())


def test_a_year_at_half_of_last_years_level_is_forecast_near_half() -> None:
    """The level check: after 16 weeks running at half of the same weeks last year, the
    production model forecasts the next 13 weeks at about half of last year's level (a steady
    series, so "last year's level" is exact; with weather noise see the member test below)."""
    y = _seasonal_weeks(6, weather=False)
    assert 0.9 < _implied(y, "ensemble") < 1.1
    halved = y.copy()
    halved[-16:] *= 0.5
    assert 0.4 < _implied(halved, "ensemble") < 0.65


@pytest.mark.parametrize("name", ENSEMBLE_MEMBERS)
def test_no_member_can_freeze(name: str) -> None:
    """Every member re-estimates the level at every origin: halving the level moves each one's
    forecast down by at least a fifth (the maximum-likelihood Holt-Winters this replaced would
    not have moved)."""
    y = _seasonal_weeks(6)
    halved = y.copy()
    halved[-16:] *= 0.5
    assert _implied(halved, name) < 0.8 * _implied(y, name)


def test_every_member_forecasts_a_doubled_level_higher_too() -> None:
    y = _seasonal_weeks(6)
    y[-16:] *= 2.0
    hist, _ = _history(y)
    out = simulate(hist, 13, 1000, 0, list(ENSEMBLE_MEMBERS))
    for name, paths in out.items():
        assert paths.quantiles[:, 1].sum() / y[-52 : -52 + 13].sum() > 1.4, name


def test_the_ensemble_is_the_median_of_its_members() -> None:
    x = to_model_scale(_seasonal_weeks(5))
    origins = np.array([len(x) - 1])
    members = np.stack([REGISTRY[m].backcast(x, origins, 20) for m in ENSEMBLE_MEMBERS])
    np.testing.assert_allclose(REGISTRY["ensemble"].backcast(x, origins, 20), np.median(members, 0))


def test_unknown_models_are_refused_and_defaults_are_cheap() -> None:
    with pytest.raises(ValueError, match="unknown model"):
        check_models(["seasonal_naive", "oracle"])
    assert check_models(None) == CHEAP
    assert set(MODEL_NAMES) >= {"prophet", "prophet_default", "ets_damped", *CHEAP}


def test_error_model_reads_only_errors_known_at_the_origin() -> None:
    y = _seasonal_weeks(5)
    x = to_model_scale(y)
    origins = np.arange(len(x))
    points = from_model_scale(REGISTRY["ensemble"].backcast(x, origins, 13))
    errors = error_matrix(y, points)
    levels = to_error_scale(points)
    T = 200
    before = error_model(errors, levels, 13, origin=T)
    spoiled = errors.copy()
    for h in range(1, 14):  # errors whose target is after T: unknown at T
        spoiled[T - h + 1 :, h - 1] = 50.0
    after = error_model(spoiled, levels, 13, origin=T)
    np.testing.assert_array_equal(before.pools, after.pools)
    np.testing.assert_array_equal(before.low, after.low)
    np.testing.assert_array_equal(before.high, after.high)


def test_recalibration_widens_when_recent_intervals_failed() -> None:
    """If the last year's outcomes fell outside the pooled 80% ranges too often, the width
    grows until they would have held 80%: adaptive, not a fixed factor."""
    y = _seasonal_weeks(6)
    x = to_model_scale(y)
    origins = np.arange(len(x))
    points = from_model_scale(REGISTRY["ensemble"].backcast(x, origins, 13))
    errors = error_matrix(y, points)
    levels = to_error_scale(points)
    calm = error_model(errors, levels, 13)
    wild = errors.copy()
    wild[-60:] *= 3.0  # the recent year's errors three times as large as before
    stormy = error_model(wild, levels, 13)
    assert (stormy.high > calm.high).all() and (stormy.low > calm.low).all()


def test_far_weeks_that_missed_widen_alone() -> None:
    """Outcomes that broke the far weeks' ranges (weeks 9-13) in the last year widen those
    weeks' width and leave the first four weeks' as they were: one factor for every horizon let
    the near weeks' good record hide the far weeks' misses."""
    y = _seasonal_weeks(6)
    x = to_model_scale(y)
    points = from_model_scale(REGISTRY["ensemble"].backcast(x, np.arange(len(x)), 13))
    errors = error_matrix(y, points)
    levels = to_error_scale(points)
    calm = error_model(errors, levels, 13)
    far = errors.copy()
    far[-60:, 8:] *= 3.0
    turned = error_model(far, levels, 13)
    np.testing.assert_array_equal(turned.low[:4], calm.low[:4])
    np.testing.assert_array_equal(turned.high[:4], calm.high[:4])
    assert (turned.low[8:] > calm.low[8:]).all() and (turned.high[8:] > calm.high[8:]).all()


def test_quantiles_follow_the_pools_and_paths_keep_the_marginals() -> None:
    rng = np.random.default_rng(0)
    pools = np.sort(rng.normal(0, 1, (3, 100)), axis=1)
    model = ErrorModel(pools, np.ones(3), np.ones(3), rng.normal(0, 1, (60, 3)))
    q = model.quantiles(np.tile([[0.1], [0.5], [0.9]], 3))
    for h in range(3):
        np.testing.assert_allclose(q[:, h], np.quantile(pools[h], [0.1, 0.5, 0.9]))
    u = model.uniforms(20000, rng)
    assert np.all((u > 0) & (u < 1))
    assert np.quantile(u, 0.1, axis=0) == pytest.approx([0.1] * 3, abs=0.02)
    widened = ErrorModel(pools, np.full(3, 2.0), np.full(3, 0.5), model.trajectories)
    assert widened.quantiles(np.full((1, 3), 0.1))[0, 0] == pytest.approx(2.0 * q[0, 0])


def test_part_week_can_reach_no_more_crossings() -> None:
    """When the same days held no crossings in a fifth of past weeks, the p10 of the rest of
    the week is 0 whatever the level."""
    rng = np.random.default_rng(2)
    point = np.full(156, 300.0)
    actual = point * rng.lognormal(0, 0.5, 156)
    actual[:40] = 0.0
    model = part_week_model(actual, point, 3 / 7, 2000.0)
    assert model.p_zero > 0.1
    assert model.quantile(2000.0, 3 / 7, np.array([0.1]))[0] == 0.0
    assert model.quantile(2000.0, 3 / 7, np.array([0.9]))[0] > 1000


def test_simulate_gives_the_part_week_its_own_spread(daily) -> None:
    hist = weekly_history(daily, date(2026, 2, 26))
    share = 3 / 7
    days = pd.to_datetime(daily["date"])
    past = np.array(
        [
            daily.loc[(days > pd.Timestamp(s) - pd.Timedelta(days=3)) & (days <= pd.Timestamp(s)),
                      "migrants_arrived"].sum()
            for s in hist.week_ending
        ]
    )  # fmt: skip
    out = simulate(hist, 13, 1000, 0, ["ensemble"], PartWeek(share, past))["ensemble"]
    assert out.remaining is not None and out.remaining_quantiles is not None
    assert out.remaining_quantiles[0] <= out.remaining_quantiles[1] <= out.remaining_quantiles[2]
    assert out.remaining_quantiles[2] < out.quantiles[0, 2]  # three days, not a whole week


@pytest.mark.slow
def test_costly_comparison_models_borrow_the_ensembles_errors(daily) -> None:
    hist = weekly_history(daily, date(2025, 6, 29))
    out = simulate(hist, 13, 1000, 0, ["prophet", "prophet_default", "ets_damped"])
    for name, paths in out.items():
        assert paths.calibration == "the ensemble's errors", name
        q = paths.quantiles
        assert (q >= 0).all() and (np.diff(q, axis=1) >= 0).all()
