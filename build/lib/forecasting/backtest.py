"""Rolling-origin backtests: how each model would have done had it run on past dates.

Each origin is forecast from `daily_as_of(origin)`, the data as known on that date, through the
same `forecast_as_of` the production flow calls, so the scores describe the code that publishes.
Scores compare with the seasonal naive forecast (last year's same week) on exactly the same
weeks, and the interval scores use the same simulated paths that feed the published p10/p90.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from forecasting.forecast import forecast_as_of
from forecasting.models import DEFAULT_MODELS

__all__ = [
    "BacktestResult",
    "run_backtest",
    "origins_between",
    "year_end_origins",
    "evaluate_year_end",
    "summarise_year_end",
    "score_forecasts",
    "format_scores",
    "format_year_end",
    "mae",
    "pinball_loss",
    "coverage",
    "rmsse",
]

QUANTILES = {"p10": 0.1, "p50": 0.5, "p90": 0.9}
SCORE_COLUMNS = [
    "model",
    "mae_vs_naive",
    "rmsse",
    "pinball",
    "coverage_80",
    "n_origins",
    "n_weeks",
]
YEAR_END_COLUMNS = [
    "origin",
    "model",
    "year",
    "observed_ytd",
    "mean",
    "p10",
    "p50",
    "p90",
    "actual",
    "ape",
    "covered",
]
FORECAST_COLUMNS = [
    "origin",
    "model",
    "week_ending",
    "horizon",
    "mean",
    "p10",
    "p50",
    "p90",
    "actual",
    "naive",
    "scale",
]


# --- metrics on plain arrays -------------------------------------------------------------------


def mae(forecast: Sequence[float] | np.ndarray, actual: Sequence[float] | np.ndarray) -> float:
    """Mean absolute error."""
    f, a = np.asarray(forecast, float), np.asarray(actual, float)
    return float(np.mean(np.abs(f - a)))


def pinball_loss(
    quantile_forecast: Sequence[float] | np.ndarray, actual: Sequence[float] | np.ndarray, q: float
) -> float:
    """Mean pinball (quantile) loss of forecasts of the q-th quantile."""
    f, a = np.asarray(quantile_forecast, float), np.asarray(actual, float)
    d = a - f
    return float(np.mean(np.maximum(q * d, (q - 1) * d)))


def coverage(
    lower: Sequence[float] | np.ndarray,
    upper: Sequence[float] | np.ndarray,
    actual: Sequence[float] | np.ndarray,
) -> float:
    """Share of actuals inside [lower, upper] (bounds included)."""
    lo, hi, a = (np.asarray(v, float) for v in (lower, upper, actual))
    return float(np.mean((a >= lo) & (a <= hi)))


def rmsse(
    forecast: Sequence[float] | np.ndarray,
    actual: Sequence[float] | np.ndarray,
    scale: float | Sequence[float] | np.ndarray,
) -> float:
    """Root mean squared scaled error: squared errors divided by the in-sample seasonal-naive
    mean squared error (`scale`, per week or one number), so series levels can be compared."""
    f, a = np.asarray(forecast, float), np.asarray(actual, float)
    s = np.broadcast_to(np.asarray(scale, float), f.shape)
    return float(np.sqrt(np.mean((f - a) ** 2 / s)))


# --- origins --------------------------------------------------------------------------------


def origins_between(start: date, end: date, every: str = "4W") -> list[date]:
    """Sundays from the first Sunday on/after `start`, every `every` (whole weeks), up to `end`.

    The `--every` grammar (1W, 4W, 7D) is forecasting.calendar's, shared with the backfills.
    """
    from forecasting.calendar import sundays_every

    return sundays_every(start, end, every)


def year_end_origins(start: date, end: date) -> list[date]:
    """31 March, 30 June and 30 September that fall within [start, end]."""
    out = []
    for yr in range(start.year, end.year + 1):
        for m, dd in ((3, 31), (6, 30), (9, 30)):
            d = date(yr, m, dd)
            if start <= d <= end:
                out.append(d)
    return out


# --- backtest --------------------------------------------------------------------------------


@dataclass
class BacktestResult:
    """Backtest tables ready to store: scores per model, year-end rows, per-week forecasts."""

    scores: pd.DataFrame
    year_end: pd.DataFrame
    forecasts: pd.DataFrame


def _daily_series(daily: pd.DataFrame) -> pd.Series:
    idx = pd.to_datetime(pd.Series(daily["date"]).map(pd.Timestamp))
    return pd.Series(daily["migrants_arrived"].to_numpy(dtype="float64"), index=idx.values)


def _weekly_actuals(series: pd.Series) -> pd.Series:
    """Totals of complete Monday-Sunday weeks, indexed by the Sunday (as a date)."""
    counts = series.resample("W-SUN").count()
    sums = series.resample("W-SUN").sum()
    sums = sums[counts == 7]
    return pd.Series(sums.to_numpy(), index=[t.date() for t in sums.index])


def _naive_scale(weekly: pd.Series, origin: date) -> float:
    """In-sample seasonal-naive MSE over the 3 years before the origin (RMSSE denominator)."""
    w = weekly[[d <= origin for d in weekly.index]].to_numpy()
    d = w[52:] - w[:-52]
    d = d[-156:]
    return float(np.mean(d**2)) if len(d) and np.mean(d**2) > 0 else 1.0


def run_backtest(
    daily_as_of: Callable[[date], pd.DataFrame],
    start: date,
    end: date,
    every: str = "4W",
    horizon_weeks: int = 13,
    models: list[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
    *,
    n_paths: int = 1000,
    seed: int = 0,
    actuals: pd.DataFrame | None = None,
    year_end_years: tuple[int, int] | None = None,
) -> BacktestResult:
    """Forecast from every origin between start and end with data as known then, and score.

    Week origins are Sundays every `every`; the year-end table also runs 31 Mar/30 Jun/30 Sep
    origins in the range, or in the years `year_end_years` (first, last) when given. Actuals
    come from `actuals` (default: `daily_as_of(date.today())`, the latest figures), and only
    weeks/years complete in them are scored.
    """
    names = list(models) if models is not None else list(DEFAULT_MODELS)
    week_origins = origins_between(start, end, every)
    if year_end_years is None:
        ye_origins = year_end_origins(start, end)
    else:
        first, last = year_end_years
        ye_origins = year_end_origins(date(first, 1, 1), date(last, 12, 31))
    truth = actuals if actuals is not None else daily_as_of(date.today())
    series = _daily_series(truth)
    weekly_truth = _weekly_actuals(series)
    year_totals = _year_totals(series)

    all_origins = sorted(set(week_origins) | set(ye_origins))
    rows: list[dict] = []
    ye_rows: list[dict] = []
    for i, origin in enumerate(all_origins):
        known = daily_as_of(origin)
        fc = forecast_as_of(known, origin, horizon_weeks, n_paths, seed, names)
        if origin in week_origins:
            weekly_known = _weekly_actuals(_daily_series(known))
            scale = _naive_scale(weekly_known, origin)
            for name in names:
                js = fc.per_model[name]
                for h, wk in enumerate(js["weekly"], start=1):
                    we = date.fromisoformat(wk["week_ending"])
                    naive_week = we - timedelta(days=364 * ((h - 1) // 52 + 1))
                    rows.append(
                        {
                            "origin": origin,
                            "model": name,
                            "week_ending": we,
                            "horizon": h,
                            "mean": wk["mean"],
                            "p10": wk["p10"],
                            "p50": wk["p50"],
                            "p90": wk["p90"],
                            "actual": weekly_truth.get(we, np.nan),
                            "naive": weekly_known.get(naive_week, np.nan),
                            "scale": scale,
                        }
                    )
        if origin in ye_origins:
            ye_rows += _year_end_rows(fc, names, year_totals)
        if progress is not None:
            progress(i + 1, len(all_origins))
    forecasts = pd.DataFrame(rows, columns=FORECAST_COLUMNS)
    year_end = pd.DataFrame(ye_rows, columns=YEAR_END_COLUMNS)
    year_end["covered"] = year_end["covered"].astype("boolean")
    return BacktestResult(scores=score_forecasts(forecasts), year_end=year_end, forecasts=forecasts)


def _year_totals(series: pd.Series) -> dict[int, float]:
    out = {}
    for yr, grp in series.groupby(series.index.year):
        first, last = grp.index.min().date(), grp.index.max().date()
        if first <= date(int(yr), 1, 1) and last >= date(int(yr), 12, 31):
            out[int(yr)] = float(grp.sum())
    return out


def _year_end_rows(fc, names: Iterable[str], year_totals: dict[int, float]) -> list[dict]:
    rows = []
    for name in names:
        ye = fc.per_model[name]["year_end"]
        actual = year_totals.get(ye["year"], np.nan)
        ok = not np.isnan(actual)
        rows.append(
            {
                "origin": fc.as_of,
                "model": name,
                "year": ye["year"],
                "observed_ytd": ye["observed_ytd"],
                "mean": ye["mean"],
                "p10": ye["p10"],
                "p50": ye["p50"],
                "p90": ye["p90"],
                "actual": actual,
                "ape": abs(ye["mean"] - actual) / actual if ok and actual > 0 else np.nan,
                "covered": bool(ye["p10"] <= actual <= ye["p90"]) if ok else None,
            }
        )
    return rows


def score_forecasts(forecasts: pd.DataFrame) -> pd.DataFrame:
    """One row per model from per-week forecasts; only weeks with an actual and a naive value.

    mae_vs_naive uses the p50 (the MAE-optimal point) against the seasonal naive's MAE on the
    same weeks; pinball is the mean over p10/p50/p90; coverage_80 is the share inside p10-p90.
    """
    out = []
    df = forecasts.dropna(subset=["actual", "naive"])
    for name, g in df.groupby("model", sort=False):
        a = g["actual"].to_numpy(float)
        naive_mae = mae(g["naive"], a)
        out.append(
            {
                "model": name,
                "mae_vs_naive": mae(g["p50"], a) / naive_mae if naive_mae > 0 else np.nan,
                "rmsse": rmsse(g["p50"], a, g["scale"].to_numpy(float)),
                "pinball": float(np.mean([pinball_loss(g[c], a, q) for c, q in QUANTILES.items()])),
                "coverage_80": coverage(g["p10"], g["p90"], a),
                "n_origins": int(g["origin"].nunique()),
                "n_weeks": len(g),
            }
        )
    return pd.DataFrame(out, columns=SCORE_COLUMNS)


def format_scores(scores: pd.DataFrame) -> str:
    """Scores as a fixed-width text table for logs and the CLI."""
    header = (
        f"{'model':<16}{'MAE/naive':>10}{'RMSSE':>8}{'pinball':>10}{'cov80':>8}"
        f"{'origins':>9}{'weeks':>7}"
    )
    lines = [header, "-" * len(header)]
    for r in scores.itertuples(index=False):
        lines.append(
            f"{r.model:<16}{r.mae_vs_naive:>10.3f}{r.rmsse:>8.3f}{r.pinball:>10.1f}"
            f"{r.coverage_80:>8.1%}{r.n_origins:>9d}{r.n_weeks:>7d}"
        )
    return "\n".join(lines)


def evaluate_year_end(
    daily_as_of: Callable[[date], pd.DataFrame],
    years: Iterable[int],
    models: list[str] | None = None,
    *,
    n_paths: int = 1000,
    seed: int = 0,
    actuals: pd.DataFrame | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Year-end projections made on 31 Mar, 30 Jun and 30 Sep of each year, against the truth."""
    names = list(models) if models is not None else list(DEFAULT_MODELS)
    origins = [date(y, m, d) for y in sorted(years) for m, d in ((3, 31), (6, 30), (9, 30))]
    truth = actuals if actuals is not None else daily_as_of(date.today())
    totals = _year_totals(_daily_series(truth))
    rows: list[dict] = []
    for i, origin in enumerate(origins):
        fc = forecast_as_of(daily_as_of(origin), origin, 1, n_paths, seed, names)
        rows += _year_end_rows(fc, names, totals)
        if progress is not None:
            progress(i + 1, len(origins))
    out = pd.DataFrame(rows, columns=YEAR_END_COLUMNS)
    out["covered"] = out["covered"].astype("boolean")
    return out


def format_year_end(summary: pd.DataFrame) -> str:
    """The year-end summary (from `summarise_year_end`) as a plain-text table."""
    lines = [
        "",
        f"{'year-end':<16}{'MAPE':>8}{'80% hits':>10}",
        "-" * 34,
    ]
    for r in summary.itertuples():
        lines.append(f"{r.model:<16}{r.mape * 100:>7.1f}%{f'{r.hits}/{r.n}':>10}")
    return "\n".join(lines)


def summarise_year_end(year_end: pd.DataFrame) -> pd.DataFrame:
    """Per model: MAPE of the year-end mean, and how many 80% intervals held the true total."""
    df = year_end.dropna(subset=["actual"])
    out = []
    for name, g in df.groupby("model", sort=False):
        out.append(
            {
                "model": name,
                "mape": float(g["ape"].mean()),
                "hits": int(g["covered"].astype(bool).sum()),
                "n": len(g),
            }
        )
    return pd.DataFrame(out, columns=["model", "mape", "hits", "n"])
