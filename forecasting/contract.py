"""The published JSON of `crossings forecast`: a typed model built from the frames at the edge.

Readers parse this file, so its fields only ever grow, new ones after the old: `as_of`, `model`,
`weekly` (week_ending, mean, p10, p50, p90) and `year_end` (year, observed_ytd, mean, p10, p50,
p90, prob_exceeds) as before; then `data_through` and, per week, `days_observed` and
`part_observed`.
"""

from __future__ import annotations

from datetime import date
from typing import cast

import pandas as pd
from pydantic import BaseModel, ConfigDict

from forecasting.frames import ForecastFrames

__all__ = ["WeekForecast", "YearEndForecast", "PublishedForecast", "published"]


class WeekForecast(BaseModel):
    """One week (Monday-Sunday, labelled by its Sunday): its whole total, observed days included."""

    model_config = ConfigDict(frozen=True)

    week_ending: date
    mean: float
    p10: float
    p50: float
    p90: float
    days_observed: int
    part_observed: bool  # some of its days were already known: the quantiles include them


class YearEndForecast(BaseModel):
    """The calendar year's total: observed so far plus the sample paths' remaining days."""

    model_config = ConfigDict(frozen=True)

    year: int
    observed_ytd: int
    mean: float
    p10: float
    p50: float
    p90: float
    prob_exceeds: dict[str, float]  # earlier year -> chance this year's total is higher


class PublishedForecast(BaseModel):
    """The production model's forecast as of a date, as published."""

    model_config = ConfigDict(frozen=True)

    as_of: date
    model: str
    weekly: list[WeekForecast]
    year_end: YearEndForecast
    data_through: date  # added: the last day with figures the forecast was made from


def published(frames: ForecastFrames, as_of: date | None = None) -> PublishedForecast:
    """The production model's rows of one as-of date (default: the only or newest one)."""
    prod = frames.production()
    as_of = as_of or max(prod.runs["as_of"])
    run = prod.runs[prod.runs["as_of"] == as_of].iloc[0]
    weeks = prod.weekly[prod.weekly["as_of"] == as_of].sort_values("horizon")
    year_end = prod.year_end[prod.year_end["as_of"] == as_of].iloc[0]
    milestones = prod.milestones[
        (prod.milestones["as_of"] == as_of) & (prod.milestones["kind"] == "year_total")
    ]
    return PublishedForecast(
        as_of=as_of,
        model=str(run["model"]),
        data_through=_date(run["data_through"]),
        weekly=[
            WeekForecast(
                week_ending=_date(w["week_ending"]),
                mean=float(w["mean"]),
                p10=float(w["p10"]),
                p50=float(w["p50"]),
                p90=float(w["p90"]),
                days_observed=int(w["days_observed"]),
                part_observed=0 < int(w["days_observed"]) < 7,
            )
            for w in weeks.to_dict("records")
        ],
        year_end=YearEndForecast(
            year=int(year_end["year"]),
            observed_ytd=int(year_end["observed_ytd"]),
            mean=float(year_end["mean"]),
            p10=float(year_end["p10"]),
            p50=float(year_end["p50"]),
            p90=float(year_end["p90"]),
            prob_exceeds={
                str(m["label"]): float(m["probability"]) for m in milestones.to_dict("records")
            },
        ),
    )


def _date(value: object) -> date:
    return cast(date, pd.Timestamp(value).date())
