"""Find and fetch the newest quarterly detailed dataset on GOV.UK, by the weekly release's rules.

The statistical data set "Irregular migration detailed dataset and summary tables" is asked
through the Content API; its newest detailed-dataset workbook (xlsx or ODS) is the release. Its
vintage is the document's `public_updated_at` (GOV.UK's metadata). The same `Http` layer as the
weekly release applies: GOV.UK hosts only (redirects included), a size cap, deadlines; the body
then passes the zip-bomb and content checks before anything is written. Cheap when nothing is
new: an attachment URL the store already holds is not downloaded again.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from forecasting.errors import BadInput, one_line
from forecasting.sources.archive import sniff
from forecasting.sources.fetch import _inside, _write_atomically, safe_file_name
from forecasting.sources.http import GovukUnavailable, Http, HttpProblem
from forecasting.sources.quarterly import (
    MAX_WORKBOOK_BYTES,
    QuarterlyRelease,
    parse_quarterly_bytes,
)
from forecasting.sources.workbook import NOT_WORKBOOK

__all__ = [
    "DATASET_PATH",
    "DATASET_API_PATH",
    "QuarterlyFound",
    "QuarterlyFetch",
    "discover_quarterly",
    "download_quarterly",
    "fetch_quarterly",
]

DATASET_PATH = (
    "/government/statistical-data-sets/irregular-migration-detailed-dataset-and-summary-tables"
)
DATASET_API_PATH = "/api/content" + DATASET_PATH
MAX_API_BYTES = 5 * 1024 * 1024
_WORKBOOK = re.compile(r"\.(xlsx|ods)$", re.IGNORECASE)
_ENDING = re.compile(r"year[-_ ]ending[-_ ]([a-z]+)[-_ ](\d{4})", re.IGNORECASE)
_MONTHS = {datetime(2000, m, 1).strftime("%B").lower(): m for m in range(1, 13)}


@dataclass(frozen=True)
class QuarterlyFound:
    """The newest detailed-dataset workbook listed, and GOV.UK's date for it (its vintage)."""

    url: str
    file_name: str
    title: str
    published_on: date | None


@dataclass(frozen=True)
class QuarterlyFetch:
    """What the nightly check found: a new release, or why nothing (one line)."""

    release: QuarterlyRelease | None
    status: str  # "new", "already_held"
    detail: str


def _period(name: str) -> tuple[int, int]:
    """(year, month) of "year ending <month> <year>" in a name; (0, 0) when absent."""
    match = _ENDING.search(name.replace("%20", " "))
    if not match or match[1].lower() not in _MONTHS:
        return (0, 0)
    return (int(match[2]), _MONTHS[match[1].lower()])


def _published_on(doc: dict[str, object]) -> date | None:
    for key in ("public_updated_at", "first_published_at"):
        text = doc.get(key)
        if isinstance(text, str):
            try:
                return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
            except ValueError:
                continue
    return None


def discover_quarterly(http: Http) -> QuarterlyFound:
    """The newest detailed-dataset workbook in the Content API's attachments."""
    url = http.base_url + DATASET_API_PATH
    try:
        answer = http.get(url, max_bytes=MAX_API_BYTES)
        doc = json.loads(answer.content or b"")
    except HttpProblem as exc:
        raise GovukUnavailable(url, f"quarterly dataset listing failed: {exc}") from None
    except (ValueError, RecursionError) as exc:
        problem = f"quarterly listing is not usable JSON ({one_line(exc)[:80]})"
        raise GovukUnavailable(url, problem) from None
    details = doc.get("details") if isinstance(doc, dict) else None
    attachments = details.get("attachments") if isinstance(details, dict) else None
    if not isinstance(attachments, list):
        raise GovukUnavailable(url, "quarterly listing has no details.attachments (shape changed?)")
    found: list[tuple[tuple[int, int], int, QuarterlyFound]] = []
    for index, item in enumerate(attachments):
        if not isinstance(item, dict) or not isinstance(item.get("url"), str):
            continue
        link = urljoin(url, item["url"])
        name = str(item.get("filename") or "") or unquote(urlsplit(link).path).split("/")[-1]
        title = str(item.get("title") or "")
        if _WORKBOOK.search(name) and "detailed" in (name + " " + title).lower():
            period = max(_period(name), _period(title))
            found.append((period, index, QuarterlyFound(link, name, title, None)))
    if not found:
        raise GovukUnavailable(url, "quarterly listing has no detailed-dataset workbook")
    newest = max(found, key=lambda f: (f[0], f[1]))[2]
    return QuarterlyFound(newest.url, newest.file_name, newest.title, _published_on(doc))


def download_quarterly(
    http: Http, found: QuarterlyFound, raw_dir: Path, *, today: date | None = None
) -> QuarterlyRelease:
    """Download, check in full, then write the workbook into `raw_dir`; its parse returned."""
    try:
        answer = http.get(found.url, max_bytes=MAX_WORKBOOK_BYTES)
    except HttpProblem as exc:
        raise GovukUnavailable(found.url, f"quarterly dataset download failed: {exc}") from None
    content = answer.content or b""
    problem = sniff(content)
    if problem:
        text = NOT_WORKBOOK[problem].replace("is ", "", 1)
        raise GovukUnavailable(found.url, f"quarterly dataset download refused: sent {text}")
    suffix = ".ods" if found.file_name.lower().endswith(".ods") else ".xlsx"
    name = safe_file_name(found.file_name or found.url, suffix=suffix)
    try:
        release = parse_quarterly_bytes(
            content, name, today=today, from_web=True, published_on=found.published_on
        )
    except BadInput as exc:
        raise GovukUnavailable(found.url, f"quarterly dataset unusable: {exc.problem}") from None
    target = _inside(Path(raw_dir), name)
    if target.exists() and target.read_bytes() != content:
        target = _inside(Path(raw_dir), f"{name[: -len(suffix)]}.{release.sha256[:12]}{suffix}")
    _write_atomically(target, content)
    provenance = {
        "url": answer.url,
        "discovered_via": "content_api",
        "http_status": answer.http_status,
        "etag": answer.etag,
        "last_modified": answer.last_modified,
        "fetched_at": answer.fetched_at,
    }
    return replace(release, file_name=target.name, provenance=provenance)


def fetch_quarterly(
    http: Http,
    raw_dir: Path,
    held_urls: set[str],
    *,
    today: date | None = None,
) -> QuarterlyFetch:
    """The newest quarterly release when the store lacks it; raises `GovukUnavailable`."""
    found = discover_quarterly(http)
    if found.url in held_urls:
        detail = f"quarterly dataset: already held ({found.file_name})"
        return QuarterlyFetch(None, "already_held", detail)
    release = download_quarterly(http, found, raw_dir, today=today)
    return QuarterlyFetch(release, "new", f"quarterly dataset: new: {release.file_name}")
