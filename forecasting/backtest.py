"""Rolling-origin backtests, run the way production runs, and the selection protocol.

Each origin is forecast from `daily_as_of(origin)`, the data as known on that date, through the
same `forecast_as_of` the flows call, so the scores describe the code that publishes. Origins are
Sundays (whole weeks known) and Thursdays (the weekly release's cut: the first week is then
part-observed). Scores are relative to the seasonal naive forecast (the same week a year
earlier) on exactly the same weeks.

The protocol. Every setting of the models was chosen on the validation period (origins every 4th
Sunday and Thursday, Jul 2019 - Dec 2021, year ends of 2019-2021); 2022-2025 is the evaluation,
looked at once per design. `run_protocol` reproduces both tables from a store.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from forecasting.calendar import complete_year_totals, weekly_totals
from forecasting.forecast import forecast_as_of
from forecasting.horizon import HORIZON_WEEKS
from forecasting.metrics import weekly_scores, year_end_scores

__all__ = [
    "Period",
    "VALIDATION",
    "EVALUATION",
    "PROTOCOL_MODELS",
    "BacktestResult",
    "weekday_origins",
    "year_end_origins",
    "run_backtest",
    "summarise",
    "run_protocol",
    "format_protocol",
]

SUNDAY, THURSDAY = 6, 3
# The production ensemble, its members, the baseline and the benchmarks it must beat.
PROTOCOL_MODELS = (
    "ensemble",
    "profile",
    "ets",
    "trend_fourier",
    "seasonal_naive",
    "prophet_default",
    "prophet",
    "ets_damped",
)


@dataclass(frozen=True)
class Period:
    """A span of origins: every 4th Sunday and Thursday in [start, end], and year-end origins."""

    name: str
    start: date
    end: date
    year_end_years: tuple[int, int]

    def origins(self, every_weeks: int = 4) -> dict[str, list[date]]:
        first, last = self.year_end_years
        return {
            "sunday": weekday_origins(self.start, self.end, SUNDAY, every_weeks),
            "thursday": weekday_origins(self.start, self.end, THURSDAY, every_weeks),
            "year_end": year_end_origins(date(first, 1, 1), date(last, 12, 31)),
        }


VALIDATION = Period("validation", date(2019, 7, 1), date(2021, 12, 31), (2019, 2021))
EVALUATION = Period("evaluation", date(2022, 1, 2), date(2025, 12, 28), (2021, 2025))


def weekday_origins(start: date, end: date, weekday: int, every_weeks: int = 4) -> list[date]:
    """The given weekday (Monday 0) from the first on or after `start`, every N weeks, to `end`."""
    if every_weeks < 1:
        raise ValueError("every_weeks must be at least 1")
    day = start + timedelta(days=(weekday - start.weekday()) % 7)
    out = []
    while day <= end:
        out.append(day)
        day += timedelta(weeks=every_weeks)
    return out


def year_end_origins(start: date, end: date) -> list[date]:
    """31 March, 30 June and 30 September that fall within [start, end]."""
    days = (date(y, m, d) for y in range(start.year, end.year + 1) for m, d in YEAR_END_DAYS)
    return [d for d in days if start <= d <= end]


YEAR_END_DAYS = ((3, 31), (6, 30), (9, 30))


@dataclass(frozen=True)
class BacktestResult:
    """Per-week forecasts with what happened, and year-end rows with the true totals."""

    weekly: pd.DataFrame  # the frames' weekly rows + origin_kind, actual, naive
    year_end: pd.DataFrame  # the frames' year_end rows + origin_kind, actual

    @property
    def scores(self) -> pd.DataFrame:
        """One row per model (see `summarise`)."""
        return summarise(self)


def _weekly_truth(daily: pd.DataFrame) -> pd.Series:
    """Totals of complete Monday-Sunday weeks, indexed by the Sunday (a date)."""
    weeks = weekly_totals(daily)
    return pd.Series(weeks["migrants_arrived"].to_numpy(float), index=weeks["week_ending"])


def run_backtest(
    daily_as_of: Callable[[date], pd.DataFrame],
    origins: Mapping[str, Sequence[date]],
    actuals: pd.DataFrame,
    *,
    horizon_weeks: int = HORIZON_WEEKS,
    models: list[str] | None = None,
    n_paths: int = 1000,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> BacktestResult:
    """Forecast from every origin with the data as known then; join what happened.

    `origins` maps a kind ("sunday", "thursday", "year_end") to dates; `actuals` is the latest
    daily frame (weeks and years complete in it are scored).
    """
    truth = _weekly_truth(actuals)
    totals = complete_year_totals(actuals)
    kinds: dict[date, list[str]] = {}
    for kind, dates in origins.items():
        for d in dates:
            kinds.setdefault(d, []).append(kind)
    weekly_parts, year_end_parts = [], []
    for i, origin in enumerate(sorted(kinds)):
        known = daily_as_of(origin)
        frames = forecast_as_of(known, origin, horizon_weeks, n_paths, seed, models)
        known_weeks = _weekly_truth(known)
        for kind in kinds[origin]:
            if kind == "year_end":
                ye = frames.year_end.assign(origin_kind=kind)
                ye["actual"] = ye["year"].map(totals)
                year_end_parts.append(ye)
            else:
                wk = frames.weekly.assign(origin_kind=kind)
                wk["actual"] = wk["week_ending"].map(truth)
                wk["naive"] = (wk["week_ending"] - timedelta(days=364)).map(known_weeks)
                weekly_parts.append(wk)
        if progress is not None:
            progress(i + 1, len(kinds))
    weekly = pd.concat(weekly_parts, ignore_index=True) if weekly_parts else pd.DataFrame()
    year_end = pd.concat(year_end_parts, ignore_index=True) if year_end_parts else pd.DataFrame()
    return BacktestResult(weekly=weekly, year_end=year_end)


def summarise(result: BacktestResult) -> pd.DataFrame:
    """One row per model: weekly scores on Sunday origins, the part-observed first week's
    coverage on Thursday origins, and year-end MAPE of the median and hits."""
    wk, ye = result.weekly, result.year_end
    names = [*(wk["model"] if not wk.empty else []), *(ye["model"] if not ye.empty else [])]
    out = pd.DataFrame({"model": list(dict.fromkeys(names))})
    if not wk.empty:
        out = out.merge(weekly_scores(wk[wk["origin_kind"] == "sunday"]), on="model", how="left")
        first = wk[(wk["origin_kind"] == "thursday") & (wk["horizon"] == 1)]
        first = first.dropna(subset=["actual"])
        inside = (first["actual"] >= first["p10"]) & (first["actual"] <= first["p90"])
        part = inside.groupby(first["model"], sort=False).mean().rename("coverage part week")
        out = out.merge(part.reset_index(), on="model", how="left")
    if not ye.empty:
        out = out.merge(year_end_scores(ye), on="model", how="left")
    return out


def run_protocol(
    daily_as_of: Callable[[date], pd.DataFrame],
    actuals: pd.DataFrame,
    *,
    models: Sequence[str] = PROTOCOL_MODELS,
    periods: Sequence[Period] = (VALIDATION, EVALUATION),
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, BacktestResult]:
    """The validation and evaluation backtests, every model on the same origins."""
    results = {}
    for period in periods:

        def tick(done: int, total: int, name: str = period.name) -> None:
            if progress is not None:
                progress(name, done, total)

        results[period.name] = run_backtest(
            daily_as_of, period.origins(), actuals, models=list(models), progress=tick
        )
    return results


def _pct(v: float) -> str:
    return "" if pd.isna(v) else f"{v:.1%}"


def _num(v: float) -> str:
    return "" if pd.isna(v) else f"{v:.3f}"


def format_protocol(results: dict[str, BacktestResult]) -> str:
    """The protocol's tables as Markdown, one per period."""
    lines = []
    for name, result in results.items():
        table = summarise(result)
        lines += [
            f"### {name}",
            "",
            "| model | MAE vs naive | coverage 80% | weeks 1-4 | weeks 5-8 | weeks 9-13 "
            "| part week | roughness | year-end MAPE (median) | hits |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in table.to_dict("records"):
            hits = "" if pd.isna(r.get("hits")) else f"{int(r['hits'])}/{int(r['n'])}"
            lines.append(
                f"| {r['model']} | {_num(r.get('mae_vs_naive'))} | {_pct(r.get('coverage_80'))} "
                f"| {_pct(r.get('coverage weeks 1-4'))} | {_pct(r.get('coverage weeks 5-8'))} "
                f"| {_pct(r.get('coverage weeks 9-13'))} | {_pct(r.get('coverage part week'))} "
                f"| {_num(r.get('roughness'))} | {_pct(r.get('mape_median'))} | {hits} |"
            )
        n_sun = result.weekly.query("origin_kind == 'sunday'")["as_of"].nunique()
        n_thu = result.weekly.query("origin_kind == 'thursday'")["as_of"].nunique()
        n_ye = result.year_end["as_of"].nunique() if not result.year_end.empty else 0
        lines += [
            "",
            f"{n_sun} Sunday origins, {n_thu} Thursday origins, {n_ye} year-end origins.",
            "",
        ]
    return "\n".join(lines)
