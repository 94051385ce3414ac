"""Where the figures came from, and what later publications changed: said precisely.

"No revisions seen" read as "nothing was revised" when it only meant "nothing was compared", so
the page names what was compared (which publications, which series) before saying what changed.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from forecasting import store
from forecasting.report.data import ReportData
from forecasting.report.formats import csv_data_uri, fmt_int, long_date
from forecasting.store.report_queries import LEDGER_COLUMNS

__all__ = ["rule_text", "series_label", "revision_table", "provenance_context"]

SERIES_LABELS = {
    "migrants_arrived": ("People arrived", "day"),
    "boats_arrived": ("Boats arrived", "day"),
    "boats_uncontrolled": ("Boats in uncontrolled landings", "day"),
    "migrants_prevented": ("People prevented from crossing by France", "week"),
    "events_prevented": ("Crossing attempts prevented by France", "week"),
}
SHOWN = 25


def rule_text(read: store.AsOfRead) -> str:
    """Which publications the figures come from, in words."""
    if read.rule == "earliest_held_cut":
        return (
            f"as known on {long_date(read.as_of)}: the store holds no release that old, so the "
            "oldest release held, cut off at that date (later revisions may show)"
        )
    return f"as known on {long_date(read.as_of)} (the releases whose data ended by then)"


def series_label(series: str) -> tuple[str, str]:
    """(plain name, "day" or "week") of a ledger series such as "weekly.migrants_prevented"."""
    text = str(series).lower()
    for key, (label, period) in SERIES_LABELS.items():
        if key in text:
            if "week" in text and period == "day":
                return f"{label} (weekly total)", "week"
            return label, period
    return str(series), "week" if "week" in text else "day"


def revision_table(frame: pd.DataFrame, source: str | None) -> pd.DataFrame:
    """Revisions in one shape (the ledger's), whichever the store holds: one row per figure
    changed, newest period first."""
    if frame.empty or source is None:
        return pd.DataFrame(columns=LEDGER_COLUMNS)
    if source == "revision_ledger":
        return frame[LEDGER_COLUMNS].reset_index(drop=True)
    parts = []
    for column in ("migrants_arrived", "boats_arrived"):
        changed = frame[frame[column] != frame[f"previous_{column}"]]
        parts.append(
            pd.DataFrame(
                {
                    "series": column,
                    "period": changed["date"],
                    "previous_publication": changed["previous_publication"],
                    "publication": changed["publication"],
                    "previous_value": changed[f"previous_{column}"],
                    "value": changed[column],
                    "change": changed[column] - changed[f"previous_{column}"],
                }
            )
        )
    table = pd.concat(parts, ignore_index=True)
    return table.sort_values(["period", "series"], ascending=[False, False]).reset_index(drop=True)


def _compared(data: ReportData) -> dict[str, Any]:
    """What the revisions compare: the publications known on the date, and which series."""
    held = data.held_publications
    names = held["file_name"].tolist() if not held.empty else []
    kinds = held["kind"].value_counts().to_dict() if not held.empty else {}
    return {
        "publications": len(names),
        "weekly_releases": int(kinds.get("weekly_release", 0)),
        "daily_pages": int(kinds.get("last_7_days", 0)),
        "every_series": data.revisions_source == "revision_ledger",
        "oldest": names[-1] if names else None,
        "newest": names[0] if names else None,
    }


def provenance_context(data: ReportData) -> dict[str, Any]:
    """The provenance section: the publications used, the as-of rule, the revisions."""
    table = revision_table(data.revisions, data.revisions_source)
    labelled = [series_label(s) for s in table["series"]]
    rows = [
        {
            "series": label,
            "period": ("week ending " if period == "week" else "") + long_date(r["period"]),
            "previous_publication": r["previous_publication"],
            "publication": r["publication"],
            "before": fmt_int(r["previous_value"]),
            "after": fmt_int(r["value"]),
            "change": f"{r['change']:+,.0f}",
        }
        for r, (label, period) in zip(table.head(SHOWN).to_dict("records"), labelled, strict=False)
    ]
    weekly = sum(1 for _, period in labelled if period == "week")
    return {
        "publications": data.publications.to_dict("records"),
        "rule": rule_text(data.read),
        "compared": _compared(data),
        "revisions": rows,
        "revision_count": len(table),
        "revision_weekly": weekly,
        "revision_daily": len(table) - weekly,
        "revisions_csv": csv_data_uri(table) if not table.empty else None,
    }
