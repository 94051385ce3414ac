"""The report's Plotly figures of what happened: a chart frame in, a figure out.

plotly is imported inside each function so the CLI starts fast; the style lives in `style`.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from forecasting.report.series import on_2000
from forecasting.report.style import LIGHT_GREY, OKABE_ITO, band_edges, layout, uk_dates

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = [
    "cumulative_figure",
    "recent_daily_figure",
    "people_per_boat_figure",
    "preventions_figure",
]


def _year_style(year: int, this_year: int, last_year: int, record: int | None) -> dict[str, Any]:
    if year == this_year:
        return {"color": OKABE_ITO["black"], "width": 3.5}
    if year == last_year:
        return {"color": OKABE_ITO["blue"], "width": 2.2}
    if year == record:
        return {"color": OKABE_ITO["orange"], "width": 2.2}
    return {"color": LIGHT_GREY, "width": 1.4}


def _year_lines(cumulative: pd.DataFrame) -> list[go.Scatter]:
    """One running-total line per year, oldest first: this year black, last year blue, the
    record year orange, the rest grey under one legend entry."""
    import plotly.graph_objects as go

    years = sorted(int(y) for y in cumulative["year"].unique())
    this_year = years[-1]
    totals = cumulative.groupby("year")["cumulative"].max()
    earlier = totals.drop(this_year)
    record = int(earlier.idxmax()) if not earlier.empty else None
    others = [y for y in years if y not in {this_year, this_year - 1, record}]
    other_label = "Other years" if len(others) > 1 else str(others[0]) if others else ""
    lines = []
    days = pd.to_datetime(cumulative["date"])
    on_one_axis = ("2000-" + days.dt.strftime("%m-%d")).to_numpy()  # as `on_2000`, vectorised
    said = days.dt.strftime("%-d %b %Y").to_numpy()
    for year in years:
        chosen = (cumulative["year"] == year).to_numpy()
        rows = cumulative[chosen]
        grey = year in others
        lines.append(
            go.Scatter(
                # arrays, not lists: plotly checks an array at once, a list value by value
                x=on_one_axis[chosen],
                y=rows["cumulative"].to_numpy(),
                name=other_label if grey else str(year),
                legendgroup="others" if grey else str(year),
                showlegend=not grey or year == others[-1],
                # highlighted years first in the legend, newest first
                legendrank=1000 if grey else 100 + (this_year - year),
                mode="lines",
                line=_year_style(year, this_year, this_year - 1, record),
                customdata=said[chosen],
                hovertemplate="%{customdata}: %{y:,}<extra>" + str(year) + "</extra>",
            )
        )
    return lines


def _projection_traces(projection: pd.DataFrame, year: int) -> list[go.Scatter]:
    """This year's projected running total: the 80% band's two edges, then the median."""
    import plotly.graph_objects as go

    x = [on_2000(d).isoformat() for d in projection["date"]]
    p10, p50, p90 = (projection[k].round() for k in ("p10", "p50", "p90"))
    median = go.Scatter(
        x=x,
        y=p50.tolist(),
        mode="lines",
        line={"color": OKABE_ITO["blue"], "width": 2.5, "dash": "dash"},
        name=f"{year} projection (median)",
        legendrank=149,
        customdata=np.stack([p10, p90], axis=-1).tolist(),
        hovertemplate="median %{y:,.0f} (80%: %{customdata[0]:,.0f}"
        "–%{customdata[1]:,.0f})<extra>projection</extra>",
    )
    band = band_edges(
        x,
        p10.tolist(),
        p90.tolist(),
        name=f"{year} projection, 80% range",
        hover=False,
        legendrank=150,
    )
    return [*band, median]


def cumulative_figure(
    cumulative: pd.DataFrame, projection: pd.DataFrame | None = None
) -> go.Figure:
    """One running-total line per year on a shared 1 January-31 December axis, plus this year's
    projection (median and 80% band) when there is one. Trace order: years oldest first, then
    the band's two edges and the median."""
    import plotly.graph_objects as go

    fig = go.Figure(_year_lines(cumulative))
    if projection is not None and len(projection) > 1:
        fig.add_traces(_projection_traces(projection, int(cumulative["year"].max())))
    fig = layout(fig, y_title="People arrived since 1 January", height=430)
    fig.update_xaxes(tickformat="%b", range=["2000-01-01", "2000-12-31"], hoverformat="%-d %B")
    return fig


