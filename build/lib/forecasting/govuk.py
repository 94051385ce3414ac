"""Fetch the Home Office small-boats figures from GOV.UK, politely and without trusting the web.

Two publications are fetched: the weekly ODS "time series" release and the daily "last 7 days"
HTML page. Discovery asks the GOV.UK Content API first, then falls back to scanning the publication
page, then (for the page only) to its well-known URL, and records which path found each thing.
Downloads use conditional requests, retry only what may be transient (5xx, timeouts, dropped
connections), cap their size, check the body is what it claims to be, and appear in `raw_dir` only
when complete. Anything already held (same sha256, or a 304) is not returned again.

When GOV.UK cannot be reached or sends something unusable, `SourceUnavailable` says so in one line
and how to load a release downloaded by hand instead (`crossings ingest --source PATH`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pandas as pd

from forecasting.release import (
    MAX_COUNT,
    MAX_ODS_BYTES,
    SB01_HEADERS,
    BadInput,
    Release,
    check_daily,
    normalise_header,
    parse_release_bytes,
    released_on_from_name,
)

__all__ = [
    "BASE_URL_ENV",
    "DEFAULT_BASE_URL",
    "USER_AGENT",
    "INGEST_HINT",
    "MAX_PAGE_BYTES",
    "SourceUnavailable",
    "Retry",
    "Found",
    "Discovery",
    "Download",
    "Outcome",
    "FetchResult",
    "resolve_base_url",
    "publication_urls",
    "make_client",
    "discover",
    "download",
    "safe_file_name",
    "parse_last_7_days",
    "fetch_latest",
]

BASE_URL_ENV = "CROSSINGS_GOVUK_URL"
DEFAULT_BASE_URL = "https://www.gov.uk"
PUBLICATION_PATH = (
    "/government/publications/migrants-detected-crossing-the-english-channel-in-small-boats"
)
CONTENT_API_PATH = "/api/content" + PUBLICATION_PATH
LAST_7_DAYS_PATH = (
    PUBLICATION_PATH + "/migrants-detected-crossing-the-english-channel-in-small-boats-last-7-days"
)
# Says who is asking and why; set CROSSINGS_USER_AGENT to add a contact for your deployment.
USER_AGENT = os.environ.get(
    "CROSSINGS_USER_AGENT",
    "channel-crossings-pipeline/0.1 (open-source forecasting of published small-boat figures)",
)
INGEST_HINT = "to load a release downloaded by hand, run: crossings ingest --source PATH"
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
# The page is about 80 kB and the API answer about 20 kB; these caps leave ample room.
MAX_PAGE_BYTES = 2 * 1024 * 1024
MAX_API_BYTES = 5 * 1024 * 1024
# httpx's timeouts are per read, so a server sending a byte a second never times out; this caps
# one whole attempt (a release is 0.3 MB: seconds on any working connection).
MAX_ATTEMPT_SECONDS = 300.0
TIME_SERIES_NAME = re.compile(
    r"^(?P<stem>\d{1,2}_[A-Za-z]+_\d{4}_Small_boats_-_time_series(?:_v(?P<v>\d+))?)\.ods$",
    re.IGNORECASE,
)
LONDON = ZoneInfo("Europe/London")


class SourceUnavailable(BadInput):  # noqa: N818 - a BadInput, named for what the reader needs
    """GOV.UK could not be reached or sent something unusable; `str()` is one line with the fix.

    `result` holds whatever the same fetch did obtain (may be None) and `failures` every problem.
    """

    def __init__(
        self,
        source: str,
        problem: str,
        *,
        failures: list[str] | None = None,
        result: FetchResult | None = None,
    ) -> None:
        super().__init__(source, problem)
        self.failures = failures or [f"{source}: {problem}"]
        self.result = result
        line = " ".join(f"{source}: {problem}; {INGEST_HINT}".split())
        self.args = (line,)

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class Retry:
    """How hard to try: `attempts` in all, sleeping backoff * 2**n (capped) between them."""

    attempts: int = 4
    backoff: float = 1.0
    max_delay: float = 30.0

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (0-based)."""
        wait = self.backoff * (2**attempt)
        if retry_after and retry_after.strip().isdigit():
            wait = max(wait, float(retry_after.strip()))
        return min(wait, self.max_delay)


@dataclass(frozen=True)
class Found:
    """One thing discovery found: where it is and which path found it."""

    url: str
    discovered_via: str  # "content_api", "publication_page" or "known_url"
    file_name: str = ""
    title: str = ""


