"""The data behind each chart, derived from the daily figures; each frame is also its CSV download.

Pure functions of the as-of figures (no store, no plotly), so the numbers a chart draws can be
tested on their own and downloaded exactly as drawn.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from forecasting.calendar import complete_year_totals as whole_year_totals
from forecasting.calendar import week_ending
from forecasting.calendar import weekly_totals as days_into_weeks
from forecasting.report.data import ForecastView

__all__ = [
    "PREVENTIONS_FROM",
    "RECENT_DAYS",
    "on_2000",
    "weekly_totals",
    "cumulative_by_year",
    "complete_year_totals",
    "cumulative_projection",
    "recent_daily",
    "monthly_people_per_boat",
    "preventions",
    "part_week",
]

PREVENTIONS_FROM = date(2024, 5, 1)  # the Home Office's weekly French figures start in May 2024
RECENT_DAYS = 90


def weekly_totals(daily: pd.DataFrame) -> pd.DataFrame:
    """Daily arrivals summed by week ending Sunday, complete weeks only (a part week would dip)."""
    if daily.empty:
        return pd.DataFrame(columns=["week_ending", "migrants_arrived", "boats_arrived"])
    weeks = days_into_weeks(daily, ("migrants_arrived", "boats_arrived"))
    return weeks.drop(columns="days").astype(
        {"migrants_arrived": "int64", "boats_arrived": "int64"}
    )


def on_2000(d: date) -> date:
    """The same day and month in 2000 (a leap year), so every year shares one time axis."""
    return date(2000, d.month, d.day)


def cumulative_by_year(daily: pd.DataFrame) -> pd.DataFrame:
    """Arrivals from 1 January to each day, per calendar year (the last year up to its last day).

    Years whose data does not start on 1 January are left out, as in `year_to_date`.
    """
    frame = pd.DataFrame(
        {
            "date": list(daily["date"]),
            "migrants_arrived": daily["migrants_arrived"].astype("int64").to_numpy(),
        }
    )
    frame["year"] = [d.year for d in frame["date"]]
    first = frame["date"].iloc[0]
    if first != date(first.year, 1, 1):
        frame = frame[frame["year"] > first.year]
    frame["cumulative"] = frame.groupby("year")["migrants_arrived"].cumsum().astype("int64")
    return frame[["year", "date", "migrants_arrived", "cumulative"]].reset_index(drop=True)


def complete_year_totals(daily: pd.DataFrame) -> pd.DataFrame:
    """Total arrivals of each calendar year the data covers from 1 January to 31 December."""
    totals = whole_year_totals(daily)
    return pd.DataFrame(
        {"year": list(totals), "migrants_arrived": [int(t) for t in totals.values()]}
    ).astype({"year": "int64", "migrants_arrived": "int64"})


def cumulative_projection(
    daily: pd.DataFrame, forecast: ForecastView, data_through: date
) -> pd.DataFrame:
    """This year's projected running total from the last day with data to 31 December.

    Uses the stored weekly cumulative forecast when there is one. Otherwise the year-end 80%
    interval alone, spread over the remaining days in proportion to how arrivals fell over the
    same days in earlier complete years (straight lines if there are none).
    """
    year = forecast.year
    dec31 = date(year, 12, 31)
    observed = int(
        sum(
            v
            for d, v in zip(daily["date"], daily["migrants_arrived"], strict=True)
            if date(year, 1, 1) <= d <= data_through
        )
    )
    start = {"date": data_through, "p10": observed, "p50": observed, "p90": observed}
    start["mean"] = observed
    if forecast.cumulative is not None and not forecast.cumulative.empty:
        ahead = forecast.cumulative[
            [data_through < d <= dec31 for d in forecast.cumulative["week_ending"]]
        ]
        rows = [start] + [
            {"date": r.week_ending, "mean": r.mean, "p10": r.p10, "p50": r.p50, "p90": r.p90}
            for r in ahead.itertuples()
        ]
        return pd.DataFrame(rows, columns=["date", "mean", "p10", "p50", "p90"])
    if data_through >= dec31:
        return pd.DataFrame([start], columns=["date", "mean", "p10", "p50", "p90"])
    points = [data_through + timedelta(days=k) for k in range(7, (dec31 - data_through).days, 7)]
    points.append(dec31)
    share = _remaining_share(daily, data_through, points)
    rows = [start]
    for d, s in zip(points, share, strict=True):
        row: dict[str, Any] = {"date": d}
        for key, target in (
            ("mean", forecast.mean),
            ("p10", forecast.p10),
            ("p50", forecast.p50),
            ("p90", forecast.p90),
        ):
            row[key] = observed + s * max(target - observed, 0.0)
        rows.append(row)
    return pd.DataFrame(rows, columns=["date", "mean", "p10", "p50", "p90"])


def _remaining_share(daily: pd.DataFrame, data_through: date, points: list[date]) -> np.ndarray:
    """For each point, the average share of the rest of the year's arrivals that came by then."""
    cumulative = cumulative_by_year(daily)
    full = complete_year_totals(daily)["year"].tolist()
    shares = []
    for year in full:
        rows = cumulative[cumulative["year"] == year]
        by_day = dict(zip([on_2000(d) for d in rows["date"]], rows["cumulative"], strict=True))
        base = by_day.get(on_2000(data_through), by_day.get(date(2000, 2, 28), 0))
        total = rows["cumulative"].iloc[-1]
        if total - base <= 0:
            continue
        shares.append(
            [
                (by_day.get(on_2000(p), by_day.get(date(2000, 2, 28), base)) - base)
                / (total - base)
                for p in points
            ]
        )
    if shares:
        out: np.ndarray = np.clip(np.mean(np.array(shares, dtype=float), axis=0), 0.0, 1.0)
        out[-1] = 1.0
        return out
    span = (points[-1] - data_through).days
    return np.array([(p - data_through).days / span for p in points])