def recent_daily_figure(recent: pd.DataFrame) -> go.Figure:
    """People (top) and boats (bottom) arrived each day over the last 90 days, sharing one axis."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08, row_heights=[0.62, 0.38]
    )
    x = [d.isoformat() for d in recent["date"]]
    notes = [
        ""
        if (n is None or (not isinstance(n, str) and pd.isna(n)) or not str(n).strip())
        else " (" + html.escape(str(n)) + ")"
        for n in recent["note"]
    ]
    fig.add_trace(
        go.Bar(
            x=x,
            y=recent["migrants_arrived"].tolist(),
            name="People",
            marker={"color": OKABE_ITO["blue"]},
            customdata=notes,
            hovertemplate="%{y:,} people%{customdata}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            x=x,
            y=recent["boats_arrived"].tolist(),
            name="Boats",
            marker={"color": OKABE_ITO["orange"]},
            hovertemplate="%{y:,} boats<extra></extra>",
        ),
        row=2,
        col=1,
    )
    fig = layout(fig, y_title="", height=430)
    fig.update_layout(bargap=0.15)
    fig.update_yaxes(title_text="People", row=1, col=1)
    fig.update_yaxes(title_text="Boats", row=2, col=1)
    uk_dates(fig, hover="%a %-d %B %Y")
    return fig


def people_per_boat_figure(monthly: pd.DataFrame) -> go.Figure:
    """Average people per boat in each month since records began; a month the figures cover only
    in part is a hollow marker off the line, so it does not read as a full month.

    Traces: complete months, then (when there is one) the part months."""
    import plotly.graph_objects as go

    complete = monthly[monthly["complete"].astype(bool)]
    part = monthly[~monthly["complete"].astype(bool)]
    fig = go.Figure(
        go.Scatter(
            x=[d.isoformat() for d in complete["month"]],
            y=complete["people_per_boat"].tolist(),
            mode="lines+markers",
            marker={"size": 4},
            line={"color": OKABE_ITO["vermillion"], "width": 2},
            name="People per boat (whole months)",
            hovertemplate="%{y:.1f} people per boat<extra></extra>",
        )
    )
    if not part.empty:
        fig.add_trace(
            go.Scatter(
                x=[d.isoformat() for d in part["month"]],
                y=part["people_per_boat"].tolist(),
                mode="markers",
                marker={
                    "size": 9,
                    "color": "white",
                    "line": {"color": OKABE_ITO["vermillion"], "width": 2},
                },
                name="Part month (figures so far)",
                customdata=[f"{d} days" for d in part["days"]],
                hovertemplate="%{y:.1f} people per boat<br>part month: %{customdata}"
                "<extra></extra>",
            )
        )
    fig = layout(fig, y_title="People per boat", height=340, legend=not part.empty)
    fig.update_yaxes(tickformat=",.0f")
    uk_dates(fig, tick="%b %Y", hover="%B %Y")
    return fig


def preventions_figure(frame: pd.DataFrame) -> go.Figure:
    """People the French authorities stopped from crossing each week (bars), beside arrivals."""
    import plotly.graph_objects as go

    x = [d.isoformat() for d in frame["week_ending"]]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=x,
            y=[None if pd.isna(v) else int(v) for v in frame["migrants_prevented"]],
            name="Crossings prevented (people)",
            marker={"color": OKABE_ITO["green"]},
            hovertemplate="%{y:,}<extra>prevented</extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[int(v) for v in frame["migrants_arrived"]],
            mode="lines",
            name="Arrived in the UK (people)",
            line={"color": OKABE_ITO["black"], "width": 1.8},
            hovertemplate="%{y:,}<extra>arrived</extra>",
        )
    )
    fig = layout(fig, y_title="People per week", height=380)
    uk_dates(fig, hover="week ending %-d %B %Y")
    return fig
