"""Forecast weekly crossings and the year end as of a date, as the long frames of frames.py.

This is the one entry point the CLI, the flows and the backtests call. It drops every row after
`as_of` (so a forecast only sees what was known), runs the models on the complete Monday-Sunday
weeks, and turns each model's sample paths into rows.

Partial weeks. The week holding the day after the last day with data is usually part-observed
(a release cuts its data on a Thursday, the daily page on any day): it is reported as its
observed days plus the unobserved days' own forecast, whose errors were measured on the same days
of past weeks. The week straddling 31 December counts only its days inside the year.

Data not yet published. If the data ends before `as_of` (the Home Office publishes with a lag),
the forecast starts from the last day with data and the days up to `as_of` are forecast like any
other future day; `runs.data_through` says which day was last.

The year end. Its 80% range comes from the paths (their weekly marginals recalibrated from recent
coverage); its median is taken from the same draws before that recalibration, so widening the
intervals never moves the central projection.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import cast

import numpy as np
import pandas as pd

from forecasting.calendar import complete_year_totals, last_complete_week_ending, week_ending
from forecasting.chances import printed_chances
from forecasting.frames import (
    CUMULATIVE_COLUMNS,
    MILESTONE_COLUMNS,
    RUN_COLUMNS,
    WEEKLY_COLUMNS,
    YEAR_END_COLUMNS,
    ForecastFrames,
)
from forecasting.horizon import HORIZON_WEEKS
from forecasting.models import (
    PRODUCTION_MODEL,
    ModelPaths,
    PartWeek,
    check_models,
    simulate,
    weekly_history,
)
from forecasting.models.remaining import rescale_remaining
from forecasting.models.scale import day_numbers

__all__ = ["MIN_PATHS", "LEVEL_WEEKS", "forecast_as_of", "ModelWeeks"]

MIN_PATHS = 1000
LEVEL_WEEKS = 13  # the level check compares 13 weeks with the same weeks a year earlier
ROUND_STEP = 10_000  # round milestones: every 10,000 the year could plausibly pass


def _day(d: date) -> int:
    return (d - date(1970, 1, 1)).days


@dataclass(frozen=True)
class ModelWeeks:
    """Where the model weeks fall, as of a date, for data ending on `data_through`.

    Model week k (1-based) ends on base + 7k, base being the last Sunday on or before
    data_through; the first week reported is model week `offset`.
    """

    as_of: date
    data_through: date
    horizon_weeks: int

    @property
    def base(self) -> date:
        return last_complete_week_ending(self.data_through)

    @property
    def offset(self) -> int:
        first = week_ending(self.as_of + timedelta(days=1))
        return (first - self.base).days // 7

    @property
    def year(self) -> int:
        return self.as_of.year

    @property
    def model_horizon(self) -> int:
        dec31 = date(self.year, 12, 31)
        year_end_week = (dec31 - self.base).days // 7 + (1 if dec31.weekday() != 6 else 0)
        return max(self.offset + self.horizon_weeks - 1, year_end_week, 1)

    def week_days(self) -> np.ndarray:
        """(model_horizon, 7) day numbers of each model week, Monday first."""
        start = _day(self.base) + 1
        return start + 7 * np.arange(self.model_horizon)[:, None] + np.arange(7)[None, :]

    def week_endings(self) -> list[date]:
        return [self.base + timedelta(days=7 * k) for k in range(1, self.model_horizon + 1)]


def forecast_as_of(
    daily: pd.DataFrame,
    as_of: date,
    horizon_weeks: int = HORIZON_WEEKS,
    n_paths: int = 1000,
    seed: int = 0,
    models: list[str] | None = None,
) -> ForecastFrames:
    """Every requested model's forecast as of `as_of`, from the rows dated on or before it.

    `models` defaults to the registry's default models; the production model is the ensemble
    when asked for, else the first named. `n_paths` below 1,000 is raised to 1,000 so tail
    quantiles and year-end chances stay stable. Same inputs and seed give identical output.
    """
    if horizon_weeks < 1:
        raise ValueError("horizon_weeks must be at least 1")
    names = check_models(models)
    production = PRODUCTION_MODEL if PRODUCTION_MODEL in names else names[0]
    n_paths = max(int(n_paths), MIN_PATHS)
    day_no, values = _known_days(daily, as_of)
    data_through = date(1970, 1, 1) + timedelta(days=int(day_no[-1]))
    cal = ModelWeeks(as_of, data_through, horizon_weeks)
    known = pd.DataFrame({"date": day_no.astype("datetime64[D]"), "migrants_arrived": values})
    hist = weekly_history(known, data_through)
    days = cal.week_days()
    future = days > _day(data_through)
    in_year = future & (days >= _day(date(cal.year, 1, 1))) & (days <= _day(date(cal.year, 12, 31)))
    cum = np.concatenate(([0.0], np.cumsum(values)))
    observed = (
        cum[np.searchsorted(day_no, days[:, -1], "right")]
        - cum[np.searchsorted(day_no, days[:, 0], "left")]
    )
    part = _part_week(hist, day_no, cum, int(future[0].sum()))
    paths = simulate(hist, cal.model_horizon, n_paths, seed, names, part)
    observed_ytd = float(values[day_no >= _day(date(cal.year, 1, 1))].sum())
    totals = {y: t for y, t in complete_year_totals(known).items() if y < cal.year}
    totals = dict(sorted(totals.items(), reverse=True))  # newest first
    parts = []
    for name in names:
        parts.append(
            _model_frames(
                cal,
                paths[name],
                name == production,
                observed,
                future,
                in_year,
                observed_ytd,
                totals,
                hist.y,
                day_no,
                cum,
            )
        )
    return ForecastFrames.concat(parts)


def _known_days(daily: pd.DataFrame, as_of: date) -> tuple[np.ndarray, np.ndarray]:
    day_no = day_numbers(daily["date"])
    known = day_no <= _day(as_of)
    if not known.any():
        raise ValueError(f"no daily rows on or before {as_of}")
    order = np.argsort(day_no[known], kind="stable")
    values = daily["migrants_arrived"].to_numpy(dtype="float64")[known][order]
    return day_no[known][order], values


def _part_week(
    hist: object, day_no: np.ndarray, cum: np.ndarray, unobserved: int
) -> PartWeek | None:
    """The same unobserved days (the last `unobserved` of the week) in every complete week."""
    if unobserved in (0, 7):
        return None
    sundays = np.asarray(hist.week_ending).astype("int64")  # type: ignore[attr-defined]
    hi = np.searchsorted(day_no, sundays, "right")
    lo = np.searchsorted(day_no, sundays - unobserved, "right")
    return PartWeek(unobserved / 7.0, cum[hi] - cum[lo])


def _model_frames(
    cal: ModelWeeks,
    mp: ModelPaths,
    production: bool,
    observed: np.ndarray,
    future: np.ndarray,
    in_year: np.ndarray,
    observed_ytd: float,
    totals: dict[int, float],
    history: np.ndarray,
    day_no: np.ndarray,
    cum: np.ndarray,
) -> ForecastFrames:
    """One model's rows: its weeks, year end, and (production only) cumulative and milestones."""
    unobserved = future.sum(axis=1)
    to_come, plain, quantiles = mp.weekly.copy(), mp.weekly_unwidened.copy(), mp.quantiles.copy()
    if mp.remaining is not None:  # model week 1 is part-observed: only its last days are to come
        to_come[:, 0] = plain[:, 0] = mp.remaining
        quantiles[0] = mp.remaining_quantiles
    # Share of each week's days still to come that fall inside the year.
    share = in_year.sum(axis=1) / np.maximum(unobserved, 1)
    # in_year is 2-D, so this is an array; numpy's stubs cannot know the rank.
    in_year_weeks = cast(np.ndarray, in_year.any(axis=1))
    # The year end: the median from the draws before recalibration, the spread after it.
    plain_rest = (plain * share[None, :]).sum(axis=1)
    rest = (to_come * share[None, :]).sum(axis=1)
    scale = float(np.median(plain_rest) / np.median(rest)) if np.median(rest) > 0 else 1.0
    # The rest of the year's spread from past remaining totals of the same length and season
    # (models/remaining.py), path by path, so every figure below comes from the same paths.
    steps = (to_come * share[None, :])[:, in_year_weeks] * scale
    steps = rescale_remaining(steps, mp.remaining_year, np.random.default_rng(0))
    running = observed_ytd + np.cumsum(steps, axis=1)
    year_end = running[:, -1] if running.shape[1] else np.full(len(to_come), observed_ytd)
    totals_by_week = to_come + observed[None, :] * (unobserved < 7)[None, :]
    frames = {
        "runs": _runs(cal, mp, production, quantiles, history),
        "weekly": _weekly(cal, mp.name, totals_by_week, quantiles, observed, unobserved),
        "year_end": pd.DataFrame(
            [
                {
                    "as_of": cal.as_of,
                    "model": mp.name,
                    "year": cal.year,
                    "observed_ytd": int(round(observed_ytd)),
                    **_summary(year_end),
                }
            ],
            columns=YEAR_END_COLUMNS,
        ),
        "cumulative": pd.DataFrame(columns=CUMULATIVE_COLUMNS),
        "milestones": pd.DataFrame(columns=MILESTONE_COLUMNS),
    }
    if production:
        ends = _year_week_endings(cal, in_year_weeks)
        frames["cumulative"] = _cumulative(cal, mp.name, running, ends)
        frames["milestones"] = _milestones(
            cal, mp.name, running, ends, observed_ytd, totals, day_no, cum
        )
    return ForecastFrames(**frames)


