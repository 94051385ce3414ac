"""The one shape of a forecast: long frames, one row per (as_of, model, ...), as in utilsforecast.

A fit returns a `ForecastFrames`; the store writes its frames to tables of the same columns, the
backtests score them, the report reads them back. Several as-of dates (a backfill's batch) are
one `ForecastFrames` too: `concat` stacks them. Only the published JSON (`forecasting.contract`)
is shaped otherwise, at the edge.

Columns (dates are `datetime.date`, counts are floats rounded to 0.1 unless said otherwise):

- `runs`: one row per (as_of, model). `production` marks the model whose figures are
  published; `data_through` is the last day with data used; `level_implied` is the forecast's
  next-13-weeks total over the same weeks a year earlier and `level_trailing` the same ratio for
  the last 13 observed weeks (the level check); `calibration` says where the intervals came from;
  `remaining_year_errors` (JSON text, or None) holds, for each earlier year, the log-ratio of what
  was left of it to the median of the paths of the forecast made nearest the same point of that
  year (the past misses the year end's range is spread like, each in units of that forecast's
  own spread, with those of the weeks either side: models/remaining.py).
- `weekly`: one row per (as_of, model, week_ending). `horizon` 1 is the first week reported (the
  one holding the day after as_of); `days_observed` (0-7) and `observed` say how much of that
  week was already known; quantiles are of the week's whole total, observed days included.
- `year_end`: one row per (as_of, model, year): the calendar year of as_of.
- `cumulative`: one row per (as_of, model, week_ending) to 31 December (the last row is 31
  December itself): the year-to-date total at each date, over the sample paths.
- `milestones`: one row per (as_of, model, milestone): the chance that the year passes
  `threshold` and, where it passes in more than 10% of paths, the dates by which it has in 10%,
  50% and 90% of them (NaT where fewer paths pass). `kind` is `year_total` (an earlier year's
  total, `label` the year), `record` or `round` (10,000, 20,000, ...).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date

import pandas as pd

__all__ = [
    "RUN_COLUMNS",
    "WEEKLY_COLUMNS",
    "YEAR_END_COLUMNS",
    "CUMULATIVE_COLUMNS",
    "MILESTONE_COLUMNS",
    "QUANTILE_COLUMNS",
    "ForecastFrames",
]

QUANTILE_COLUMNS = ["mean", "p10", "p50", "p90"]
RUN_COLUMNS = [
    "as_of",
    "model",
    "production",
    "data_through",
    "horizon_weeks",
    "level_implied",
    "level_trailing",
    "calibration",
    "remaining_year_errors",
]
WEEKLY_COLUMNS = [
    "as_of",
    "model",
    "week_ending",
    "horizon",
    "days_observed",
    "observed",
    *QUANTILE_COLUMNS,
]
YEAR_END_COLUMNS = ["as_of", "model", "year", "observed_ytd", *QUANTILE_COLUMNS]
CUMULATIVE_COLUMNS = ["as_of", "model", "week_ending", *QUANTILE_COLUMNS]
MILESTONE_COLUMNS = [
    "as_of",
    "model",
    "year",
    "kind",
    "label",
    "threshold",
    "probability",
    "date_p10",
    "date_p50",
    "date_p90",
]

_COLUMNS = {
    "runs": RUN_COLUMNS,
    "weekly": WEEKLY_COLUMNS,
    "year_end": YEAR_END_COLUMNS,
    "cumulative": CUMULATIVE_COLUMNS,
    "milestones": MILESTONE_COLUMNS,
}


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


@dataclass(frozen=True)
class ForecastFrames:
    """Forecasts of one or more as-of dates, every model, in the long shape."""

    runs: pd.DataFrame
    weekly: pd.DataFrame
    year_end: pd.DataFrame
    cumulative: pd.DataFrame
    milestones: pd.DataFrame

    def __post_init__(self) -> None:
        for name, columns in _COLUMNS.items():
            frame = getattr(self, name)
            missing = [c for c in columns if c not in frame.columns]
            if missing:
                raise ValueError(f"ForecastFrames.{name} lacks columns {missing}")

    @classmethod
    def empty(cls) -> ForecastFrames:
        return cls(**{name: _empty(columns) for name, columns in _COLUMNS.items()})

    @classmethod
    def concat(cls, parts: Iterable[ForecastFrames]) -> ForecastFrames:
        """Stack several fits (e.g. a backfill's batch) into one set of frames."""
        parts = list(parts)
        if not parts:
            return cls.empty()
        return cls(
            **{
                f.name: pd.concat([getattr(p, f.name) for p in parts], ignore_index=True)
                for f in fields(cls)
            }
        )

    def as_of_dates(self) -> list[date]:
        """The distinct as-of dates held, oldest first."""
        return sorted(set(self.runs["as_of"]))

    def production(self) -> ForecastFrames:
        """Only the production model's rows."""
        keep = self.runs.loc[self.runs["production"].astype(bool), ["as_of", "model"]]
        return ForecastFrames(
            **{
                f.name: getattr(self, f.name).merge(keep, on=["as_of", "model"])
                for f in fields(self)
            }
        )
