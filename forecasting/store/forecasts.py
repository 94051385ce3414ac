"""Forecasts held: what is stored for which as_of, the cache that spares a refit.

`forecast_frames.save_forecast_frames` writes forecasts; a forecast is a pure function of
(as_of, the publications read, the models, the horizon), all recorded with it, so these reads
tell whether it need be fitted again. "Is a forecast held for this as-of date?" has two answers,
and `forecasts_held` gives both, chosen by its `held_if` argument:

- `HeldIf.SAME_PUBLICATIONS` (a forecast, a backfill): these models, this horizon, fitted on
  exactly the publications the figures as known that day come from; new figures mean a refit.
- `HeldIf.ANY_PRODUCTION` (the report's track record): any production forecast made as of that
  date, whatever it was fitted on, so the nightly run never refits a week already judged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any

import pandas as pd

from forecasting.store.tables import read_frame

__all__ = [
    "HeldIf",
    "forecasts_held",
    "held_forecasts",
    "production_year_end",
]


class HeldIf(Enum):
    """Which stored forecast counts as held for an as-of date (see the module's docstring)."""

    SAME_PUBLICATIONS = "these models and horizon, fitted on the same publications"
    ANY_PRODUCTION = "any production forecast"


def forecasts_held(
    db_path: str | Path,
    dates: Sequence[date],
    held_if: HeldIf,
    *,
    publications: Mapping[date, Sequence[str]] | None = None,
    models: Sequence[str] = (),
    horizon_weeks: int | None = None,
) -> set[date]:
    """Which of `dates` already hold a forecast, by the rule `held_if` names: one query for all.

    SAME_PUBLICATIONS needs each date's publications (sha256, as `read_as_of` lists them), the
    models and the horizon; ANY_PRODUCTION needs none of them.
    """
    if not dates:
        return set()
    if held_if is HeldIf.ANY_PRODUCTION:
        return _production_dates(db_path, dates)
    if publications is None or horizon_weeks is None:
        raise ValueError("SAME_PUBLICATIONS needs each date's publications and the horizon")
    held = held_forecasts(db_path, list(dates), horizon_weeks)
    return {d for d in dates if _covers(held.get(d, {}), publications[d], models)}


def _production_dates(db_path: str | Path, dates: Sequence[date]) -> set[date]:
    rows = read_frame(
        db_path,
        "SELECT DISTINCT as_of FROM forecasts WHERE production AND as_of IN "
        "(SELECT unnest(?::DATE[]))",
        [sorted(dates)],
    )
    return {pd.Timestamp(d).date() for d in rows["as_of"]} if not rows.empty else set()


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


def _covers(
    held: dict[str, tuple[str, ...]], publications: Sequence[str], models: Sequence[str]
) -> bool:
    """Whether one date's held forecasts (from `held_forecasts`) cover `models`, fitted on
    exactly these publications."""
    wanted = tuple(publications)
    return all(model in held and tuple(held[model]) == wanted for model in models)


def production_year_end(db_path: str | Path, as_of: date) -> dict[str, Any] | None:
    """The production model's year-end figures stored for `as_of` (None when none is)."""
    held = read_frame(
        db_path,
        "SELECT year, observed_ytd, year_end_p10 AS p10, year_end_p50 AS p50, "
        "year_end_p90 AS p90 FROM forecasts WHERE as_of = ? AND production",
        [as_of],
    )
    return held.iloc[0].to_dict() if not held.empty else None
