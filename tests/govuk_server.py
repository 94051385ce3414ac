"""Pytest plugin: a local GOV.UK on 127.0.0.1 serving the real shared files in GOV.UK's layout.

Tests never reach www.gov.uk; they point `forecasting.sources` (or `CROSSINGS_GOVUK_URL`) at this
real HTTP server, which serves the captures in ../shared/data/govuk read in place. Loaded by
tests/conftest.py (`pytest_plugins = ["govuk_server"]`).

Fixtures
--------
``govuk_server`` -> ``GovukServer``: a fresh server for one test (skips when ../shared is absent).
``govuk_url`` -> ``str``: the same server's base URL, with ``CROSSINGS_GOVUK_URL`` set to it for
the test (monkeypatched), for code that reads the environment (``crossings ingest``, the flows).
``elsewhere`` -> ``GovukServer``: a second server on another port, i.e. not GOV.UK.

Routes (as on GOV.UK)
---------------------
``/api/content/government/publications/migrants-detected-crossing-the-english-channel-in-small-boats``
    Content API JSON built on the fly: ``details.attachments`` lists the last-7-days HTML
    attachment, a weekly-summary HTML attachment, the current ODS (and any ``also_list``-ed ones).
``/government/publications/migrants-detected-crossing-the-english-channel-in-small-boats``
    The publication HTML page, linking the ODS (absolute) and the last-7-days page (relative).
``.../migrants-detected-crossing-the-english-channel-in-small-boats-last-7-days``
    The chosen "last 7 days" capture, byte for byte.
``/media/<id>/<name>.ods``
    The ODS, where <id> is the first 24 hex digits of its sha256; any <name> is accepted.
``/api/content/government/statistical-data-sets/irregular-migration-detailed-dataset-and-summary-tables``
    The quarterly statistical data set's Content API JSON: ``details.attachments`` lists a
    summary-tables HTML attachment and the chosen quarterly detailed-dataset workbook(s);
    ``public_updated_at`` is that release's publication date (route "quarterly_api").
``/government/uploads/system/uploads/attachment_data/file/<id>/<name>.xlsx``
    A quarterly workbook, byte for byte (route "quarterly").

``GovukServer`` API
-------------------
``url``, ``api_url``, ``publication_url``, ``page_url``, ``ods_url``: the URLs above.
``release`` / ``page``: the Path of the ODS and capture served as current (default the newest).
``use_release(key)`` / ``use_page(key)``: choose by Path or by a substring of the file name
    ("20_February_2026", "2026-02-20"); returns the Path. Raise KeyError when nothing matches.
``also_list(*keys)``: older releases also listed in the API and on the publication page.
``quarterly``: the quarterly workbook listed as the newest (default the newest shared one; None
    lists none); ``use_quarterly(key)`` chooses it; ``also_list_quarterly(*keys)`` lists older
    ones too; ``quarterly_updated_at``: the ``public_updated_at`` sent (default the release's
    real publication date).
``ods_name``: the name used in the ODS URL and the API's ``filename`` (default the file's own
    name; set it to something hostile such as ``"..%2F..%2Fevil.ods"`` to test sanitising).
``api_shape``: ``"normal"``; ``"changed"`` (no ``details.attachments``: clients must fall back to
    the publication page); ``"no_ods"`` (attachments but no ODS); ``"no_html"`` (no HTML
    attachment, so the page must be found by link or known URL).
``page_links_last_7_days``: whether the publication page links the last-7-days page (True).
``conditional``: send ETag and Last-Modified and answer 304 to If-None-Match/If-Modified-Since
    (True).
``ods_listed_at``: the URL the API and the publication page give for the current ODS (default
    its own /media/ URL); point it at another server to list an attachment that is not GOV.UK.
``fault(route, *, status=None, times=None, delay=0.0, truncate=False, body=None,
content_type=None, redirect=None, drip=0.0, raw=None)``: misbehave on ``route`` ("api",
"publication", "page", "ods"):
    ``status`` (e.g. 503, 404, 500, or 304 to a request that was not conditional) instead of
    the content; ``delay`` seconds before answering (for timeouts); ``truncate`` sends a true
    Content-Length but only half the body, then drops the connection; ``body``/``content_type``
    serve other bytes with status 200 (an HTML error page where the ODS should be, a changed
    page, JSON nested 100,000 deep); ``redirect`` answers 302 with that Location (relative or
    absolute: a loop, another host); ``drip`` sends the body one byte every ``drip`` seconds
    (a trickling connection); ``raw`` writes these bytes instead of any HTTP answer (a broken
    protocol). ``times`` = how many requests misbehave before the route recovers (None = all).
    Faults on one route queue in the order added.
``clear_faults()``; ``hits(route)``: requests seen on a route; ``requests``: every request as
    ``Seen(route, path, headers)`` (headers a dict, e.g. check the User-Agent or If-None-Match).

Standalone (for CI or by hand)::

    python tests/govuk_server.py --port 8765 [--release 27_February_2026] [--page 2026-02-28]
    CROSSINGS_GOVUK_URL=http://127.0.0.1:8765 crossings ingest
"""

