"""The stakeholder report: one self-contained HTML page per as_of date, built from the store.

Officials and journalists open these pages from disk, by e-mail or from a file share, often on a
phone, so each page carries everything it needs (one embedded copy of plotly.js, inline CSS, each
chart's data as a CSV `data:` link) and asks nothing of the network. Text that comes from GOV.UK
or the data (notes, file names, URLs) is untrusted: the templates autoescape it and only http(s)
URLs ever become links.

The headline and the year-to-date curve come from `forecasting.ytd`, the same code as
`crossings ytd`, so the report and the command agree to the person.

Layout on disk::

    reports/index.html               every run folder present, newest first
    reports/2026-02-26/index.html    the report as known on 26 February 2026

Each file is written to a temporary file beside it and moved into place with `os.replace`, so a
failed run leaves the previous report untouched.
"""

from __future__ import annotations

import html
import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import numpy as np
import pandas as pd

from forecasting import store
from forecasting.ytd import YearToDate, headline, ordinal, year_to_date

if TYPE_CHECKING:  # plotly is imported inside functions: the CLI starts faster without it
    import plotly.graph_objects as go

__all__ = [
    "OKABE_ITO",
    "ReportError",
    "ForecastView",
    "ReportData",
    "write_report",
    "write_index",
    "render_report",
    "load_report_data",
    "stale_warning",
    "weekly_totals",
    "cumulative_by_year",
    "cumulative_projection",
    "complete_year_totals",
    "monthly_people_per_boat",
    "recent_daily",
    "preventions",
    "track_record",
    "cumulative_figure",
    "weekly_fan_figure",
    "year_end_figure",
    "recent_daily_figure",
    "people_per_boat_figure",
    "preventions_figure",
    "track_record_figure",
    "csv_data_uri",
    "safe_url",
]

TEMPLATES = Path(__file__).with_name("templates")
OGL = "Contains public sector information licensed under the Open Government Licence v3.0."
PREVENTIONS_FROM = date(2024, 5, 1)  # the Home Office's weekly French figures start in May 2024
RECENT_DAYS = 90
WEEKS_SHOWN = 52

# Okabe & Ito (2008): distinguishable with the common colour-vision deficiencies.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}
GREY = "#8c8c8c"
LIGHT_GREY = "#c8c8c8"
BAND = "rgba(0, 114, 178, 0.22)"  # Okabe-Ito blue, translucent
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
PLOT_CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "responsive": True,
    "showSendToCloud": False,
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}


class ReportError(RuntimeError):
    """The report could not be written; the message is one line a person can act on."""


# --------------------------------------------------------------------------------------------
# What the report reads
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ForecastView:
    """One stored forecast (the production model's, where marked), as the report shows it."""

    as_of: date
    model: str
    year: int
    observed_ytd: int
    mean: float
    p10: float
    p50: float
    p90: float
    prob_exceeds: dict[int, float]
    weeks: pd.DataFrame  # week_ending, mean, p10, p50, p90
    cumulative: pd.DataFrame | None = None  # week_ending, mean, p10, p50, p90 (year to date)


@dataclass
class ReportData:
    """Everything one report shows, read from the store as known on `as_of`."""

    as_of: date
    read: store.AsOfRead
    ytd: YearToDate
    publications: pd.DataFrame  # the publications the figures came from, newest first
    newest_data_through: date  # newest publication in the whole store
    forecast: ForecastView | None
    earlier_forecasts: pd.DataFrame  # as_of, model, production, week_ending, mean, p10, p50, p90
    earlier_year_end: pd.DataFrame  # forecasts rows with as_of before this one
    revisions: pd.DataFrame
    backtest_scores: pd.DataFrame | None = None
    backtest_year_end: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def data_through(self) -> date:
        through = self.read.data_through
        assert through is not None
        return through


def _as_date(value: Any) -> date | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return pd.Timestamp(value).date()


def _validated_date(value: Any, what: str) -> date:
    """A real `date` (not a datetime, not a string): folder names are built from it."""
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{what} must be a datetime.date, not {type(value).__name__}")
    return value


