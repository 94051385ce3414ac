"""Why this forecast: the reasoning behind the year-end projection, computed from the forecast.

A projection that may well be right but looks wrong (the year so far up, the projection down) is
discarded by readers unless the page says why. Every sentence here is built from the stored
forecast (its runs frame's `level_trailing`, `level_implied` and `remaining_year_errors`, its
members' year ends) and the figures as known on the page's date, never written by hand for a
date, so a reader can check it against the charts on the same page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from forecasting.frames import ForecastFrames
from forecasting.models.remaining import SEASON_WEEKS, widening
from forecasting.report.data import ForecastView
from forecasting.report.formats import as_mapping, fmt_int, long_date, pct, short_date

__all__ = ["MemberView", "RestOfYear", "WhyThisForecast", "why_this_forecast", "rest_of_year"]

# What each model does, in a reader's words (the code names stay in the analysts' section).
MEMBER_WORDS = {
    "profile": "The usual seasonal pattern of recent years, set to this year's recent level",
    "ets": "Last year's week-by-week shape, scaled to a smoothed recent level",
    "trend_fourier": "A trend through the past years with a yearly cycle",
}
BENCHMARK_WORDS = {"seasonal_naive": "Simply repeating last year's weeks"}


@dataclass(frozen=True)
class MemberView:
    """One model's projected year end."""

    model: str
    words: str
    p10: float
    p50: float
    p90: float

    @property
    def sentence(self) -> str:
        return (
            f"{self.words}: about {fmt_int(self.p50)} "
            f"(80% range {fmt_int(self.p10)} to {fmt_int(self.p90)})."
        )


@dataclass(frozen=True)
class RestOfYear:
    """What the rest of the year would need to pass a total, against the same weeks of every
    earlier complete year."""

    needed: int  # people still to arrive for the year to pass the total
    weeks_left: float
    best: int | None  # the most that ever arrived in the same part of an earlier year
    best_year: int | None

    @property
    def per_week(self) -> float:
        return self.needed / self.weeks_left if self.weeks_left > 0 else float("nan")

    @property
    def best_per_week(self) -> float | None:
        return None if self.best is None else self.best / self.weeks_left


def rest_of_year(daily: pd.DataFrame, through: date, target: float, ytd: int) -> RestOfYear:
    """People needed from the day after `through` to 31 December to pass `target`, and the most
    that arrived in that same stretch of any earlier year whose figures cover it."""
    weeks_left = (date(through.year, 12, 31) - through).days / 7
    days = pd.to_datetime(daily["date"])
    month, day = days.dt.month, days.dt.day
    after = (month > through.month) | ((month == through.month) & (day > through.day))
    earlier = days.dt.year < through.year
    # only years whose figures run from before that day to 31 December
    first = days.iloc[0]
    whole = [
        y
        for y in range(first.year, through.year)
        if (first.month, first.day) <= (through.month, through.day) or y > first.year
    ]
    sums = daily["migrants_arrived"][(after & earlier).to_numpy()].groupby(days.dt.year).sum()
    sums = sums[sums.index.isin(whole)]
    best, best_year = (None, None) if sums.empty else (int(sums.max()), int(sums.idxmax()))
    return RestOfYear(max(int(target) + 1 - ytd, 0), weeks_left, best, best_year)


