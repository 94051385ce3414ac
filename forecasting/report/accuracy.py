"""How earlier forecasts did against what then happened: the report's track record.

Stakeholders get one plain sentence and one chart: each week's forecast made the week before
(its median and 80% range) against the week as it turned out, over the last 52 weeks, with the
typical error next to that of the simplest rival, "the same week last year". Analysts get every
stored model scored over every week ahead.

Only weeks complete in the figures as known on the report's date are scored, with those figures:
a page of an earlier date scores its forecasts as that date saw them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from forecasting.calendar import same_day_a_year_before
from forecasting.metrics import brier, mae, relative_mae
from forecasting.report.formats import as_mapping
from forecasting.report.series import cumulative_by_year

__all__ = [
    "RECORD_WEEKS",
    "TrackRecordSummary",
    "target_week",
    "track_record",
    "week_ahead_record",
    "summarise",
    "year_end_record",
    "chance_record",
]

RECORD_WEEKS = 52  # the stakeholder summary covers the last year of weeks


def target_week(as_of: date) -> date:
    """The week a forecast made on `as_of` is judged on: the first Monday-Sunday week wholly
    after `as_of` (so no day of it was known), labelled by its Sunday."""
    later = as_of + timedelta(days=7)
    return later + timedelta(days=(6 - later.weekday()) % 7)


def track_record(earlier: pd.DataFrame, weeks: pd.DataFrame) -> pd.DataFrame:
    """Earlier forecasts of each week next to what then happened (weeks now complete only)."""
    columns = ["as_of", "model", "production", "week_ending", "p10", "p50", "p90", "mean"]
    columns += ["actual", "error", "inside_80"]
    if earlier.empty or weeks.empty:
        return pd.DataFrame(columns=columns)
    actual = weeks.rename(columns={"migrants_arrived": "actual"})[["week_ending", "actual"]]
    merged = earlier.merge(actual, on="week_ending", how="inner")
    merged["error"] = merged["p50"] - merged["actual"]
    merged["inside_80"] = (merged["actual"] >= merged["p10"]) & (merged["actual"] <= merged["p90"])
    return merged[columns].sort_values(["as_of", "model", "week_ending"]).reset_index(drop=True)


def week_ahead_record(
    earlier: pd.DataFrame, weeks: pd.DataFrame, *, last_weeks: int = RECORD_WEEKS
) -> pd.DataFrame:
    """For each of the last `last_weeks` complete weeks: the production forecast made the week
    before (the newest whose first whole week ahead it is), what happened, and the same week a
    year (52 weeks) earlier, the seasonal-naive rival."""
    columns = ["week_ending", "as_of", "p10", "p50", "p90", "actual", "same_week_last_year"]
    columns += ["inside_80", "error", "naive_error"]
    if earlier.empty or weeks.empty:
        return pd.DataFrame(columns=columns)
    production = earlier[earlier["production"].astype(bool)]
    production = production[
        [
            target_week(a) == w
            for a, w in zip(production["as_of"], production["week_ending"], strict=True)
        ]
    ]
    chosen = production.sort_values("as_of").groupby("week_ending").tail(1)
    lookup = dict(zip(weeks["week_ending"], weeks["migrants_arrived"], strict=True))
    last = weeks["week_ending"].iloc[-1]
    first = last - timedelta(weeks=last_weeks - 1)
    chosen = chosen[[first <= w <= last and w in lookup for w in chosen["week_ending"]]]
    frame = chosen[["week_ending", "as_of", "p10", "p50", "p90"]].copy()
    frame["actual"] = [lookup[w] for w in frame["week_ending"]]
    frame["same_week_last_year"] = [
        lookup.get(w - timedelta(weeks=52), np.nan) for w in frame["week_ending"]
    ]
    frame["inside_80"] = (frame["actual"] >= frame["p10"]) & (frame["actual"] <= frame["p90"])
    frame["error"] = frame["p50"] - frame["actual"]
    frame["naive_error"] = frame["same_week_last_year"] - frame["actual"]
    return frame[columns].sort_values("week_ending").reset_index(drop=True)


@dataclass(frozen=True)
class TrackRecordSummary:
    """The stakeholder sentence's figures: how often the ranges held and the typical errors."""

    weeks: int  # weeks scored
    held: int  # of which the 80% range held the outcome
    first_week: date
    last_week: date
    typical_error: float  # mean absolute error of the median, people a week
    naive_error: float  # the same for "the same week last year" (NaN when never known)
    relative: float  # our MAE over the naive MAE on the weeks both have (below 1 beats it)

    @property
    def beats_naive(self) -> bool | None:
        return None if np.isnan(self.relative) else bool(self.relative < 1)


def summarise(record: pd.DataFrame) -> TrackRecordSummary | None:
    """The summary of a `week_ahead_record` (None when no week can be scored yet)."""
    if record.empty:
        return None
    both = record.dropna(subset=["same_week_last_year"])
    return TrackRecordSummary(
        weeks=len(record),
        held=int(record["inside_80"].sum()),
        first_week=record["week_ending"].iloc[0],
        last_week=record["week_ending"].iloc[-1],
        typical_error=mae(record["p50"], record["actual"]),
        naive_error=mae(both["same_week_last_year"], both["actual"]),
        relative=relative_mae(both["p50"], both["same_week_last_year"], both["actual"]),
    )