def _year_week_endings(cal: ModelWeeks, in_year_weeks: np.ndarray) -> list[date]:
    """Each in-year model week's end, the last one being 31 December itself."""
    dec31 = date(cal.year, 12, 31)
    ends = cal.week_endings()
    return [min(e, dec31) for e, keep in zip(ends, in_year_weeks, strict=True) if keep]


def _summary(values: np.ndarray) -> dict[str, float]:
    p10, p50, p90 = np.quantile(values, [0.1, 0.5, 0.9])
    return {"mean": _r(values.mean()), "p10": _r(p10), "p50": _r(p50), "p90": _r(p90)}


def _r(v: float) -> float:
    return round(float(v), 1)


def _runs(
    cal: ModelWeeks, mp: ModelPaths, production: bool, quantiles: np.ndarray, history: np.ndarray
) -> pd.DataFrame:
    """The run's row, with the level check: does the forecast follow the level of the data?"""
    implied = trailing = np.nan
    if len(history) >= 52 + LEVEL_WEEKS:
        ahead = quantiles[: min(LEVEL_WEEKS, len(quantiles)), 1].sum()
        a_year_before = history[len(history) - 52 : len(history) - 52 + LEVEL_WEEKS].sum()
        recent = history[-LEVEL_WEEKS:].sum()
        before = history[-52 - LEVEL_WEEKS : -52].sum()
        implied = ahead / a_year_before if a_year_before > 0 else np.nan
        trailing = recent / before if before > 0 else np.nan
    row = {
        "as_of": cal.as_of,
        "model": mp.name,
        "production": production,
        "data_through": cal.data_through,
        "horizon_weeks": cal.horizon_weeks,
        "level_implied": round(float(implied), 4) if np.isfinite(implied) else None,
        "level_trailing": round(float(trailing), 4) if np.isfinite(trailing) else None,
        "calibration": mp.calibration,
        "remaining_year_errors": (
            None
            if mp.remaining_year is None
            else json.dumps({str(y): round(e, 4) for y, e in mp.remaining_year.by_year().items()})
        ),
    }
    return pd.DataFrame([row], columns=RUN_COLUMNS)


