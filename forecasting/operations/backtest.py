"""The backtest command's jobs: a rolling-origin backtest, and the selection protocol, stored."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from forecasting.calendar import sundays_every
from forecasting.horizon import HORIZON_WEEKS
from forecasting.operations.as_of_reader import AsOfReader
from forecasting.operations.checks import check_backtest, check_held_through, model_names

if TYPE_CHECKING:
    from forecasting.backtest import BacktestResult

__all__ = ["BacktestOutcome", "backtest_and_store", "ProtocolOutcome", "protocol_and_store"]


@dataclass(frozen=True)
class BacktestOutcome:
    """A stored backtest: its tables and the run it came from."""

    result: BacktestResult
    db: Path
    run_id: int
    what: str

    def describe(self) -> str:
        from forecasting.backtest import format_protocol

        return (
            f"{format_protocol({self.what: self.result})}\n"
            f"stored in {self.db} as backtest run {self.run_id} "
            "(backtest_runs, backtest_scores, backtest_year_end, backtest_forecasts)"
        )


def backtest_and_store(
    db: Path,
    start: date,
    end: date,
    *,
    every: str = "4W",
    horizon_weeks: int = HORIZON_WEEKS,
    models: list[str] | None = None,
    year_end_years: tuple[int, int] | None = None,
    thursdays: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> BacktestOutcome:
    """Rolling-origin backtest from start to end (Sundays every `every`; with `thursdays`, the
    Thursday of each of those weeks too, a release's cut) with the data as known at each origin,
    plus year-end origins, stored in one transaction."""
    from forecasting.backtest import run_backtest, year_end_origins
    from forecasting.store import latest_daily, save_backtest

    step, names = check_backtest(db, start, end, every, models, horizon_weeks)
    sundays = sundays_every(start, end, step)
    first, last = year_end_years or (start.year, end.year)
    origins = {
        "sunday": sundays,
        "thursday": [d - timedelta(days=3) for d in sundays if d - timedelta(days=3) >= start]
        if thursdays
        else [],
        "year_end": [
            d
            for d in year_end_origins(date(first, 1, 1), date(last, 12, 31))
            if year_end_years or start <= d <= end
        ],
    }
    # One store read per distinct set of publications, not per origin (see AsOfReader).
    reader = AsOfReader(db, max([end, *origins["year_end"]]))
    result = run_backtest(
        reader.daily,
        origins,
        latest_daily(db).daily,
        horizon_weeks=horizon_weeks,
        models=names,
        progress=progress,
    )
    run = {"run_start": start, "run_end": end, "run_every": step.text,
           "horizon_weeks": horizon_weeks, "thursdays": thursdays,
           "year_end_years": list(year_end_years) if year_end_years else None}  # fmt: skip
    run_id = save_backtest(db, result, run)
    return BacktestOutcome(result, db, run_id, f"{start} to {end} every {step.text}")


@dataclass(frozen=True)
class ProtocolOutcome:
    """The stored selection protocol: its Markdown tables and each period's backtest run."""

    tables: str
    db: Path
    run_ids: dict[str, int]  # period name (validation, evaluation) -> backtest run id

    def describe(self) -> str:
        runs = ", ".join(f"{k} {v}" for k, v in self.run_ids.items())
        return f"{self.tables}\nstored in {self.db} as backtest runs {runs}"


def protocol_and_store(
    db: Path,
    *,
    models: list[str] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> ProtocolOutcome:
    """The selection protocol (validation, then evaluation), each period stored as a run:
    its Markdown tables and the run ids."""
    from forecasting.backtest import EVALUATION, PROTOCOL_MODELS, VALIDATION, format_protocol
    from forecasting.backtest import run_protocol as run
    from forecasting.store import latest_daily, save_backtest

    names = model_names(list(models or PROTOCOL_MODELS))
    check_held_through(db, None)
    reader = AsOfReader(db, EVALUATION.end)
    results = run(reader.daily, latest_daily(db).daily, models=names, progress=progress)
    run_ids: dict[str, int] = {}
    for period in (VALIDATION, EVALUATION):
        run_ids[period.name] = save_backtest(
            db,
            results[period.name],
            {"run_start": period.start, "run_end": period.end, "run_every": "4W",
             "horizon_weeks": HORIZON_WEEKS, "protocol": period.name},
        )  # fmt: skip
    return ProtocolOutcome(format_protocol(results), db, run_ids)