from __future__ import annotations

import argparse
import email.utils
import hashlib
import html
import json
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from govuk_quarterly import DATASET_API_PATH, UPLOADS_PATH, QuarterlyListing, media_id

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CROSSINGS_SHARED_DATA", ROOT.parent / "shared" / "data"))
PUBLICATION_PATH = (
    "/government/publications/migrants-detected-crossing-the-english-channel-in-small-boats"
)
API_PATH = "/api/content" + PUBLICATION_PATH
PAGE_PATH = (
    PUBLICATION_PATH + "/migrants-detected-crossing-the-english-channel-in-small-boats-last-7-days"
)
SUMMARY_PATH = PUBLICATION_PATH + "/weekly-summary-of-small-boat-arrivals-and-preventions"
ODS_TYPE = "application/vnd.oasis.opendocument.spreadsheet"
ROUTES = ("api", "publication", "page", "ods", "quarterly_api", "quarterly")
_MONTHS = [datetime(2000, m, 1).strftime("%B").lower() for m in range(1, 13)]


@dataclass
class Fault:
    """One kind of misbehaviour for a route; see `GovukServer.fault`."""

    status: int | None = None
    times: int | None = None
    delay: float = 0.0
    truncate: bool = False
    body: bytes | None = None
    content_type: str | None = None
    redirect: str | None = None
    drip: float = 0.0
    raw: bytes | None = None


@dataclass(frozen=True)
class Seen:
    """One request the server received."""

    route: str
    path: str
    headers: dict[str, str]


def _release_day(path: Path) -> tuple[int, int, int, int]:
    """Sort key: release date in the name, then _vN."""
    m = re.match(r"(\d{1,2})_([A-Za-z]+)_(\d{4})_.*?(?:_v(\d+))?\.ods$", path.name)
    if not m:
        return (0, 0, 0, 0)
    return (int(m[3]), _MONTHS.index(m[2].lower()) + 1, int(m[1]), int(m[4] or 1))