def _weekly(
    cal: ModelWeeks,
    model: str,
    weekly: np.ndarray,
    quantiles: np.ndarray,
    observed: np.ndarray,
    unobserved: np.ndarray,
) -> pd.DataFrame:
    ends = cal.week_endings()
    rows = []
    for i in range(cal.offset - 1, cal.offset - 1 + cal.horizon_weeks):
        obs = float(observed[i]) if unobserved[i] < 7 else 0.0
        q = quantiles[i] + obs
        rows.append(
            {
                "as_of": cal.as_of,
                "model": model,
                "week_ending": ends[i],
                "horizon": i - cal.offset + 2,
                "days_observed": int(7 - unobserved[i]),
                "observed": _r(obs),
                "mean": _r(weekly[:, i].mean()),
                "p10": _r(q[0]),
                "p50": _r(q[1]),
                "p90": _r(q[2]),
            }
        )
    return pd.DataFrame(rows, columns=WEEKLY_COLUMNS)


def _cumulative(cal: ModelWeeks, model: str, running: np.ndarray, ends: list[date]) -> pd.DataFrame:
    """Year-to-date totals at each week ending to 31 December, summed path by path."""
    rows = [
        {"as_of": cal.as_of, "model": model, "week_ending": end, **_summary(running[:, j])}
        for j, end in enumerate(ends)
    ]
    return pd.DataFrame(rows, columns=CUMULATIVE_COLUMNS)


