"""Take one publication from a file or URL into the store: read, check, then store in one go."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from forecasting import store
from forecasting.release import BadInput, Release, read_release

__all__ = ["read_source", "ingest_source", "DEFAULT_RAW_DIR"]

DEFAULT_RAW_DIR = Path("data") / "raw"


def read_source(source: str | Path, *, today: date | None = None) -> Release:
    """Parse a weekly ODS release or a saved "last 7 days" page, by its file type."""
    path = Path(source)
    if path.suffix.lower() in {".html", ".htm"}:
        from forecasting.govuk import parse_last_7_days

        try:
            content = path.read_bytes()
        except OSError as exc:
            raise BadInput(path, f"cannot be read ({exc.strerror or exc})") from None
        return parse_last_7_days(content, path.name, today=today)
    return read_release(path, today=today)


def ingest_source(
    db_path: str | Path, source: str | Path, *, today: date | None = None
) -> store.IngestOutcome:
    """Check a publication fully before the store is touched, then store it in one transaction."""
    release = read_source(source, today=today)
    return store.ingest(db_path, release, source=str(Path(source).resolve()))
