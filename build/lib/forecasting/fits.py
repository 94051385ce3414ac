"""Pure fits, the published JSON contract, and the store as the cache of fits.

`fit` is pure (a daily frame in, JSON payloads out) and never touches the store, so it can run
in a thread, another process or on a remote Dask worker; `save_fits` is the writer's one short
transaction. `Fit` and `contract` give way to `forecasting.frames.ForecastFrames` and the
pydantic contract when the models return frames; kept as they were until then.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "Fit",
    "fit",
    "contract",
    "slim_read",
    "save_fits",
    "held_forecasts",
    "covers",
    "already_forecast",
]


@dataclass(frozen=True)
class Fit:
    """One as-of date's fitted forecasts, small enough to ship back from a worker."""

    as_of: date
    production_model: str
    payloads: dict[str, dict[str, Any]]  # model -> JSON contract
    seconds: float
    cumulative: pd.DataFrame | None = None  # production model's YTD quantiles to 31 December

    @property
    def production(self) -> dict[str, Any]:
        return self.payloads[self.production_model]


def fit(
    daily: pd.DataFrame,
    as_of: date,
    horizon_weeks: int = 13,
    models: list[str] | None = None,
    n_paths: int = 1000,
    seed: int = 0,
) -> Fit:
    """Fit every requested model as of `as_of`; pure, seeded, so reruns give identical figures."""
    from forecasting.forecast import forecast_as_of
    from forecasting.operations import model_names as _model_names

    started = time.perf_counter()
    forecast = forecast_as_of(
        daily,
        as_of,
        horizon_weeks=horizon_weeks,
        n_paths=n_paths,
        seed=seed,
        models=_model_names(models),
    )
    return Fit(
        as_of,
        forecast.model,
        dict(forecast.per_model),
        time.perf_counter() - started,
        forecast.cumulative,
    )


WEEK_KEYS = ("week_ending", "mean", "p10", "p50", "p90")
YEAR_END_KEYS = ("year", "observed_ytd", "mean", "p10", "p50", "p90", "prob_exceeds")


def contract(payload: dict[str, Any]) -> dict[str, Any]:
    """Exactly the published JSON contract (as_of, model, weekly, year_end), in its key order.

    Readers parse this file; anything the library adds later stays out until the contract
    changes on purpose.
    """
    return {
        "as_of": payload["as_of"],
        "model": payload["model"],
        "weekly": [{k: week[k] for k in WEEK_KEYS} for week in payload["weekly"]],
        "year_end": {k: payload["year_end"][k] for k in YEAR_END_KEYS},
    }


def slim_read(read: Any) -> Any:
    """The AsOfRead without its frames (only what the forecast records keep), cheap to pass."""
    return replace(read, daily=read.daily.tail(1), weekly=read.weekly.head(0))


def save_fits(db: Path, fits: list[tuple[Fit, Any]]) -> None:
    """Write several as-of dates' forecasts (all models, production flagged) in one transaction."""
    from forecasting.store import ForecastRecord, save_forecast_records

    save_forecast_records(
        db,
        [ForecastRecord(f.payloads, f.production_model, read, f.cumulative) for f, read in fits],
    )


def held_forecasts(db: Path, dates: list[date], horizon_weeks: int) -> dict[date, dict[str, str]]:
    """For each date, the models held with `horizon_weeks` weeks -> the publications they read."""
    # The SQL stays in flows/core.py until forecasting.store's own held_forecasts is merged.
    from flows.core import held_forecasts as held_in_store

    return held_in_store(db, dates, horizon_weeks)


def covers(held: dict[str, str], publications: list[str], models: list[str]) -> bool:
    """Whether one date's held forecasts (model -> publications read) cover `models`, made from
    these publications."""
    wanted = ",".join(publications)
    return all(held.get(model) == wanted for model in models)


def already_forecast(
    db: Path, as_of: date, publications: list[str], models: list[str], horizon_weeks: int
) -> bool:
    """True when the store holds these models' forecasts as of `as_of` from the same publications.

    A forecast is a pure function of (as_of, publications read, models, horizon), all recorded in
    the store itself: an unchanged release is never refitted, in any process or runner.
    """
    held = held_forecasts(db, [as_of], horizon_weeks)
    return covers(held.get(as_of, {}), publications, models)
