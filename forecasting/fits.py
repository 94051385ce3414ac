"""Pure fits and the writer's transaction: the seam that lets fits run anywhere.

`fit` is pure (a daily frame in, `ForecastFrames` out) and never touches the store, so it can
run in a thread, another process or on a remote Dask worker; `save_fits` is the writer's one
short transaction for a batch of fits.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from forecasting.frames import ForecastFrames
from forecasting.horizon import HORIZON_WEEKS

if TYPE_CHECKING:
    from forecasting.store import AsOfRead

__all__ = ["fit", "slim_read", "save_fits"]


def fit(
    daily: pd.DataFrame,
    as_of: date,
    horizon_weeks: int = HORIZON_WEEKS,
    models: list[str] | None = None,
    n_paths: int = 1000,
    seed: int = 0,
) -> ForecastFrames:
    """Every requested model's forecast as of `as_of`; seeded, so reruns give identical figures."""
    from forecasting.forecast import forecast_as_of

    return forecast_as_of(daily, as_of, horizon_weeks, n_paths, seed, models)


def slim_read(read: AsOfRead) -> AsOfRead:
    """The AsOfRead without its frames (only what the forecast rows keep), cheap to pass."""
    return replace(read, daily=read.daily.tail(1), weekly=read.weekly.head(0))


def save_fits(db: Path, fits: list[tuple[ForecastFrames, AsOfRead]]) -> None:
    """Write several as-of dates' forecasts (every model, production flagged) in one transaction;
    each fit with the AsOfRead it was made from (its data_through, publications and rule)."""
    from forecasting.store import save_forecast_frames

    if not fits:
        return
    reads = {read.as_of: read for _, read in fits}
    save_forecast_frames(db, ForecastFrames.concat(frames for frames, _ in fits), reads)
