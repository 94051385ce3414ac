"""What the "Who is crossing" section reads: the official quarterly record as known on the date.

Read through `forecasting.store` (no SQL here), as known on the report's date, so a page of an
earlier date shows only the quarterly releases published by then. Year totals elsewhere on the
page stay on the weekly series; these figures are the official record beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from forecasting import store
from forecasting.nationality_estimate import (
    EstimateBacktest,
    NationalityEstimate,
    backtest_estimate,
    estimate_by_nationality,
)

__all__ = ["WhoData", "load_who", "weekly_by_quarter"]


@dataclass(frozen=True)
class WhoData:
    """The official small-boat record by nationality, sex and age, as known on `as_of`."""

    as_of: date
    official: pd.DataFrame  # year, quarter, nationality, sex, age_group, detections, ...
    publication: str  # the newest quarterly release known
    published_on: date | None
    last_quarter: tuple[int, int]
    weekly_through: date
    reconciliation: pd.DataFrame  # quarterly_reconciliation, quarters known by as_of
    weekly_years: dict[int, int]  # complete years of the weekly series
    estimate: NationalityEstimate | None
    backtest: EstimateBacktest | None
    ytd_year: int


def weekly_by_quarter(daily: pd.DataFrame) -> dict[tuple[int, int], int]:
    """The weekly series' whole quarters: (year, quarter) -> migrants arrived."""
    days = pd.to_datetime(daily["date"])
    frame = daily.assign(y=days.dt.year, q=days.dt.quarter)
    grouped = frame.groupby(["y", "q"])
    counts, sums = grouped.size(), grouped["migrants_arrived"].sum()
    out = {}
    for (y, q), n in counts.items():
        start = pd.Timestamp(year=int(y), month=3 * int(q) - 2, day=1)
        if n == (start + pd.offsets.QuarterEnd(0) - start).days + 1:
            out[(int(y), int(q))] = int(sums[(y, q)])
    return out


def _reconciled(official: pd.DataFrame, weekly: dict[tuple[int, int], int]) -> pd.DataFrame:
    """Official against weekly small-boat totals per quarter (the view's shape, as of the date)."""
    from forecasting.store.quarterly_views import RECONCILIATION_FLAG_PCT

    totals = official.groupby(["year", "quarter"])["detections"].sum()
    rows = []
    for (y, q), total in totals.items():
        week = weekly.get((int(y), int(q)))
        diff = None if week is None else int(total) - week
        pct = None if not week or diff is None else 100 * diff / week
        rows.append(
            {
                "year": int(y),
                "quarter": int(q),
                "quarterly_small_boats": int(total),
                "weekly_small_boats": week,
                "difference": diff,
                "difference_pct": pct,
                "flagged": pct is not None and abs(pct) > RECONCILIATION_FLAG_PCT,
            }
        )
    return pd.DataFrame(rows)


def load_who(db_path: Path, as_of: date, daily: pd.DataFrame, ytd_total: int) -> WhoData | None:
    """The section's data, or None when no quarterly release was published by `as_of`."""
    official = store.quarterly_as_of(db_path, as_of, small_boats_only=True)
    if official.empty:
        return None
    newest = official.sort_values(["year", "quarter"]).iloc[-1]
    weekly = weekly_by_quarter(daily)
    years: dict[int, int] = {}
    for (y, _q), total in weekly.items():
        years[y] = years.get(y, 0) + total
    complete = {y: t for y, t in years.items() if all((y, q) in weekly for q in (1, 2, 3, 4))}
    vintages = store.quarterly_vintages(db_path, as_of)
    through = pd.Timestamp(daily["date"].iloc[-1]).date()
    return WhoData(
        as_of=as_of,
        official=official,
        publication=str(newest["publication"]),
        published_on=None
        if pd.isna(newest["published_on"])
        else pd.Timestamp(newest["published_on"]).date(),
        last_quarter=(int(newest["year"]), int(newest["quarter"])),
        weekly_through=through,
        reconciliation=_reconciled(official, weekly),
        weekly_years=complete,
        estimate=estimate_by_nationality(official, ytd_total),
        backtest=backtest_estimate(vintages, official, weekly),
        ytd_year=through.year,
    )
