"""The year-end statement scored at every origin: the median, the 80% range and "above last year".

The report's most quoted figures are the year-end projection, its 80% range and the chance of
passing last year. `year_end_rows` turns forecast frames (fresh from `forecast_as_of`, or read
back from what `crossings backfill` stored) into one row per origin and model with what the
year really ended at, beside the two plain rules a reader applies in their head:

- the median: this year to date times last year's full-year / same-date ratio;
- the chance: "up to date, so up at the end", taken as certain (1 or 0) or hedged as 80/20.

`year_end_scores` scores those rows; the backtest and the backfill use the same two functions,
so their figures cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from forecasting.calendar import complete_year_totals, same_day_a_year_before
from forecasting.frames import ForecastFrames
from forecasting.horizon import HORIZON_WEEKS
from forecasting.metrics import brier

__all__ = [
    "RATIO_RULE",
    "UP_RULE",
    "UP_RULE_HEDGED",
    "PlainRules",
    "plain_rules",
    "year_end_rows",
    "year_end_scores",
    "YearEndBacktest",
    "run_year_end_backtest",
]

RATIO_RULE = "rule: to date x last year's ratio"
UP_RULE = "rule: up to date, so up (certain)"
UP_RULE_HEDGED = "rule: up to date, so up (80/20)"
ROW_COLUMNS = [
    "as_of", "model", "year", "quarter", "observed_ytd", "p10", "p50", "p90",
    "p_above", "last_year", "actual",
]  # fmt: skip
_NORMAL = NormalDist()


@dataclass(frozen=True)
class PlainRules:
    """What a reader works out in their head on `as_of`, from the figures known then."""

    observed_ytd: float
    last_year: float  # last year's full total
    last_year_to_date: float  # last year's total up to the same day
    ratio_median: float  # observed_ytd x last_year / last_year_to_date

    @property
    def up(self) -> bool:
        return self.observed_ytd > self.last_year_to_date


def plain_rules(known: pd.DataFrame, as_of: date) -> PlainRules | None:
    """The plain rules on `as_of` (None when last year is not complete in the known data)."""
    dates = pd.to_datetime(known["date"])
    values = known["migrants_arrived"].to_numpy(float)
    totals = complete_year_totals(known)
    last = totals.get(as_of.year - 1)
    if last is None:
        return None
    same_day = same_day_a_year_before(as_of)
    ytd = values[(dates >= pd.Timestamp(as_of.year, 1, 1)) & (dates <= pd.Timestamp(as_of))].sum()
    before = values[
        (dates >= pd.Timestamp(as_of.year - 1, 1, 1)) & (dates <= pd.Timestamp(same_day))
    ].sum()
    ratio = float(last) / before if before > 0 else 1.0
    return PlainRules(float(ytd), float(last), float(before), float(ytd) * ratio)


def _p_above_from_quantiles(p10: float, p50: float, p90: float, threshold: float) -> float:
    """A model without paths of its own (a comparison model): a normal on the log scale through
    its p10, p50 and p90, so its Brier score can stand beside the others'."""
    lo, mid, hi = (np.log(max(v, 1.0)) for v in (p10, p50, p90))
    sd = max((hi - lo) / (2 * 1.2816), 1e-6)
    return 1.0 - _NORMAL.cdf((np.log(max(threshold, 1.0)) - mid) / sd)


def year_end_rows(
    frames: ForecastFrames, known: pd.DataFrame, actuals: dict[int, float]
) -> pd.DataFrame:
    """One row per (as_of, model) of `frames` (one as-of date) plus the plain rules' rows."""
    rows = []
    for r in frames.year_end.to_dict("records"):
        as_of = pd.Timestamp(r["as_of"]).date()
        rules = plain_rules(known, as_of)
        if rules is None:
            continue
        base = {"as_of": as_of, "year": int(r["year"]), "quarter": (as_of.month - 1) // 3 + 1,
                "observed_ytd": rules.observed_ytd, "last_year": rules.last_year,
                "actual": actuals.get(int(r["year"]), np.nan)}  # fmt: skip
        p_above = _chance_above(frames.milestones, r, rules)
        rows.append({**base, "model": r["model"], "p10": r["p10"], "p50": r["p50"],
                     "p90": r["p90"], "p_above": p_above})  # fmt: skip
        if len(rows) == 1:  # the plain rules, once per origin
            rule = float(rules.up)
            rows.append({**base, "model": RATIO_RULE, "p50": rules.ratio_median})
            rows.append({**base, "model": UP_RULE, "p_above": rule})
            rows.append({**base, "model": UP_RULE_HEDGED, "p_above": 0.2 + 0.6 * rule})
    return pd.DataFrame(rows, columns=ROW_COLUMNS)