@dataclass(frozen=True)
class WhyThisForecast:
    """The facts behind the projection and the sentences the page shows."""

    year: int
    as_of: date
    through: date
    ytd: int
    previous_ytd: int | None
    change_pct: float | None  # year to date against the same days of last year
    last_year_total: int | None
    share_by_now_last_year: float | None  # of last year's total, the part arrived by this day
    level_trailing: float | None  # the last 13 weeks over the same weeks a year earlier
    level_implied: float | None  # the forecast's next 13 weeks over the same weeks a year earlier
    p10: float
    p50: float
    p90: float
    members: tuple[MemberView, ...]
    benchmarks: tuple[MemberView, ...]
    rest: RestOfYear | None
    # each earlier year's error at this point of the year: (year, what was left of it over the
    # forecast made then), the misses the 80% range is spread like (models/remaining.py)
    past_misses: tuple[tuple[int, float], ...] = ()

    @property
    def ytd_up(self) -> bool | None:
        return None if self.change_pct is None else self.change_pct >= 0

    @property
    def projection_up(self) -> bool | None:
        return None if self.last_year_total is None else self.p50 > self.last_year_total

    @property
    def disagree(self) -> bool:
        return None not in (self.ytd_up, self.projection_up) and self.ytd_up != self.projection_up

    @property
    def at_trailing_pace(self) -> float | None:
        """The year end if the rest of the year ran at the recent level against last year."""
        if None in (self.level_trailing, self.last_year_total, self.previous_ytd):
            return None
        rest_last_year = self.last_year_total - self.previous_ytd  # type: ignore[operator]
        return self.ytd + self.level_trailing * rest_last_year  # type: ignore[operator]

    def level_sentence(self) -> str | None:
        if self.level_trailing is None:
            return None
        return (
            f"Recent level: over the 13 complete weeks to {short_date(self.through)}, arrivals "
            f"ran at {pct(self.level_trailing)} of the same weeks a year earlier (the weekly "
            "chart shows both)."
        )

    def implies_sentence(self) -> str | None:
        pace = self.at_trailing_pace
        if pace is None or self.level_trailing is None:
            return None
        last = self.year - 1
        text = (
            f"What that implies: if the rest of {self.year} ran at {pct(self.level_trailing)} "
            f"of {last}, the year would end near {fmt_int(round(pace, -2))}"
        )
        if self.level_implied is not None:
            text += (
                f"; the models' median is {fmt_int(self.p50)}, their next 13 weeks coming to "
                f"{pct(self.level_implied)} of the same weeks of {last}"
            )
        return text + "."

    def rest_sentence(self) -> str | None:
        r = self.rest
        if r is None or self.last_year_total is None or r.weeks_left <= 0:
            return None
        last = self.year - 1
        if r.needed == 0:
            total = fmt_int(self.last_year_total)
            return f"{self.year} has already passed {last}'s total of {total}."
        text = (
            f"To pass {last}'s total of {fmt_int(self.last_year_total)}, {self.year} would need "
            f"about {fmt_int(r.per_week)} a week from now to the end of December "
            f"({fmt_int(r.needed)} in all)"
        )
        if r.best is not None and r.best_per_week is not None:
            text += (
                f"; the most in the same weeks of any year so far was {fmt_int(r.best)} "
                f"(about {fmt_int(r.best_per_week)} a week), in {r.best_year}"
            )
        return text + "."

    def direction_sentence(self) -> str | None:
        """One sentence on whether the year so far and the projection point the same way."""
        if self.ytd_up is None or self.projection_up is None:
            return None
        last = self.year - 1
        so_far = f"{'up' if self.ytd_up else 'down'} {abs(self.change_pct or 0):.0f}% on {last}"
        ends = "above" if self.projection_up else "below"
        if not self.disagree:
            return (
                f"The year so far and the projection point the same way: {self.year} is {so_far} "
                f"to {short_date(self.through)}, and the median puts it {ends} {last}'s total."
            )
        share = self.share_by_now_last_year
        early = (
            f"by {short_date(self.through)} only {pct(share)} of {last}'s total had arrived, so "
            "the year so far says little about the months ahead"
            if share is not None
            else "the year so far is a small part of a year"
        )
        recent = (
            f"; the forecast follows the recent level ({pct(self.level_trailing)} of a year "
            "earlier)"
            if self.level_trailing is not None
            else ""
        )
        return (
            f"Why the year so far is {so_far} yet the projection ends {ends} {last}'s total: "
            f"{early}{recent}."
        )

    def range_sentence(self) -> str | None:
        """Why the 80% range is as wide as it is: the misses of earlier years it allows for."""
        if not self.past_misses:
            return None
        ratios = [f"{_times(r)} in {y}" for y, r in self.past_misses]
        ratios[0] = ratios[0].replace(" in ", " the forecast in ", 1)
        listed = ", ".join(ratios[:-1]) + f" and {ratios[-1]}" if len(ratios) > 1 else ratios[0]
        years = len(self.past_misses)
        wider = widening(years) - 1
        text = (
            f"Why the 80% range ({fmt_int(self.p10)} to {fmt_int(self.p90)}) is this wide: "
            "forecasts made at this point of earlier years, rerun on the figures up to that day, "
            f"missed: what was left of the year came to {listed}. Each miss is weighed against "
            "how unsure that forecast was (a miss inside a wide range counts for less), and the "
            "range is this forecast's own, widened or narrowed by how far those misses ran "
            f"beyond theirs (forecasts made up to {SEASON_WEEKS} weeks either side count too, "
            "each year weighing the same)"
        )
        if wider >= 0.005:
            text += f", drawn {pct(wider)} wider because only {years} earlier years are known"
        return text + "."

    @property
    def sentences(self) -> list[str]:
        """The section's paragraphs, in reading order (those without figures left out)."""
        parts = [
            self.direction_sentence(),
            self.level_sentence(),
            self.implies_sentence(),
            self.rest_sentence(),
            self.range_sentence(),
        ]
        return [p for p in parts if p]

    @property
    def heading(self) -> str:
        return f"Why this forecast (as of {long_date(self.as_of)})"


