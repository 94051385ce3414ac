"""Where GOV.UK lists the newest weekly release and the daily page.

The GOV.UK Content API is asked first; if it fails, sends something unusable, or lists no
time-series ODS, the publication page's links are scanned; the daily page falls back to its
well-known URL. Each `Found` records which path found it. What discovery finds is only a
pointer: `Http` still refuses to fetch it from anywhere but GOV.UK.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from forecasting.errors import one_line
from forecasting.sources.archive import ODS_MIMETYPE
from forecasting.sources.http import GovukUnavailable, Http, HttpProblem
from forecasting.sources.release import release_version_from_name, released_on_from_name

__all__ = [
    "PUBLICATION_PATH",
    "CONTENT_API_PATH",
    "LAST_7_DAYS_PATH",
    "MAX_API_BYTES",
    "Found",
    "Discovery",
    "publication_urls",
    "discover",
]

PUBLICATION_PATH = (
    "/government/publications/migrants-detected-crossing-the-english-channel-in-small-boats"
)
CONTENT_API_PATH = "/api/content" + PUBLICATION_PATH
LAST_7_DAYS_PATH = (
    PUBLICATION_PATH + "/migrants-detected-crossing-the-english-channel-in-small-boats-last-7-days"
)
# The API answer is about 20 kB and the publication page about 80 kB; ample room either way.
MAX_API_BYTES = 5 * 1024 * 1024
TIME_SERIES_NAME = re.compile(
    r"^\d{1,2}_[A-Za-z]+_\d{4}_Small_boats_-_time_series(?:_v\d+)?\.ods$", re.IGNORECASE
)


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


def publication_urls(base: str) -> dict[str, str]:
    """The three well-known URLs under `base`: content_api, publication_page, last_7_days."""
    root = base.strip().rstrip("/")
    return {
        "content_api": root + CONTENT_API_PATH,
        "publication_page": root + PUBLICATION_PATH,
        "last_7_days": root + LAST_7_DAYS_PATH,
    }


def _ods_rank(name: str) -> tuple[date, int]:
    """Newest first: by the release date in the name, then the _vN reissue number."""
    return (released_on_from_name(name) or date.min, release_version_from_name(name))


def _newest(files: list[tuple[tuple[date, int], int, Found]]) -> Found | None:
    files.sort(key=lambda f: (f[0], -f[1]))
    return files[-1][2] if files else None


def _from_content_api(data: Any, api_url: str) -> tuple[Found | None, Found | None, list[str]]:
    """The time-series ODS and the last-7-days page as listed in the Content API answer."""
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
                files.append(
                    (_ods_rank(base_name), index, Found(url, "content_api", filename, title))
                )
        elif (
            kind == "html"
            and page is None
            and ("last-7-days" in url or "last 7 days" in title.lower())
        ):
            page = Found(url, "content_api", "", title)
    notes = [] if files else ["content API lists no time-series ODS attachment"]
    return _newest(files), page, notes


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
    return _newest(files), page


def _ask_content_api(http: Http, url: str, notes: list[str]) -> tuple[Found | None, Found | None]:
    """The API's listing; anything unusable (not JSON, nested beyond reason) becomes a note."""
    answer = http.get(url, max_bytes=MAX_API_BYTES)
    try:
        data = json.loads(answer.content or b"")
    except (ValueError, RecursionError) as exc:
        notes.append(f"content API sent something that is not usable JSON ({one_line(exc)[:80]})")
        return None, None
    release, page, api_notes = _from_content_api(data, url)
    notes += api_notes
    return release, page


def discover(http: Http) -> Discovery:
    """Find the newest time-series ODS and the last-7-days page, saying which path found each.

    Raises `GovukUnavailable` only when neither the API nor the publication page answered.
    """
    urls = publication_urls(http.base_url)
    notes: list[str] = []
    release: Found | None = None
    page: Found | None = None
    reached = False
    try:
        release, page = _ask_content_api(http, urls["content_api"], notes)
        reached = True
    except HttpProblem as exc:
        notes.append(f"content API failed: {exc}")
    if release is None:
        try:
            answer = http.get(urls["publication_page"], max_bytes=MAX_API_BYTES)
            reached = True
            release, link = _from_publication_page(answer.content or b"", answer.url)
            page = page or link
            if release is None:
                notes.append("publication page links to no time-series ODS")
        except HttpProblem as exc:
            notes.append(f"publication page failed: {exc}")
    if not reached:
        raise GovukUnavailable(
            http.base_url, "GOV.UK could not be reached: " + "; ".join(notes), failures=notes
        )
    if page is None:
        page = Found(urls["last_7_days"], "known_url")
    return Discovery(release=release, page=page, notes=tuple(notes))