@dataclass(frozen=True)
class Discovery:
    """What discovery found; `release` is None when no time-series ODS was listed anywhere."""

    release: Found | None
    page: Found
    notes: tuple[str, ...] = ()  # why a fallback was used, one line each


@dataclass(frozen=True)
class Download:
    """The answer to one conditional GET; `path` is set only for a new, complete file."""

    url: str
    http_status: int
    not_modified: bool
    path: Path | None = None
    content: bytes | None = None
    sha256: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    fetched_at: str = ""
    release: Release | None = None  # the parsed, checked ODS when `path` is set


@dataclass(frozen=True)
class Outcome:
    """What happened to one publication in a fetch, for the summary and for logs."""

    what: str  # "time series" or "last 7 days"
    url: str
    discovered_via: str
    status: str  # "new", "not_modified", "already_held", "failed"
    http_status: int | None = None
    file_name: str | None = None
    detail: str = ""


@dataclass
class FetchResult:
    """New releases (ODS first, then the page) and what happened to each publication."""

    releases: list[Release]
    outcomes: list[Outcome]
    discovery: Discovery | None = None
    failures: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """A few lines a person reads: one per publication."""
        lines = []
        for o in self.outcomes:
            where = f"found via {o.discovered_via}"
            if o.http_status is not None:
                where += f", HTTP {o.http_status}"
            text = {
                "new": f"new: {o.file_name}",
                "not_modified": "not modified since last fetch",
                "already_held": f"already held ({o.file_name})",
                "failed": f"FAILED: {o.detail}",
            }.get(o.status, o.status)
            if o.status == "new" and o.detail:
                text += f" ({o.detail})"
            lines.append(f"{o.what}: {text} [{where}]")
        if not lines:
            lines.append("nothing fetched")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# URLs and clients


def resolve_base_url(explicit: str | None = None) -> str:
    """The GOV.UK base URL: the argument, else $CROSSINGS_GOVUK_URL, else https://www.gov.uk."""
    url = explicit or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
    return url.strip().rstrip("/")


def publication_urls(base: str | None = None) -> dict[str, str]:
    """The three well-known URLs under `base`: content_api, publication_page, last_7_days."""
    root = resolve_base_url(base)
    return {
        "content_api": root + CONTENT_API_PATH,
        "publication_page": root + PUBLICATION_PATH,
        "last_7_days": root + LAST_7_DAYS_PATH,
    }


def make_client(timeout: float | httpx.Timeout = 30.0) -> httpx.Client:
    """An httpx client that says who we are and follows GOV.UK's redirects."""
    if not isinstance(timeout, httpx.Timeout):
        timeout = httpx.Timeout(timeout, connect=min(10.0, timeout))
    return httpx.Client(timeout=timeout, headers={"User-Agent": USER_AGENT}, follow_redirects=True)


# --------------------------------------------------------------------------------------------
# Downloading


class _Refused(Exception):
    """A failure not worth retrying (4xx, oversize, wrong content); carries HTTP status."""

    def __init__(self, problem: str, status: int | None = None) -> None:
        super().__init__(problem)
        self.status = status


