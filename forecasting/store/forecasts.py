"""Forecasts held: what is stored for which as_of, the cache that spares a refit.

`forecast_frames.save_forecast_frames` writes forecasts; a forecast is a pure function of
(as_of, the publications read, the models, the horizon), all recorded with it, so these reads
tell whether it need be fitted again.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from forecasting.store.tables import read_frame

__all__ = [
    "held_forecasts",
    "forecast_covers",
    "already_forecast",
    "production_year_end",
]


def held_forecasts(
    db_path: str | Path, dates: list[date], horizon_weeks: int
) -> dict[date, dict[str, tuple[str, ...]]]:
    """For each date, the models stored with `horizon_weeks` weeks -> the publications (sha256)
    they were fitted on. One query for a whole backfill, instead of one per date."""
    if not dates:
        return {}
    rows = read_frame(
        db_path,
        """
        SELECT f.as_of, f.model, any_value(f.publications) AS publications
        FROM forecasts f JOIN forecast_weeks w USING (as_of, model)
        WHERE f.as_of BETWEEN ? AND ?
        GROUP BY f.as_of, f.model
        HAVING coalesce(any_value(f.horizon_weeks), count(w.week_ending)) = ?
        """,
        [min(dates), max(dates), horizon_weeks],
    )
    held: dict[date, dict[str, tuple[str, ...]]] = {}
    for r in rows.itertuples():
        publications = tuple(r.publications) if r.publications is not None else ()
        held.setdefault(pd.Timestamp(r.as_of).date(), {})[r.model] = publications
    return held


def forecast_covers(
    held: dict[str, tuple[str, ...]], publications: list[str], models: list[str]
) -> bool:
    """Whether one date's held forecasts (from `held_forecasts`) cover `models`, fitted on
    exactly these publications."""
    wanted = tuple(publications)
    return all(model in held and tuple(held[model]) == wanted for model in models)


def already_forecast(
    db_path: str | Path,
    as_of: date,
    publications: list[str],
    models: list[str],
    horizon_weeks: int,
) -> bool:
    """True when the store holds these models' forecasts as of `as_of` from the same
    publications: a forecast is a pure function of those, so it need not be fitted again."""
    held = held_forecasts(db_path, [as_of], horizon_weeks)
    return forecast_covers(held.get(as_of, {}), publications, models)


def production_year_end(db_path: str | Path, as_of: date) -> dict[str, Any] | None:
    """The production model's year-end figures stored for `as_of` (None when none is)."""
    held = read_frame(
        db_path,
        "SELECT year, observed_ytd, year_end_p10 AS p10, year_end_p50 AS p50, "
        "year_end_p90 AS p90 FROM forecasts WHERE as_of = ? AND production",
        [as_of],
    )
    return held.iloc[0].to_dict() if not held.empty else None
