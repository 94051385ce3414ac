"""The report page: its prose (headline, key figures, tables) and the rendering of the template.

Text that comes from GOV.UK or the data (notes, file names, URLs) is untrusted: every template
autoescapes it and only http(s) URLs ever become links. Each chart's data travels as script-safe
JSON drawn by the page's own small loader, with plotly.js inlined once: nothing is fetched.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from forecasting import store
from forecasting.errors import ReportError
from forecasting.report import series
from forecasting.report.charts import build_charts
from forecasting.report.data import ReportData
from forecasting.report.formats import (
    csv_data_uri,
    fmt_int,
    fmt_num,
    long_date,
    pct,
    safe_url,
    script_safe,
    short_date,
)
from forecasting.report.style import PLOT_CONFIG
from forecasting.ytd import headline, ordinal

__all__ = ["OGL", "TEMPLATES", "environment", "render_report", "stale_warning"]

TEMPLATES = Path(__file__).with_name("templates")
OGL = "Contains public sector information licensed under the Open Government Licence v3.0."


def environment() -> Any:
    """The Jinja environment of every report template: autoescaped, strict, with our formats."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,  # every template, whatever its name: data text is untrusted
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["long_date"] = lambda d: "" if d is None else long_date(d)
    env.filters["short_date"] = lambda d: "" if d is None else short_date(d)
    env.filters["int"] = fmt_int
    env.filters["safe_url"] = safe_url
    return env


def stale_warning(data_through: date, today: date, stale_after_days: int = 8) -> str | None:
    """A warning when the newest data is more than `stale_after_days` old on `today`."""
    age = (today - data_through).days
    if age <= stale_after_days:
        return None
    return (
        f"Stale data: the newest publication held runs to {long_date(data_through)}, {age} days "
        f"before {long_date(today)}. A newer Home Office release may be available but has not "
        "been ingested."
    )


def _rule_text(read: store.AsOfRead) -> str:
    if read.rule == "earliest_held_cut":
        return (
            f"as known on {long_date(read.as_of)}: the store holds no release that old, so the "
            "oldest release held, cut off at that date (later revisions may show)"
        )
    return f"as known on {long_date(read.as_of)} (the releases whose data ended by then)"


def _score_rows(record: pd.DataFrame) -> list[dict[str, str]]:
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
    totals_frame = series.complete_year_totals(data.read.daily)
    totals = dict(zip(totals_frame["year"], totals_frame["migrants_arrived"], strict=True))
    done = frame[
        [
            int(y) in totals and bool(p)
            for y, p in zip(frame["year"], frame["production"], strict=True)
        ]
    ]
    rows = []
    for r in done.tail(12).itertuples():
        actual = totals[int(r.year)]
        inside = r.year_end_p10 <= actual <= r.year_end_p90
        rows.append(
            {
                "as_of": long_date(r.as_of),
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
        "rows": [[fmt_num(v, 3) for v in row] for row in shown.itertuples(index=False)],
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
        {
            "label": f"Arrived in {year} to {short_date(data.data_through)}",
            "value": f"{int(this['migrants_arrived']):,}",
            "note": f"{ordinal(int(this['rank']))} highest of {len(table)} years",
        }
    ]
    if len(table) > 1:
        prev = table.iloc[-2]
        change = this["change_pct"]
        note = "" if pd.isna(change) else f"{'up' if change >= 0 else 'down'} {abs(change):.0f}%"
        cards.append(
            {
                "label": f"Same period of {int(prev['year'])}",
                "value": f"{int(prev['migrants_arrived']):,}",
                "note": f"{note} this year" if note else "",
            }
        )
    fc = data.forecast
    if fc is not None and fc.year == year:
        cards.append(
            {
                "label": f"Projected {year} total (median)",
                "value": f"{fc.p50:,.0f}",
                "note": f"80% range {fc.p10:,.0f} to {fc.p90:,.0f}",
            }
        )
        if fc.prob_exceeds:
            last_year, p = next(iter(fc.prob_exceeds.items()))
            cards.append(
                {
                    "label": f"Chance {year} passes {last_year}",
                    "value": pct(p),
                    "note": f"forecast of {long_date(fc.as_of)}",
                }
            )
    return cards


def _figure_json(figure: Any) -> str:
    """The figure's data and layout as script-safe JSON, drawn by the page's own small loader.

    Charts are drawn one at a time after the text has been shown, rather than each by an inline
    script while the page is still being read, so the headline appears at once on slow devices.
    """
    import plotly.io

    return script_safe(plotly.io.to_json(figure, validate=False))


def _plotly_js() -> str:
    import plotly.offline

    code = plotly.offline.get_plotlyjs()
    if "</script" in code.lower():  # would end the inline script early
        raise ReportError("the bundled plotly.js cannot be inlined safely")
    return code


def _chart_context(charts: list[Any]) -> list[dict[str, Any]]:
    from markupsafe import Markup

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


def _forecast_context(data: ReportData) -> dict[str, Any]:
    fc = data.forecast
    totals = series.complete_year_totals(data.read.daily)
    total_by_year = dict(zip(totals["year"], totals["migrants_arrived"], strict=True))
    probabilities = []
    if fc is not None:
        probabilities = [
            {"year": y, "total": fmt_int(total_by_year.get(y)), "p": pct(p)}
            for y, p in list(fc.prob_exceeds.items())[:5]
        ]
    return {
        "forecast": fc,
        "forecast_is_current": fc is not None and fc.year == int(data.ytd.table["year"].iloc[-1]),
        "probabilities": probabilities,
    }


def _accuracy_context(data: ReportData) -> dict[str, Any]:
    record = series.track_record(data.earlier_forecasts, series.weekly_totals(data.read.daily))
    bt_year_end = data.backtest_year_end
    return {
        "scores": _score_rows(record),
        "year_end_checks": _year_end_checks(data),
        "backtest_scores": _table(data.backtest_scores),
        "backtest_year_end": _table(_backtest_year_end_summary(bt_year_end)),
        "backtest_year_end_csv": (
            csv_data_uri(bt_year_end) if bt_year_end is not None and not bt_year_end.empty else None
        ),
    }


def _provenance_context(data: ReportData) -> dict[str, Any]:
    revisions = data.revisions
    return {
        "publications": data.publications.to_dict("records"),
        "rule": _rule_text(data.read),
        "revisions": revisions.head(25).to_dict("records") if not revisions.empty else None,
        "revision_count": len(revisions),
        "revisions_csv": csv_data_uri(revisions) if not revisions.empty else None,
    }


def render_report(data: ReportData, *, stale_after_days: int = 8, today: date | None = None) -> str:
    """The report page as one HTML string (plotly.js inlined once, nothing fetched)."""
    from markupsafe import Markup

    today = today or date.today()
    env = environment()
    charts = build_charts(data, env.get_template("captions.html").module)
    return env.get_template("report.html").render(
        title="Small boat crossings of the English Channel",
        as_of=data.as_of,
        data_through=data.data_through,
        newest_data_through=data.newest_data_through,
        headline=headline(data.ytd),
        key_figures=_key_figures(data),
        stale=stale_warning(data.newest_data_through, today, stale_after_days),
        older_view=data.newest_data_through > data.data_through,
        charts=_chart_context(charts),
        **_forecast_context(data),
        **_accuracy_context(data),
        **_provenance_context(data),
        ogl=OGL,
        generated_at=datetime.now(UTC).strftime("%d %B %Y %H:%M UTC"),
        plotly_js=Markup(_plotly_js()),
        plot_config=Markup(script_safe(json.dumps(PLOT_CONFIG))),
    )