def recent_daily(daily: pd.DataFrame, days: int = RECENT_DAYS) -> pd.DataFrame:
    """The last `days` days: people and boats arrived each day, with the Home Office's notes."""
    last = daily["date"].iloc[-1]
    frame = daily[[d > last - timedelta(days=days) for d in daily["date"]]]
    return frame[["date", "migrants_arrived", "boats_arrived", "note"]].reset_index(drop=True)


def monthly_people_per_boat(daily: pd.DataFrame) -> pd.DataFrame:
    """People per boat each month (people over boats; months with no boats are left blank).

    `days` counts the days with figures; `complete` is False for a month the figures cover only
    in part (the current month, or a first month starting late), which the chart marks as such.
    """
    frame = pd.DataFrame(
        {
            "month": [date(d.year, d.month, 1) for d in daily["date"]],
            "migrants_arrived": daily["migrants_arrived"].astype("int64").to_numpy(),
            "boats_arrived": daily["boats_arrived"].astype("int64").to_numpy(),
            "days": 1,
        }
    )
    months = frame.groupby("month", as_index=False).sum()
    boats = months["boats_arrived"].where(months["boats_arrived"] > 0)
    months["people_per_boat"] = (months["migrants_arrived"] / boats).round(1)
    months["complete"] = [
        days == calendar.monthrange(m.year, m.month)[1]
        for m, days in zip(months["month"], months["days"], strict=True)
    ]
    return months


def part_week(daily: pd.DataFrame) -> dict[str, Any] | None:
    """The week in progress at the end of the figures (fewer than 7 days known), else None."""
    if daily.empty:
        return None
    last = daily["date"].iloc[-1]
    if last.weekday() == 6:
        return None
    monday = last - timedelta(days=last.weekday())
    rows = daily[[d >= monday for d in daily["date"]]]
    return {
        "week_ending": week_ending(last),
        "migrants_arrived": int(rows["migrants_arrived"].sum()),
        "days": len(rows),
        "first": monday,
        "last": last,
    }


def preventions(weekly: pd.DataFrame) -> pd.DataFrame:
    """French preventions by week since May 2024, where the Home Office gives a figure."""
    columns = ["week_ending", "migrants_prevented", "events_prevented", "migrants_arrived"]
    if weekly.empty:
        return pd.DataFrame(columns=columns)
    frame = weekly[
        [d is not None and d >= PREVENTIONS_FROM for d in weekly["week_ending"]]
        & weekly["migrants_prevented"].notna().to_numpy()
    ]
    return frame[columns].reset_index(drop=True)
