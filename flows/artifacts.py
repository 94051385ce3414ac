"""What a flow run leaves in Prefect's UI: a markdown artifact summing it up.

Read by whoever opens the run in the Prefect UI the next morning; a headline that cannot be
worked out is written as such, and does not fail the run.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from prefect.artifacts import create_markdown_artifact

if TYPE_CHECKING:
    from forecasting.operations.results import BackfillResult, NightResult

__all__ = ["nightly_artifact", "backfill_artifact"]


def _headline(store: Path) -> str:
    from forecasting.store import latest_daily
    from forecasting.ytd import headline, year_to_date

    try:
        return headline(year_to_date(latest_daily(store).daily))
    except Exception as exc:  # the artifact must never fail the run
        return f"(no headline: {exc})"


def nightly_artifact(store: Path, night: NightResult) -> None:
    """The nightly run's summary in Prefect's UI: status, new figures, headline, forecast."""
    year_end = night.forecast.published.year_end
    arrived = "yes: " + ", ".join(night.ingested.new_files) if night.new_publication else "no"
    if night.failures:
        arrived = "unknown: " + "; ".join(night.failures)
    if night.seeded:
        arrived = f"yes: the empty store was seeded from the bundled snapshot {night.seeded}"
    index = night.index.resolve()
    status = "stale: " + "; ".join(night.reasons) if night.reasons else "fresh"
    lines = [
        "# Channel crossings: nightly run",
        "",
        f"- **Status:** {status}",
        f"- **Data through:** {night.data_through.isoformat()}",
        f"- **New publication:** {arrived}",
        f"- **Headline:** {_headline(store)}",
        f"- **Year-end {year_end.year} forecast:** {year_end.p50:,.0f} "
        f"(80% range {year_end.p10:,.0f} to {year_end.p90:,.0f}; "
        f"{year_end.observed_ytd:,} so far)",
        f"- **Refitted:** {'yes' if night.forecast.refitted else 'no, same publications'}",
        f"- **Report:** [{index}]({index.as_uri()})",
    ]
    create_markdown_artifact(
        "\n".join(lines), key="crossings-nightly", description="nightly run summary"
    )


def backfill_artifact(
    result: BackfillResult, start: date, end: date, every: str, names: list[str]
) -> None:
    """The backfill's summary in Prefect's UI: dates, models, what was fitted or failed."""
    lines = [
        "# Channel crossings: backfill",
        "",
        f"- **As-of dates:** {start} to {end} every {every} ({len(result.dates)} dates)",
        f"- **Models:** {', '.join(names)}",
        f"- **Fitted and stored:** {result.fitted}; **already held:** {result.skipped}",
        f"- **Task runner:** {result.task_runner}; **wall time:** {result.seconds} s",
    ]
    if result.failed:
        lines.append(f"- **Failed:** {'; '.join(result.failed)}")
    if result.report:
        lines.append(f"- **Report:** {result.report}")
    create_markdown_artifact(
        "\n".join(lines), key="crossings-backfill", description="backfill summary"
    )