@dataclass
class GovukServer(QuarterlyListing):
    """State and control of one local GOV.UK; the HTTP handler reads it on every request."""

    shared: Path = SHARED
    release: Path | None = None
    page: Path | None = None
    ods_name: str | None = None
    api_shape: str = "normal"
    page_links_last_7_days: bool = True
    conditional: bool = True
    ods_listed_at: str | None = None
    quarterly: Path | None = None
    quarterly_updated_at: str | None = None
    requests: list[Seen] = field(default_factory=list)
    _quarterly_listed: list[Path] = field(default_factory=list)
    _listed: list[Path] = field(default_factory=list)
    _faults: dict[str, list[Fault]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _httpd: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    # -- files ---------------------------------------------------------------------------
    @property
    def releases(self) -> list[Path]:
        """Every shared ODS release, oldest first."""
        return sorted(
            (self.shared / "govuk" / "small-boats-time-series").glob("*.ods"), key=_release_day
        )

    @property
    def pages(self) -> list[Path]:
        """Every shared last-7-days capture, oldest first."""
        return sorted((self.shared / "govuk" / "last-7-days").glob("*.html"))

    def use_release(self, key: str | Path) -> Path:
        """Serve this release as the current one (a Path, or a substring of a file name)."""
        self.release = self._pick(key, self.releases)
        return self.release

    def use_page(self, key: str | Path) -> Path:
        """Serve this capture as the last-7-days page (a Path, or a substring of its name)."""
        self.page = self._pick(key, self.pages)
        return self.page

    def also_list(self, *keys: str | Path) -> list[Path]:
        """List these releases as well (as if GOV.UK kept older attachments)."""
        self._listed = [self._pick(k, self.releases) for k in keys]
        return self._listed

    @staticmethod
    def _pick(key: str | Path, paths: list[Path]) -> Path:
        if isinstance(key, Path):
            return key
        matches = [p for p in paths if key in p.name]
        if not matches:
            raise KeyError(f"no shared file matches {key!r}")
        return matches[-1]

    # -- faults --------------------------------------------------------------------------
    def fault(
        self,
        route: str,
        *,
        status: int | None = None,
        times: int | None = None,
        delay: float = 0.0,
        truncate: bool = False,
        body: bytes | None = None,
        content_type: str | None = None,
        redirect: str | None = None,
        drip: float = 0.0,
        raw: bytes | None = None,
    ) -> None:
        """Misbehave on `route` for `times` requests (None: until cleared)."""
        if route not in ROUTES:
            raise ValueError(f"route must be one of {ROUTES}, not {route!r}")
        with self._lock:
            self._faults.setdefault(route, []).append(
                Fault(status, times, delay, truncate, body, content_type, redirect, drip, raw)
            )

    def clear_faults(self) -> None:
        """Behave again."""
        with self._lock:
            self._faults.clear()

    def hits(self, route: str) -> int:
        """How many requests `route` has received."""
        with self._lock:
            return sum(1 for r in self.requests if r.route == route)

    def _take_fault(self, route: str) -> Fault | None:
        with self._lock:
            queue = self._faults.get(route) or []
            while queue:
                fault = queue[0]
                if fault.times is None:
                    return fault
                if fault.times > 0:
                    fault.times -= 1
                    if fault.times == 0:
                        queue.pop(0)
                    return fault
                queue.pop(0)
            return None

    # -- URLs ----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:54321 (use as base_url / CROSSINGS_GOVUK_URL)."""
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return self.url + API_PATH

    @property
    def publication_url(self) -> str:
        return self.url + PUBLICATION_PATH

    @property
    def page_url(self) -> str:
        return self.url + PAGE_PATH

    @property
    def ods_url(self) -> str:
        """URL of the current ODS, as listed."""
        assert self.release is not None
        return self._media_url(self.release, self.ods_name)

    def _media_url(self, path: Path, name: str | None = None) -> str:
        return f"{self.url}/media/{_media_id(path)}/{name or quote(path.name)}"

    # -- content -------------------------------------------------------------------------
    def _listed_url(self, path: Path, name: str | None) -> str:
        if path == self.release and self.ods_listed_at:
            return self.ods_listed_at
        return self._media_url(path, name)

    def _listed_releases(self) -> list[tuple[Path, str | None]]:
        extra = [(p, None) for p in self._listed if p != self.release]
        return extra + ([(self.release, self.ods_name)] if self.release else [])

    def api_json(self) -> bytes:
        """The Content API answer for the publication, as GOV.UK shapes it."""
        page = {
            "attachment_type": "html",
            "id": "5cede69b",
            "title": "Migrants detected crossing the English Channel in small boats – last 7 days",
            "url": self.page_url,
            "content_type": "text/html",
        }
        summary = {
            "attachment_type": "html",
            "id": "7a1b2c3d",
            "title": "Weekly summary of small boat arrivals and preventions",
            "url": self.url + SUMMARY_PATH,
            "content_type": "text/html",
        }
        files = [
            {
                "attachment_type": "file",
                "id": _media_id(path),
                "title": "Small boat arrivals and preventions: time series",
                "filename": name or path.name,
                "url": self._listed_url(path, name),
                "content_type": ODS_TYPE,
                "file_size": path.stat().st_size,
            }
            for path, name in self._listed_releases()
        ]
        attachments: list[dict[str, Any]] = [page, summary, *files]
        if self.api_shape == "no_ods":
            attachments = [page, summary]
        elif self.api_shape == "no_html":
            attachments = files
        details: dict[str, Any] = {"attachments": attachments, "body": "<p>Small boats</p>"}
        if self.api_shape == "changed":
            details = {"documents": ["<section>" + json.dumps(attachments) + "</section>"]}
        doc = {
            "base_path": PUBLICATION_PATH,
            "content_id": "f3bd6f5d-0000-4000-8000-000000000000",
            "document_type": "official_statistics",
            "schema_name": "publication",
            "title": "Migrants detected crossing the English Channel in small boats",
            "public_updated_at": "2026-02-28T09:20:23+00:00",
            "details": details,
        }
        return json.dumps(doc, ensure_ascii=False).encode("utf-8")

    def publication_html(self) -> bytes:
        """The publication page: links to the ODS and (relative) to the last-7-days page."""
        links = [f'<a class="govuk-link" href="{SUMMARY_PATH}">Weekly summary</a>']
        if self.page_links_last_7_days:
            links.append(f'<a class="govuk-link" href="{PAGE_PATH}">Last 7 days</a>')
        links.append('<a href="/media/0000/Irregular_migration_detailed_dataset.ods">Other</a>')
        for path, name in self._listed_releases():
            href = html.escape(self._listed_url(path, name), quote=True)
            links.append(f'<a class="govuk-link" href="{href}">Small boats time series</a>')
        body = "\n".join(f"<li>{link}</li>" for link in links)
        return (
            "<!DOCTYPE html><html lang='en'><head><title>Migrants detected crossing the English "
            "Channel in small boats - GOV.UK</title></head><body><main><h1>Migrants detected "
            f"crossing the English Channel in small boats</h1><ul>{body}</ul></main></body></html>"
        ).encode()

    def _content(self, route: str, path: str) -> tuple[int, bytes, str, str | None]:
        """(status, body, content type, Last-Modified) for a request."""
        if route in ("quarterly_api", "quarterly"):
            return self.quarterly_content(route, path)
        if route == "api":
            return 200, self.api_json(), "application/json; charset=utf-8", None
        if route == "publication":
            return 200, self.publication_html(), "text/html; charset=utf-8", None
        if route == "page":
            if self.page is None:
                return 404, b"<html><body>Page not found</body></html>", "text/html", None
            body = self.page.read_bytes()
            m = re.search(rb'name="govuk:updated-at" content="([^"]+)"', body)
            modified = _http_date(datetime.fromisoformat(m[1].decode())) if m else None
            return 200, body, "text/html; charset=utf-8", modified
        media_id = path.split("/")[2] if path.count("/") >= 3 else ""
        for candidate, _ in self._listed_releases():
            if _media_id(candidate) == media_id:
                day = _release_day(candidate)
                stamp = datetime(day[0], day[1], day[2], tzinfo=UTC) + timedelta(
                    hours=9, minutes=30
                )
                return 200, candidate.read_bytes(), ODS_TYPE, _http_date(stamp)
        return 404, b"<html><body>Page not found</body></html>", "text/html", None

    # -- lifecycle -----------------------------------------------------------------------
    def start(self, port: int = 0, host: str = "127.0.0.1") -> GovukServer:
        """Start serving in a daemon thread; defaults to the newest release and capture."""
        if self.release is None and self.releases:
            self.release = self.releases[-1]
        if self.page is None and self.pages:
            self.page = self.pages[-1]
        if self.quarterly is None and self.quarterlies:
            self.quarterly = self.quarterlies[-1]
        httpd = ThreadingHTTPServer((host, port), _Handler)
        httpd.daemon_threads = True
        httpd.block_on_close = False
        httpd.govuk = self  # type: ignore[attr-defined]
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="govuk", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; a slow response in progress is released at once."""
        self._stop.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> GovukServer:
        return self.start() if self._httpd is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()


_media_id = media_id


def _http_date(moment: datetime) -> str:
    return email.utils.format_datetime(moment.astimezone(UTC), usegmt=True)


def _route(path: str) -> str | None:
    path = urlsplit(path).path.rstrip("/")
    if path == API_PATH:
        return "api"
    if path == PUBLICATION_PATH:
        return "publication"
    if path == PAGE_PATH:
        return "page"
    if path == DATASET_API_PATH:
        return "quarterly_api"
    if path.startswith(UPLOADS_PATH):
        return "quarterly"
    if path.startswith("/media/"):
        return "ods"
    return None


class _Handler(BaseHTTPRequestHandler):
    server_version = "govuk-test/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        try:
            self._get()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a deadline, a refusal)

    def _get(self) -> None:
        state: GovukServer = self.server.govuk  # type: ignore[attr-defined]
        route = _route(self.path)
        with state._lock:
            state.requests.append(Seen(route or "other", self.path, dict(self.headers.items())))
        if route is None:
            self._send(404, b"<html><body>Page not found</body></html>", "text/html")
            return
        fault = state._take_fault(route)
        if fault and fault.delay and state._stop.wait(fault.delay):
            return
        if fault and fault.raw is not None:
            self.wfile.write(fault.raw)
            self.wfile.flush()
            self.close_connection = True
            return
        if fault and fault.redirect is not None:
            self._send(302, b"", "text/html", {"Location": fault.redirect})
            return
        if fault and fault.status is not None:
            self._send(
                fault.status,
                f"<html><body>Error {fault.status}</body></html>".encode(),
                "text/html; charset=utf-8",
            )
            return
        status, body, ctype, modified = state._content(route, self.path)
        if fault and fault.body is not None:
            body, ctype, modified = fault.body, fault.content_type or ctype, None
            status = 200
        headers: dict[str, str] = {}
        if state.conditional and status == 200:
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            headers["ETag"] = etag
            if modified:
                headers["Last-Modified"] = modified
            if _not_modified(self.headers, etag, modified):
                self._send(304, b"", None, headers)
                return
        if fault and fault.drip:
            self._drip(status, body, ctype, fault.drip, state._stop)
            return
        if fault and fault.truncate:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self._send(status, body, ctype, headers)

    def _drip(
        self, status: int, body: bytes, ctype: str, every: float, stop: threading.Event
    ) -> None:
        """The true headers, then the body a byte at a time until done, stopped or dropped."""
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        for index in range(len(body)):
            self.wfile.write(body[index : index + 1])
            self.wfile.flush()
            if stop.wait(every):
                break
        self.close_connection = True

    def _send(
        self, status: int, body: bytes, ctype: str | None, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 304:
            self.wfile.write(body)


def _not_modified(request_headers: Any, etag: str, modified: str | None) -> bool:
    match = request_headers.get("If-None-Match")
    if match:
        return etag in [m.strip() for m in match.split(",")] or match.strip() == "*"
    since = request_headers.get("If-Modified-Since")
    if since and modified:
        try:
            return email.utils.parsedate_to_datetime(since) >= email.utils.parsedate_to_datetime(
                modified
            )
        except (TypeError, ValueError):
            return False
    return False


def _need_shared(shared: Path) -> None:
    if not (shared / "govuk" / "small-boats-time-series").is_dir():
        pytest.skip(
            f"real GOV.UK files not found at {shared}: the local GOV.UK needs ../shared/data"
        )


@pytest.fixture
def govuk_server() -> Iterator[GovukServer]:
    """A local GOV.UK serving the newest shared release and capture; see the module docstring."""
    _need_shared(SHARED)
    server = GovukServer(SHARED).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def elsewhere(govuk_server: GovukServer) -> Iterator[GovukServer]:
    """A second local server on another port: a host that is not GOV.UK for `govuk_server`'s
    clients (an attachment listed there, or a redirect to it, must be refused)."""
    other = GovukServer(SHARED).start()
    try:
        yield other
    finally:
        other.stop()


@pytest.fixture
def govuk_url(govuk_server: GovukServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """The local GOV.UK's base URL, also set as CROSSINGS_GOVUK_URL for this test."""
    monkeypatch.setenv("CROSSINGS_GOVUK_URL", govuk_server.url)
    return govuk_server.url


def main(argv: list[str] | None = None) -> None:
    """Serve until interrupted: `python tests/govuk_server.py --port 8765`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--shared", type=Path, default=SHARED, help="the shared data folder")
    parser.add_argument("--release", help="substring of the ODS to serve (default newest)")
    parser.add_argument("--page", help="substring of the capture to serve (default newest)")
    args = parser.parse_args(argv)
    if not (args.shared / "govuk").is_dir():
        parser.error(f"no govuk folder under {args.shared}")
    server = GovukServer(args.shared)
    if args.release:
        server.use_release(args.release)
    if args.page:
        server.use_page(args.page)
    server.start(args.port, args.host)
    print(
        f"local GOV.UK at {server.url}  (release {server.release.name if server.release else '-'},"
        f" page {server.page.name if server.page else '-'})",
        flush=True,
    )
    print(f"  export CROSSINGS_GOVUK_URL={server.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
