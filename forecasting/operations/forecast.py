"""The forecast command's job: check, read as of the date, fit unless held, store, publish."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forecasting.calendar import check_as_of
from forecasting.errors import StoreError
from forecasting.fits import fit, save_fits, slim_read
from forecasting.horizon import HORIZON_WEEKS
from forecasting.operations.checks import check_held_through, check_horizon, model_names

if TYPE_CHECKING:
    from forecasting.contract import PublishedForecast

__all__ = ["FitFn", "ForecastOutcome", "forecast_and_store"]

FitFn = Callable[..., Any]  # forecasting.fits.fit, or a flow's task wrapping it


@dataclass(frozen=True)
class ForecastOutcome:
    """One stored forecast: what it was made from, whether it was refitted, its published JSON."""

    as_of: date
    data_through: date
    publication_names: list[str]
    refitted: bool
    production_model: str
    published: PublishedForecast  # the production model's forecast as published
    seconds: float

    @property
    def payload(self) -> dict[str, Any]:
        """The published JSON (forecasting.contract), as `crossings forecast` prints it."""
        return self.published.model_dump(mode="json")

    def describe(self) -> str:
        year_end = self.published.year_end
        how = "fitted" if self.refitted else "already held from the same publications"
        return (
            f"forecast as of {self.as_of} ({self.production_model}, data through "
            f"{self.data_through}; {how}): {year_end.year} year end p50 "
            f"{year_end.p50:,.0f} (p10 {year_end.p10:,.0f}, p90 {year_end.p90:,.0f})"
        )


def _production_of(names: list[str]) -> str:
    from forecasting.models import PRODUCTION_MODEL

    return PRODUCTION_MODEL if PRODUCTION_MODEL in names else names[0]


def forecast_and_store(
    db: Path,
    as_of: date | None = None,
    *,
    horizon_weeks: int = HORIZON_WEEKS,
    models: list[str] | None = None,
    force: bool = False,
    fit_with: FitFn | None = None,
) -> ForecastOutcome:
    """Forecast as of a date (default: the last day with figures) and store every model's figures.

    Refused before any work: unknown models, a horizon outside 1-104 weeks, a date outside
    2018-today or after the store's last day with figures. Not refitted when the store already
    holds these models' forecasts from the same publications (unless `force`).
    """
    from forecasting.contract import published
    from forecasting.store import HeldIf, forecasts_held, read_as_of, read_forecast_frames

    started = time.perf_counter()
    names = model_names(models)
    check_horizon(horizon_weeks)
    if as_of is not None:
        check_as_of(as_of)
    latest = check_held_through(db, as_of)
    as_of = as_of or latest
    read = read_as_of(db, as_of)
    if read.daily.empty:
        raise StoreError(f"{db}: no figures on or before {as_of}; run `crossings ingest` first")
    assert read.data_through is not None  # it holds figures (checked above)
    production = _production_of(names)
    held = forecasts_held(
        db,
        [as_of],
        HeldIf.SAME_PUBLICATIONS,
        publications={as_of: read.publications},
        models=names,
        horizon_weeks=horizon_weeks,
    )
    refitted = force or as_of not in held
    if refitted:
        frames = (fit_with or fit)(read.daily, as_of, horizon_weeks, names)
        save_fits(db, [(frames, slim_read(read))])
    else:
        frames = read_forecast_frames(db, as_of, models=[production])
    forecast = published(frames, as_of)
    return ForecastOutcome(
        as_of,
        read.data_through,
        read.publication_names,
        refitted,
        forecast.model,
        forecast,
        time.perf_counter() - started,
    )