def _chance_above(milestones: pd.DataFrame, r: dict[str, Any], rules: PlainRules) -> float:
    """The model's own chance of passing last year's total where it printed one, else from its
    quantiles."""
    m = milestones[
        (milestones["model"] == r["model"])
        & (milestones["kind"] == "year_total")
        & (milestones["label"].astype(str) == str(int(r["year"]) - 1))
    ]
    if not m.empty:
        return float(m["probability"].iloc[0])
    return _p_above_from_quantiles(r["p10"], r["p50"], r["p90"], rules.last_year)


def year_end_scores(rows: pd.DataFrame) -> pd.DataFrame:
    """Per model: median APE of the median, 80% coverage (overall and by quarter of the year of
    the origin) and the Brier score of "ends above last year", on origins whose year is over."""
    df = rows.dropna(subset=["actual"])
    out = []
    for name, g in df.groupby("model", sort=False):
        a = g["actual"].to_numpy(float)
        row: dict[str, object] = {"model": name, "n": len(g)}
        p50 = g["p50"].to_numpy(float)
        row["median_ape"] = (
            float(np.median(np.abs(p50 - a) / a)) if np.isfinite(p50).all() else np.nan
        )
        inside = (g["p10"] <= g["actual"]) & (g["actual"] <= g["p90"])
        ranged = g["p10"].notna().to_numpy()
        row["coverage_80"] = float(inside[ranged].mean()) if ranged.any() else np.nan
        for q in range(1, 5):
            sel = ranged & (g["quarter"] == q).to_numpy()
            row[f"coverage q{q}"] = float(inside[sel].mean()) if sel.any() else np.nan
        p = g["p_above"].to_numpy(float)
        row["brier"] = brier(p, g["actual"] > g["last_year"]) if np.isfinite(p).all() else np.nan
        out.append(row)
    return pd.DataFrame(out)


@dataclass(frozen=True)
class YearEndBacktest:
    """Every origin's year-end rows (forecasts and plain rules, with the true totals)."""

    rows: pd.DataFrame

    @property
    def scores(self) -> pd.DataFrame:
        return year_end_scores(self.rows)


def run_year_end_backtest(
    daily_as_of: Callable[[date], pd.DataFrame],
    origins: Sequence[date],
    actuals: pd.DataFrame,
    *,
    models: list[str] | None = None,
    n_paths: int = 1000,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> YearEndBacktest:
    """Forecast the year end from every origin with the data as known then (as the backfill
    does: the same call, seed and paths), and join each year's true total."""
    from forecasting.forecast import forecast_as_of

    totals = {y: float(t) for y, t in complete_year_totals(actuals).items()}
    parts = []
    for i, origin in enumerate(origins):
        known = daily_as_of(origin)
        frames = forecast_as_of(known, origin, HORIZON_WEEKS, n_paths, seed, models)
        parts.append(year_end_rows(frames, known, totals))
        if progress is not None:
            progress(i + 1, len(origins))
    rows = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=ROW_COLUMNS)
    return YearEndBacktest(rows)


def format_year_end(scores: pd.DataFrame, title: str) -> str:
    """The scores as one Markdown table."""

    def pct(v: object) -> str:
        return "" if pd.isna(v) else f"{float(v):.1%}"  # type: ignore[arg-type]

    lines = [
        f"### {title}",
        "",
        "| model | origins | median APE | coverage 80% | Jan-Mar | Apr-Jun | Jul-Sep | Oct-Dec "
        "| Brier above last year |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in scores.to_dict("records"):
        brier = "" if pd.isna(r["brier"]) else f"{r['brier']:.4f}"
        quarters = " | ".join(pct(r[f"coverage q{q}"]) for q in range(1, 5))
        lines.append(
            f"| {r['model']} | {r['n']} | {pct(r['median_ape'])} | {pct(r['coverage_80'])} "
            f"| {quarters} | {brier} |"
        )
    return "\n".join(lines) + "\n"