def _now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _request(
    client: httpx.Client,
    url: str,
    *,
    dest_dir: Path | None,
    max_bytes: int,
    retry: Retry,
    etag: str | None = None,
    last_modified: str | None = None,
    sleep: Any = time.sleep,
) -> Download:
    """GET with retries; the body goes to a temp file in `dest_dir` (or memory when None)."""
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise _Refused(f"refusing a {scheme or 'relative'} URL {url[:120]!r}")
    headers = {"User-Agent": USER_AGENT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    problem = "no attempt made"
    for attempt in range(max(1, retry.attempts)):
        retry_after = None
        try:
            return _attempt(client, url, headers, dest_dir, max_bytes)
        except _Transient as exc:
            problem, retry_after = str(exc), exc.retry_after
        except httpx.TimeoutException as exc:
            problem = f"timed out ({type(exc).__name__})"
        except httpx.TransportError as exc:
            problem = f"connection failed ({_one_line(exc) or type(exc).__name__})"
        if attempt + 1 < retry.attempts:
            sleep(retry.delay(attempt, retry_after))
    attempts = max(1, retry.attempts)
    raise _Refused(f"{problem} (after {attempts} attempt{'s' * (attempts > 1)})")


class _Transient(Exception):
    def __init__(self, problem: str, retry_after: str | None = None) -> None:
        super().__init__(problem)
        self.retry_after = retry_after


def _attempt(
    client: httpx.Client,
    url: str,
    headers: dict[str, str],
    dest_dir: Path | None,
    max_bytes: int,
) -> Download:
    started = time.monotonic()
    with client.stream("GET", url, headers=headers, follow_redirects=True) as response:
        status = response.status_code
        meta = {
            "url": str(response.url),
            "http_status": status,
            "etag": response.headers.get("ETag"),
            "last_modified": response.headers.get("Last-Modified"),
            "fetched_at": _now_utc(),
        }
        if status == 304:
            return Download(not_modified=True, **meta)
        if status >= 500:
            raise _Transient(f"HTTP {status}", response.headers.get("Retry-After"))
        if status >= 400:
            raise _Refused(f"HTTP {status} {response.reason_phrase}".strip(), status)
        if status != 200:
            raise _Refused(f"unexpected HTTP {status}", status)
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise _Refused(f"is {int(declared):,} bytes, over the {max_bytes:,}-byte limit", status)
        digest = hashlib.sha256()
        body = _body(response, max_bytes, started)
        if dest_dir is None:
            chunks = []
            for chunk in body:
                digest.update(chunk)
                chunks.append(chunk)
            return Download(
                not_modified=False, content=b"".join(chunks), sha256=digest.hexdigest(), **meta
            )
        dest_dir.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, removed on failure
            dir=dest_dir, prefix=".part-", suffix=".tmp", delete=False
        )
        part = Path(handle.name)
        try:
            with handle:
                for chunk in body:
                    digest.update(chunk)
                    handle.write(chunk)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        return Download(not_modified=False, path=part, sha256=digest.hexdigest(), **meta)


def _body(response: httpx.Response, max_bytes: int, started: float) -> Iterator[bytes]:
    """The body in chunks, refusing more than `max_bytes` or a trickle past MAX_ATTEMPT_SECONDS."""
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise _Refused(f"is over the {max_bytes:,}-byte limit", response.status_code)
        if time.monotonic() - started > MAX_ATTEMPT_SECONDS:
            raise _Transient(f"took over {MAX_ATTEMPT_SECONDS:g} s (a trickling connection?)")
        yield chunk


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200]


def safe_file_name(url_or_name: str, *, suffix: str = ".ods") -> str:
    """A file name taken from the web made safe to join to raw_dir: one plain component.

    Percent-escapes are decoded first (so %2F cannot smuggle a separator), then everything up to
    the last / or \\ is dropped, characters outside [A-Za-z0-9._-] become "_", leading dots go,
    and the name is capped at 150 characters and made to end in `suffix`.
    """
    path = urlsplit(url_or_name).path if "://" in url_or_name else url_or_name
    name = path
    for _ in range(3):  # double-encoded %252F too
        decoded = unquote(name)
        if decoded == name:
            break
        name = decoded
    name = re.split(r"[/\\]", name)[-1]
    name = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    name = re.sub(r"\.{2,}", ".", name).lstrip(".-_")
    if suffix and not name.lower().endswith(suffix):
        name = (name or "download") + suffix
    stem = name[: -len(suffix)] if suffix else name
    stem = stem[:150].rstrip(".") or "download"
    return stem + suffix


def _inside(raw_dir: Path, name: str) -> Path:
    target = (raw_dir / name).resolve()
    if target.parent != raw_dir.resolve():
        raise _Refused(f"file name {name!r} would be written outside {raw_dir}")
    return target


def _check_ods_file(path: Path) -> None:
    """Refuse an HTML error page or anything that is not a zip with the ODS mimetype."""
    with path.open("rb") as handle:
        head = handle.read(512)
    if not head:
        raise _Refused("sent an empty body, not an ODS spreadsheet")
    lowered = head.lstrip().lower()
    if lowered.startswith((b"<!doctype", b"<html", b"<?xml")) or b"<html" in lowered:
        raise _Refused("sent an HTML page where the ODS spreadsheet should be (an error page?)")
    if not head.startswith(b"PK\x03\x04"):
        raise _Refused("sent something that is not an ODS spreadsheet (not a zip archive)")
    try:
        with zipfile.ZipFile(path) as archive:
            if archive.read("mimetype").strip() != ODS_MIMETYPE:
                raise _Refused("sent a zip archive that is not an ODS spreadsheet (wrong mimetype)")
    except KeyError:
        raise _Refused("sent a zip archive with no mimetype, not an ODS spreadsheet") from None
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise _Refused(f"sent a damaged or truncated ODS file ({_one_line(exc)})") from None


