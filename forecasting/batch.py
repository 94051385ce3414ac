"""The sources given to `ingest` and `run`: files, folders of publications, or one URL.

Checked as arguments before any work (a path that exists, a URL on GOV.UK), put in publication
order, and a folder's other files named with the reason each is skipped, so nothing given is
passed over without a word.
"""

from __future__ import annotations

import re
import stat
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from forecasting.errors import BadInput

__all__ = [
    "PUBLICATION_SUFFIXES",
    "Skipped",
    "is_url",
    "publication_order",
    "expand_sources",
    "skipped_files",
    "check_url",
    "check_sources",
]

PUBLICATION_SUFFIXES = (".ods", ".html", ".htm", ".xlsx")  # .xlsx: the quarterly dataset
_REISSUE = re.compile(r"_v(\d+)$", re.IGNORECASE)


@dataclass(frozen=True)
class Skipped:
    """A file in a given folder that is not read, and why."""

    path: Path
    reason: str

    def describe(self) -> str:
        return f"skipped {self.path}: {self.reason}"


def is_url(source: str) -> bool:
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
                raise BadInput(
                    source, "the folder holds no .ods or .html publications (nor .xlsx workbooks)"
                )
            paths += found
        else:
            paths.append(path)
    return sorted(dict.fromkeys(paths), key=publication_order)


def _why_skipped(path: Path) -> str | None:
    if path.suffix.lower() in PUBLICATION_SUFFIXES:
        return None
    if path.is_dir():
        return "a folder; only the files directly in the given folder are read"
    kind = f"a {path.suffix} file" if path.suffix else "a file with no extension"
    return f"{kind}, not a publication (only .ods releases and .html pages are read)"


def skipped_files(sources: list[str]) -> list[Skipped]:
    """Every entry of the given folders that is not read, by name, with the reason."""
    skipped: list[Skipped] = []
    for source in sources:
        path = Path(source)
        if not is_url(source) and path.is_dir():
            for entry in sorted(path.iterdir()):
                reason = _why_skipped(entry)
                if reason:
                    skipped.append(Skipped(entry, reason))
    return skipped


def check_url(url: str, govuk_url: str) -> None:
    """A given URL must be on GOV.UK and plain ASCII; refused before any request."""
    from forecasting.sources.http import AllowedHosts

    refusal = AllowedHosts(govuk_url).refusal(url)
    if not refusal and not url.isascii():
        refusal = "the URL has characters that are not plain ASCII (percent-encode them)"
    if refusal:
        raise BadInput(url, f"{refusal}; download it yourself and use --source PATH")


def check_sources(sources: list[str], govuk_url: str) -> None:
    """Each source checked as an argument, before any work: a URL on GOV.UK, or a path that
    exists (a file, or a folder holding publications)."""
    for source in sources:
        if is_url(source):
            check_url(source, govuk_url)
            continue
        path = Path(source)
        try:
            mode = path.stat().st_mode
        except OSError as exc:
            raise BadInput(path, f"cannot be read ({exc.strerror or exc})") from None
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            raise BadInput(path, "is not a regular file")
    expand_sources([s for s in sources if not is_url(s)])
