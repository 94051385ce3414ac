"""What a flow run leaves in Prefect's UI: a markdown artifact summing it up.

Read by whoever opens the run in the Prefect UI the next morning; a headline that cannot be
worked out is written as such, and does not fail the run.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from prefect.artifacts import create_markdown_artifact

__all__ = ["nightly_artifact", "backfill_artifact"]


def _headline(store: Path) -> str:
    from forecasting.store import latest_daily
    from forecasting.ytd import headline, year_to_date

    try:
        return headline(year_to_date(latest_daily(store).daily))
    except Exception as exc:  # the artifact must never fail the run
        return f"(no headline: {exc})"


def nightly_artifact(store: Path, summary: dict) -> None:
    """The nightly run's summary in Prefect's UI: status, new figures, headline, forecast."""
    fc, year_end = summary["forecast"], summary["forecast"]["year_end"]
    arrived = "yes: " + ", ".join(summary["new_files"]) if summary["new_publication"] else "no"
    if summary["failures"]:
        arrived = "unknown: " + "; ".join(summary["failures"])
    if summary["seeded"]:
        arrived = f"yes: the empty store was seeded from the bundled snapshot {summary['seeded']}"
    index = Path(summary["index"]).resolve()
    status = "stale: " + "; ".join(summary["reasons"]) if summary["reasons"] else "fresh"
    lines = [
        "# Channel crossings: nightly run",
        "",
        f"- **Status:** {status}",
        f"- **Data through:** {summary['data_through']}",
        f"- **New publication:** {arrived}",
        f"- **Headline:** {_headline(store)}",
        f"- **Year-end {int(year_end['year'])} forecast:** {year_end['p50']:,.0f} "
        f"(80% range {year_end['p10']:,.0f} to {year_end['p90']:,.0f}; "
        f"{int(year_end['observed_ytd']):,} so far)",
        f"- **Refitted:** {'yes' if fc.get('refitted') else 'no, same publications'}",
        f"- **Report:** [{index}]({index.as_uri()})",
    ]
    create_markdown_artifact(
        "\n".join(lines), key="crossings-nightly", description="nightly run summary"
    )


def backfill_artifact(summary: dict, start: date, end: date, every: str, names: list[str]) -> None:
    """The backfill's summary in Prefect's UI: dates, models, what was fitted or failed."""
    lines = [
        "# Channel crossings: backfill",
        "",
        f"- **As-of dates:** {start} to {end} every {every} ({len(summary['dates'])} dates)",
        f"- **Models:** {', '.join(names)}",
        f"- **Fitted and stored:** {summary['fitted']}; **already held:** {summary['skipped']}",
        f"- **Task runner:** {summary['task_runner']}; **wall time:** {summary['seconds']} s",
    ]
    if summary["failed"]:
        lines.append(f"- **Failed:** {'; '.join(summary['failed'])}")
    if summary.get("report"):
        lines.append(f"- **Report:** {summary['report']}")
    create_markdown_artifact(
        "\n".join(lines), key="crossings-backfill", description="backfill summary"
    )