def download(
    url: str,
    raw_dir: Path,
    *,
    client: httpx.Client | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    held_sha256: Iterable[str] = (),
    retry: Retry | None = None,
    max_bytes: int = MAX_ODS_BYTES,
    timeout: float = 30.0,
    today: date | None = None,
    sleep: Any = time.sleep,
) -> Download:
    """Download one ODS into `raw_dir`, conditionally; only a new, fully checked file lands there.

    Returns a `Download`: `not_modified` for a 304, `path=None` when the sha256 is already held,
    otherwise `path` is the complete file in raw_dir (named from the URL, sanitised; an existing
    file of the same name with other content is kept and the new one gets a hash suffix) and
    `release` its parse. Raises `SourceUnavailable` for network failures after retries, 4xx/5xx,
    oversize, or a body that is not a valid release (HTML error page, truncated, bad figures).
    """
    raw_dir = Path(raw_dir)
    own = client is None
    client = client or make_client(timeout)
    try:
        fetched = _request(
            client,
            url,
            dest_dir=raw_dir,
            max_bytes=max_bytes,
            retry=retry or Retry(),
            etag=etag,
            last_modified=last_modified,
            sleep=sleep,
        )
    except _Refused as exc:
        raise SourceUnavailable(url, f"time series download failed: {exc}") from None
    finally:
        if own:
            client.close()
    if fetched.not_modified or fetched.path is None:
        return fetched
    part = fetched.path
    try:
        _check_ods_file(part)
        if fetched.sha256 in set(held_sha256):
            part.unlink(missing_ok=True)
            return replace(fetched, path=None)
        name = safe_file_name(url)
        target = _inside(raw_dir, name)
        if target.exists() and _sha256_file(target) != fetched.sha256:
            stem = name[: -len(".ods")]
            target = _inside(raw_dir, f"{stem}.{fetched.sha256[:12]}.ods")
        release = parse_release_bytes(part.read_bytes(), target.name, today=today)
        os.replace(part, target)
    except _Refused as exc:
        part.unlink(missing_ok=True)
        raise SourceUnavailable(url, f"time series download refused: {exc}") from None
    except BadInput as exc:
        part.unlink(missing_ok=True)
        raise SourceUnavailable(
            url, f"time series downloaded but unusable: {exc.problem}"
        ) from None
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return replace(fetched, path=target, release=release)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------
# Discovery


def _ods_rank(name: str) -> tuple[date, int]:
    """Newest first: by the release date in the name, then the _vN reissue number."""
    match = TIME_SERIES_NAME.match(name)
    version = int(match["v"]) if match and match["v"] else 1
    return (released_on_from_name(name) or date.min, version)


def _from_content_api(data: Any, api_url: str) -> tuple[Found | None, Found | None, list[str]]:
    """The time-series ODS and the last-7-days page as listed in the Content API answer."""
    notes: list[str] = []
    details = data.get("details") if isinstance(data, dict) else None
    attachments = details.get("attachments") if isinstance(details, dict) else None
    if not isinstance(attachments, list):
        return None, None, ["content API answer has no details.attachments list (shape changed?)"]
    files: list[tuple[tuple[date, int], int, Found]] = []
    page: Found | None = None
    for index, item in enumerate(attachments):
        if not isinstance(item, dict) or not isinstance(item.get("url"), str):
            continue
        url = urljoin(api_url, item["url"])
        kind = str(item.get("attachment_type", "")).lower()
        title = str(item.get("title") or "")
        filename = str(item.get("filename") or "") or unquote(urlsplit(url).path).split("/")[-1]
        if kind == "file":
            is_ods = filename.lower().endswith(".ods") or (
                str(item.get("content_type", "")) == ODS_MIMETYPE.decode()
            )
            base_name = filename.replace("\\", "/").split("/")[-1]
            named = bool(TIME_SERIES_NAME.match(base_name))
            titled = "time series" in title.lower() or "time-series" in title.lower()
            if is_ods and (named or titled):
                found = Found(url, "content_api", filename, title)
                files.append((_ods_rank(base_name), index, found))
        elif (
            kind == "html"
            and page is None
            and ("last-7-days" in url or "last 7 days" in title.lower())
        ):
            page = Found(url, "content_api", "", title)
    if not files:
        notes.append("content API lists no time-series ODS attachment")
    files.sort(key=lambda f: (f[0], -f[1]))
    return (files[-1][2] if files else None), page, notes


