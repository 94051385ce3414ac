"""The report's Plotly figures of forecasts: the weekly fan, the year end, the track record.

plotly is imported inside each function so the CLI starts fast; the style lives in `style`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd

from forecasting.report.data import ForecastView
from forecasting.report.style import (
    GREY,
    LIGHT_GREY,
    OKABE_ITO,
    band_edges,
    layout,
    uk_dates,
)

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = [
    "WEEKS_SHOWN",
    "weekly_fan_figure",
    "year_end_figure",
    "track_record_figure",
    "projection_history_figure",
]

WEEKS_SHOWN = 52


def _year_earlier(
    weeks: pd.DataFrame, recent: pd.DataFrame, forecast_weeks: pd.DataFrame | None
) -> go.Scatter:
    """The same weeks a year (52 weeks) earlier, so the seasons line up day of week for day of
    week, over the weeks shown and the forecast's weeks."""
    import plotly.graph_objects as go

    last_end = recent["week_ending"].iloc[-1]
    if forecast_weeks is not None and not forecast_weeks.empty:
        last_end = max(last_end, forecast_weeks["week_ending"].iloc[-1])
    first = recent["week_ending"].iloc[0]
    lookup = dict(zip(weeks["week_ending"], weeks["migrants_arrived"], strict=True))
    ends = [first + timedelta(days=7 * k) for k in range((last_end - first).days // 7 + 1)]
    return go.Scatter(
        x=[d.isoformat() for d in ends],
        y=[lookup.get(d - timedelta(weeks=52)) for d in ends],
        name="A year earlier",
        mode="lines",
        line={"color": GREY, "width": 1.5, "dash": "dot"},
        hovertemplate="%{y:,}<extra>a year earlier</extra>",
    )


def _part_week_marker(part: dict[str, Any]) -> go.Scatter:
    import plotly.graph_objects as go

    return go.Scatter(
        x=[part["week_ending"].isoformat()],
        y=[part["migrants_arrived"]],
        mode="markers",
        marker={"size": 10, "color": "white", "line": {"color": OKABE_ITO["black"], "width": 2}},
        name=f"This week so far ({part['days']} of 7 days)",
        hovertemplate="%{y:,} so far<extra>part week</extra>",
    )


def _projected_year_end(forecast: ForecastView, so_far_total: int) -> list[go.Bar | go.Scatter]:
    """This year's bar so far and the projected median with its 80% range as an error bar."""
    import plotly.graph_objects as go

    label = str(forecast.year)
    so_far = go.Bar(
        y=[label],
        x=[so_far_total],
        orientation="h",
        name=f"Arrived so far in {label}",
        marker={"color": OKABE_ITO["black"]},
        hovertemplate="%{x:,} so far<extra>" + label + "</extra>",
    )
    projected = go.Scatter(
        y=[label],
        x=[round(forecast.p50)],
        mode="markers",
        marker={"color": OKABE_ITO["blue"], "size": 13, "symbol": "diamond"},
        error_x={
            "type": "data",
            "symmetric": False,
            "color": OKABE_ITO["blue"],
            "thickness": 3,
            "width": 10,
            "array": [max(forecast.p90 - forecast.p50, 0.0)],
            "arrayminus": [max(forecast.p50 - forecast.p10, 0.0)],
        },
        name="Projected year end: median and 80% range",
        hovertemplate=(
            f"median {forecast.p50:,.0f}<br>80% range {forecast.p10:,.0f}"
            f"–{forecast.p90:,.0f}<extra>{label}</extra>"
        ),
    )
    return [so_far, projected]


def weekly_fan_figure(
    weeks: pd.DataFrame,
    forecast_weeks: pd.DataFrame | None = None,
    *,
    shown: int = WEEKS_SHOWN,
    part_week: dict[str, Any] | None = None,
) -> go.Figure:
    """Weekly arrivals (complete weeks) with the forecast's 80% range (a fan) and median.

    Traces: actual weeks, the same weeks a year earlier, then (with a forecast) the fan's upper
    edge (p90), lower edge (p10, filled up to p90) and median; last, the week in progress (a
    hollow marker: its days so far, not a week's total)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    recent = weeks.tail(shown)
    fig.add_trace(
        go.Scatter(
            x=[d.isoformat() for d in recent["week_ending"]],
            y=recent["migrants_arrived"].tolist(),
            name="Arrivals per week",
            mode="lines+markers",
            line={"color": OKABE_ITO["black"], "width": 2},
            marker={"size": 4},
            hovertemplate="%{y:,}<extra>arrived</extra>",
        )
    )
    if not recent.empty:
        fig.add_trace(_year_earlier(weeks, recent, forecast_weeks))
    if forecast_weeks is not None and not forecast_weeks.empty:
        x = [d.isoformat() for d in forecast_weeks["week_ending"]]
        fig.add_traces(
            band_edges(
                x,
                forecast_weeks["p10"].round().tolist(),
                forecast_weeks["p90"].round().tolist(),
                name="Forecast, 80% range",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=forecast_weeks["p50"].round().tolist(),
                mode="lines+markers",
                line={"color": OKABE_ITO["blue"], "width": 2.5, "dash": "dash"},
                marker={"size": 4},
                name="Forecast (median)",
                hovertemplate="%{y:,.0f}<extra>forecast median</extra>",
            )
        )
    if part_week is not None:
        fig.add_trace(_part_week_marker(part_week))
    fig = layout(fig, y_title="People arrived per week")
    uk_dates(fig, hover="week ending %-d %B %Y")
    return fig


def year_end_figure(totals: pd.DataFrame, forecast: ForecastView | None, ytd: int) -> go.Figure:
    """Each complete year's total as a bar; this year: arrived so far, and the projected median
    with its 80% interval as a marker and error bar."""
    import plotly.graph_objects as go

    fig = go.Figure()
    years = [str(y) for y in totals["year"]]
    fig.add_trace(
        go.Bar(
            y=years,
            x=totals["migrants_arrived"].tolist(),
            orientation="h",
            name="Whole-year total",
            marker={"color": LIGHT_GREY},
            text=[f"{v:,}" for v in totals["migrants_arrived"]],
            textposition="auto",
            insidetextanchor="end",
            cliponaxis=False,
            hovertemplate="%{x:,}<extra>%{y}</extra>",
        )
    )
    if forecast is not None:
        fig.add_traces(_projected_year_end(forecast, ytd))
    fig = layout(fig, y_title="", height=90 + 34 * (len(years) + 1))
    fig.update_layout(hovermode="closest", barmode="overlay", bargap=0.25)
    fig.update_xaxes(
        tickformat=",d",
        title_text="People arrived in the year",
        showgrid=True,
        gridcolor="#e6e6e6",
        rangemode="tozero",
    )
    fig.update_yaxes(
        title_text="",
        tickformat="",
        type="category",
        autorange="reversed",
        gridcolor="rgba(0,0,0,0)",
    )
    return fig


def track_record_figure(record: pd.DataFrame, weeks: pd.DataFrame) -> go.Figure:
    """Each week as it turned out (black) against the forecast made the week before: its median
    (blue dashes) and 80% range (band); weeks the range missed are ringed in vermillion.

    `record` is `accuracy.week_ahead_record`. Traces: the band's two edges, the median, what
    happened, the misses."""
    import plotly.graph_objects as go

    x = [d.isoformat() for d in record["week_ending"]]
    made = [f"forecast of {d.day} {d:%B}" for d in record["as_of"]]
    fig = go.Figure(
        band_edges(
            x,
            record["p10"].round().tolist(),
            record["p90"].round().tolist(),
            name="80% range forecast the week before",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=record["p50"].round().tolist(),
            mode="lines+markers",
            line={"color": OKABE_ITO["blue"], "width": 2, "dash": "dash"},
            marker={"size": 4},
            name="Forecast made the week before (median)",
            customdata=made,
            hovertemplate="%{y:,.0f}<extra>%{customdata}</extra>",
        )
    )
    fig.add_trace(_happened(weeks, record))
    missed = record[~record["inside_80"].astype(bool)]
    fig.add_trace(
        go.Scatter(
            x=[d.isoformat() for d in missed["week_ending"]],
            y=missed["actual"].tolist(),
            mode="markers",
            marker={
                "size": 13,
                "color": "rgba(0,0,0,0)",
                "line": {"color": OKABE_ITO["vermillion"], "width": 2.5},
            },
            name="Outside the range",
            hoverinfo="skip",
        )
    )
    fig = layout(fig, y_title="People arrived per week", height=400)
    uk_dates(fig, hover="week ending %-d %B %Y")
    return fig


def _happened(weeks: pd.DataFrame, record: pd.DataFrame) -> go.Scatter:
    import plotly.graph_objects as go

    first, last = record["week_ending"].iloc[0], record["week_ending"].iloc[-1]
    shown = weeks[[first <= d <= last for d in weeks["week_ending"]]]
    return go.Scatter(
        x=[d.isoformat() for d in shown["week_ending"]],
        y=shown["migrants_arrived"].tolist(),
        mode="lines+markers",
        name="What happened",
        line={"color": OKABE_ITO["black"], "width": 2.5},
        marker={"size": 5},
        hovertemplate="%{y:,}<extra>arrived</extra>",
    )


def projection_history_figure(history: pd.DataFrame, totals: pd.DataFrame, year: int) -> go.Figure:
    """The year-end projection of `year` as made on each stored as-of date: its median (a point
    per date, joined) and 80% range (band), with last year's total as a grey line."""
    import plotly.graph_objects as go

    x = [d.isoformat() for d in history["as_of"]]
    fig = go.Figure(
        band_edges(x, history["p10"].tolist(), history["p90"].tolist(), name="80% range")
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=history["p50"].tolist(),
            mode="lines+markers",
            line={"color": OKABE_ITO["blue"], "width": 2.5},
            marker={"size": 6},
            name=f"Projected {year} total (median)",
            hovertemplate="%{y:,.0f}<extra>median</extra>",
        )
    )
    last = totals[totals["year"] == year - 1]
    if not last.empty:
        total = int(last["migrants_arrived"].iloc[0])
        fig.add_trace(
            go.Scatter(
                x=[x[0], x[-1]] if len(x) > 1 else x,
                y=[total] * min(len(x), 2),
                mode="lines",
                line={"color": GREY, "width": 1.5, "dash": "dot"},
                name=f"{year - 1} total ({total:,})",
                hoverinfo="skip",
            )
        )
    fig = layout(fig, y_title=f"Projected {year} total", height=340)
    return uk_dates(fig, hover="forecast of %-d %B %Y")