QUARTERS = ("January to March", "April to June", "July to September", "October to December")


@dataclass(frozen=True)
class YearEndQuarter:
    """How the year-end forecasts made in one quarter of the year did, over every year done."""

    quarter: str  # "January to March", ...
    forecasts: int
    held: int  # of which the 80% range held the year's final total
    typical_error: float  # median absolute error of the median, as a share of the total

    @property
    def held_in_ten(self) -> int:
        return round(10 * self.held / self.forecasts)


def year_end_record(
    earlier_year_end: pd.DataFrame, totals: dict[int, float]
) -> list[YearEndQuarter]:
    """The production model's earlier year-end forecasts (what the backfill stored and the
    year-end backtest scores alike) against each finished year's total, by quarter of the
    year the forecast was made in."""
    if earlier_year_end.empty:
        return []
    f = earlier_year_end[earlier_year_end["production"].astype(bool)].copy()
    f["actual"] = f["year"].map(totals)
    f = f.dropna(subset=["actual", "year_end_p50"])
    out = []
    for q, name in enumerate(QUARTERS):
        g = f[[(d.month - 1) // 3 == q for d in f["as_of"]]]
        if g.empty:
            continue
        a = g["actual"].to_numpy(float)
        inside = (g["year_end_p10"] <= g["actual"]) & (g["actual"] <= g["year_end_p90"])
        error = float(np.median(np.abs(g["year_end_p50"].to_numpy(float) - a) / a))
        out.append(YearEndQuarter(name, len(g), int(inside.sum()), error))
    return out


CHANCE_BANDS = ((0.0, 0.3, "below 30%"), (0.3, 0.7, "30% to 70%"), (0.7, 1.0001, "70% or more"))


@dataclass(frozen=True)
class ChanceBand:
    """Earlier forecasts whose chance of "above last year" fell in one band, and how many of
    their years did end above."""

    band: str  # "below 30%", ...
    forecasts: int
    mean_chance: float
    ended_above: int


@dataclass(frozen=True)
class ChanceRecord:
    """The printed chance that a year ends above the year before, scored on every finished year
    an earlier forecast was made in, beside the reader's rule "ahead of last year so far, so
    ahead at the end" (taken as certain, and hedged to 80/20)."""

    forecasts: int
    first: date
    last: date
    years: list[int]
    brier: float
    rule_brier: float
    hedged_rule_brier: float
    bands: list[ChanceBand]

    @property
    def beats_rule(self) -> bool:
        return self.brier < min(self.rule_brier, self.hedged_rule_brier)


def chance_record(
    earlier_year_end: pd.DataFrame, daily: pd.DataFrame, totals: dict[int, float]
) -> ChanceRecord | None:
    """The production model's earlier chances of passing the previous year's total (the
    `prob_exceeds` each stored forecast printed) against each finished year's total. The rule's
    "ahead so far" compares each forecast's year to date (as stored) with the previous year's
    total to the same day in `daily` (the figures as known on the report's date; a day a year
    old is rarely revised). None when no finished year holds a forecast that printed a chance."""
    if earlier_year_end.empty or "prob_exceeds" not in earlier_year_end:
        return None
    f = earlier_year_end[earlier_year_end["production"].astype(bool)]
    f = f[f["year"].isin(list(totals)) & f["year"].sub(1).isin(list(totals))]
    printed = zip(f["prob_exceeds"], f["year"], strict=True)
    chance = [as_mapping(raw).get(str(int(year) - 1), np.nan) for raw, year in printed]
    f = f.assign(chance=np.asarray(chance, float)).dropna(subset=["chance"])
    if f.empty:
        return None
    so_far = cumulative_by_year(daily)
    running = dict(zip(so_far["date"], so_far["cumulative"], strict=True))
    before = np.array([running.get(same_day_a_year_before(d), np.nan) for d in f["as_of"]])
    ahead = (f["observed_ytd"].to_numpy(float) > before).astype(float)
    above = (f["year"].map(totals) > f["year"].sub(1).map(totals)).to_numpy(float)
    p = f["chance"].to_numpy(float)
    bands = []
    for lo, hi, name in CHANCE_BANDS:
        sel = (p >= lo) & (p < hi)
        if sel.any():
            n, said, happened = int(sel.sum()), float(p[sel].mean()), int(above[sel].sum())
            bands.append(ChanceBand(name, n, said, happened))
    return ChanceRecord(
        forecasts=len(f),
        first=f["as_of"].iloc[0],
        last=f["as_of"].iloc[-1],
        years=sorted({int(y) for y in f["year"]}),
        brier=brier(p, above),
        rule_brier=brier(ahead, above),
        hedged_rule_brier=brier(0.2 + 0.6 * ahead, above),
        bands=bands,
    )
