"""`crossings backtest --target year-end`: the year-end backtest over every Sunday of a range,
with its checks, stored as a backtest run (what `operations.backtest_and_store` is for weeks)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pandas as pd

from forecasting.calendar import sundays_every
from forecasting.frames import ForecastFrames
from forecasting.horizon import HORIZON_WEEKS

__all__ = [
    "YEAR_END_MODELS",
    "YearEndOutcome",
    "year_end_models",
    "year_end_and_store",
    "stored_year_end_rows",
]

# The production model beside a damped Holt-Winters and, where installed, default Prophet.
YEAR_END_MODELS = ("ensemble", "ets_damped", "prophet_default")


def year_end_models(models: list[str] | None) -> list[str]:
    """The models asked for, else the production model and the comparisons installed."""
    if models:
        return list(models)
    have_prophet = importlib.util.find_spec("prophet") is not None
    return [m for m in YEAR_END_MODELS if m != "prophet_default" or have_prophet]


@dataclass(frozen=True)
class YearEndOutcome:
    """A stored year-end backtest: its scores as Markdown and the run id."""

    table: str
    db: Path
    run_id: int

    def describe(self) -> str:
        return (
            f"{self.table}stored in {self.db} as backtest run {self.run_id} "
            "(backtest_runs, backtest_year_end_origins, backtest_year_end_scores)"
        )


def year_end_and_store(
    db: Path,
    start: date,
    end: date,
    *,
    every: str = "1W",
    models: list[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> YearEndOutcome:
    """The year end forecast from every Sunday from start to end (every `every`) with the data
    as known that day, scored against each year's total beside the plain rules, and stored."""
    from forecasting.operations.as_of_reader import AsOfReader
    from forecasting.operations.checks import check_backtest
    from forecasting.store import latest_daily, save_year_end_backtest
    from forecasting.year_end import format_year_end, run_year_end_backtest

    names = year_end_models(models)
    step, names = check_backtest(db, start, end, every, names, HORIZON_WEEKS)
    sundays = sundays_every(start, end, step)
    reader = AsOfReader(db, end)
    result = run_year_end_backtest(
        reader.daily, sundays, latest_daily(db).daily, models=names, progress=progress
    )
    run = {"run_start": start, "run_end": end, "run_every": step.text,
           "horizon_weeks": HORIZON_WEEKS, "target": "year-end", "models": names}  # fmt: skip
    run_id = save_year_end_backtest(db, result.rows, result.scores, run)
    title = f"year end, Sundays {start} to {end} every {step.text}"
    return YearEndOutcome(format_year_end(result.scores, title), db, run_id)


def stored_year_end_rows(db: Path, sundays: list[date]) -> pd.DataFrame:
    """The same rows scored from the forecasts a backfill stored for these dates (every stored
    model), each with the figures as known on its date: what the backtest must agree with."""
    from forecasting.calendar import complete_year_totals
    from forecasting.operations.as_of_reader import AsOfReader
    from forecasting.store import latest_daily, read_forecast_frames
    from forecasting.year_end import ROW_COLUMNS, year_end_rows

    totals = {y: float(t) for y, t in complete_year_totals(latest_daily(db).daily).items()}
    reader = AsOfReader(db, max(sundays))
    stored = read_forecast_frames(db, sundays)
    parts = []
    for d in sundays:
        frames = {
            name: frame[pd.to_datetime(frame["as_of"]).dt.date == d]
            for name, frame in (("year_end", stored.year_end), ("milestones", stored.milestones))
        }
        if not frames["year_end"].empty:
            one = ForecastFrames.empty()
            one = replace(one, **frames)
            parts.append(year_end_rows(one, reader.daily(d), totals))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=ROW_COLUMNS)
