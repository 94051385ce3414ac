"""The ingest command's jobs: files, folders or a URL in publication order; GOV.UK's newest."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from forecasting.errors import BadInput
from forecasting.settings import Settings

if TYPE_CHECKING:
    from forecasting.store import IngestOutcome

__all__ = [
    "PUBLICATION_SUFFIXES",
    "publication_order",
    "expand_sources",
    "ingest_many",
    "GovukOutcome",
    "ingest_govuk",
]

PUBLICATION_SUFFIXES = (".ods", ".html", ".htm")
_REISSUE = re.compile(r"_v(\d+)$", re.IGNORECASE)


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def publication_order(path: Path) -> tuple[date, int, str]:
    """Sort key: the release date in the name (a saved page: its capture day), then reissue."""
    from forecasting.sources.release import released_on_from_name

    day = released_on_from_name(path.name)
    if day is None:
        try:
            day = date.fromisoformat(path.stem[:10])
        except ValueError:
            day = date.max  # undated names last, in name order
    reissue = _REISSUE.search(path.stem)
    return day, int(reissue.group(1)) if reissue else 1, path.name


def expand_sources(sources: list[str]) -> list[Path]:
    """Files as given, folders as the publications in them, all in publication order."""
    paths: list[Path] = []
    for source in sources:
        path = Path(source)
        if path.is_dir():
            # Anything named like a publication is read, so what is not a regular file is
            # refused by the reader, as it would be on its own.
            found = [p for p in path.iterdir() if p.suffix.lower() in PUBLICATION_SUFFIXES]
            if not found:
                raise BadInput(source, "the folder holds no .ods or .html publications")
            paths += found
        else:
            paths.append(path)
    return sorted(dict.fromkeys(paths), key=publication_order)


def ingest_many(
    db: Path, sources: list[str], *, raw_dir: Path, settings: Settings | None = None
) -> list[IngestOutcome]:
    """Store publications from files, folders or one URL, oldest publication first.

    Every file is read and checked before any is stored, so one bad file in a batch changes
    nothing; each is then stored in its own transaction. (`settings`: for a URL's download.)
    """
    from forecasting.ingest import ingest_source, read_source
    from forecasting.store import ingest_all

    urls = [s for s in sources if _is_url(s)]
    if urls:
        if len(sources) > 1:
            raise BadInput(urls[0], "a URL is ingested on its own, not with other sources")
        return [ingest_source(db, urls[0], raw_dir=raw_dir, settings=settings)]
    releases = [(read_source(path), str(path.resolve())) for path in expand_sources(sources)]
    return ingest_all(db, releases)


@dataclass(frozen=True)
class GovukOutcome:
    """What asking GOV.UK stored, and what failed (one line each) while the rest was stored."""

    outcomes: list[IngestOutcome]
    failures: list[str]


def ingest_govuk(db: Path, *, raw_dir: Path, settings: Settings) -> GovukOutcome:
    """Store what GOV.UK publishes now; raises when nothing usable could be fetched."""
    from forecasting.ingest import ingest_from_govuk

    result = ingest_from_govuk(db, raw_dir=raw_dir, settings=settings)
    return GovukOutcome(list(result.outcomes), list(result.failures))