def _milestones(
    cal: ModelWeeks,
    model: str,
    running: np.ndarray,
    week_ends: list[date],
    observed_ytd: float,
    totals: dict[int, float],
    day_no: np.ndarray,
    cum: np.ndarray,
) -> pd.DataFrame:
    """The chance of passing each earlier year's total, the record and round numbers, and when.

    A path passes a threshold in the first week its running total reaches it; the date by which
    10% / 50% / 90% of all paths have passed is reported, or nothing where fewer paths pass.
    """
    ends = week_ends
    year_end = running[:, -1] if running.shape[1] else np.full(len(running), observed_ytd)
    targets: list[tuple[str, str, float]] = [("year_total", str(y), t) for y, t in totals.items()]
    if totals:
        record_year = max(totals, key=lambda y: totals[y])
        targets.append(("record", str(record_year), totals[record_year]))
    top = max(float(np.quantile(year_end, 0.9)), observed_ytd)
    targets += [
        ("round", f"{v:,}", float(v)) for v in range(ROUND_STEP, int(top) + ROUND_STEP, ROUND_STEP)
    ]
    year_cum = cum - cum[np.searchsorted(day_no, _day(date(cal.year, 1, 1)), "left")]
    shares: dict[int, float] = {}  # row -> share of paths passing (milestones still ahead)
    rows: list[dict[str, object]] = []
    for kind, label, threshold in targets:
        row = {
            "as_of": cal.as_of,
            "model": model,
            "year": cal.year,
            "kind": kind,
            "label": label,
            "threshold": int(round(threshold)),
        }
        if observed_ytd >= threshold:  # already passed: the day it was, for every path
            when = _passed_on(day_no, year_cum, threshold)
            row.update(probability=1.0, date_p10=when, date_p50=when, date_p90=when)
        else:
            passed = running >= threshold
            if not ends:  # the data run to 31 December: nothing more can pass
                passed = np.zeros((len(running), 1), dtype=bool)
            first = np.where(passed.any(axis=1), passed.argmax(axis=1), len(ends))
            shares[len(rows)] = float(passed[:, -1].mean())  # bounded below
            for q, col in ((0.1, "date_p10"), (0.5, "date_p50"), (0.9, "date_p90")):
                k = int(np.quantile(first, q, method="higher"))
                row[col] = ends[k] if k < len(ends) else None
        rows.append(row)
    chances = printed_chances(list(shares.values()))
    for i, p in zip(shares, chances, strict=True):
        rows[i]["probability"] = round(p, 4)
    return pd.DataFrame(rows, columns=MILESTONE_COLUMNS)


def _passed_on(day_no: np.ndarray, year_cum: np.ndarray, threshold: float) -> date | None:
    """The first day the year's running total reached `threshold`."""
    idx = int(np.searchsorted(year_cum[1:], threshold, "left"))
    if idx >= len(day_no):
        return None
    return date(1970, 1, 1) + timedelta(days=int(day_no[idx]))
