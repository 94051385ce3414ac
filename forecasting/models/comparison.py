"""Comparison models: costly fits made once at the origin, for the backtests to beat.

They are not members of the production ensemble: each costs 0.1 s or more a fit, so they cannot
be re-run at the hundreds of past origins that give a model its own error distribution; their
sample paths borrow the ensemble's calibrated errors (stated in the `calibration` column).

- `prophet`: Prophet on the model scale (log counts), yearly seasonality, MAP fit.
- `prophet_default`: Prophet with its defaults on raw weekly totals, what an analyst writes in
  ten lines: the benchmark the production model must beat.
- `ets_damped`: statsmodels' damped additive Holt-Winters fitted by maximum likelihood, the model
  that made up 80% of the previous production blend, kept to show why it was replaced (its
  fitted smoothing weights fall to 0 from mid-2025 on, freezing its level).
"""

from __future__ import annotations

import logging
import warnings
from typing import cast

import numpy as np
import pandas as pd

from forecasting.models.members import profile
from forecasting.models.scale import SEASON, WeeklyHistory, to_model_scale

__all__ = ["prophet_log", "prophet_default", "ets_damped"]

ETS_YEARS = 5


def _fallback(hist: WeeklyHistory, horizon: int) -> np.ndarray:
    """Too short a history for a costly fit (only early 2018): the profile member."""
    x = to_model_scale(hist.y)
    return cast(np.ndarray, profile(x, np.array([len(x) - 1]), horizon)[0])


def _quiet_prophet() -> None:
    """Silence cmdstanpy/prophet chatter (cmdstanpy installs its own INFO handler on first use)."""
    from cmdstanpy.utils import get_logger

    stan = get_logger()
    stan.setLevel(logging.ERROR)
    for handler in stan.handlers:
        handler.setLevel(logging.ERROR)
    for name in ("prophet", "prophet.plot"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _prophet(hist: WeeklyHistory, horizon: int, y: np.ndarray, **options: object) -> np.ndarray:
    from prophet import Prophet

    _quiet_prophet()
    frame = pd.DataFrame({"ds": pd.to_datetime(hist.week_ending), "y": y})
    model = Prophet(uncertainty_samples=0, **options)  # type: ignore[arg-type]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(frame)
        steps = pd.to_timedelta(7 * np.arange(1, horizon + 1), "D")
        future = pd.DataFrame({"ds": pd.to_datetime(hist.week_ending[-1]) + steps})
        return cast(np.ndarray, model.predict(future)["yhat"].to_numpy(dtype="float64"))


def prophet_log(hist: WeeklyHistory, horizon: int) -> np.ndarray:
    """Prophet on log counts (model scale), yearly seasonality only."""
    if len(hist.y) < 8:
        return _fallback(hist, horizon)
    return _prophet(
        hist,
        horizon,
        to_model_scale(hist.y),
        yearly_seasonality=True,
        weekly_seasonality=False,
        daily_seasonality=False,
    )


def prophet_default(hist: WeeklyHistory, horizon: int) -> np.ndarray:
    """Prophet's defaults on raw weekly totals; negative forecasts floored at 0."""
    if len(hist.y) < 8:
        return _fallback(hist, horizon)
    return to_model_scale(np.maximum(_prophet(hist, horizon, hist.y), 0.0))


def ets_damped(hist: WeeklyHistory, horizon: int) -> np.ndarray:
    """Damped additive Holt-Winters (52-week season) by maximum likelihood, last five years."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    x = to_model_scale(hist.y)[-ETS_YEARS * SEASON :]
    if len(x) < 2 * SEASON + 4:
        return _fallback(hist, horizon)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = ExponentialSmoothing(
            x,
            trend="add",
            damped_trend=True,
            seasonal="add",
            seasonal_periods=SEASON,
            initialization_method="estimated",
        ).fit(use_brute=False)
    return np.asarray(fit.forecast(horizon), dtype="float64")
