"""The report page: its prose (headline, key figures, tables) and the rendering of the template.

Text that comes from GOV.UK or the data (notes, file names, URLs) is untrusted: every template
autoescapes it and only http(s) URLs ever become links. Each chart's data travels as script-safe
JSON drawn by the page's own small loader, with plotly.js inlined once: nothing is fetched.
"""

from __future__ import annotations

import json
from datetime import UTC, date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forecasting.calendar import london_now, london_today
from forecasting.errors import ReportError
from forecasting.freshness import freshness
from forecasting.report.analysts import analysts_context
from forecasting.report.charts import build_charts
from forecasting.report.data import ReportData
from forecasting.report.formats import (
    fmt_int,
    long_date,
    safe_url,
    script_safe,
    short_date,
)
from forecasting.report.provenance import provenance_context
from forecasting.report.sections import forecast_context, key_figures
from forecasting.report.style import PLOT_CONFIG
from forecasting.report.who import who_context
from forecasting.ytd import headline

if TYPE_CHECKING:
    import jinja2

__all__ = ["OGL", "TEMPLATES", "environment", "render_report", "stale_warning"]

TEMPLATES = Path(__file__).with_name("templates")
OGL = "Contains public sector information licensed under the Open Government Licence v3.0."


@cache
def environment() -> jinja2.Environment:
    """The Jinja environment of every report template: autoescaped, strict, with our formats.

    One per process, so its templates are compiled once (a backfill writes a page per date)."""
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


def stale_warning(
    data_through: date, today: date, stale_after_days: int = 8, *, as_of: date | None = None
) -> str | None:
    """A warning when the figures are more than `stale_after_days` old.

    The current page judges them against `today`; a historical page (`as_of` given) against its
    own date, so a page of 3 May says whether the figures were stale on 3 May, not today.
    """
    reference = today if as_of is None else min(as_of, today)
    judged = freshness(data_through, reference, stale_after_days)
    if not judged.stale:
        return None
    age = judged.age_days
    if as_of is None:
        return (
            f"Stale data: the newest publication held runs to {long_date(data_through)}, {age} "
            f"days before {long_date(today)}. A newer Home Office release may be available but "
            "has not been ingested."
        )
    return (
        f"Stale data for this date: on {long_date(reference)} the newest figures held ran only "
        f"to {long_date(data_through)}, {age} days earlier."
    )


def _figure_json(figure: Any) -> str:
    """The figure's data and layout as script-safe JSON, drawn by the page's own small loader.

    Charts are drawn one at a time after the text has been shown, rather than each by an inline
    script while the page is still being read, so the headline appears at once on slow devices.
    """
    import plotly.io

    return script_safe(plotly.io.to_json(figure, validate=False))


def _plotly_js() -> str:
    import plotly.offline

    code: str = plotly.offline.get_plotlyjs()
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


def render_report(data: ReportData, *, stale_after_days: int = 8, today: date | None = None) -> str:
    """The report page as one HTML string (plotly.js inlined once, nothing fetched)."""
    from markupsafe import Markup

    today = today or london_today()
    env = environment()
    charts = build_charts(data, env.get_template("captions.html").module)
    return env.get_template("report.html").render(
        title="Small boat crossings of the English Channel",
        as_of=data.as_of,
        data_through=data.data_through,
        newest_data_through=data.newest_data_through,
        headline=headline(data.ytd),
        key_figures=key_figures(data),
        stale=stale_warning(
            data.data_through,
            today,
            stale_after_days,
            as_of=None if data.current else data.as_of,
        ),
        older_view=data.newest_data_through > data.data_through,
        charts=_chart_context(charts),
        **forecast_context(data),
        **analysts_context(data),
        **provenance_context(data),
        **who_context(data.who),  # "Who is crossing" (report/who.py, templates/who.html)
        ogl=OGL,
        generated_at=london_now().astimezone(UTC).strftime("%d %B %Y %H:%M UTC"),
        plotly_js=Markup(_plotly_js()),
        plot_config=Markup(script_safe(json.dumps(PLOT_CONFIG))),
    )
