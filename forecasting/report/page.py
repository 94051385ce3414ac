"""The report page: its prose (headline, key figures, tables) and the rendering of the template.

Text that comes from GOV.UK or the data (notes, file names, URLs) is untrusted: every template
autoescapes it and only http(s) URLs ever become links. Each chart's data travels as script-safe
JSON drawn by the page's own small loader, with plotly.js inlined once: nothing is fetched.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from forecasting.calendar import london_now, london_today
from forecasting.errors import ReportError
from forecasting.freshness import freshness
from forecasting.report.contents import page_numbers
from forecasting.report.data import ReportData
from forecasting.report.formats import long_date, script_safe
from forecasting.report.style import PLOT_CONFIG
from forecasting.report.templating import TEMPLATES, environment

__all__ = ["OGL", "TEMPLATES", "environment", "generated_on", "render_report", "stale_warning"]

OGL = "Contains public sector information licensed under the Open Government Licence v3.0."


def generated_on(now: datetime | None = None) -> str:
    """When a page was generated, in words: "4 December 2026 at 16:40 UTC"."""
    now = (now or london_now()).astimezone(UTC)
    return f"{long_date(now.date())} at {now:%H:%M} UTC"


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


def _plotly_js() -> str:
    import plotly.offline

    code: str = plotly.offline.get_plotlyjs()
    if "</script" in code.lower():  # would end the inline script early
        raise ReportError("the bundled plotly.js cannot be inlined safely")
    return code


def render_report(data: ReportData, *, stale_after_days: int = 8, today: date | None = None) -> str:
    """The report page as one HTML string (plotly.js inlined once, nothing fetched).

    Each section's numbers come from `forecasting/report/contents.py`; this adds the page's
    own: its dates, the staleness warning and when it was generated."""
    from markupsafe import Markup

    today = today or london_today()
    page: str = (
        environment()
        .get_template("report.html")
        .render(
            title="Small boat crossings of the English Channel",
            as_of=data.as_of,
            data_through=data.data_through,
            newest_data_through=data.newest_data_through,
            stale=stale_warning(
                data.data_through,
                today,
                stale_after_days,
                as_of=None if data.current else data.as_of,
            ),
            older_view=data.newest_data_through > data.data_through,
            **page_numbers(data),  # every section's numbers: forecasting/report/contents.py
            ogl=OGL,
            generated_at=generated_on(),
            plotly_js=Markup(_plotly_js()),
            plot_config=Markup(script_safe(json.dumps(PLOT_CONFIG))),
        )
    )
    return page
