"""Forecast scores, one implementation for the backtests and the report's track record alike.

Inputs are the long frames of frames.py joined with what happened: a weekly frame with columns
`model`, `horizon`, `p10`, `p50`, `p90`, `actual` and `naive` (the same week a year earlier, as
known at the origin), and a year-end frame with `model`, `p10`, `p50`, `p90`, `actual`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

import numpy as np
import pandas as pd

__all__ = [
    "HORIZON_BANDS",
    "mae",
    "brier",
    "relative_mae",
    "pinball_loss",
    "coverage",
    "rmsse",
    "roughness",
    "weekly_scores",
    "year_end_scores",
]

QUANTILES = {"p10": 0.1, "p50": 0.5, "p90": 0.9}
HORIZON_BANDS = {"weeks 1-4": (1, 4), "weeks 5-8": (5, 8), "weeks 9-13": (9, 13)}

ArrayLike: TypeAlias = Sequence[float] | np.ndarray | pd.Series


def mae(forecast: ArrayLike, actual: ArrayLike) -> float:
    """Mean absolute error ("typical error"); NaN when there is nothing to score."""
    f, a = np.asarray(forecast, float), np.asarray(actual, float)
    return float(np.mean(np.abs(f - a))) if a.size else float("nan")


def brier(chance: ArrayLike, happened: ArrayLike) -> float:
    """Brier score of chances given for events: the mean squared gap between each chance and 1
    (it happened) or 0 (it did not); 0 is perfect, always saying one in two scores 0.25."""
    p, o = np.asarray(chance, float), np.asarray(happened, float)
    return float(np.mean((p - o) ** 2)) if o.size else float("nan")


def relative_mae(forecast: ArrayLike, baseline: ArrayLike, actual: ArrayLike) -> float:
    """MAE of `forecast` over the MAE of `baseline` on the same outcomes (below 1 beats it)."""
    base = mae(baseline, actual)
    return mae(forecast, actual) / base if base > 0 else float("nan")


def pinball_loss(quantile_forecast: ArrayLike, actual: ArrayLike, q: float) -> float:
    """Mean pinball (quantile) loss of forecasts of the q-th quantile."""
    d = np.asarray(actual, float) - np.asarray(quantile_forecast, float)
    return float(np.mean(np.maximum(q * d, (q - 1) * d)))


def coverage(lower: ArrayLike, upper: ArrayLike, actual: ArrayLike) -> float:
    """Share of actuals inside [lower, upper] (bounds included)."""
    lo, hi, a = (np.asarray(v, float) for v in (lower, upper, actual))
    return float(np.mean((a >= lo) & (a <= hi))) if len(a) else float("nan")


def rmsse(forecast: ArrayLike, actual: ArrayLike, scale: float | ArrayLike) -> float:
    """Root mean squared scaled error: squared errors over the in-sample seasonal-naive mean
    squared error (`scale`, per week or one number), so series levels can be compared."""
    f, a = np.asarray(forecast, float), np.asarray(actual, float)
    s = np.broadcast_to(np.asarray(scale, float), f.shape)
    return float(np.sqrt(np.mean((f - a) ** 2 / s)))


def roughness(p50: ArrayLike, first: int = 2, last: int = 12) -> float:
    """Mean |second difference| of log weekly p50 over weeks `first`..`last` of one forecast:
    near 0 for a smooth path, ~0.2+ when it copies one-off weeks of past years."""
    values = np.log(np.maximum(np.asarray(p50, float)[first - 1 : last], 1.0))
    if len(values) < 3:
        return float("nan")
    return float(np.mean(np.abs(np.diff(values, n=2))))


def _one_model(g: pd.DataFrame) -> dict[str, float]:
    a = g["actual"].to_numpy(float)
    naive_mae = mae(g["naive"], a)
    row = {
        "mae_vs_naive": mae(g["p50"], a) / naive_mae if naive_mae > 0 else np.nan,
        "pinball": float(np.mean([pinball_loss(g[c], a, q) for c, q in QUANTILES.items()])),
        "coverage_80": coverage(g["p10"], g["p90"], a),
    }
    for band, (lo, hi) in HORIZON_BANDS.items():
        s = g[(g["horizon"] >= lo) & (g["horizon"] <= hi)]
        row[f"coverage {band}"] = coverage(s["p10"], s["p90"], s["actual"])
    if "scale" in g:
        row["rmsse"] = rmsse(g["p50"], a, g["scale"].to_numpy(float))
    if "as_of" in g:
        row["roughness"] = float(
            np.nanmedian(
                [roughness(f.sort_values("horizon")["p50"]) for _, f in g.groupby("as_of")]
            )
        )
        row["n_origins"] = int(g["as_of"].nunique())
    row["n_weeks"] = len(g)
    return row


def weekly_scores(weekly: pd.DataFrame) -> pd.DataFrame:
    """One row per model: MAE of the p50 relative to the seasonal naive's on the same weeks,
    pinball loss, 80% coverage overall and by horizon band, roughness of the median path.

    Only weeks with both an actual and a naive value count."""
    df = weekly.dropna(subset=["actual", "naive"])
    rows = [{"model": name, **_one_model(g)} for name, g in df.groupby("model", sort=False)]
    return pd.DataFrame(rows)


def year_end_scores(year_end: pd.DataFrame) -> pd.DataFrame:
    """Per model: MAPE of the year-end median, and how many 80% ranges held the true total."""
    df = year_end.dropna(subset=["actual"])
    rows = []
    for name, g in df.groupby("model", sort=False):
        a = g["actual"].to_numpy(float)
        rows.append(
            {
                "model": name,
                "mape_median": float(np.mean(np.abs(g["p50"].to_numpy(float) - a) / a)),
                "hits": int(((g["p10"] <= a) & (a <= g["p90"])).sum()),
                "n": len(g),
            }
        )
    return pd.DataFrame(rows, columns=["model", "mape_median", "hits", "n"])
