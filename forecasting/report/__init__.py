"""The stakeholder report: one self-contained HTML page per as_of date, built from the store.

Officials and journalists open these pages from disk, by e-mail or from a file share, often on a
phone, so each page carries everything it needs (one embedded copy of plotly.js, inline CSS, each
chart's data as a CSV `data:` link) and asks nothing of the network.

The headline and the year-to-date curve come from `forecasting.ytd`, the same code as
`crossings ytd`, so the report and the command agree to the person.

Where each section of the page gets its numbers: `contents` (one list, one function per section).
Modules: `data` (what the report reads, through `forecasting.store.report_queries`), `why` and
`changes` (the reasoning and what changed, from the stored forecasts), `series` (each chart's
frame), `figures` (Plotly), `charts` (chart + caption + CSV), `page` (rendering), `publish`
(atomic files and the index).
"""

from forecasting.errors import ReportError
from forecasting.report.data import ForecastView, ReportData, load_report_data
from forecasting.report.page import render_report, stale_warning
from forecasting.report.publish import write_index, write_report

__all__ = [
    "ReportError",
    "ForecastView",
    "ReportData",
    "load_report_data",
    "render_report",
    "stale_warning",
    "write_index",
    "write_report",
]
