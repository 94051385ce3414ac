"""What the flows return: typed results the `crossings` command prints and the alerts read.

A flow's summary was once a dict passed from the nightly flow to the announcements, keys read
by name at both ends; these dataclasses are that summary with its fields checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from forecasting.errors import ExitStatus

if TYPE_CHECKING:
    from forecasting.operations.forecast import ForecastOutcome
    from forecasting.store import IngestOutcome

__all__ = ["IngestResult", "NightResult", "BackfillResult"]


@dataclass(frozen=True)
class IngestResult:
    """What one ingest read (each publication's outcome) and the sources that failed meanwhile."""

    outcomes: list[IngestOutcome] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def stored(self) -> list[IngestOutcome]:
        return [o for o in self.outcomes if o.stored]

    @property
    def new(self) -> bool:
        """Something not held before was stored."""
        return bool(self.stored)

    @property
    def new_files(self) -> list[str]:
        return [o.file_name for o in self.stored]

    def lines(self) -> list[str]:
        return [o.describe() for o in self.outcomes] or ["nothing new: the store already holds it"]


@dataclass(frozen=True)
class NightResult:
    """The nightly run: its exit status and why, what it stored, forecast and wrote."""

    status: ExitStatus
    reasons: list[str]  # why it is stale: the source failures first, then the figures' age
    data_through: date
    ingested: IngestResult
    forecast: ForecastOutcome
    report: Path
    index: Path
    seeded: str | None = None  # the bundled snapshot's file name, when the empty store was seeded

    @property
    def failures(self) -> list[str]:
        """The sources that failed while the run carried on, one line each."""
        return self.ingested.failures

    @property
    def new_publication(self) -> bool:
        """A publication the store did not hold was stored: from GOV.UK, or the bundled
        snapshot seeded into an empty store (the first line of a first run says so)."""
        return self.ingested.new or self.seeded is not None


@dataclass(frozen=True)
class BackfillResult:
    """A backfill: its as-of dates, how many were fitted, already held or failed, and how long."""

    dates: list[date]
    fitted: int
    skipped: int
    failed: list[str]  # one line per failed chunk of dates
    task_runner: str
    seconds: float
    report: Path | None = None
