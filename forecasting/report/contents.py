"""Where each part of the report gets its numbers: the page's sections, in order, each with the
one function that computes what its template block shows.

Adding a section is one entry in `SECTIONS` (its function returns the names its block in
`templates/report.html` uses) and that block. Every function takes the `ReportData` read from
the store (`data.load_report_data`) and nothing else, so the path from store to page is:
store/report_queries -> data.ReportData -> the functions below -> templates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from forecasting.report import changes, series
from forecasting.report.analysts import analysts_context
from forecasting.report.charts import build_charts, chart_context
from forecasting.report.data import ReportData
from forecasting.report.provenance import provenance_context
from forecasting.report.sections import (
    forecast_context,
    key_figures,
    this_year_forecast,
)
from forecasting.report.templating import captions
from forecasting.report.who import who_context
from forecasting.report.why import WhyThisForecast, why_this_forecast
from forecasting.ytd import headline

__all__ = ["SECTIONS", "Section", "page_numbers", "why", "what_changed", "history"]


@dataclass(frozen=True)
class Section:
    """One part of the page and the function that computes its numbers."""

    name: str
    numbers: Callable[[ReportData], dict[str, Any]]


def _last_year_total(data: ReportData, year: int) -> int | None:
    totals = series.complete_year_totals(data.read.daily)
    row = totals[totals["year"] == year - 1]
    return None if row.empty else int(row["migrants_arrived"].iloc[0])


def why(data: ReportData) -> WhyThisForecast | None:
    """The reasoning behind the year-end projection (None without a forecast of this year)."""
    fc = this_year_forecast(data)
    if fc is None:
        return None
    return why_this_forecast(
        fc,
        data.ytd.table,
        data.read.daily,
        data.data_through,
        members=data.members,
        last_year_total=_last_year_total(data, fc.year),
    )


def what_changed(data: ReportData) -> changes.WhatChanged | None:
    """Since the last stored forecast of this year: new figures, revisions, how it moved."""
    fc = this_year_forecast(data)
    if fc is None:
        return None
    return changes.what_changed(
        previous_daily=data.previous_daily,
        daily=data.read.daily,
        weeks=series.weekly_totals(data.read.daily),
        earlier_year_end=data.earlier_year_end,
        earlier_weeks=data.earlier_forecasts,
        year=fc.year,
        p50=fc.p50,
    )


def history(data: ReportData) -> Any:
    """The year-end projection at each stored as-of date of this year (None without a forecast)."""
    fc = this_year_forecast(data)
    if fc is None:
        return None
    return changes.projection_history(
        data.earlier_year_end, fc.year, fc.as_of, fc.p10, fc.p50, fc.p90
    )


def _headline(data: ReportData) -> dict[str, Any]:
    return {"headline": headline(data.ytd), "key_figures": key_figures(data)}


def _reasoning(data: ReportData) -> dict[str, Any]:
    return {"why": why(data), "changed": what_changed(data)}


def _charts(data: ReportData) -> dict[str, Any]:
    return {"charts": chart_context(build_charts(data, captions(), history(data)))}


SECTIONS: tuple[Section, ...] = (
    Section("Headline and key figures", _headline),
    Section("Why this forecast; what changed since the last report", _reasoning),
    Section("Charts with their captions and data", _charts),
    Section("Year-end forecast, milestones, track record", forecast_context),
    Section("For analysts", analysts_context),
    Section("Who is crossing", lambda data: who_context(data.who)),
    Section("Data and provenance", provenance_context),
)


def page_numbers(data: ReportData) -> dict[str, Any]:
    """Every section's numbers, merged for the page template."""
    context: dict[str, Any] = {}
    for section in SECTIONS:
        context.update(section.numbers(data))
    return context
