"""Model internals: weekly totals, no look-ahead in the cheap forecasters, path properties."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting import models as m
from forecasting.sources.release import read_release


@pytest.fixture(scope="module")
def daily(latest_release: Path) -> pd.DataFrame:
    return read_release(latest_release).daily


def _toy_daily(days: int, start: date = date(2018, 1, 1)) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    dates = [start + timedelta(days=i) for i in range(days)]
    season = 1 + np.sin(np.arange(days) * 2 * np.pi / 365.25 - 1.5)
    values = rng.poisson(40 * season) * (rng.random(days) < 0.4)
    return pd.DataFrame({"date": dates, "migrants_arrived": values.astype(int)})


def test_weekly_history_sums_complete_monday_sunday_weeks() -> None:
    df = _toy_daily(30, start=date(2024, 1, 3))  # Wednesday: first partial week is dropped
    hist = m.weekly_history(df, date(2024, 1, 30))  # a Tuesday: last partial week dropped
    ends = [pd.Timestamp(v).date() for v in hist.week_ending]
    assert ends == [date(2024, 1, 14), date(2024, 1, 21), date(2024, 1, 28)]
    for end, total in zip(ends, hist.y, strict=True):
        mask = (df["date"] > end - timedelta(days=7)) & (df["date"] <= end)
        assert total == df.loc[mask, "migrants_arrived"].sum()


def test_weekly_history_ignores_rows_after_through() -> None:
    df = _toy_daily(800)
    a = m.weekly_history(df, date(2019, 6, 30))
    df2 = df.copy()
    df2.loc[df2["date"] > date(2019, 6, 30), "migrants_arrived"] = 10**6
    b = m.weekly_history(df2, date(2019, 6, 30))
    assert np.array_equal(a.y, b.y) and a.last_week_ending == date(2019, 6, 30)


@pytest.mark.parametrize("cand", m.CANDIDATES, ids=lambda c: c.name)
def test_vectorised_origins_match_truncated_history(cand: m.Candidate) -> None:
    x = m.to_model_scale(
        _toy_daily(2000)["migrants_arrived"].to_numpy()[: 7 * 280].reshape(-1, 7).sum(axis=1)
    )
    origins = np.arange(60, len(x) - 1, 7)
    mat = m._origin_matrix(x, origins, 60, cand)
    one = np.stack([m._point(x[: o + 1].copy(), 60, cand) for o in origins])
    assert np.allclose(mat, one)
    # Changing every week after an origin leaves that origin's forecast unchanged.
    o = 150
    x2 = x.copy()
    x2[o + 1 :] += 3.0
    assert np.array_equal(
        m._origin_matrix(x, np.array([o]), 60, cand), m._origin_matrix(x2, np.array([o]), 60, cand)
    )


def test_model_scale_round_trip_and_floor() -> None:
    y = np.array([0.0, 1.0, 250.0, 4000.0])
    assert np.allclose(m.from_model_scale(m.to_model_scale(y)), y)
    assert (m.from_model_scale(np.array([-50.0, 0.0])) == 0).all()


def test_cheap_paths_shape_non_negative_deterministic(daily: pd.DataFrame) -> None:
    hist = m.weekly_history(daily, date(2025, 3, 30))
    names = ["seasonal_naive", "profile", "ensemble"]
    a, weights = m.simulate_models(hist, 20, 1000, seed=7, models=names)
    b, _ = m.simulate_models(hist, 20, 1000, seed=7, models=names)
    for name in names:
        assert a[name].shape == (1000, 20)
        assert (a[name] >= 0).all() and np.isfinite(a[name]).all()
        assert np.array_equal(a[name], b[name])
    assert weights and abs(sum(weights.values()) - 1) < 1e-9
    assert set(weights) <= {c.name for c in m.CANDIDATES}
    # Summer weeks should be forecast above winter weeks (the seasonal profile is used).
    assert np.median(a["profile"][:, 18]) > np.median(a["profile"][:, 0])


def test_ensemble_weights_only_use_known_weeks(daily: pd.DataFrame) -> None:
    hist = m.weekly_history(daily, date(2024, 6, 30))
    x = m.to_model_scale(hist.y)
    inner = m.inner_backtest(x, 13)
    assert inner.origins.max() == len(x) - 2
    for err in inner.errors.values():
        # An origin o may only be scored on weeks o+1.. that are already in the history.
        known = inner.origins[:, None] + np.arange(1, 14)[None, :] < len(x)
        assert np.array_equal(~np.isnan(err), known)


def test_unknown_model_rejected(daily: pd.DataFrame) -> None:
    hist = m.weekly_history(daily, date(2025, 3, 30))
    with pytest.raises(ValueError):
        m.simulate_models(hist, 5, 1000, 0, ["arima"])


@pytest.mark.slow
def test_costly_models_give_non_negative_paths(daily: pd.DataFrame) -> None:
    hist = m.weekly_history(daily, date(2025, 3, 30))
    out, _ = m.simulate_models(hist, 10, 1000, 0, ["prophet", "nb_glm", "ets_damped"])
    for paths in out.values():
        assert paths.shape == (1000, 10) and (paths >= 0).all()
        assert np.isfinite(paths).all()


@pytest.mark.slow
def test_ensemble_blends_the_cheap_mix_with_the_statsmodels_fit(
    daily: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Paths are point + the same sampled error trajectories, so on the model scale each week's
    # median moves exactly with the point forecast: the blend must sit at its share between the
    # cheap inner-weighted mix (share 0) and the statsmodels fit (share 1).
    hist = m.weekly_history(daily, date(2025, 3, 30))

    def log_median(share: float) -> np.ndarray:
        monkeypatch.setattr(m, "ENSEMBLE_ETS_SHARE", share)
        out, _ = m.simulate_models(hist, 13, 1001, 0, ["ensemble"])
        return m.to_model_scale(np.median(out["ensemble"], axis=0))

    cheap, ets, blend = log_median(0.0), log_median(1.0), log_median(m.ENSEMBLE_ETS_SHARE)
    assert np.abs(cheap - ets).max() > 0.05  # the two families do disagree here
    share = m.ENSEMBLE_ETS_SHARE
    assert np.allclose(blend, (1 - share) * cheap + share * ets, atol=1e-9)
    # The statsmodels half is the ets_damped point forecast (the error pool is median-centred).
    assert np.abs(ets - m._ets_point(hist, 13)).max() < 0.1


def test_year_end_errors_only_score_years_known_at_the_origin(daily: pd.DataFrame) -> None:
    origin = date(2024, 6, 30)
    hist = m.weekly_history(daily, origin)
    x = m.to_model_scale(hist.y)
    cases = m._year_end_cases(len(x))
    assert cases and all(o < len(x) - 1 for _, o in cases)
    fc = m._origin_matrix(x, np.array([o for _, o in cases]), 30, m.PROFILE)
    errs = m.year_end_errors(hist, x, "profile", 2024, cases, fc)
    # 2019-2023 can be scored at 30 June 2024; 2018 is too early for the profile to run.
    assert sorted(errs) == [2019, 2020, 2021, 2022, 2023]
    assert all(len(e) == 2 * m.YE_NEIGHBOURS + 1 for e in errs.values())
    # Later data cannot reach them: the same errors from a history with garbage after the origin.
    changed = daily.copy()
    changed.loc[changed["date"] > origin, "migrants_arrived"] = 10**5
    hist2 = m.weekly_history(changed, origin)
    errs2 = m.year_end_errors(hist2, m.to_model_scale(hist2.y), "profile", 2024, cases, fc)
    assert all(np.array_equal(errs[y], errs2[y]) for y in errs)
    spread = m.year_end_spread(errs)
    assert spread is not None and spread > 0
    assert m.year_end_spread({2023: errs[2023]}) is None  # one year is too little evidence


def test_year_end_errors_are_zero_for_a_perfect_forecast() -> None:
    # A constant series is forecast exactly by the seasonal naive: no error, no widening.
    start = date(2018, 1, 1)
    df = pd.DataFrame(
        {"date": [start + timedelta(days=i) for i in range(3 * 365)], "migrants_arrived": 10}
    )
    hist = m.weekly_history(df, date(2020, 6, 28))
    x = m.to_model_scale(hist.y)
    cases = m._year_end_cases(len(x))
    fc = m._origin_matrix(x, np.array([o for _, o in cases]), 40, m.SNAIVE)
    errs = m.year_end_errors(hist, x, "seasonal_naive", 2020, cases, fc)
    assert errs and all(np.allclose(e, 0.0) for e in errs.values())


def test_widen_year_end_keeps_median_and_only_widens() -> None:
    rng = np.random.default_rng(0)
    paths = rng.gamma(5.0, 100.0, size=(2000, 10))
    share = np.r_[np.ones(6), 0.5, np.zeros(3)]
    wide = m._widen_year_end(paths, share, 1.0)
    tot, tot2 = paths @ share, wide @ share
    assert np.median(tot2) == pytest.approx(np.median(tot), rel=1e-3)
    spread = np.subtract(*np.quantile(np.log(tot2 + m.OFFSET * 6.5), [0.9, 0.1])) / 2.563
    assert spread == pytest.approx(1.0, rel=0.02)
    ratio = wide / paths  # each path scaled by one factor, so its weekly shape is kept
    assert np.allclose(ratio, ratio[:, :1]) and (wide >= 0).all()
    assert m._widen_year_end(paths, share, 0.01) is paths  # never narrowed
    assert m._widen_year_end(paths, share, None) is paths


def test_calibration_widens_year_end_and_ignores_later_data(
    daily: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    from forecasting.forecast import forecast_as_of

    d = date(2025, 3, 31)
    on = forecast_as_of(daily, d, horizon_weeks=4, models=["ensemble"])
    changed = daily.copy()
    changed.loc[changed["date"] > d, "migrants_arrived"] = 0
    again = forecast_as_of(changed, d, horizon_weeks=4, models=["ensemble"])
    assert np.array_equal(on.year_end_paths["ensemble"], again.year_end_paths["ensemble"])
    monkeypatch.setattr(m, "CALIBRATE_YEAR_END", False)
    off = forecast_as_of(daily, d, horizon_weeks=4, models=["ensemble"])
    ye_on, ye_off = on.to_json_dict()["year_end"], off.to_json_dict()["year_end"]
    assert ye_on["p90"] - ye_on["p10"] > ye_off["p90"] - ye_off["p10"]
    assert ye_on["p50"] == pytest.approx(ye_off["p50"], rel=0.02)


def test_year_end_spread_is_robust_to_one_outlying_year() -> None:
    # Three ordinary years close together and one growth year far above them: the spread follows
    # the ordinary years' dispersion, not the outlier, and a common offset does not widen it.
    ordinary = {2022: np.array([0.5, 0.6]), 2023: np.array([0.45]), 2024: np.array([0.6])}
    with_outlier = {**ordinary, 2021: np.array([1.4, 1.5])}
    s = m.year_end_spread(with_outlier)
    assert s is not None and s < 0.2
    shifted = {yr: e + 0.3 for yr, e in with_outlier.items()}
    assert m.year_end_spread(shifted) == pytest.approx(s)
    assert m.year_end_spread({2024: np.array([0.1])}) is None  # fewer than YE_MIN_YEARS years
