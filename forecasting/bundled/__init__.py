"""One real weekly release shipped with the package, for a first run with no internet access.

`seed` stores it when GOV.UK cannot be reached and the store holds no figures yet; it is recorded
as a bundled snapshot (`discovered_via = 'bundled_snapshot'`) and superseded by any newer
release, like any older one. README.md in this folder gives its licence and how to refresh it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from forecasting.store import IngestOutcome

__all__ = ["SNAPSHOT_NAME", "DISCOVERED_VIA", "snapshot_path", "seed"]

SNAPSHOT_NAME = "27_February_2026_Small_boats_-_time_series.ods"
DISCOVERED_VIA = "bundled_snapshot"


def snapshot_path() -> Path:
    """Where the installed package keeps the snapshot."""
    return Path(str(files(__name__).joinpath(SNAPSHOT_NAME)))


def seed(db: Path, *, today: date | None = None) -> IngestOutcome:
    """Store the bundled release (checked like any other file); the store's IngestOutcome."""
    from forecasting.sources.release import read_release
    from forecasting.store import ingest

    release = read_release(snapshot_path(), today=today)
    provenance = {"discovered_via": DISCOVERED_VIA, "sha256": release.sha256}
    return ingest(db, replace(release, provenance=provenance), source=f"bundled:{SNAPSHOT_NAME}")
