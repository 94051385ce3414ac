"""The scales the models work on, and the weekly history they read.

Point forecasts live on log(y + OFFSET): the series has many zero weeks, bursts of 1,000+ and
year-to-year level shifts; logs make level shifts multiplicative and the offset stops near-zero
winter weeks from dominating averages.

Forecast errors live on log(y + ERROR_OFFSET), a smaller offset: there an error means nearly the
same at 100 a week as at 1,000, so errors measured while crossings were small (2019-2020) still
describe the spread at today's levels. Chosen on the validation origins (Jul 2019 - Dec 2021):
with the point scale's offset of 100 the 80% intervals held 65% of weeks there, with 10 they held
80% (benchmarks/model_scores.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import cast

import numpy as np
import pandas as pd

from forecasting.calendar import last_complete_week_ending, weekly_totals

__all__ = [
    "OFFSET",
    "ERROR_OFFSET",
    "SEASON",
    "to_model_scale",
    "from_model_scale",
    "to_error_scale",
    "from_error_scale",
    "WeeklyHistory",
    "weekly_history",
    "day_numbers",
]

SEASON = 52
OFFSET = 100.0
ERROR_OFFSET = 10.0


def to_model_scale(y: np.ndarray) -> np.ndarray:
    """Weekly totals to the scale point forecasts are made on."""
    return np.log(np.asarray(y, dtype="float64") + OFFSET)


def from_model_scale(x: np.ndarray) -> np.ndarray:
    """Back to weekly totals, never negative."""
    return cast(np.ndarray, np.maximum(np.exp(np.asarray(x, dtype="float64")) - OFFSET, 0.0))


def to_error_scale(y: float | np.ndarray, share: float | np.ndarray = 1.0) -> np.ndarray:
    """Totals of `share` of a week to the scale errors are measured on."""
    return cast(
        np.ndarray, np.log(np.maximum(np.asarray(y, dtype="float64"), 0.0) + ERROR_OFFSET * share)
    )


def from_error_scale(e: np.ndarray, share: float | np.ndarray = 1.0) -> np.ndarray:
    """Back to totals of `share` of a week, never negative."""
    return cast(
        np.ndarray, np.maximum(np.exp(np.asarray(e, dtype="float64")) - ERROR_OFFSET * share, 0.0)
    )


@dataclass(frozen=True)
class WeeklyHistory:
    """Complete Monday-Sunday weekly totals known at the origin, oldest first."""

    week_ending: np.ndarray  # datetime64[D], Sundays, contiguous
    y: np.ndarray  # float64 totals

    @property
    def last_week_ending(self) -> date:
        return cast(date, pd.Timestamp(self.week_ending[-1]).date())


def day_numbers(values: object) -> np.ndarray:
    """Dates (date objects, strings or datetimes) as integer days since 1970-01-01."""
    arr = pd.to_datetime(pd.Series(values)).to_numpy().astype("datetime64[D]")
    return cast(np.ndarray, arr.astype("int64"))


def weekly_history(daily: pd.DataFrame, through: date) -> WeeklyHistory:
    """Weekly totals of the complete weeks whose Sunday is on or before `through`, contiguous.

    Rows after `through` are dropped first, so nothing known later can leak in (the weeks are
    `calendar.weekly_totals`'; a week the data has no day of counts 0, the series has no gaps).
    """
    weeks = weekly_totals(daily, through=through, complete=False)
    if weeks.empty:
        raise ValueError("no daily rows on or before the origin")
    sundays = np.array(weeks["week_ending"], dtype="datetime64[D]")
    first = sundays[0] if weeks["days"].iloc[0] == 7 else sundays[0] + 7
    last = np.datetime64(last_complete_week_ending(through), "D")
    if last < first:
        return WeeklyHistory(np.array([], dtype="datetime64[D]"), np.array([], dtype="float64"))
    every = np.arange(first, last + 1, 7)
    totals = pd.Series(weeks["migrants_arrived"].to_numpy(float), index=sundays)
    return WeeklyHistory(every, totals.reindex(every, fill_value=0.0).to_numpy(dtype="float64"))
