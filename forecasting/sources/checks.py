"""Figures that cannot be true are refused before they reach the store.

A publication cannot report a day after it was published or after today (London, where the
Home Office counts), cannot be dated years ahead, cannot land more boats than people, and its
weekly sheet cannot contradict its own daily sheet. Each check raises `BadInput` with one line
naming the first offending day or week; nothing is stored from a publication that fails one.

What the real releases do, measured on all 14 in ../shared (14 Nov 2025 to 27 Feb 2026): SB_02's
migrants and boats arrived always equal the sums of SB_01's days, so those are checked. SB_02's
"boats involved in uncontrolled landings" is not: the 20 February 2026 reissue (_v2) gives 5 for
the week ending 15 February where SB_01's days add up to 0 (the 27 February release says 0).
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from forecasting.calendar import london_today, long_date
from forecasting.errors import BadInput
from forecasting.sources.cells import DAILY_COLUMNS, WEEKLY_COLUMNS

__all__ = [
    "check_publication_date",
    "check_daily",
    "check_weekly",
    "check_weekly_against_daily",
    "missing_days",
]

# A publication dated tomorrow may be a clock or time-zone slip; beyond that it is not real.
FUTURE_SLACK = timedelta(days=1)


def check_publication_date(
    published_on: date | None, name: str, *, what: str, today: date | None = None
) -> None:
    """Refuse a publication dated in the future ('is named for' 2099, 'was updated on' 2099)."""
    today = today or london_today()
    if published_on is not None and published_on > today + FUTURE_SLACK:
        raise BadInput(
            name,
            f"{what} {long_date(published_on)}, a date still to come "
            f"(today is {long_date(today)} in London)",
        )


def missing_days(dates: pd.Series) -> list[date]:
    """The days inside the range of sorted, unique `dates` that are not among them."""
    held = set(dates)
    first, last = dates.iloc[0], dates.iloc[-1]
    return [
        first + timedelta(days=i)
        for i in range((last - first).days + 1)
        if first + timedelta(days=i) not in held
    ]


def check_daily(
    daily: pd.DataFrame,
    name: str,
    *,
    today: date | None = None,
    starts_on: date | None = None,
    published_on: date | None = None,
    allow_gaps: bool = False,
) -> pd.DataFrame:
    """Dates unique and contiguous (from `starts_on` when given), none after today or after the
    publication date, no day with more boats than people; adds `revised` from the notes."""
    daily = daily.sort_values("date", kind="stable").reset_index(drop=True)
    dates = daily["date"]
    duplicated = dates[dates.duplicated()]
    if not duplicated.empty:
        raise BadInput(name, f"has the date {duplicated.iloc[0]:%Y-%m-%d} more than once")
    if starts_on is not None and dates.iloc[0] != starts_on:
        raise BadInput(
            name, f"daily figures start on {dates.iloc[0]:%Y-%m-%d}, not on {starts_on:%Y-%m-%d}"
        )
    gaps = missing_days(dates)
    if gaps and not allow_gaps:
        after = max(d for d in dates if d < gaps[0])
        raise BadInput(
            name, f"is missing {len(gaps)} day(s) inside its range, first after {after:%Y-%m-%d}"
        )
    _not_after(dates.iloc[-1], "has figures for", name, today, published_on)
    _no_more_boats_than_people(daily, "date", "on", name)
    daily["revised"] = daily["note"].fillna("").str.contains("revis", case=False)
    return daily[DAILY_COLUMNS]


def check_weekly(
    weekly: pd.DataFrame,
    name: str,
    *,
    today: date | None = None,
    published_on: date | None = None,
) -> pd.DataFrame:
    """Weeks end on Sundays, once each, with none missing, none to come, none with more boats
    than people."""
    weekly = weekly.sort_values("week_ending", kind="stable").reset_index(drop=True)
    ends = weekly["week_ending"]
    if ends.duplicated().any():
        raise BadInput(
            name, f"sheet SB_02 has the week ending {ends[ends.duplicated()].iloc[0]} twice"
        )
    not_sunday = ends[[d.weekday() != 6 for d in ends]]
    if not not_sunday.empty:
        raise BadInput(name, f"sheet SB_02 has a week ending {not_sunday.iloc[0]}, not a Sunday")
    if (ends.iloc[-1] - ends.iloc[0]) != timedelta(weeks=len(ends) - 1):
        raise BadInput(name, "sheet SB_02 is missing weeks inside its range")
    _not_after(ends.iloc[-1], "sheet SB_02 has the week ending", name, today, published_on)
    _no_more_boats_than_people(weekly, "week_ending", "in the week ending", name)
    return weekly[WEEKLY_COLUMNS]


def check_weekly_against_daily(weekly: pd.DataFrame, daily: pd.DataFrame, name: str) -> None:
    """Every SB_02 week lies inside SB_01's days and its arrivals equal the sum of those days."""
    first, last = daily["date"].iloc[0], daily["date"].iloc[-1]
    outside = weekly[
        [end - timedelta(days=6) < first or end > last for end in weekly["week_ending"]]
    ]
    if not outside.empty:
        end = outside["week_ending"].iloc[0]
        raise BadInput(
            name,
            f"sheet SB_02 has the week ending {end:%Y-%m-%d}, outside SB_01's days "
            f"({first:%Y-%m-%d} to {last:%Y-%m-%d})",
        )
    week_of = [d + timedelta(days=6 - d.weekday()) for d in daily["date"]]
    sums = daily.groupby(pd.Series(week_of, index=daily.index))[
        ["migrants_arrived", "boats_arrived"]
    ].sum()
    for row in weekly.itertuples(index=False):
        for column in ("migrants_arrived", "boats_arrived"):
            stated, summed = getattr(row, column), int(sums.at[row.week_ending, column])
            if stated != summed:
                raise BadInput(
                    name,
                    f"sheet SB_02 gives {stated:,} {column} for the week ending "
                    f"{row.week_ending:%Y-%m-%d}, but SB_01's days add up to {summed:,} "
                    "(the sheets contradict each other)",
                )


def _not_after(
    last: date, what: str, name: str, today: date | None, published_on: date | None
) -> None:
    today = today or london_today()
    if last > today:
        raise BadInput(name, f"{what} {last:%Y-%m-%d}, after today ({today:%Y-%m-%d})")
    if published_on is not None and last > published_on:
        raise BadInput(
            name,
            f"{what} {last:%Y-%m-%d}, after its publication date ({published_on:%Y-%m-%d})",
        )


def _no_more_boats_than_people(frame: pd.DataFrame, key: str, when: str, name: str) -> None:
    impossible = frame[frame["boats_arrived"] > frame["migrants_arrived"]]
    if not impossible.empty:
        row = impossible.iloc[0]
        raise BadInput(
            name,
            f"has {row['boats_arrived']:,} boats arrived but {row['migrants_arrived']:,} "
            f"migrants {when} {row[key]:%Y-%m-%d} (more boats than people)",
        )