class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)


def _from_publication_page(html: bytes, page_url: str) -> tuple[Found | None, Found | None]:
    """Scan the publication page's links for the time-series ODS and the last-7-days page."""
    parser = _LinkParser()
    try:
        parser.feed(html.decode("utf-8", errors="replace"))
        parser.close()
    except Exception:  # html.parser is lenient; be safe with whatever the web sends
        pass
    files: list[tuple[tuple[date, int], int, Found]] = []
    page: Found | None = None
    for index, href in enumerate(parser.links):
        url = urljoin(page_url, href)
        last = unquote(urlsplit(url).path).split("/")[-1]
        if TIME_SERIES_NAME.match(last):
            files.append((_ods_rank(last), index, Found(url, "publication_page", last, "")))
        elif page is None and urlsplit(url).path.rstrip("/").endswith(LAST_7_DAYS_PATH):
            page = Found(url, "publication_page")
    files.sort(key=lambda f: (f[0], -f[1]))
    return (files[-1][2] if files else None), page


def discover(
    client: httpx.Client | None = None,
    base: str | None = None,
    *,
    retry: Retry | None = None,
    timeout: float = 30.0,
    sleep: Any = time.sleep,
) -> Discovery:
    """Find the newest time-series ODS and the last-7-days page, saying which path found each.

    Content API first; if it fails or lists no ODS, the publication page; the page falls back to
    its known URL. Raises `SourceUnavailable` only when neither the API nor the page answered.
    """
    urls = publication_urls(base)
    retry = retry or Retry()
    own = client is None
    client = client or make_client(timeout)
    notes: list[str] = []
    release: Found | None = None
    page: Found | None = None
    reached = False
    try:
        try:
            answer = _request(
                client,
                urls["content_api"],
                dest_dir=None,
                max_bytes=MAX_API_BYTES,
                retry=retry,
                sleep=sleep,
            )
            reached = True
            data = json.loads(answer.content or b"")
            release, page, api_notes = _from_content_api(data, urls["content_api"])
            notes += api_notes
        except _Refused as exc:
            notes.append(f"content API failed: {exc}")
        except ValueError as exc:
            notes.append(f"content API sent something that is not JSON ({_one_line(exc)[:80]})")
        if release is None:
            try:
                answer = _request(
                    client,
                    urls["publication_page"],
                    dest_dir=None,
                    max_bytes=MAX_API_BYTES,
                    retry=retry,
                    sleep=sleep,
                )
                reached = True
                release, page_link = _from_publication_page(
                    answer.content or b"", urls["publication_page"]
                )
                page = page or page_link
                if release is None:
                    notes.append("publication page links to no time-series ODS")
            except _Refused as exc:
                notes.append(f"publication page failed: {exc}")
    finally:
        if own:
            client.close()
    if not reached:
        raise SourceUnavailable(
            resolve_base_url(base),
            "GOV.UK could not be reached: " + "; ".join(notes),
            failures=notes,
        )
    if page is None:
        page = Found(urls["last_7_days"], "known_url")
    return Discovery(release=release, page=page, notes=tuple(notes))


# --------------------------------------------------------------------------------------------
# The "last 7 days" page


