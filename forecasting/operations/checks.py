"""Checks every command makes before doing any work: models, horizon, dates, the store's figures."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from forecasting.calendar import (
    Step,
    as_of_dates,
    check_range,
    long_date,
    parse_every,
    sundays_every,
)
from forecasting.errors import BadArgument, StoreError
from forecasting.horizon import MAX_HORIZON_WEEKS

__all__ = [
    "model_names",
    "check_horizon",
    "check_held_through",
    "check_backfill",
    "check_backtest",
]


def model_names(models: list[str] | None) -> list[str]:
    """The models a fit will produce (None: every default model), checked against the registry."""
    from forecasting.models import check_models

    try:
        return check_models(models)
    except ValueError as exc:
        raise BadArgument("--models", str(exc)) from None


def check_horizon(weeks: int) -> int:
    """Weeks ahead to forecast: 1 to MAX_HORIZON_WEEKS."""
    if not 1 <= weeks <= MAX_HORIZON_WEEKS:
        raise BadArgument("--horizon-weeks", f"{weeks} is outside 1 to {MAX_HORIZON_WEEKS}")
    return weeks


def check_held_through(
    db: Path, day: date | None, argument: str = "--as-of", *, forecast: bool = True
) -> date:
    """The store's last day with figures, refusing `day` if it is later (None: no check).

    A forecast as of a later date would be made from older figures yet carry the later date, and
    would pass for the current forecast in the store and the report: refused, not labelled.
    """
    from forecasting.store import last_official_day

    latest = last_official_day(db)
    if latest is None:
        raise StoreError(f"{db}: the store holds no figures yet; run `crossings ingest` first")
    if day is not None and day > latest:
        why = " (a forecast as of a later day would pass for a current one)" if forecast else ""
        raise BadArgument(
            argument,
            f"{day} is after the last day with figures ({long_date(latest)}); ingest newer "
            f"figures first{why}",
        )
    return latest


def check_backfill(
    db: Path, start: date, end: date, every: str, models: list[str] | None, horizon_weeks: int
) -> tuple[list[date], list[str]]:
    """Every check a backfill makes before any work; its as-of dates and model names."""
    check_range(start, end)
    dates = as_of_dates(start, end, every)
    names = model_names(models)
    check_horizon(horizon_weeks)
    check_held_through(db, end, "--end")
    return dates, names


def check_backtest(
    db: Path, start: date, end: date, every: str, models: list[str] | None, horizon_weeks: int
) -> tuple[Step, list[str]]:
    """Every check a backtest makes before any work; its step and model names."""
    check_range(start, end)
    step = parse_every(every)
    sundays_every(start, end, step)  # refuses a step that is not whole weeks
    names = model_names(models)
    check_horizon(horizon_weeks)
    check_held_through(db, end, "--end")
    return step, names