def _dates(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    frame = frame.copy()
    for column in columns:
        if column in frame:
            frame[column] = [_as_date(v) for v in frame[column]]
    return frame


def _load_forecast(q: Any, as_of: date, through: date, tables: set[str]) -> ForecastView | None:
    """The forecast made on `as_of` (or from the same data), else the latest one before it.

    The production model's where one is marked; forecasts made after `as_of` from newer data
    are never shown.
    """
    if not {"forecasts", "forecast_weeks"} <= tables:
        return None
    head = q(
        """
        SELECT * FROM forecasts WHERE as_of <= $as_of OR data_through = $through
        ORDER BY (data_through = $through) IS TRUE DESC, as_of DESC, production DESC, model
        LIMIT 1
        """,
        {"as_of": as_of, "through": through},
    )
    if head.empty:
        return None
    row = head.iloc[0]
    f_as_of, model = _as_date(row["as_of"]), str(row["model"])
    assert f_as_of is not None
    key = [f_as_of, model]
    weeks = q(
        "SELECT week_ending, mean, p10, p50, p90 FROM forecast_weeks "
        "WHERE as_of = ? AND model = ? ORDER BY week_ending",
        key,
    )
    cumulative = None
    if "forecast_cumulative" in tables:
        cumulative = q(
            "SELECT week_ending, mean, p10, p50, p90 FROM forecast_cumulative "
            "WHERE as_of = ? AND model = ? ORDER BY week_ending",
            key,
        )
        cumulative = _dates(cumulative, "week_ending") if not cumulative.empty else None
    raw = row["prob_exceeds"]
    try:
        probs = json.loads(raw) if isinstance(raw, str) else dict(raw or {})
    except (TypeError, ValueError):
        probs = {}
    prob_exceeds = {int(k): float(v) for k, v in probs.items() if str(k).isdigit()}
    return ForecastView(
        as_of=f_as_of,
        model=model,
        year=int(row["year"]),
        observed_ytd=int(row["observed_ytd"]),
        mean=float(row["year_end_mean"]),
        p10=float(row["year_end_p10"]),
        p50=float(row["year_end_p50"]),
        p90=float(row["year_end_p90"]),
        prob_exceeds=dict(sorted(prob_exceeds.items(), reverse=True)),
        weeks=_dates(weeks, "week_ending"),
        cumulative=cumulative,
    )


def load_report_data(db_path: Path, as_of: date | None = None) -> ReportData:
    """Read the figures, forecasts, scores and provenance as known on `as_of` (default: latest)."""
    db_path = Path(db_path)
    if not db_path.exists():
        raise ReportError(f"{db_path}: no store there; run `crossings ingest` first")
    if as_of is None:
        read = store.latest_daily(db_path)
        as_of = read.data_through or read.as_of
    else:
        as_of = _validated_date(as_of, "as_of")
        read = store.read_as_of(db_path, as_of)
    through = read.data_through
    if read.daily.empty or through is None:
        raise ReportError(f"{db_path}: the store holds no figures yet; run `crossings ingest`")
    ytd = year_to_date(read.daily, through)

    def extras() -> ReportData:
        # One short read-only connection for everything else (each open costs tens of ms).
        with store.open_store(db_path, read_only=True) as con:

            def q(sql: str, params: Any = None) -> pd.DataFrame:
                return con.execute(sql, params or []).df()

            tables = set(q("SELECT table_name FROM information_schema.tables")["table_name"])
            held = q(
                """
                SELECT p.* FROM publications p JOIN publication_order o USING (publication_id)
                ORDER BY o.recency
                """
            )
            forecast = _load_forecast(q, as_of, through, tables)
            cutoff = forecast.as_of if forecast else as_of + timedelta(days=1)
            earlier = earlier_year_end = pd.DataFrame()
            if {"forecasts", "forecast_weeks"} <= tables:
                earlier = q(
                    """
                    SELECT f.as_of, f.model, f.production, w.week_ending, w.mean, w.p10,
                           w.p50, w.p90
                    FROM forecast_weeks w JOIN forecasts f USING (as_of, model)
                    WHERE f.as_of < ? ORDER BY f.as_of, f.model, w.week_ending
                    """,
                    [cutoff],
                )
                earlier_year_end = q(
                    """
                    SELECT as_of, model, production, year, observed_ytd, year_end_p10,
                           year_end_p50, year_end_p90
                    FROM forecasts WHERE as_of < ? ORDER BY as_of, model
                    """,
                    [cutoff],
                )
            revisions = pd.DataFrame()
            if "revisions" in tables:
                revisions = q(
                    """
                    SELECT date, previous_publication, publication, previous_migrants_arrived,
                           migrants_arrived, migrants_change, previous_boats_arrived,
                           boats_arrived
                    FROM revisions
                    WHERE publication IN
                          (SELECT file_name FROM publications WHERE data_through <= $through)
                      AND date <= $through
                    ORDER BY date DESC, publication
                    """,
                    {"through": through},
                )
            scores = q("SELECT * FROM backtest_scores") if "backtest_scores" in tables else None
            bt_year_end = (
                q("SELECT * FROM backtest_year_end") if "backtest_year_end" in tables else None
            )
        held = _dates(held, "released_on", "data_from", "data_through")
        return ReportData(
            as_of=as_of,
            read=read,
            ytd=ytd,
            publications=held[held["sha256"].isin(read.publications)].reset_index(drop=True),
            newest_data_through=max(d for d in held["data_through"] if d is not None),
            forecast=forecast,
            earlier_forecasts=_dates(earlier, "as_of", "week_ending"),
            earlier_year_end=_dates(earlier_year_end, "as_of"),
            revisions=_dates(revisions, "date"),
            backtest_scores=scores,
            backtest_year_end=bt_year_end,
        )

    return store.retry_on_lock(extras)


# --------------------------------------------------------------------------------------------
# Data for the charts (each frame is also the chart's CSV download)
# --------------------------------------------------------------------------------------------


def _week_ending(d: date) -> date:
    return d + timedelta(days=6 - d.weekday())


def weekly_totals(daily: pd.DataFrame) -> pd.DataFrame:
    """Daily arrivals summed by week ending Sunday, complete weeks only (a part week would dip)."""
    if daily.empty:
        return pd.DataFrame(columns=["week_ending", "migrants_arrived", "boats_arrived"])
    frame = pd.DataFrame(
        {
            "week_ending": [_week_ending(d) for d in daily["date"]],
            "migrants_arrived": daily["migrants_arrived"].astype("int64").to_numpy(),
            "boats_arrived": daily["boats_arrived"].astype("int64").to_numpy(),
            "days": 1,
        }
    )
    weeks = frame.groupby("week_ending", as_index=False).sum()
    return weeks[weeks["days"] == 7].drop(columns="days").reset_index(drop=True)


def _on_2000(d: date) -> date:
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
    cumulative = cumulative_by_year(daily)
    last = cumulative.groupby("year").tail(1)
    done = last[[d == date(d.year, 12, 31) for d in last["date"]]]
    return (
        done[["year", "cumulative"]]
        .rename(columns={"cumulative": "migrants_arrived"})
        .reset_index(drop=True)
    )


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
        for key, target in (("mean", forecast.mean), ("p10", forecast.p10),
                            ("p50", forecast.p50), ("p90", forecast.p90)):
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
        by_day = dict(zip([_on_2000(d) for d in rows["date"]], rows["cumulative"], strict=True))
        base = by_day.get(_on_2000(data_through), by_day.get(date(2000, 2, 28), 0))
        total = rows["cumulative"].iloc[-1]
        if total - base <= 0:
            continue
        shares.append(
            [
                (by_day.get(_on_2000(p), by_day.get(date(2000, 2, 28), base)) - base)
                / (total - base)
                for p in points
            ]
        )
    if shares:
        out = np.clip(np.mean(np.array(shares, dtype=float), axis=0), 0.0, 1.0)
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
    """People per boat each month (people over boats; months with no boats are left blank)."""
    frame = pd.DataFrame(
        {
            "month": [date(d.year, d.month, 1) for d in daily["date"]],
            "migrants_arrived": daily["migrants_arrived"].astype("int64").to_numpy(),
            "boats_arrived": daily["boats_arrived"].astype("int64").to_numpy(),
        }
    )
    months = frame.groupby("month", as_index=False).sum()
    boats = months["boats_arrived"].where(months["boats_arrived"] > 0)
    months["people_per_boat"] = (months["migrants_arrived"] / boats).round(1)
    return months


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


def track_record(earlier: pd.DataFrame, weeks: pd.DataFrame) -> pd.DataFrame:
    """Earlier forecasts of each week next to what then happened (weeks now complete only)."""
    columns = ["as_of", "model", "production", "week_ending", "p10", "p50", "p90", "mean",
               "actual", "error", "inside_80"]
    if earlier.empty or weeks.empty:
        return pd.DataFrame(columns=columns)
    actual = weeks.rename(columns={"migrants_arrived": "actual"})[["week_ending", "actual"]]
    merged = earlier.merge(actual, on="week_ending", how="inner")
    merged["error"] = merged["p50"] - merged["actual"]
    merged["inside_80"] = (merged["actual"] >= merged["p10"]) & (merged["actual"] <= merged["p90"])
    return merged[columns].sort_values(["as_of", "model", "week_ending"]).reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Figures (data in, plotly figure out)
# --------------------------------------------------------------------------------------------


def _layout(fig: go.Figure, *, y_title: str, height: int = 400, legend: bool = True) -> go.Figure:
    fig.update_layout(
        template="none",
        height=height,
        margin={"l": 56, "r": 12, "t": 36 if legend else 12, "b": 40},
        font={"family": FONT, "size": 13, "color": "#1b1b1b"},
        paper_bgcolor="white",
        plot_bgcolor="white",
        hovermode="x unified",
        showlegend=legend,
        legend={"orientation": "h", "x": 0, "xanchor": "left", "y": 1.02, "yanchor": "bottom",
                "font": {"size": 12}, "traceorder": "normal"},
        separators=".,",
    )
    fig.update_xaxes(showgrid=False, linecolor="#6f777b", ticks="outside", automargin=True)
    fig.update_yaxes(
        title_text=y_title, gridcolor="#e6e6e6", zeroline=True, zerolinecolor="#b1b4b6",
        tickformat=",d", rangemode="tozero", automargin=True,
    )
    return fig


def _year_style(year: int, this_year: int, last_year: int, record: int | None) -> dict[str, Any]:
    if year == this_year:
        return {"color": OKABE_ITO["black"], "width": 3.5}
    if year == last_year:
        return {"color": OKABE_ITO["blue"], "width": 2.2}
    if year == record:
        return {"color": OKABE_ITO["orange"], "width": 2.2}
    return {"color": LIGHT_GREY, "width": 1.4}


def cumulative_figure(
    cumulative: pd.DataFrame, projection: pd.DataFrame | None = None
) -> go.Figure:
    """One running-total line per year on a shared 1 January-31 December axis, plus this year's
    projection (median and 80% band) when there is one. Trace order: years oldest first, then
    the band's two edges and the median."""
    import plotly.graph_objects as go

    fig = go.Figure()
    years = sorted(cumulative["year"].unique())
    this_year = years[-1]
    totals = cumulative.groupby("year")["cumulative"].max()
    earlier = totals.drop(this_year)
    record = int(earlier.idxmax()) if not earlier.empty else None
    highlighted = {int(this_year), int(this_year) - 1, record}
    others = [int(y) for y in years if int(y) not in highlighted]
    other_label = "Other years" if len(others) > 1 else str(others[0]) if others else ""
    for year in years:
        rows = cumulative[cumulative["year"] == year]
        x = [_on_2000(d).isoformat() for d in rows["date"]]
        custom = [f"{d.day} {d:%b %Y}" for d in rows["date"]]
        grey = int(year) in others
        fig.add_trace(
            go.Scatter(
                x=x,
                y=rows["cumulative"].tolist(),
                name=other_label if grey else str(year),
                legendgroup="others" if grey else str(year),
                showlegend=not grey or int(year) == others[-1],
                # highlighted years first in the legend, newest first
                legendrank=1000 if grey else 100 + (int(this_year) - int(year)),
                mode="lines",
                line=_year_style(int(year), int(this_year), int(this_year) - 1, record),
                customdata=custom,
                hovertemplate="%{customdata}: %{y:,}<extra>" + str(year) + "</extra>",
            )
        )
    if projection is not None and len(projection) > 1:
        x = [_on_2000(d).isoformat() for d in projection["date"]]
        fig.add_trace(
            go.Scatter(x=x, y=projection["p90"].round().tolist(), mode="lines",
                       line={"width": 0}, name=f"{this_year} projection, 90th percentile",
                       showlegend=False, hoverinfo="skip")
        )
        fig.add_trace(
            go.Scatter(x=x, y=projection["p10"].round().tolist(), mode="lines",
                       line={"width": 0}, fill="tonexty", fillcolor=BAND,
                       name=f"{this_year} projection, 80% range", hoverinfo="skip",
                       legendrank=150)
        )
        fig.add_trace(
            go.Scatter(
                x=x, y=projection["p50"].round().tolist(), mode="lines",
                line={"color": OKABE_ITO["blue"], "width": 2.5, "dash": "dash"},
                name=f"{this_year} projection (median)", legendrank=149,
                customdata=np.stack(
                    [projection["p10"].round(), projection["p90"].round()], axis=-1
                ).tolist(),
                hovertemplate="median %{y:,.0f} (80%: %{customdata[0]:,.0f}"
                "–%{customdata[1]:,.0f})<extra>projection</extra>",
            )
        )
    fig = _layout(fig, y_title="People arrived since 1 January", height=430)
    fig.update_xaxes(tickformat="%b", range=["2000-01-01", "2000-12-31"], hoverformat="%d %b")
    return fig


def weekly_fan_figure(
    weeks: pd.DataFrame, forecast_weeks: pd.DataFrame | None = None, *, shown: int = WEEKS_SHOWN
) -> go.Figure:
    """Weekly arrivals (complete weeks) with the forecast's 10th-90th percentile fan and median.

    Traces: actual weeks, the same weeks a year earlier, then (with a forecast) the fan's upper
    edge (p90), lower edge (p10, filled up to p90) and median."""
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
        last_end = recent["week_ending"].iloc[-1]
        if forecast_weeks is not None and not forecast_weeks.empty:
            last_end = max(last_end, forecast_weeks["week_ending"].iloc[-1])
        first = recent["week_ending"].iloc[0]
        lookup = dict(zip(weeks["week_ending"], weeks["migrants_arrived"], strict=True))
        ends = [first + timedelta(days=7 * k) for k in range((last_end - first).days // 7 + 1)]
        # The week a year (52 weeks) earlier, so the seasons line up day of week for day of week.
        prior = [lookup.get(d - timedelta(weeks=52)) for d in ends]
        fig.add_trace(
            go.Scatter(
                x=[d.isoformat() for d in ends],
                y=prior,
                name="A year earlier",
                mode="lines",
                line={"color": GREY, "width": 1.5, "dash": "dot"},
                hovertemplate="%{y:,}<extra>a year earlier</extra>",
            )
        )
    if forecast_weeks is not None and not forecast_weeks.empty:
        x = [d.isoformat() for d in forecast_weeks["week_ending"]]
        fig.add_trace(
            go.Scatter(x=x, y=forecast_weeks["p90"].round().tolist(), mode="lines",
                       line={"width": 0, "color": OKABE_ITO["blue"]}, showlegend=False,
                       name="90th percentile",
                       hovertemplate="%{y:,.0f}<extra>90th percentile</extra>")
        )
        fig.add_trace(
            go.Scatter(x=x, y=forecast_weeks["p10"].round().tolist(), mode="lines",
                       line={"width": 0, "color": OKABE_ITO["blue"]}, fill="tonexty",
                       fillcolor=BAND, name="Forecast, 80% range (10th–90th percentile)",
                       hovertemplate="%{y:,.0f}<extra>10th percentile</extra>")
        )
        fig.add_trace(
            go.Scatter(x=x, y=forecast_weeks["p50"].round().tolist(), mode="lines+markers",
                       line={"color": OKABE_ITO["blue"], "width": 2.5, "dash": "dash"},
                       marker={"size": 4}, name="Forecast (median)",
                       hovertemplate="%{y:,.0f}<extra>forecast median</extra>")
        )
    fig = _layout(fig, y_title="People arrived per week")
    fig.update_xaxes(hoverformat="week ending %d %b %Y")
    return fig


def year_end_figure(totals: pd.DataFrame, forecast: ForecastView | None, ytd: int) -> go.Figure:
    """Each complete year's total as a bar; this year: arrived so far, and the projected median
    with its 80% interval as a marker and error bar."""
    import plotly.graph_objects as go

    fig = go.Figure()
    years = [str(y) for y in totals["year"]]
    fig.add_trace(
        go.Bar(
            y=years, x=totals["migrants_arrived"].tolist(), orientation="h",
            name="Whole-year total", marker={"color": LIGHT_GREY},
            text=[f"{v:,}" for v in totals["migrants_arrived"]], textposition="auto",
            insidetextanchor="end", cliponaxis=False, hovertemplate="%{x:,}<extra>%{y}</extra>",
        )
    )
    if forecast is not None:
        label = str(forecast.year)
        fig.add_trace(
            go.Bar(
                y=[label], x=[ytd], orientation="h", name=f"Arrived so far in {label}",
                marker={"color": OKABE_ITO["black"]},
                hovertemplate="%{x:,} so far<extra>" + label + "</extra>",
            )
        )
        fig.add_trace(
            go.Scatter(
                y=[label], x=[round(forecast.p50)], mode="markers",
                marker={"color": OKABE_ITO["blue"], "size": 13, "symbol": "diamond"},
                error_x={
                    "type": "data", "symmetric": False, "color": OKABE_ITO["blue"],
                    "thickness": 3, "width": 10,
                    "array": [max(forecast.p90 - forecast.p50, 0.0)],
                    "arrayminus": [max(forecast.p50 - forecast.p10, 0.0)],
                },
                name="Projected year end: median and 80% range",
                hovertemplate=(
                    f"median {forecast.p50:,.0f}<br>80% range {forecast.p10:,.0f}"
                    f"–{forecast.p90:,.0f}<extra>{label}</extra>"
                ),
            )
        )
    fig = _layout(fig, y_title="", height=90 + 34 * (len(years) + 1))
    fig.update_layout(hovermode="closest", barmode="overlay", bargap=0.25)
    fig.update_xaxes(tickformat=",d", title_text="People arrived in the year", showgrid=True,
                     gridcolor="#e6e6e6", rangemode="tozero")
    fig.update_yaxes(title_text="", tickformat="", type="category", autorange="reversed",
                     gridcolor="rgba(0,0,0,0)")
    return fig


def recent_daily_figure(recent: pd.DataFrame) -> go.Figure:
    """People (top) and boats (bottom) arrived each day over the last 90 days, sharing one axis."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        row_heights=[0.62, 0.38])
    x = [d.isoformat() for d in recent["date"]]
    notes = [
        "" if (n is None or (not isinstance(n, str) and pd.isna(n)) or not str(n).strip())
        else " (" + html.escape(str(n)) + ")"
        for n in recent["note"]
    ]
    fig.add_trace(
        go.Bar(x=x, y=recent["migrants_arrived"].tolist(), name="People",
               marker={"color": OKABE_ITO["blue"]}, customdata=notes,
               hovertemplate="%{y:,} people%{customdata}<extra></extra>"),
        row=1, col=1,
    )
    fig.add_trace(
        go.Bar(x=x, y=recent["boats_arrived"].tolist(), name="Boats",
               marker={"color": OKABE_ITO["orange"]},
               hovertemplate="%{y:,} boats<extra></extra>"),
        row=2, col=1,
    )
    fig = _layout(fig, y_title="", height=430)
    fig.update_layout(bargap=0.15)
    fig.update_yaxes(title_text="People", row=1, col=1)
    fig.update_yaxes(title_text="Boats", row=2, col=1)
    fig.update_xaxes(hoverformat="%a %d %b %Y")
    return fig


def people_per_boat_figure(monthly: pd.DataFrame) -> go.Figure:
    """Average people per boat in each month since records began."""
    import plotly.graph_objects as go

    fig = go.Figure(
        go.Scatter(
            x=[d.isoformat() for d in monthly["month"]],
            y=monthly["people_per_boat"].tolist(),
            mode="lines+markers", marker={"size": 4},
            line={"color": OKABE_ITO["vermillion"], "width": 2},
            name="People per boat",
            hovertemplate="%{y:.1f} people per boat<extra></extra>",
        )
    )
    fig = _layout(fig, y_title="People per boat", height=340, legend=False)
    fig.update_yaxes(tickformat=",.0f")
    fig.update_xaxes(hoverformat="%B %Y")
    return fig


def preventions_figure(frame: pd.DataFrame) -> go.Figure:
    """People the French authorities stopped from crossing each week (bars), beside arrivals."""
    import plotly.graph_objects as go

    x = [d.isoformat() for d in frame["week_ending"]]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(x=x, y=[None if pd.isna(v) else int(v) for v in frame["migrants_prevented"]],
               name="Crossings prevented (people)", marker={"color": OKABE_ITO["green"]},
               hovertemplate="%{y:,}<extra>prevented</extra>")
    )
    fig.add_trace(
        go.Scatter(x=x, y=[int(v) for v in frame["migrants_arrived"]], mode="lines",
                   name="Arrived in the UK (people)",
                   line={"color": OKABE_ITO["black"], "width": 1.8},
                   hovertemplate="%{y:,}<extra>arrived</extra>")
    )
    fig = _layout(fig, y_title="People per week", height=380)
    fig.update_xaxes(hoverformat="week ending %d %b %Y")
    return fig


def track_record_figure(
    record: pd.DataFrame, weeks: pd.DataFrame, *, origins: int = 6
) -> go.Figure:
    """What happened each week (black) against up to `origins` earlier forecasts' medians and
    80% ranges, one colour per forecast date (the production model's forecasts)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    shown = record[record["production"].astype(bool)] if not record.empty else record
    dates = _spaced_origins(sorted(shown["as_of"].unique()) if not shown.empty else [], origins)
    palette = [OKABE_ITO[k] for k in ("blue", "orange", "green", "purple", "vermillion",
                                      "sky_blue")]
    if dates:
        first = min(dates) - timedelta(weeks=8)
        context = weeks[[d >= first for d in weeks["week_ending"]]]
    else:
        context = weeks.tail(26)
    fig.add_trace(
        go.Scatter(x=[d.isoformat() for d in context["week_ending"]],
                   y=context["migrants_arrived"].tolist(), mode="lines+markers",
                   name="What happened", line={"color": OKABE_ITO["black"], "width": 2.5},
                   marker={"size": 5}, hovertemplate="%{y:,}<extra>arrived</extra>")
    )
    for i, as_of in enumerate(dates):
        rows = shown[shown["as_of"] == as_of]
        colour = palette[i % len(palette)]
        x = [d.isoformat() for d in rows["week_ending"]]
        label = f"Forecast of {as_of.day} {as_of:%b %Y}"
        fig.add_trace(
            go.Scatter(
                x=x, y=rows["p50"].round().tolist(), mode="lines+markers", name=label,
                line={"color": colour, "width": 1.8, "dash": "dash"}, marker={"size": 4},
                error_y={"type": "data", "symmetric": False, "color": colour, "thickness": 1,
                         "width": 3, "array": (rows["p90"] - rows["p50"]).clip(lower=0).tolist(),
                         "arrayminus": (rows["p50"] - rows["p10"]).clip(lower=0).tolist()},
                hovertemplate="%{y:,.0f}<extra>" + f"{as_of:%d %b}" + " median</extra>",
            )
        )
    fig = _layout(fig, y_title="People arrived per week", height=400)
    fig.update_xaxes(hoverformat="week ending %d %b %Y")
    return fig


def _spaced_origins(dates: list[date], n: int) -> list[date]:
    """Up to n forecast dates, newest first picked, at least four weeks apart, oldest first."""
    picked: list[date] = []
    for d in reversed(dates):
        if not picked or (picked[-1] - d).days >= 28:
            picked.append(d)
        if len(picked) == n:
            break
    return sorted(picked)


# --------------------------------------------------------------------------------------------
# Page
# --------------------------------------------------------------------------------------------


def safe_url(url: Any) -> str | None:
    """The URL when it is a plain http(s) address, else None (never a javascript: link)."""
    if not isinstance(url, str):
        return None
    text = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() in {"http", "https"} and parts.netloc and not any(
        c.isspace() or ord(c) < 32 for c in text
    ):
        return text
    return None


def csv_data_uri(frame: pd.DataFrame) -> str:
    """The frame as a `data:text/csv` URI, so each chart's data downloads without a server."""
    text = frame.to_csv(index=False, lineterminator="\n")
    return "data:text/csv;charset=utf-8," + quote(text, safe=",-._:;/ ").replace(" ", "%20")


def stale_warning(data_through: date, today: date, stale_after_days: int = 8) -> str | None:
    """A warning when the newest data is more than `stale_after_days` old on `today`."""
    age = (today - data_through).days
    if age <= stale_after_days:
        return None
    return (
        f"Stale data: the newest publication held runs to {_long(data_through)}, {age} days "
        f"before {_long(today)}. A newer Home Office release may be available but has not "
        "been ingested."
    )


def _long(d: date) -> str:
    return f"{d.day} {d:%B %Y}"


def _short(d: date) -> str:
    return f"{d.day} {d:%B}"


def _rule_text(read: store.AsOfRead) -> str:
    if read.rule == "earliest_held_cut":
        return (
            f"as known on {_long(read.as_of)}: the store holds no release that old, so the oldest "
            "release held, cut off at that date (later revisions may show)"
        )
    return f"as known on {_long(read.as_of)} (the releases whose data ended by then)"


def _fmt_int(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "–"
    return f"{round(float(value)):,}"


def _fmt_num(value: Any, digits: int = 2) -> str:
    if value is None or isinstance(value, str):
        return "" if value is None else value
    if pd.isna(value):
        return "–"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        return f"{float(value):,.{digits}f}"
    if isinstance(value, pd.Timestamp | datetime | date):
        return str(_as_date(value))
    return str(value)


def _pct(p: float) -> str:
    if p < 0.01:
        return "under 1%"
    if p > 0.99:
        return "over 99%"
    return f"{round(p * 100):d}%"


@dataclass
class _Chart:
    slug: str
    title: str
    caption: str
    figure: Any
    data: pd.DataFrame
    html: str = ""
    notes: list[dict[str, str]] = field(default_factory=list)

    @property
    def csv_href(self) -> str:
        return csv_data_uri(self.data)


def _charts(data: ReportData) -> list[_Chart]:
    daily = data.read.daily
    through = data.data_through
    ytd_row = data.ytd.table.iloc[-1]
    ytd_total = int(ytd_row["migrants_arrived"])
    year = int(ytd_row["year"])
    fc = data.forecast if data.forecast and data.forecast.year == year else None
    weeks = weekly_totals(daily)
    cumulative = cumulative_by_year(daily)
    totals = complete_year_totals(daily)
    charts: list[_Chart] = []

    projection = cumulative_projection(daily, fc, through) if fc else None
    cum_csv = cumulative.copy()
    if projection is not None:
        proj = projection.rename(columns=lambda c: c if c == "date" else f"projection_{c}")
        proj = proj.assign(year=year).round(0)
        cum_csv = pd.concat([cum_csv, proj], ignore_index=True)
    caption = (
        f"Running total of people arriving by small boat from 1 January, one line per year. "
        f"{year} (thick black line) stands at {ytd_total:,} on {_short(through)}."
    )
    if not totals.empty:
        last_year = totals[totals["year"] == year - 1]
        if not last_year.empty:
            caption += (
                f" {year - 1} (blue) ended the year at "
                f"{int(last_year['migrants_arrived'].iloc[0]):,}."
            )
        earlier = totals[totals["year"] < year]
        if not earlier.empty:
            top = earlier.sort_values("migrants_arrived").iloc[-1]
            if int(top["year"]) != year - 1:
                caption += (
                    f" The highest whole-year total, {int(top['year'])} (orange), was "
                    f"{int(top['migrants_arrived']):,}."
                )
    if projection is not None and fc is not None:
        how = (
            "the model's weekly running totals"
            if fc.cumulative is not None and not fc.cumulative.empty
            else "the year-end range spread over the remaining weeks in proportion to how "
            "arrivals fell in earlier years"
        )
        caption += (
            f" The dashed blue line projects {year} to 31 December (median {fc.p50:,.0f}); the "
            f"shaded band is the 80% range ({fc.p10:,.0f} to {fc.p90:,.0f}), drawn from {how}."
        )
    charts.append(
        _Chart("cumulative", f"Arrivals so far each year, and {year} projected",
               caption, cumulative_figure(cumulative, projection), cum_csv)
    )

    fweeks = fc.weeks if fc is not None else None
    weekly_csv = weeks.copy()
    if fweeks is not None and not fweeks.empty:
        fcsv = fweeks.rename(columns=lambda c: c if c == "week_ending" else f"forecast_{c}")
        weekly_csv = weekly_csv.merge(fcsv, on="week_ending", how="outer").sort_values(
            "week_ending"
        )
    caption = (
        f"People arriving each week (Monday to Sunday), over the last {WEEKS_SHOWN} complete "
        "weeks (black) and the same weeks a year earlier (grey dotted)."
    )
    if fweeks is not None and not fweeks.empty and fc is not None:
        first, last = fweeks["week_ending"].iloc[0], fweeks["week_ending"].iloc[-1]
        caption += (
            f" The blue fan is the forecast made on {_long(fc.as_of)} for the {len(fweeks)} "
            f"weeks ending {_short(first)} to {_long(last)}: the dashed line is the median and "
            "the shaded band the range the model expects 8 weeks in 10 to fall within "
            "(10th to 90th percentile). A week already part-observed includes the days reported."
        )
    else:
        caption += " No forecast is stored for this date."
    charts.append(
        _Chart("weekly", "Weekly arrivals and the forecast for the next 13 weeks", caption,
               weekly_fan_figure(weeks, fweeks), weekly_csv)
    )

    year_csv = totals.assign(kind="whole year")
    if fc is not None:
        year_csv = pd.concat(
            [
                year_csv,
                pd.DataFrame(
                    [{"year": year, "migrants_arrived": ytd_total,
                      "kind": f"so far (to {through.isoformat()})",
                      "projection_p10": round(fc.p10), "projection_p50": round(fc.p50),
                      "projection_p90": round(fc.p90), "projection_mean": round(fc.mean)}]
                ),
            ],
            ignore_index=True,
        )
        caption = (
            f"Whole-year totals (grey bars) and {year}: arrived so far (black, {ytd_total:,}) "
            f"and the projected year end (blue diamond: median {fc.p50:,.0f}; line: 80% "
            f"range {fc.p10:,.0f} to {fc.p90:,.0f})."
        )
    else:
        caption = "Whole-year totals. No forecast is stored for this date."
    charts.append(
        _Chart("year-end", f"Where {year} may end", caption,
               year_end_figure(totals, fc, ytd_total), year_csv)
    )

    recent = recent_daily(daily)
    charts.append(
        _Chart(
            "daily",
            f"Daily arrivals, last {RECENT_DAYS} days",
            f"People (blue, top) and boats (orange, bottom) arriving each day from "
            f"{_long(recent['date'].iloc[0])} to {_long(through)}. Days with no crossings show "
            "no bar; crossings depend heavily on the weather.",
            recent_daily_figure(recent),
            recent,
            notes=[
                {"date": _long(d), "note": str(n).strip()}
                for d, n in zip(recent["date"], recent["note"], strict=True)
                if isinstance(n, str) and n.strip()
            ],
        )
    )
    monthly = monthly_people_per_boat(daily)
    last_month = monthly.dropna(subset=["people_per_boat"]).tail(1)
    caption = "Average number of people per boat each month: people arrived divided by boats."
    if not last_month.empty:
        m = last_month.iloc[0]
        caption += (
            f" Latest: {m['people_per_boat']:.1f} in {m['month']:%B %Y}"
            + (" (month to date)." if m["month"] == date(through.year, through.month, 1)
               else ".")
        )
    charts.append(
        _Chart("people-per-boat", "People per boat, by month", caption,
               people_per_boat_figure(monthly), monthly)
    )
    prevented = preventions(data.read.weekly)
    if not prevented.empty:
        caption = (
            "People the French authorities prevented from crossing each week (green bars; "
            "operational estimates the Home Office publishes from May 2024), beside people "
            "arriving in the UK (black line). Weeks ending "
            f"{_long(prevented['week_ending'].iloc[0])} to "
            f"{_long(prevented['week_ending'].iloc[-1])}."
        )
        charts.append(
            _Chart("preventions", "Crossings prevented by France, by week", caption,
                   preventions_figure(prevented), prevented)
        )

    record = track_record(data.earlier_forecasts, weeks)
    if not record.empty and record["production"].astype(bool).any():
        n = record[record["production"].astype(bool)]["as_of"].nunique()
        caption = (
            "What happened each week (black) against forecasts made earlier (dashed, one colour "
            "per forecast date, with bars for their 80% ranges). "
            f"{n} earlier forecast date{'s' if n != 1 else ''} can be checked; up to six, "
            "at least four weeks apart, are drawn. Only weeks now complete are scored."
        )
        charts.append(
            _Chart("track-record", "Track record: earlier forecasts against what happened",
                   caption, track_record_figure(record, weeks), record)
        )
    return charts


def _score_rows(record: pd.DataFrame) -> list[dict[str, str]]:
    if record.empty:
        return []
    rows = []
    for model, group in record.groupby("model"):
        rows.append(
            {
                "model": str(model),
                "production": "yes" if group["production"].astype(bool).any() else "",
                "forecasts": f"{group['as_of'].nunique():,}",
                "weeks": f"{len(group):,}",
                "mae": f"{group['error'].abs().mean():,.0f}",
                "bias": f"{group['error'].mean():+,.0f}",
                "coverage": f"{group['inside_80'].mean() * 100:.0f}%",
            }
        )
    return rows


def _year_end_checks(data: ReportData) -> list[dict[str, str]]:
    """Earlier forecasts of a year now complete, against that year's total."""
    frame = data.earlier_year_end
    if frame.empty:
        return []
    totals = dict(
        zip(*complete_year_totals(data.read.daily).to_dict("list").values(), strict=True)
    )
    done = frame[[int(y) in totals and bool(p) for y, p in zip(frame["year"],
                                                             frame["production"], strict=True)]]
    rows = []
    for r in done.tail(12).itertuples():
        actual = totals[int(r.year)]
        inside = r.year_end_p10 <= actual <= r.year_end_p90
        rows.append(
            {
                "as_of": _long(r.as_of),
                "model": str(r.model),
                "year": str(r.year),
                "forecast": f"{r.year_end_p50:,.0f} ({r.year_end_p10:,.0f}–{r.year_end_p90:,.0f})",
                "actual": f"{actual:,}",
                "inside": "yes" if inside else "no",
            }
        )
    return rows


def _table(frame: pd.DataFrame | None, limit: int = 30) -> dict[str, Any] | None:
    """A small generic table (header + formatted cells) for tables whose columns may vary."""
    if frame is None or frame.empty:
        return None
    shown = frame.head(limit)
    return {
        "columns": [str(c) for c in shown.columns],
        "rows": [[_fmt_num(v, 3) for v in row] for row in shown.itertuples(index=False)],
        "more": max(len(frame) - limit, 0),
        "csv": csv_data_uri(frame),
    }


def _backtest_year_end_summary(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    if frame is None or frame.empty or "model" not in frame:
        return None
    parts: dict[str, Any] = {"origins": ("model", "size")}
    if "ape" in frame:
        parts["mean_abs_pct_error"] = ("ape", "mean")
    if "covered" in frame:
        frame = frame.assign(covered=frame["covered"].astype(float))
        parts["share_inside_80pct"] = ("covered", "mean")
    return frame.groupby("model").agg(**parts).reset_index()


def _key_figures(data: ReportData) -> list[dict[str, str]]:
    table = data.ytd.table
    this = table.iloc[-1]
    year = int(this["year"])
    cards = [
        {"label": f"Arrived in {year} to {_short(data.data_through)}",
         "value": f"{int(this['migrants_arrived']):,}",
         "note": f"{ordinal(int(this['rank']))} highest of {len(table)} years"},
    ]
    if len(table) > 1:
        prev = table.iloc[-2]
        pct = this["change_pct"]
        cards.append(
            {"label": f"Same period of {int(prev['year'])}",
             "value": f"{int(prev['migrants_arrived']):,}",
             "note": "" if pd.isna(pct) else f"{'up' if pct >= 0 else 'down'} "
             f"{abs(pct):.0f}% this year"}
        )
    fc = data.forecast
    if fc is not None and fc.year == year:
        cards.append(
            {"label": f"Projected {year} total (median)", "value": f"{fc.p50:,.0f}",
             "note": f"80% range {fc.p10:,.0f} to {fc.p90:,.0f}"}
        )
        if fc.prob_exceeds:
            last_year, p = next(iter(fc.prob_exceeds.items()))
            cards.append(
                {"label": f"Chance {year} passes {last_year}", "value": _pct(p),
                 "note": f"forecast of {_long(fc.as_of)}"}
            )
    return cards


def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,  # every template, whatever its name: data text is untrusted
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["long_date"] = lambda d: "" if d is None else _long(d)
    env.filters["int"] = _fmt_int
    env.filters["safe_url"] = safe_url
    return env


def _script_safe(text: str) -> str:
    """JSON that cannot end or confuse the <script> element holding it."""
    return (
        text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    )


def _figure_json(figure: Any) -> str:
    """The figure's data and layout as script-safe JSON, drawn by the page's own small loader.

    Charts are drawn one at a time after the text has been shown, rather than each by an inline
    script while the page is still being read, so the headline appears at once on slow devices.
    """
    import plotly.io

    return _script_safe(plotly.io.to_json(figure, validate=False))


def render_report(
    data: ReportData, *, stale_after_days: int = 8, today: date | None = None
) -> str:
    """The report page as one HTML string (plotly.js inlined once, nothing fetched)."""
    import plotly.offline
    from markupsafe import Markup

    today = today or date.today()
    charts = _charts(data)
    for chart in charts:
        chart.html = _figure_json(chart.figure)
    plotly_js = plotly.offline.get_plotlyjs()
    if "</script" in plotly_js.lower():  # would end the inline script early
        raise ReportError("the bundled plotly.js cannot be inlined safely")
    fc = data.forecast
    record = track_record(data.earlier_forecasts, weekly_totals(data.read.daily))
    totals = complete_year_totals(data.read.daily)
    total_by_year = dict(zip(totals["year"], totals["migrants_arrived"], strict=True))
    probabilities = []
    if fc is not None:
        probabilities = [
            {"year": y, "total": _fmt_int(total_by_year.get(y)), "p": _pct(p)}
            for y, p in list(fc.prob_exceeds.items())[:5]
        ]
    revisions = data.revisions
    revision_table = None
    if not revisions.empty:
        revision_table = revisions.head(25).to_dict("records")
    env = _environment()
    page = env.get_template("report.html").render(
        title="Small boat crossings of the English Channel",
        as_of=data.as_of,
        data_through=data.data_through,
        newest_data_through=data.newest_data_through,
        headline=headline(data.ytd),
        key_figures=_key_figures(data),
        stale=stale_warning(data.newest_data_through, today, stale_after_days),
        older_view=data.newest_data_through > data.data_through,
        forecast=fc,
        forecast_is_current=fc is not None and fc.year == int(data.ytd.table["year"].iloc[-1]),
        probabilities=probabilities,
        charts=[{"slug": c.slug, "title": c.title, "caption": c.caption,
                 "json": Markup(c.html), "csv": c.csv_href, "notes": c.notes,
                 "height": int(c.figure.layout.height or 400)}
                for c in charts],
        scores=_score_rows(record),
        year_end_checks=_year_end_checks(data),
        backtest_scores=_table(data.backtest_scores),
        backtest_year_end=_table(_backtest_year_end_summary(data.backtest_year_end)),
        backtest_year_end_csv=(
            csv_data_uri(data.backtest_year_end)
            if data.backtest_year_end is not None and not data.backtest_year_end.empty
            else None
        ),
        publications=data.publications.to_dict("records"),
        rule=_rule_text(data.read),
        revisions=revision_table,
        revision_count=len(revisions),
        revisions_csv=csv_data_uri(revisions) if not revisions.empty else None,
        ogl=OGL,
        generated_at=datetime.now(UTC).strftime("%d %B %Y %H:%M UTC"),
        plotly_js=Markup(plotly_js),
        plot_config=Markup(_script_safe(json.dumps(PLOT_CONFIG))),
    )
    return page


def _atomic_write(path: Path, text: str) -> None:
    """Write beside the target then rename over it: readers never see half a page."""
    temp: str | None = None
    try:
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp",
            delete=False,
        ) as handle:
            temp = handle.name
            handle.write(text)
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        if temp is not None:
            Path(temp).unlink(missing_ok=True)
        raise


def _run_folders(reports_dir: Path) -> list[date]:
    runs = []
    for child in reports_dir.iterdir():
        try:
            day = date.fromisoformat(child.name)
        except ValueError:
            continue
        if child.name == day.isoformat() and (child / "index.html").is_file():
            runs.append(day)
    return sorted(runs, reverse=True)


def write_index(reports_dir: Path) -> Path:
    """Rewrite reports_dir/index.html: every run folder present, newest first."""
    reports_dir = Path(reports_dir)
    runs = _run_folders(reports_dir)
    page = _environment().get_template("index.html").render(
        title="Small boat crossings of the English Channel: reports",
        runs=[{"href": f"{d.isoformat()}/index.html", "label": _long(d), "iso": d.isoformat()}
              for d in runs],
        ogl=OGL,
    )
    target = reports_dir / "index.html"
    _write_or_fail(target, page, reports_dir)
    return target


def _write_or_fail(target: Path, text: str, reports_dir: Path) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(target, text)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ReportError(
            f"cannot write the report to {reports_dir}: {reason}; the previous report is unchanged"
        ) from exc


def _check_writable(reports_dir: Path) -> None:
    try:
        reports_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=reports_dir):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ReportError(f"cannot write the report to {reports_dir}: {reason}") from exc


def write_report(
    db_path: Path,
    reports_dir: Path,
    as_of: date | None = None,
    *,
    stale_after_days: int = 8,
    today: date | None = None,
) -> Path:
    """Write reports_dir/<as_of>/index.html and the root index; return the report's path.

    as_of defaults to the last day with data. Nothing is replaced until the new page is complete.
    """
    if as_of is not None:
        as_of = _validated_date(as_of, "as_of")
    if today is not None:
        today = _validated_date(today, "today")
    reports_dir = Path(reports_dir)
    if reports_dir.exists() and not reports_dir.is_dir():
        raise ReportError(f"cannot write the report to {reports_dir}: it is not a folder")
    _check_writable(reports_dir)  # fail in a moment, not after the work
    data = load_report_data(Path(db_path), as_of)
    page = render_report(data, stale_after_days=stale_after_days, today=today)
    folder = reports_dir / data.as_of.isoformat()  # from a validated date: no path tricks
    target = folder / "index.html"
    _write_or_fail(target, page, reports_dir)
    write_index(reports_dir)
    return target
