"""Forecast weekly crossings and the year-end total as of a date, from simulated sample paths.

This is the one entry point the CLI and the Prefect flows call. It takes the store's "as known on
date D" daily frame, drops every row after `as_of` (so a forecast can only see what was known),
and turns each model's weekly sample paths into the published JSON: weekly mean/p10/p50/p90 and
the year-end total as observed year-to-date plus each path's remaining days. The models widen
their paths so the spread of the remaining-year total matches their own errors at the same point
of earlier years (see `forecasting.models.year_end_errors`); that is why `year` and the in-year
share of each week are passed down.

Partial weeks. Models forecast whole Monday-Sunday weeks after the last complete week with data.
A week that is partly observed is reported as its observed days plus the path's week total
pro-rated by the share of its days still unobserved; the week straddling 31 December is
pro-rated the same way (only its days inside the year count towards the year end).

Data not yet published. If `daily` ends before `as_of` (the Home Office publishes with a lag),
the forecast starts from the last day with data and the days up to `as_of` are forecast like any
other future day; `observed_ytd` is then the sum through the last day with data, and `data_through`
says which day that was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from forecasting.models import (
    DEFAULT_MODELS,
    MODEL_NAMES,
    _day_number,
    _day_numbers,
    simulate_models,
    weekly_history,
)

__all__ = [
    "PRODUCTION_MODEL",
    "MODEL_NAMES",
    "Forecast",
    "forecast_as_of",
    "summarise_paths",
]

PRODUCTION_MODEL: str = "ensemble"
MIN_PATHS = 1000


@dataclass
class Forecast:
    """One forecast as of a date: production model's JSON, every model's JSON and sample paths."""

    as_of: date
    model: str
    data_through: date
    week_ending: list[date]
    per_model: dict[str, dict[str, Any]]
    paths: np.ndarray  # production model, n_paths x horizon weekly totals (incl. observed days)
    model_paths: dict[str, np.ndarray] = field(repr=False, default_factory=dict)
    year_end_paths: dict[str, np.ndarray] = field(repr=False, default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)
    # Production model's cumulative year-to-date total at each week ending to 31 December
    # (the last row is 31 December itself): week_ending, mean, p10, p50, p90.
    cumulative: pd.DataFrame | None = field(repr=False, default=None)

    def to_json_dict(self) -> dict[str, Any]:
        """The production model's forecast in the stored/published JSON shape."""
        return self.per_model[self.model]


def _sunday_on_or_after(d: date) -> date:
    return d + timedelta(days=(6 - d.weekday()) % 7)


def _last_sunday_on_or_before(d: date) -> date:
    return d - timedelta(days=(d.weekday() + 1) % 7)


def _q(a: np.ndarray, axis: int = 0) -> tuple[np.ndarray, ...]:
    p10, p50, p90 = np.quantile(a, [0.1, 0.5, 0.9], axis=axis)
    return a.mean(axis=axis), p10, p50, p90


def summarise_paths(paths: np.ndarray) -> dict[str, np.ndarray]:
    """Mean and 10/50/90th percentiles across paths (axis 0), the only summaries we publish."""
    mean, p10, p50, p90 = _q(paths)
    return {"mean": mean, "p10": p10, "p50": p50, "p90": p90}


