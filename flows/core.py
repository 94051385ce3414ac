"""Plain helpers shared by the CLI and the Prefect flows (no Prefect here, so the CLI stays fast).

The split that makes overlapping runs safe lives here: `fit` is pure (a daily frame in, JSON
payloads out) and never touches the store, while reads and writes are separate short store calls.
A fit can therefore run in a thread, another process or a remote Dask worker while the writer
(always the flow or command itself) holds the DuckDB file only for the moment it writes.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "DEFAULT_REPORTS_DIR",
    "Fit",
    "AsOfReader",
    "as_of_dates",
    "parse_every",
    "resolve_db",
    "resolve_reports_dir",
    "resolve_raw_dir",
    "model_names",
    "fit",
    "contract",
    "slim_read",
    "already_forecast",
    "covers",
    "held_forecasts",
    "save_fits",
    "save_fit",
    "latest_data_through",
]

DEFAULT_REPORTS_DIR = Path("reports")
_EVERY = re.compile(r"^\s*(\d*)\s*([DW])\s*$", re.IGNORECASE)


def resolve_db(db: str | Path | None) -> Path:
    """The store: an explicit path, else $CROSSINGS_DB, else data/crossings.duckdb."""
    from forecasting.store import default_db_path

    return Path(db) if db else default_db_path()


def resolve_reports_dir(reports_dir: str | Path | None) -> Path:
    """Where reports go: explicit, else $CROSSINGS_REPORTS_DIR, else reports/."""
    return Path(reports_dir or os.environ.get("CROSSINGS_REPORTS_DIR") or DEFAULT_REPORTS_DIR)


def resolve_raw_dir(raw_dir: str | Path | None) -> Path:
    """Where downloads go: explicit, else $CROSSINGS_RAW_DIR, else data/raw."""
    return Path(raw_dir or os.environ.get("CROSSINGS_RAW_DIR") or Path("data") / "raw")


def parse_every(every: str) -> timedelta:
    """'1W', '4W', '7D', 'W' -> a step; anything else is a ValueError with the accepted forms."""
    match = _EVERY.match(every or "")
    if not match or (match.group(1) and int(match.group(1)) < 1):
        raise ValueError(f"every={every!r}: use a number of weeks or days, like 1W, 4W or 7D")
    n = int(match.group(1) or 1)
    return timedelta(weeks=n) if match.group(2).upper() == "W" else timedelta(days=n)


def as_of_dates(start: date, end: date, every: str) -> list[date]:
    """start, start + every, ... up to and including end (both ends count when they fall on it)."""
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    step = parse_every(every)
    out, day = [], start
    while day <= end:
        out.append(day)
        day += step
    return out


def model_names(models: list[str] | None) -> list[str]:
    """The models a fit will produce (None: every default model), checked against the library."""
    from forecasting.models import DEFAULT_MODELS, MODEL_NAMES

    names = list(models) if models else list(DEFAULT_MODELS)
    unknown = sorted(set(names) - set(MODEL_NAMES))
    if unknown:
        raise ValueError(f"unknown model(s) {unknown}; known: {', '.join(MODEL_NAMES)}")
    return names


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

    started = time.perf_counter()
    forecast = forecast_as_of(
        daily, as_of, horizon_weeks=horizon_weeks, n_paths=n_paths, seed=seed,
        models=model_names(models),
    )
    return Fit(
        as_of, forecast.model, dict(forecast.per_model), time.perf_counter() - started,
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
    """The AsOfRead without its frames (only what save_forecasts records), cheap to pass around."""
    return replace(read, daily=read.daily.tail(1), weekly=read.weekly.head(0))


def already_forecast(
    db: Path, as_of: date, publications: list[str], models: list[str], horizon_weeks: int
) -> bool:
    """True when the store holds these models' forecasts as of `as_of` from the same publications.

    This is the cache: a forecast is a pure function of (as_of, the publications read, models,
    horizon), all recorded in the store itself, so an unchanged release is never refitted, in
    any process, whichever task runner is used, with nothing else to keep in step.
    """
    held = held_forecasts(db, [as_of], horizon_weeks)
    return covers(held.get(as_of, {}), publications, models)


def held_forecasts(
    db: Path, dates: list[date], horizon_weeks: int
) -> dict[date, dict[str, tuple[str, ...]]]:
    """For each date, the models stored with `horizon_weeks` weeks -> the publications they read.

    One query for a whole backfill, instead of one per date (forecasting.store.held_forecasts).
    """
    from forecasting.store import held_forecasts as held

    return held(db, dates, horizon_weeks)


def covers(held: dict[str, tuple[str, ...]], publications: list[str], models: list[str]) -> bool:
    """Whether one date's held forecasts (from `held_forecasts`) cover `models`, from these
    publications."""
    from forecasting.store import forecast_covers

    return forecast_covers(held, publications, models)


def save_fits(db: Path, fits: list[tuple[Fit, Any]]) -> None:
    """Write several as-of dates' forecasts (all models, production flagged) in one transaction."""
    from forecasting.store import ForecastRecord, save_forecast_records

    save_forecast_records(
        db,
        [ForecastRecord(f.payloads, f.production_model, read, f.cumulative) for f, read in fits],
    )


def save_fit(db: Path, result: Fit, read: Any) -> None:
    """Write one as-of date's forecasts in one short transaction."""
    save_fits(db, [(result, read)])


def latest_data_through(db: Path) -> date | None:
    """The last day with figures in any official publication (None for an empty store)."""
    from forecasting.store import latest_data_through as latest

    return latest(db)


class AsOfReader:
    """`read_as_of` for many dates, reading the store once per distinct set of publications.

    read_as_of(d) takes, for each day, the newest publication among those whose data ended by d
    (or, when none had, the oldest held, cut at d). Between two publications' data_through dates
    that set does not change, so one read at the last date of such a span, cut at d, gives the
    same figures as reading at d: as-of semantics kept, reads cut from one per date to one per
    publication (or one in all when the store only holds vintages newer than every date).
    """

    def __init__(self, db: Path, end: date) -> None:
        from forecasting.store import read_frame

        self.db = db
        self.end = end
        held = read_frame(db, "SELECT DISTINCT data_through FROM publications ORDER BY 1")
        self._throughs = [pd.Timestamp(v).date() for v in held.get("data_through", [])]
        self._cache: dict[int, Any] = {}
        self.reads = 0

    def _span(self, d: date) -> tuple[int, date]:
        eligible = sum(1 for t in self._throughs if t <= d)
        upper = self.end
        if eligible < len(self._throughs):
            upper = min(upper, self._throughs[eligible] - timedelta(days=1))
        return eligible, max(upper, d)

    def read(self, d: date) -> Any:
        """The AsOfRead for `d` (figures up to d only), from one cached read per span."""
        from forecasting.store import read_as_of

        key, upper = self._span(d)
        cached = self._cache.get(key)
        if cached is None or cached.as_of < d:
            cached = read_as_of(self.db, upper)
            self._cache[key] = cached
            self.reads += 1
        if cached.as_of == d:
            return cached
        daily = cached.daily[cached.daily["date"] <= d].reset_index(drop=True)
        weekly = cached.weekly[cached.weekly["week_ending"] <= d].reset_index(drop=True)
        if daily.empty:
            return read_as_of(self.db, d)
        # Publications eligible in this span end by d, so cutting at d drops none of their days:
        # the publication list stays exactly what read_as_of(d) reports.
        return replace(cached, as_of=d, daily=daily, weekly=weekly)

    def daily(self, d: date) -> pd.DataFrame:
        """The daily frame as known on d: the callable `run_backtest` wants."""
        return self.read(d).daily

