"""forecast_as_of on the real 27 Feb 2026 release: JSON contract, partial weeks, as-of rules."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting.forecast import PRODUCTION_MODEL, forecast_as_of
from forecasting.models import DEFAULT_MODELS
from forecasting.sources.release import read_release

CHEAP = ["seasonal_naive", "profile", "ensemble"]
AS_OF = date(2026, 2, 26)  # a Thursday, last day in the release


@pytest.fixture(scope="module")
def daily(latest_release: Path) -> pd.DataFrame:
    return read_release(latest_release).daily


@pytest.fixture(scope="module")
def full_forecast(daily: pd.DataFrame):
    return forecast_as_of(daily, AS_OF)


def _sum(daily: pd.DataFrame, start: date, end: date) -> int:
    d = daily["date"]
    return int(daily.loc[(d >= start) & (d <= end), "migrants_arrived"].sum())


@pytest.mark.slow
def test_json_contract_every_model(full_forecast, daily: pd.DataFrame) -> None:
    fc = full_forecast
    assert fc.as_of == AS_OF and fc.model == PRODUCTION_MODEL
    assert list(fc.per_model) == list(DEFAULT_MODELS)
    js = fc.to_json_dict()
    assert list(js) == ["as_of", "model", "weekly", "year_end"]
    assert js["as_of"] == "2026-02-26" and js["model"] == PRODUCTION_MODEL
    assert fc.paths.shape == (1000, 13)
    for name, out in fc.per_model.items():
        assert out["model"] == name
        weekly = out["weekly"]
        assert len(weekly) == 13
        ends = [date.fromisoformat(w["week_ending"]) for w in weekly]
        assert all(e.weekday() == 6 for e in ends)
        assert ends[0] - timedelta(days=6) <= AS_OF + timedelta(days=1) <= ends[0]
        assert all(b - a == timedelta(days=7) for a, b in zip(ends, ends[1:], strict=False))
        for w in weekly:
            assert list(w) == ["week_ending", "mean", "p10", "p50", "p90"]
            assert 0 <= w["p10"] <= w["p50"] <= w["p90"]
            assert w["mean"] >= 0
        ye = out["year_end"]
        assert list(ye) == ["year", "observed_ytd", "mean", "p10", "p50", "p90", "prob_exceeds"]
        assert ye["year"] == 2026 and ye["observed_ytd"] == 2209
        assert 2209 <= ye["p10"] <= ye["p50"] <= ye["p90"]
        assert list(ye["prob_exceeds"]) == [str(y) for y in range(2025, 2017, -1)]
        probs = ye["prob_exceeds"]
        assert all(0.0 <= p <= 1.0 for p in probs.values())
        # 2019 (1,843) is below what is already observed in 2026: certain to be exceeded.
        assert probs["2019"] == 1.0 and probs["2018"] == 1.0
        # A larger earlier total can never be more likely to be exceeded than a smaller one.
        assert probs["2022"] <= probs["2025"] <= probs["2024"] <= probs["2023"]


@pytest.mark.slow
def test_mid_week_first_week_includes_observed_days(full_forecast, daily) -> None:
    observed = _sum(daily, date(2026, 2, 23), AS_OF)  # Mon-Thu of the week ending 1 March
    assert observed == 679
    for paths in full_forecast.model_paths.values():
        assert paths[:, 0].min() >= observed
        assert (paths >= 0).all()
    first = full_forecast.to_json_dict()["weekly"][0]
    assert first["week_ending"] == "2026-03-01" and first["p10"] >= observed


def test_sunday_as_of_starts_next_week(daily) -> None:
    fc = forecast_as_of(daily, date(2025, 6, 29), horizon_weeks=4, models=CHEAP)
    ends = [w["week_ending"] for w in fc.to_json_dict()["weekly"]]
    assert ends == ["2025-07-06", "2025-07-13", "2025-07-20", "2025-07-27"]


def test_as_of_invariance_cheap(daily) -> None:
    d = date(2025, 6, 30)
    base = forecast_as_of(daily, d, models=CHEAP, seed=3)
    changed = daily.copy()
    later = changed["date"] > d
    changed.loc[later, "migrants_arrived"] = changed.loc[later, "migrants_arrived"] * 7 + 11
    again = forecast_as_of(changed, d, models=CHEAP, seed=3)
    assert base.per_model == again.per_model
    assert np.array_equal(base.paths, again.paths)
    other_seed = forecast_as_of(daily, d, models=CHEAP, seed=4)
    assert other_seed.per_model != base.per_model


@pytest.mark.slow
def test_as_of_invariance_all_models(daily) -> None:
    d = date(2024, 9, 15)
    base = forecast_as_of(daily, d, horizon_weeks=6)
    changed = daily[daily["date"] <= d + timedelta(days=40)].copy()
    changed.loc[changed["date"] > d, "migrants_arrived"] = 5000
    again = forecast_as_of(changed, d, horizon_weeks=6)
    assert base.per_model == again.per_model


def test_data_ending_before_as_of(daily) -> None:
    cut = daily[daily["date"] <= date(2026, 2, 20)]
    fc = forecast_as_of(cut, AS_OF, models=CHEAP)
    js = fc.to_json_dict()
    assert fc.data_through == date(2026, 2, 20)
    assert js["as_of"] == "2026-02-26"
    assert js["weekly"][0]["week_ending"] == "2026-03-01" and len(js["weekly"]) == 13
    assert js["year_end"]["observed_ytd"] == _sum(daily, date(2026, 1, 1), date(2026, 2, 20))
    # The unpublished days are forecast, so the year end can only exceed what is observed.
    assert fc.year_end_paths[PRODUCTION_MODEL].min() >= js["year_end"]["observed_ytd"]


def test_year_end_is_observed_plus_prorated_remainder(daily) -> None:
    d = date(2025, 12, 24)  # Wednesday: Thu-Sun in week ending 28 Dec, Mon-Wed of the next week
    fc = forecast_as_of(daily, d, horizon_weeks=2, models=CHEAP)
    ytd = _sum(daily, date(2025, 1, 1), d)
    assert fc.to_json_dict()["year_end"]["observed_ytd"] == ytd
    obs_week = _sum(daily, date(2025, 12, 22), d)
    for name in CHEAP:
        weekly = fc.model_paths[name]
        expected = ytd + (weekly[:, 0] - obs_week) + weekly[:, 1] * 3 / 7
        assert np.allclose(fc.year_end_paths[name], expected)


def test_year_end_on_31_december_is_the_observed_total(daily) -> None:
    fc = forecast_as_of(daily, date(2025, 12, 31), models=CHEAP)
    ye = fc.to_json_dict()["year_end"]
    assert ye["observed_ytd"] == 41472
    assert ye["mean"] == ye["p10"] == ye["p90"] == 41472
    assert ye["prob_exceeds"]["2024"] == 1.0 and ye["prob_exceeds"]["2022"] == 0.0
    assert fc.to_json_dict()["weekly"][0]["week_ending"] == "2026-01-04"


def test_bad_arguments(daily) -> None:
    with pytest.raises(ValueError):
        forecast_as_of(daily, date(2017, 6, 1))
    with pytest.raises(ValueError):
        forecast_as_of(daily, AS_OF, models=["no_such_model"])
    with pytest.raises(ValueError):
        forecast_as_of(daily, AS_OF, horizon_weeks=0)


def test_first_weeks_of_the_data(daily) -> None:
    with pytest.raises(ValueError):
        forecast_as_of(daily, date(2018, 1, 3))  # no complete week yet
    fc = forecast_as_of(daily, date(2018, 5, 1), models=CHEAP)
    for paths in fc.model_paths.values():
        assert np.isfinite(paths).all() and (paths >= 0).all()
    assert fc.to_json_dict()["year_end"]["prob_exceeds"] == {}


def test_cumulative_projection_runs_to_31_december_and_matches_year_end(
    latest_release: Path, tmp_path: Path
) -> None:
    """The cumulative band ends on 31 December at the year-end figures, and is stored."""
    from forecasting import store
    from forecasting.ingest import ingest_source

    db = tmp_path / "s.duckdb"
    ingest_source(db, latest_release)
    read = store.read_as_of(db, date(2026, 2, 26))
    forecast = forecast_as_of(read.daily, date(2026, 2, 26))
    cumulative = forecast.cumulative
    year_end = forecast.to_json_dict()["year_end"]
    assert cumulative["week_ending"].iloc[-1] == date(2026, 12, 31)
    assert cumulative["mean"].iloc[-1] == pytest.approx(year_end["mean"], abs=0.1)
    assert cumulative["p90"].iloc[-1] == pytest.approx(year_end["p90"], abs=0.1)
    assert (cumulative["mean"].diff().dropna() >= 0).all()
    assert (cumulative["p10"] >= year_end["observed_ytd"]).all()
    store.save_forecasts(
        db, forecast.per_model, production_model=forecast.model, read=read,
        cumulative=cumulative,
    )
    stored = store.read_frame(db, "SELECT * FROM forecast_cumulative ORDER BY week_ending")
    assert len(stored) == len(cumulative)
    assert set(stored["model"]) == {forecast.model}
    assert store.read_frame(db, "SELECT count(*) AS n FROM forecasts")["n"][0] == len(
        forecast.per_model
    )
