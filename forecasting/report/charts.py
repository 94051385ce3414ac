"""The report's charts, each with its caption (a template macro) and its CSV download.

One function per chart: it derives the chart's frame (`series`), draws it (`figures`) and fills
the caption macro from `templates/captions.html` with the same numbers, so what the caption says
and what the chart draws come from one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd
from markupsafe import Markup

from forecasting.report import accuracy, figures, forecast_figures, series
from forecasting.report.data import ForecastView, ReportData
from forecasting.report.formats import csv_data_uri, long_date, script_safe

__all__ = ["Chart", "build_charts", "chart_context"]


@dataclass
class Chart:
    """One chart as the page shows it."""

    slug: str
    title: str
    caption: str
    figure: Any
    data: pd.DataFrame
    notes: list[dict[str, str]] = field(default_factory=list)

    @property
    def csv_href(self) -> str:
        return csv_data_uri(self.data)


@dataclass(frozen=True)
class _Context:
    """What every chart needs: the figures as known, this year, and the forecast shown."""

    data: ReportData
    captions: Any  # the captions template's module: one macro per chart
    daily: pd.DataFrame
    through: date
    year: int
    ytd_total: int
    fc: ForecastView | None  # only when it is a forecast of this year
    weeks: pd.DataFrame
    totals: pd.DataFrame
    history: pd.DataFrame | None  # the year-end projection at each stored as-of date

    def caption(self, name: str, **facts: Any) -> str:
        return Markup(" ".join(str(getattr(self.captions, name)(**facts)).split()))


def _cumulative(c: _Context) -> Chart:
    cumulative = series.cumulative_by_year(c.daily)
    projection = series.cumulative_projection(c.daily, c.fc, c.through) if c.fc else None
    csv = cumulative.copy()
    if projection is not None:
        proj = projection.rename(columns=lambda k: k if k == "date" else f"projection_{k}")
        csv = pd.concat([csv, proj.assign(year=c.year).round(0)], ignore_index=True)
    totals = c.totals
    last_year = totals[totals["year"] == c.year - 1]
    earlier = totals[totals["year"] < c.year]
    record = None
    if not earlier.empty:
        top = earlier.sort_values("migrants_arrived").iloc[-1]
        if int(top["year"]) != c.year - 1:
            record = {"year": int(top["year"]), "total": int(top["migrants_arrived"])}
    stored = c.fc is not None and c.fc.cumulative is not None and not c.fc.cumulative.empty
    caption = c.caption(
        "cumulative",
        year=c.year,
        ytd_total=c.ytd_total,
        through=c.through,
        last_year_total=None if last_year.empty else int(last_year["migrants_arrived"].iloc[0]),
        record=record,
        fc=c.fc,
        how="stored" if stored else "spread",
    )
    return Chart(
        "cumulative",
        f"Arrivals so far each year, and {c.year} projected",
        caption,
        figures.cumulative_figure(cumulative, projection),
        csv,
    )


def _weekly(c: _Context) -> Chart:
    fweeks = c.fc.weeks if c.fc is not None and not c.fc.weeks.empty else None
    part = series.part_week(c.daily)
    csv = c.weeks.assign(days=7)
    if part is not None:
        now = {k: part[k] for k in ("week_ending", "migrants_arrived", "days")}
        csv = pd.concat([csv, pd.DataFrame([now])], ignore_index=True)
    if fweeks is not None:
        fcsv = fweeks.rename(columns=lambda k: k if k == "week_ending" else f"forecast_{k}")
        csv = csv.merge(fcsv, on="week_ending", how="outer").sort_values("week_ending")
    caption = c.caption(
        "weekly",
        weeks_shown=forecast_figures.WEEKS_SHOWN,
        fc=c.fc if fweeks is not None else None,
        first=None if fweeks is None else fweeks["week_ending"].iloc[0],
        last=None if fweeks is None else fweeks["week_ending"].iloc[-1],
        n_weeks=0 if fweeks is None else len(fweeks),
        part=part,
    )
    return Chart(
        "weekly",
        "Weekly arrivals and the forecast for the next 13 weeks",
        caption,
        forecast_figures.weekly_fan_figure(c.weeks, fweeks, part_week=part),
        csv,
    )


def _year_end(c: _Context) -> Chart:
    csv = c.totals.assign(kind="whole year")
    fc = c.fc
    if fc is not None:
        now = {
            "year": c.year,
            "migrants_arrived": c.ytd_total,
            "kind": f"so far (to {c.through.isoformat()})",
            "projection_p10": round(fc.p10),
            "projection_p50": round(fc.p50),
            "projection_p90": round(fc.p90),
            "projection_mean": round(fc.mean),
        }
        csv = pd.concat([csv, pd.DataFrame([now])], ignore_index=True)
    return Chart(
        "year-end",
        f"Where {c.year} may end",
        c.caption("year_end", year=c.year, ytd_total=c.ytd_total, fc=fc),
        forecast_figures.year_end_figure(c.totals, fc, c.ytd_total),
        csv,
    )


def _projection_history(c: _Context) -> Chart | None:
    h = c.history
    if h is None or h.empty or c.fc is None:
        return None
    return Chart(
        "projection-history",
        f"How our projection of the {c.year} total formed",
        c.caption(
            "projection_history",
            year=c.year,
            points=len(h),
            first=h["as_of"].iloc[0],
            last=h["as_of"].iloc[-1],
            low=h["p50"].min(),
            high=h["p50"].max(),
        ),
        forecast_figures.projection_history_figure(h, c.totals, c.year),
        h,
    )


def _daily(c: _Context) -> Chart:
    recent = series.recent_daily(c.daily)
    notes = [
        {"date": long_date(d), "note": str(n).strip()}
        for d, n in zip(recent["date"], recent["note"], strict=True)
        if isinstance(n, str) and n.strip()
    ]
    return Chart(
        "daily",
        f"Daily arrivals, last {series.RECENT_DAYS} days",
        c.caption("daily", first=recent["date"].iloc[0], through=c.through),
        figures.recent_daily_figure(recent),
        recent,
        notes=notes,
    )


def _people_per_boat(c: _Context) -> Chart:
    monthly = series.monthly_people_per_boat(c.daily)
    last = monthly.dropna(subset=["people_per_boat"]).tail(1)
    return Chart(
        "people-per-boat",
        "People per boat, by month",
        c.caption(
            "people_per_boat",
            latest=None if last.empty else last.iloc[0].to_dict(),
            through=c.through,
        ),
        figures.people_per_boat_figure(monthly),
        monthly,
    )


def _preventions(c: _Context) -> Chart | None:
    prevented = series.preventions(c.data.read.weekly)
    if prevented.empty:
        return None
    return Chart(
        "preventions",
        "Crossings prevented by France, by week",
        c.caption(
            "preventions",
            first=prevented["week_ending"].iloc[0],
            last=prevented["week_ending"].iloc[-1],
        ),
        figures.preventions_figure(prevented),
        prevented,
    )


def _track_record(c: _Context) -> Chart | None:
    record = accuracy.week_ahead_record(c.data.earlier_forecasts, c.weeks)
    summary = accuracy.summarise(record)
    if summary is None:
        return None
    return Chart(
        "track-record",
        "How our past forecasts did",
        c.caption("track_record", s=summary),
        forecast_figures.track_record_figure(record, c.weeks),
        record,
    )


def build_charts(
    data: ReportData, captions: Any, history: pd.DataFrame | None = None
) -> list[Chart]:
    """Every chart the page shows, in page order (sections without data are left out)."""
    ytd_row = data.ytd.table.iloc[-1]
    year = int(ytd_row["year"])
    context = _Context(
        data=data,
        captions=captions,
        daily=data.read.daily,
        through=data.data_through,
        year=year,
        ytd_total=int(ytd_row["migrants_arrived"]),
        fc=data.forecast if data.forecast and data.forecast.year == year else None,
        weeks=series.weekly_totals(data.read.daily),
        totals=series.complete_year_totals(data.read.daily),
        history=history,
    )
    makers = [
        _cumulative,
        _weekly,
        _year_end,
        _projection_history,
        _track_record,
        _daily,
        _people_per_boat,
        _preventions,
    ]
    charts = [make(context) for make in makers]
    return [chart for chart in charts if chart is not None]


def _figure_json(figure: Any) -> str:
    """The figure's data and layout as script-safe JSON, drawn by the page's own small loader.

    Charts are drawn one at a time after the text has been shown, rather than each by an inline
    script while the page is still being read, so the headline appears at once on slow devices.
    """
    import plotly.io

    return script_safe(plotly.io.to_json(figure, validate=False))


def chart_context(charts: list[Chart]) -> list[dict[str, Any]]:
    """What the page template needs of each chart."""
    return [
        {
            "slug": c.slug,
            "title": c.title,
            "caption": c.caption,
            "json": Markup(_figure_json(c.figure)),
            "csv": c.csv_href,
            "notes": c.notes,
            "height": int(c.figure.layout.height or 400),
        }
        for c in charts
    ]
