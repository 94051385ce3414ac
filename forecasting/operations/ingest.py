"""The ingest command's jobs: files, folders or a URL in publication order; GOV.UK's newest."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from forecasting.batch import expand_sources, is_url, skipped_files
from forecasting.errors import BadInput
from forecasting.settings import Settings

if TYPE_CHECKING:
    from forecasting.store import IngestOutcome

__all__ = [
    "ingest_many",
    "GovukOutcome",
    "ingest_govuk",
]


def ingest_many(
    db: Path, sources: list[str], *, raw_dir: Path, settings: Settings | None = None
) -> list[IngestOutcome]:
    """Store publications from files, folders or one URL, oldest publication first.

    Every file is read and checked before any is stored, so one bad file in a batch changes
    nothing; each is then stored in its own transaction. (`settings`: for a URL's download.)
    """
    from forecasting.ingest import ingest_source, read_source
    from forecasting.store import ingest_all

    urls = [s for s in sources if is_url(s)]
    if urls:
        if len(sources) > 1:
            raise BadInput(urls[0], "a URL is ingested on its own, not with other sources")
        return [ingest_source(db, urls[0], raw_dir=raw_dir, settings=settings)]
    for skipped in skipped_files(sources):  # said in a flow's log; the commands print them
        logging.getLogger("crossings.ingest").info("%s", skipped.describe())
    from forecasting.quarterly_ingest import is_quarterly_source
    from forecasting.sources.quarterly import read_quarterly
    from forecasting.store import ingest_quarterly

    paths = expand_sources(sources)
    quarterly = [p for p in paths if is_quarterly_source(p)]
    read = [(read_quarterly(p), str(p.resolve())) for p in quarterly]
    releases = [(read_source(p), str(p.resolve())) for p in paths if p not in quarterly]
    return ingest_all(db, releases) + ingest_quarterly(db, read)


@dataclass(frozen=True)
class GovukOutcome:
    """What asking GOV.UK stored, and what failed (one line each) while the rest was stored."""

    outcomes: list[IngestOutcome]
    failures: list[str]


def ingest_govuk(db: Path, *, raw_dir: Path, settings: Settings) -> GovukOutcome:
    """Store what GOV.UK publishes now; raises when nothing usable could be fetched."""
    from forecasting.ingest import ingest_from_govuk

    result = ingest_from_govuk(db, raw_dir=raw_dir, settings=settings)
    return GovukOutcome([*result.outcomes, *result.quarterly], list(result.failures))
