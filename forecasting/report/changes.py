"""What changed since the last report, and how the year-end projection formed over the year.

A reader who saw last week's page needs one paragraph: the new figures (days, people), any
revision to days already published, and how far the projection moved and why (the new weeks
against what the earlier forecast expected of them). The "last report" is the newest production
forecast stored before the one shown; its figures are the store's as known on its date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from forecasting.report.formats import as_date, fmt_int, long_date, short_date

__all__ = ["WhatChanged", "what_changed", "projection_history", "previous_forecast_date"]


@dataclass(frozen=True)
class WhatChanged:
    """The facts of the paragraph."""

    previous_as_of: date
    first_new_day: date | None
    last_new_day: date | None
    new_days: int
    new_people: int
    revised_days: int
    revised_people: int  # net change to the days already published
    previous_p50: float
    p50: float
    weeks_compared: int  # complete weeks the earlier forecast covered that have since ended
    expected: float  # the earlier forecast's median for those weeks
    arrived: int  # what arrived in them

    @property
    def moved(self) -> float:
        return self.p50 - self.previous_p50

    def _new_figures(self) -> str:
        if not self.new_days or self.first_new_day is None or self.last_new_day is None:
            return "no new days of figures"
        span = (
            short_date(self.first_new_day)
            if self.first_new_day == self.last_new_day
            else f"{short_date(self.first_new_day)} to {short_date(self.last_new_day)}"
        )
        days = "day" if self.new_days == 1 else "days"
        return f"{self.new_days} new {days} of figures ({span}), {fmt_int(self.new_people)} people"

    def _revisions(self) -> str:
        if not self.revised_days:
            return "no earlier day was revised"
        days = "day was" if self.revised_days == 1 else "days were"
        net = f"{'+' if self.revised_people >= 0 else '-'}{fmt_int(abs(self.revised_people))}"
        return f"{self.revised_days} earlier {days} revised ({net} people in all)"

    def _why(self) -> str:
        if not self.weeks_compared:
            return (
                "no week the earlier forecast covered has ended since, so the move comes from "
                "the days of the week in progress and the models' refit on them"
            )
        weeks = (
            "week that has"
            if self.weeks_compared == 1
            else f"{self.weeks_compared} weeks that have"
        )
        direction = "above" if self.arrived > self.expected else "below"
        if round(self.arrived) == round(self.expected):
            direction = "in line with"
        return (
            f"in the {weeks} ended since, {fmt_int(self.arrived)} people arrived against the "
            f"{fmt_int(self.expected)} the earlier forecast expected (its median): "
            f"{direction} what was expected"
        )

    @property
    def sentence(self) -> str:
        moved = round(self.moved)
        if moved == 0:
            how = f"stayed at {fmt_int(self.p50)}"
        else:
            how = (
                f"moved {'up' if moved > 0 else 'down'} by {fmt_int(abs(moved))}, from "
                f"{fmt_int(self.previous_p50)} to {fmt_int(self.p50)}"
            )
        return (
            f"Since our forecast of {long_date(self.previous_as_of)}: {self._new_figures()}; "
            f"{self._revisions()}. The projected year end {how}: {self._why()}."
        )


def previous_forecast_date(earlier_year_end: pd.DataFrame, year: int) -> date | None:
    """The newest stored production forecast of `year` made before the one shown."""
    rows = _production_of(earlier_year_end, year)
    return None if rows.empty else as_date(rows["as_of"].iloc[-1])


def _production_of(year_end: pd.DataFrame, year: int) -> pd.DataFrame:
    if year_end.empty:
        return year_end
    rows = year_end[year_end["production"].astype(bool) & (year_end["year"] == year)]
    return rows.sort_values("as_of")


def what_changed(
    *,
    previous_daily: pd.DataFrame,
    daily: pd.DataFrame,
    weeks: pd.DataFrame,
    earlier_year_end: pd.DataFrame,
    earlier_weeks: pd.DataFrame,
    year: int,
    p50: float,
) -> WhatChanged | None:
    """The paragraph's facts against the last forecast of `year` (None without one)."""
    previous = previous_forecast_date(earlier_year_end, year)
    if previous is None:
        return None
    row = _production_of(earlier_year_end, year).iloc[-1]
    before = _by_day(previous_daily)
    now = _by_day(daily)
    known_then = {d: v for d, v in before.items() if d <= previous}
    new = {d: v for d, v in now.items() if d not in known_then and d > previous}
    revised = {d: now[d] - v for d, v in known_then.items() if d in now and now[d] != v}
    expected, arrived, compared = _weeks_against_forecast(earlier_weeks, weeks, previous)
    return WhatChanged(
        previous_as_of=previous,
        first_new_day=min(new) if new else None,
        last_new_day=max(new) if new else None,
        new_days=len(new),
        new_people=int(sum(new.values())),
        revised_days=len(revised),
        revised_people=int(sum(revised.values())),
        previous_p50=float(row["year_end_p50"]),
        p50=p50,
        weeks_compared=compared,
        expected=expected,
        arrived=arrived,
    )


def _by_day(daily: pd.DataFrame) -> dict[date, int]:
    if daily.empty:
        return {}
    return {
        as_date(d): int(v)  # type: ignore[misc]
        for d, v in zip(daily["date"], daily["migrants_arrived"], strict=True)
    }


def _weeks_against_forecast(
    earlier_weeks: pd.DataFrame, weeks: pd.DataFrame, previous: date
) -> tuple[float, int, int]:
    """(expected, arrived, how many weeks): the weeks wholly after `previous`'s week began that
    have ended since, by the earlier production forecast's median and as they turned out."""
    if earlier_weeks.empty or weeks.empty:
        return 0.0, 0, 0
    made = earlier_weeks[
        earlier_weeks["production"].astype(bool) & (earlier_weeks["as_of"].map(as_date) == previous)
    ]
    actual = dict(zip(weeks["week_ending"], weeks["migrants_arrived"], strict=True))
    ended = made[[as_date(w) in actual for w in made["week_ending"]]]
    if ended.empty:
        return 0.0, 0, 0
    arrived = sum(int(actual[as_date(w)]) for w in ended["week_ending"])
    return float(ended["p50"].sum()), arrived, len(ended)


def projection_history(
    earlier_year_end: pd.DataFrame, year: int, as_of: date, p10: float, p50: float, p90: float
) -> pd.DataFrame:
    """as_of, p10, p50, p90: the year-end projection of `year` at each stored as-of date of the
    year (production forecasts only), the shown one last; one row per date."""
    rows = _production_of(earlier_year_end, year)
    history = pd.DataFrame(
        {
            "as_of": [as_date(d) for d in rows["as_of"]],
            "p10": rows["year_end_p10"].astype(float).to_numpy() if not rows.empty else [],
            "p50": rows["year_end_p50"].astype(float).to_numpy() if not rows.empty else [],
            "p90": rows["year_end_p90"].astype(float).to_numpy() if not rows.empty else [],
        }
    )
    history = history[[d.year == year for d in history["as_of"]]]
    shown = pd.DataFrame([{"as_of": as_of, "p10": p10, "p50": p50, "p90": p90}])
    history = pd.concat([history, shown], ignore_index=True)
    return history.drop_duplicates("as_of", keep="last").reset_index(drop=True).round(0)