def _year_end_views(members: ForecastFrames | None, words: dict[str, str]) -> list[MemberView]:
    if members is None or members.year_end.empty:
        return []
    rows = members.year_end.set_index("model")
    return [
        MemberView(
            name,
            text,
            float(rows.at[name, "p10"]),
            float(rows.at[name, "p50"]),
            float(rows.at[name, "p90"]),
        )
        for name, text in words.items()
        if name in rows.index
    ]


def _times(ratio: float) -> str:
    """A ratio as a reader says it: "3.5 times", "0.53 times"."""
    return f"{ratio:.1f} times" if ratio >= 1 else f"{ratio:.2f} times"


def _past_misses(fc: ForecastView) -> tuple[tuple[int, float], ...]:
    """The stored past years' errors as (year, ratio), oldest first (none for a forecast
    stored before they were kept, or made with fewer than two earlier years)."""
    runs = fc.frames.runs
    if "remaining_year_errors" not in runs or runs.empty:
        return ()
    errors = as_mapping(runs["remaining_year_errors"].iloc[0])
    return tuple((int(y), float(np.exp(e))) for y, e in sorted(errors.items()))


def _run_value(fc: ForecastView, column: str) -> float | None:
    runs = fc.frames.runs
    if column not in runs or runs.empty or pd.isna(runs[column].iloc[0]):
        return None
    return float(runs[column].iloc[0])


def why_this_forecast(
    fc: ForecastView,
    ytd_table: pd.DataFrame,
    daily: pd.DataFrame,
    through: date,
    *,
    members: ForecastFrames | None = None,
    last_year_total: int | None = None,
) -> WhyThisForecast:
    """The reasoning behind `fc`, a forecast of the year the figures (`ytd_table`) are in."""
    this = ytd_table.iloc[-1]
    prev = ytd_table.iloc[-2] if len(ytd_table) > 1 else None
    change = None if prev is None or pd.isna(this["change_pct"]) else float(this["change_pct"])
    previous_ytd = None if prev is None else int(prev["migrants_arrived"])
    ytd = int(this["migrants_arrived"])
    share = previous_ytd / last_year_total if previous_ytd is not None and last_year_total else None
    rest = None if last_year_total is None else rest_of_year(daily, through, last_year_total, ytd)
    return WhyThisForecast(
        year=fc.year,
        as_of=fc.as_of,
        through=through,
        ytd=ytd,
        previous_ytd=previous_ytd,
        change_pct=change,
        last_year_total=last_year_total,
        share_by_now_last_year=share,
        level_trailing=_run_value(fc, "level_trailing"),
        level_implied=_run_value(fc, "level_implied"),
        p10=fc.p10,
        p50=fc.p50,
        p90=fc.p90,
        members=tuple(_year_end_views(members, MEMBER_WORDS)),
        benchmarks=tuple(_year_end_views(members, BENCHMARK_WORDS)),
        rest=rest,
        past_misses=_past_misses(fc),
    )