class _TableParser(HTMLParser):
    """Collects every table's rows as lists of cell texts, and the govuk:updated-at meta tag.

    Cell text is the text content only (tags, including <script>, are dropped; their text kept).
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.updated_at: str | None = None
        self.tables: list[list[list[str]]] = []
        self._stack: list[list[list[str]]] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta":
            attributes = dict(attrs)
            if attributes.get("name") == "govuk:updated-at" and self.updated_at is None:
                self.updated_at = attributes.get("content") or ""
        elif tag == "table":
            self._close_cell()
            self._stack.append([])
            self.tables.append(self._stack[-1])
        elif tag == "tr" and self._stack:
            self._close_cell()
            self._stack[-1].append([])
        elif tag in ("td", "th") and self._stack:
            self._close_cell()
            if not self._stack[-1]:
                self._stack[-1].append([])
            self._row = self._stack[-1][-1]
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th", "tr"):
            self._close_cell()
        elif tag == "table" and self._stack:
            self._close_cell()
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def close(self) -> None:
        super().close()
        self._close_cell()

    def _close_cell(self) -> None:
        if self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
        self._cell = None
        self._row = None


def _page_date(text: str, name: str, row: int) -> date:
    cleaned = " ".join(text.replace("\xa0", " ").split())
    for fmt in ("%d %B %Y", "%d %b %Y", "%A %d %B %Y", "%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    raise BadInput(name, f"table row {row} has {cleaned[:40]!r} where a date should be")


def _page_count(text: str, column: str, name: str, row: int) -> int | None:
    cleaned = text.replace(",", "").replace("\xa0", "").strip()
    if cleaned in {"-", "–", "..", ""} and column == "boats_uncontrolled":
        return None
    if not cleaned.isascii() or not cleaned.isdigit():
        raise BadInput(name, f"table row {row} has {cleaned[:40]!r} in {column}, not a count")
    if len(cleaned) > 9 or int(cleaned) > MAX_COUNT:
        raise BadInput(
            name, f"table row {row} has an implausible count ({cleaned[:12]}) in {column}"
        )
    return int(cleaned)


def _content_sha256(updated_at: str, daily: pd.DataFrame) -> str:
    """Identity of what the page publishes; the bytes differ on every request (CSRF, nonce)."""
    lines = [f"last_7_days {updated_at}"]
    for row in daily.itertuples(index=False):
        lines.append(
            f"{row.date:%Y-%m-%d}\t{row.migrants_arrived}\t{row.boats_arrived}\t"
            f"{'' if pd.isna(row.boats_uncontrolled) else int(row.boats_uncontrolled)}\t"
            f"{'' if pd.isna(row.note) else row.note}"
        )
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def parse_last_7_days(html: bytes | str, name: str, today: date | None = None) -> Release:
    """Parse and check a capture of the "last 7 days" page; raises `BadInput` on any problem.

    Columns are found by header name (trimmed, case-insensitive), so reordering is harmless but a
    renamed or missing column is refused. Notes are kept as plain text (markup is never kept).
    The Release's sha256 identifies the published content (updated-at and table), not the bytes,
    because GOV.UK embeds a fresh CSRF token and nonce in every response; `released_on` is the
    London date of `published_at`.
    """
    if isinstance(html, str):
        html = html.encode("utf-8", errors="replace")
    if not html.strip():
        raise BadInput(name, "is empty, not the last-7-days page")
    if len(html) > MAX_PAGE_BYTES:
        raise BadInput(name, f"is over the {MAX_PAGE_BYTES:,}-byte limit for the page")
    parser = _TableParser()
    try:
        parser.feed(html.decode("utf-8", errors="replace"))
        parser.close()
    except Exception as exc:  # html.parser rarely raises, but never let it escape as non-BadInput
        raise BadInput(name, f"could not be read as HTML ({_one_line(exc)[:120]})") from None
    if not parser.updated_at:
        raise BadInput(name, "has no govuk:updated-at meta tag (not the GOV.UK page?)")
    try:
        published_at = datetime.fromisoformat(parser.updated_at.strip())
    except ValueError:
        raise BadInput(
            name, f"has {parser.updated_at[:40]!r} in govuk:updated-at, not a timestamp"
        ) from None
    if published_at.tzinfo is None:
        published_at = published_at.replace(tzinfo=UTC)

    required = [c for c in dict.fromkeys(SB01_HEADERS.values()) if c != "note"]
    table, positions = None, {}
    for candidate in parser.tables:
        if not candidate:
            continue
        found: dict[str, int] = {}
        for index, cell in enumerate(candidate[0]):
            column = SB01_HEADERS.get(normalise_header(cell))
            if column and column not in found:
                found[column] = index
        if "date" in found and "migrants_arrived" in found:
            table, positions = candidate, found
            break
    if table is None:
        raise BadInput(
            name, "has no table with 'Date' and 'Migrants arrived' columns (the page changed?)"
        )
    missing = [c for c in required if c not in positions]
    if missing:
        wanted = [next(h for h, col in SB01_HEADERS.items() if col == c) for c in missing]
        raise BadInput(name, f"table is missing the column(s) {', '.join(repr(w) for w in wanted)}")
    width = len(table[0])
    records = []
    for number, cells in enumerate(table[1:], start=1):
        if all(not c.strip() for c in cells):
            continue
        if len(cells) != width:
            raise BadInput(
                name, f"table row {number} has {len(cells)} cells where the header has {width}"
            )
        record: dict[str, Any] = {"date": _page_date(cells[positions["date"]], name, number)}
        for column in required[1:]:
            record[column] = _page_count(cells[positions[column]], column, name, number)
        note = cells[positions["note"]].strip() if "note" in positions else ""
        record["note"] = note or None
        records.append(record)
    if not records:
        raise BadInput(name, "table has no data rows")
    daily = pd.DataFrame.from_records(records)
    daily["note"] = pd.Series(daily["note"], dtype="str")  # as release.py reads the ODS notes
    daily = check_daily(daily, name, today=today, starts_on=None)
    return Release(
        kind="last_7_days",
        file_name=name,
        sha256=_content_sha256(published_at.isoformat(), daily),
        daily=daily,
        weekly=None,
        released_on=published_at.astimezone(LONDON).date(),
        published_at=published_at,
    )


# --------------------------------------------------------------------------------------------
# The whole fetch


def _held_state(
    held: Mapping[str, Mapping[str, Any]] | Iterable[str] | None,
) -> tuple[set[str], dict[str, tuple[str | None, str | None]]]:
    """sha256s held, and per URL the ETag/Last-Modified of the newest fetch the store holds."""
    if held is None:
        return set(), {}
    if not isinstance(held, Mapping):
        return {str(h) for h in held}, {}
    shas = {str(h) for h in held}
    latest: dict[str, tuple[str, tuple[str | None, str | None]]] = {}
    for prov in held.values():
        if not isinstance(prov, Mapping):
            continue
        shas |= {str(prov[k]) for k in ("sha256", "raw_sha256") if prov.get(k)}
        url = prov.get("url")
        if not url or not (prov.get("etag") or prov.get("last_modified")):
            continue
        stamp = str(prov.get("fetched_at") or "")
        if url not in latest or stamp >= latest[url][0]:
            latest[url] = (stamp, (prov.get("etag"), prov.get("last_modified")))
    return shas, {url: pair for url, (_, pair) in latest.items()}


def _provenance(found: Found, got: Download, sha256: str, **extra: Any) -> dict[str, Any]:
    return {
        "url": found.url,
        "discovered_via": found.discovered_via,
        "http_status": got.http_status,
        "etag": got.etag,
        "last_modified": got.last_modified,
        "fetched_at": got.fetched_at,
        "sha256": sha256,
        **extra,
    }


def _fetch_release(
    found: Found,
    raw_dir: Path,
    client: httpx.Client,
    shas: set[str],
    validators: dict[str, tuple[str | None, str | None]],
    retry: Retry,
    today: date | None,
    sleep: Any,
) -> tuple[Release | None, Outcome]:
    etag, modified = validators.get(found.url, (None, None))
    got = download(
        found.url,
        raw_dir,
        client=client,
        etag=etag,
        last_modified=modified,
        held_sha256=shas,
        retry=retry,
        today=today,
        sleep=sleep,
    )
    if got.not_modified:
        return None, Outcome("time series", found.url, found.discovered_via, "not_modified", 304)
    if got.path is None:
        return None, Outcome(
            "time series",
            found.url,
            found.discovered_via,
            "already_held",
            got.http_status,
            safe_file_name(found.url),
            f"sha256 {got.sha256}",
        )
    assert got.release is not None
    release = replace(got.release, provenance=_provenance(found, got, got.release.sha256))
    size = got.path.stat().st_size
    return release, Outcome(
        "time series",
        found.url,
        found.discovered_via,
        "new",
        got.http_status,
        got.path.name,
        f"{size:,} bytes, daily figures to {release.data_through:%Y-%m-%d}",
    )


def _fetch_page(
    found: Found,
    raw_dir: Path,
    client: httpx.Client,
    shas: set[str],
    validators: dict[str, tuple[str | None, str | None]],
    retry: Retry,
    today: date | None,
    sleep: Any,
) -> tuple[Release | None, Outcome]:
    etag, modified = validators.get(found.url, (None, None))
    try:
        got = _request(
            client,
            found.url,
            dest_dir=None,
            max_bytes=MAX_PAGE_BYTES,
            retry=retry,
            etag=etag,
            last_modified=modified,
            sleep=sleep,
        )
    except _Refused as exc:
        raise SourceUnavailable(found.url, f"last-7-days page download failed: {exc}") from None
    if got.not_modified:
        return None, Outcome("last 7 days", found.url, found.discovered_via, "not_modified", 304)
    content = got.content or b""
    raw_sha = got.sha256 or hashlib.sha256(content).hexdigest()
    try:
        parsed = parse_last_7_days(content, "last-7-days page", today=today)
    except BadInput as exc:
        raise SourceUnavailable(found.url, f"last-7-days page unusable: {exc.problem}") from None
    assert parsed.published_at is not None
    stamp = parsed.published_at.astimezone(UTC).strftime("%Y-%m-%dT%H%M%SZ")
    name = f"last_7_days_{stamp}_{parsed.sha256[:8]}.html"
    if parsed.sha256 in shas or raw_sha in shas:
        return None, Outcome(
            "last 7 days",
            found.url,
            found.discovered_via,
            "already_held",
            got.http_status,
            name,
            f"updated {parsed.published_at.isoformat()}",
        )
    try:
        target = _inside(raw_dir, name)
    except _Refused as exc:
        raise SourceUnavailable(found.url, str(exc)) from None
    raw_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        dir=raw_dir, prefix=".part-", suffix=".tmp", delete=False
    ) as handle:
        handle.write(content)
    os.replace(handle.name, target)
    release = Release(
        kind=parsed.kind,
        file_name=name,
        sha256=parsed.sha256,
        daily=parsed.daily,
        weekly=None,
        released_on=parsed.released_on,
        published_at=parsed.published_at,
        provenance=_provenance(found, got, parsed.sha256, raw_sha256=raw_sha),
    )
    return release, Outcome(
        "last 7 days",
        found.url,
        found.discovered_via,
        "new",
        got.http_status,
        name,
        f"updated {parsed.published_at.isoformat()}, days {release.data_from:%Y-%m-%d} to "
        f"{release.data_through:%Y-%m-%d}",
    )


def fetch_latest(
    raw_dir: Path | str = Path("data/raw"),
    held: Mapping[str, Mapping[str, Any]] | Iterable[str] | None = None,
    base_url: str | None = None,
    client: httpx.Client | None = None,
    *,
    retry: Retry | None = None,
    timeout: float = 30.0,
    today: date | None = None,
    include_page: bool = True,
    sleep: Any = time.sleep,
) -> FetchResult:
    """Fetch what GOV.UK publishes now and return only what the store does not hold yet.

    `held` is either the sha256s the store holds, or {sha256: provenance} as earlier fetches
    returned it (then each URL is asked conditionally with its stored ETag / Last-Modified).
    Both publications are tried; if either fails, `SourceUnavailable` is raised after both were
    tried, its `result` holding what did succeed (those files are already in raw_dir).
    """
    raw_dir = Path(raw_dir)
    retry = retry or Retry()
    shas, validators = _held_state(held)
    own = client is None
    client = client or make_client(timeout)
    releases: list[Release] = []
    outcomes: list[Outcome] = []
    failures: list[str] = []
    try:
        found = discover(client, base_url, retry=retry, sleep=sleep)
        items: list[tuple[str, Found | None, Any]] = [
            ("time series", found.release, _fetch_release)
        ]
        if include_page:
            items.append(("last 7 days", found.page, _fetch_page))
        for what, where, fetch in items:
            if where is None:
                problem = "no time-series ODS found (" + "; ".join(found.notes) + ")"
                failures.append(f"{resolve_base_url(base_url)}: {problem}")
                outcomes.append(Outcome(what, "", "none", "failed", None, None, problem))
                continue
            try:
                release, outcome = fetch(
                    where, raw_dir, client, shas, validators, retry, today, sleep
                )
            except SourceUnavailable as exc:
                failures.append(f"{exc.source}: {exc.problem}")
                outcomes.append(
                    Outcome(
                        what, where.url, where.discovered_via, "failed", None, None, exc.problem
                    )
                )
                continue
            outcomes.append(outcome)
            if release is not None:
                releases.append(release)
    finally:
        if own:
            client.close()
    result = FetchResult(releases, outcomes, found, failures)
    if failures:
        first = failures[0]
        more = f" (and {len(failures) - 1} more problem)" if len(failures) > 1 else ""
        source, _, problem = first.partition(": ")
        raise SourceUnavailable(source, problem + more, failures=failures, result=result)
    return result