def forecast_as_of(
    daily: pd.DataFrame,
    as_of: date,
    horizon_weeks: int = 13,
    n_paths: int = 1000,
    seed: int = 0,
    models: list[str] | None = None,
) -> Forecast:
    """Forecast the weeks after `as_of` and the year-end total from data dated <= `as_of` only.

    `daily` is the store's as-known-on-`as_of` frame (rows after `as_of` are ignored). `models`
    defaults to every default model (all are returned in `.per_model`); the production model is
    `PRODUCTION_MODEL` when requested, else the first named. `n_paths` below 1,000 is raised to
    1,000 so tail quantiles and year-end probabilities stay stable. Same inputs and seed give
    identical output.
    """
    if horizon_weeks < 1:
        raise ValueError("horizon_weeks must be at least 1")
    n_paths = max(int(n_paths), MIN_PATHS)
    names = list(models) if models is not None else list(DEFAULT_MODELS)
    if PRODUCTION_MODEL in names:
        production = PRODUCTION_MODEL
    elif names:
        production = names[0]
    else:
        raise ValueError("models must name at least one model")

    day_no = _day_numbers(daily["date"])
    known = day_no <= _day_number(as_of)
    if not known.any():
        raise ValueError(f"no daily rows on or before {as_of}")
    day_no = day_no[known]
    day_values = daily["migrants_arrived"].to_numpy(dtype="float64")[known]
    order = np.argsort(day_no, kind="stable")
    day_no, day_values = day_no[order], day_values[order]
    day_dates = day_no.astype("datetime64[D]")
    data_through = pd.Timestamp(day_dates[-1]).date()

    hist = weekly_history(
        pd.DataFrame({"date": day_dates, "migrants_arrived": day_values}), data_through
    )
    base = _last_sunday_on_or_before(data_through)  # model week k ends base + 7k
    first_week = _sunday_on_or_after(as_of + timedelta(days=1))
    offset = (first_week - base).days // 7  # model week index (1-based) of the first output week
    year = as_of.year
    dec31 = date(year, 12, 31)
    year_end_week = max(0, (_sunday_on_or_after(dec31) - base).days // 7)
    model_horizon = max(offset + horizon_weeks - 1, year_end_week, 1)

    # Per model week: observed days already in it and the share of its days still to come;
    # and the share of its days that are both to come and inside `year`.
    last = _day_number(data_through)
    week_days = _day_number(base) + 7 * np.arange(model_horizon)[:, None] + np.arange(1, 8)[None, :]
    future = week_days > last
    unobserved = future.sum(axis=1) / 7.0
    in_year = (
        future & (week_days >= _day_number(date(year, 1, 1))) & (week_days <= _day_number(dec31))
    ).sum(axis=1) / 7.0

    raw, weights = simulate_models(
        hist, model_horizon, n_paths, seed, names, year=year, year_weights=in_year
    )

    cum = np.concatenate(([0.0], np.cumsum(day_values)))
    lo = np.searchsorted(day_no, week_days[:, 0], side="left")
    hi = np.searchsorted(day_no, week_days[:, -1], side="right")
    observed = cum[hi] - cum[lo]
    ends = [base + timedelta(days=7 * k) for k in range(1, model_horizon + 1)]

    ytd_mask = day_no >= _day_number(date(year, 1, 1))
    observed_ytd = int(round(day_values[ytd_mask].sum()))
    totals = _complete_year_totals(day_dates, day_values, year)

    week_ending = ends[offset - 1 : offset - 1 + horizon_weeks]
    per_model: dict[str, dict[str, Any]] = {}
    out_paths: dict[str, np.ndarray] = {}
    ye_paths: dict[str, np.ndarray] = {}
    for name in names:
        p = raw[name]
        weekly = observed[None, :] + p * unobserved[None, :]
        weekly = weekly[:, offset - 1 : offset - 1 + horizon_weeks]
        ye = observed_ytd + (p * in_year[None, :]).sum(axis=1)
        out_paths[name] = weekly
        ye_paths[name] = ye
        per_model[name] = _json(as_of, name, week_ending, weekly, year, observed_ytd, ye, totals)

    # Cumulative paths to 31 December, summed path by path (never by adding interval bounds).
    year_weeks = in_year > 0
    running = observed_ytd + np.cumsum(raw[production] * in_year[None, :], axis=1)[:, year_weeks]
    cumulative = pd.DataFrame(
        {
            "week_ending": [
                min(end, dec31) for end, keep in zip(ends, year_weeks, strict=True) if keep
            ],
            **summarise_paths(running),
        }
    )

    return Forecast(
        as_of=as_of,
        model=production,
        data_through=data_through,
        week_ending=week_ending,
        per_model=per_model,
        paths=out_paths[production],
        model_paths=out_paths,
        year_end_paths=ye_paths,
        weights=weights,
        cumulative=cumulative,
    )


def _complete_year_totals(
    day_dates: np.ndarray, day_values: np.ndarray, year: int
) -> dict[int, float]:
    """Totals of every earlier calendar year fully covered by the data (newest first)."""
    first = pd.Timestamp(day_dates[0]).date()
    last = pd.Timestamp(day_dates[-1]).date()
    years = day_dates.astype("datetime64[Y]").astype("int64") + 1970
    out: dict[int, float] = {}
    for yr in range(year - 1, first.year - 1, -1):
        if first <= date(yr, 1, 1) and last >= date(yr, 12, 31):
            out[yr] = float(day_values[years == yr].sum())
    return out


def _r(v: float) -> float:
    return round(float(v), 1)


def _json(
    as_of: date,
    model: str,
    week_ending: Sequence[date],
    weekly: np.ndarray,
    year: int,
    observed_ytd: int,
    ye: np.ndarray,
    totals: dict[int, float],
) -> dict[str, Any]:
    s = summarise_paths(weekly)
    ye_mean, ye10, ye50, ye90 = _q(ye)
    return {
        "as_of": as_of.isoformat(),
        "model": model,
        "weekly": [
            {
                "week_ending": we.isoformat(),
                "mean": _r(s["mean"][i]),
                "p10": _r(s["p10"][i]),
                "p50": _r(s["p50"][i]),
                "p90": _r(s["p90"][i]),
            }
            for i, we in enumerate(week_ending)
        ],
        "year_end": {
            "year": year,
            "observed_ytd": observed_ytd,
            "mean": _r(ye_mean),
            "p10": _r(ye10),
            "p50": _r(ye50),
            "p90": _r(ye90),
            "prob_exceeds": {
                str(yr): round(float(np.mean(ye > tot)), 4) for yr, tot in totals.items()
            },
        },
    }
