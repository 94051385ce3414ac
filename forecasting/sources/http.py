"""HTTP for the sources: the one retry layer, capped bodies, a deadline per download, GOV.UK only.

Every request the pipeline makes goes through `Http.get`, which:
- retries only what may pass (5xx, timeouts, dropped connections) with capped backoff; a host
  that refuses connections or does not resolve gets one quick second try, then every later
  request to it in the same session fails at once (GOV.UK down costs about a second, not
  minutes);
- gives each download a total deadline (`download_deadline_seconds`), across attempts, so a
  server dripping a byte every few seconds is cut off;
- caps every body (`max_bytes`) before and while reading it;
- follows redirects itself, at most `MAX_REDIRECTS`, each hop checked against the allowed hosts
  (the configured GOV.UK base and GOV.UK's asset host); a loop or a hop elsewhere is refused and
  named, and `Answer.url` is where the bytes really came from;
- treats a 304 to a request that was not conditional as the error it is.
Retrying lives here only: callers (and the Prefect flows) must not add their own.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from forecasting.errors import SourceUnavailable, one_line
from forecasting.settings import DEFAULT_USER_AGENT

__all__ = [
    "DEFAULT_BASE_URL",
    "ASSET_HOST",
    "INGEST_HINT",
    "MAX_REDIRECTS",
    "GovukUnavailable",
    "HttpProblem",
    "Retry",
    "Answer",
    "AllowedHosts",
    "Http",
]

DEFAULT_BASE_URL = "https://www.gov.uk"
# Where GOV.UK serves attachments (the Content API lists the ODS there).
ASSET_HOST = "assets.publishing.service.gov.uk"
INGEST_HINT = "to load a release downloaded by hand, run: crossings ingest --source PATH"
MAX_REDIRECTS = 5
_DEFAULT_PORTS = {"http": 80, "https": 443}


class GovukUnavailable(SourceUnavailable):  # noqa: N818 - a SourceUnavailable, named alike
    """GOV.UK could not be reached or sent nothing usable; `str()` ends with how to ingest by hand.

    `failures` lists every problem, one line each; `result` holds whatever the same fetch did
    obtain (a `FetchResult`, or None).
    """

    def __init__(
        self,
        source: str,
        problem: str,
        *,
        failures: list[str] | None = None,
        result: Any = None,
    ) -> None:
        super().__init__(source, problem, hint=INGEST_HINT)
        self.failures = failures or [f"{one_line(source)}: {self.problem}"]
        self.result = result


class HttpProblem(Exception):
    """One request's failure in words; `transient` when another attempt may succeed."""

    def __init__(
        self,
        problem: str,
        *,
        transient: bool = False,
        unreachable: bool = False,
        retry_after: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(problem)
        self.transient = transient or unreachable
        self.unreachable = unreachable  # no connection at all (refused, unknown host)
        self.retry_after = retry_after
        self.status = status


@dataclass(frozen=True)
class Retry:
    """How hard to try: `attempts` in all (`connect_attempts` when the host cannot be reached),
    sleeping backoff * 2**n seconds (capped at `max_delay`) between them."""

    attempts: int = 3
    backoff: float = 1.0
    max_delay: float = 8.0
    connect_attempts: int = 2

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (0-based)."""
        wait: float = self.backoff * (2**attempt)
        if retry_after and retry_after.strip().isdigit():
            wait = max(wait, float(retry_after.strip()))
        return min(wait, self.max_delay)


@dataclass(frozen=True)
class Answer:
    """What one GET obtained: the body (None for a 304) and where it really came from."""

    url: str  # after redirects: where the bytes came from
    http_status: int
    not_modified: bool
    content: bytes | None = None
    sha256: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    fetched_at: str = ""


def _host(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:  # a port that is not a number
        port = None
    return scheme, (parts.hostname or "").lower(), port


class AllowedHosts:
    """GOV.UK's hosts for one base URL: the base's own host and port, and the asset host."""

    def __init__(self, base_url: str) -> None:
        scheme, host, port = _host(base_url)
        self.allowed = {(scheme, host, port), ("https", ASSET_HOST, 443)}
        self.names = sorted({host, ASSET_HOST})

    def refusal(self, url: str) -> str | None:
        """Why `url` may not be fetched, or None when it may."""
        scheme, host, port = _host(url)
        if scheme not in _DEFAULT_PORTS:
            return f"refusing {one_line(url)[:160]!r}: not an http(s) URL"
        if (scheme, host, port) not in self.allowed:
            where = f"{host}:{port}" if port not in (None, _DEFAULT_PORTS[scheme]) else host
            return (
                f"refusing {one_line(url)[:160]}: {one_line(where) or 'no host'} is not "
                f"GOV.UK ({', '.join(self.names)})"
            )
        return None


def _now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Http:
    """A session with GOV.UK: one client, the allowed hosts, and the retry and deadline rules."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        user_agent: str = DEFAULT_USER_AGENT,
        timeout: float = 30.0,
        deadline_seconds: float = 120.0,
        retry: Retry | None = None,
        client: httpx.Client | None = None,
        sleep: Callable[[float], Any] = time.sleep,
    ) -> None:
        self.base_url = base_url.strip().rstrip("/")
        self.allowed = AllowedHosts(self.base_url)
        self.user_agent = user_agent
        self.timeout = timeout
        self.deadline_seconds = deadline_seconds
        self.retry = retry or Retry()
        self.sleep = sleep
        self._own = client is None
        self.client = client or httpx.Client(headers={"User-Agent": user_agent})
        self._down: dict[str, str] = {}  # host -> why it could not be reached

    def __enter__(self) -> Http:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._own:
            self.client.close()

    def get(
        self,
        url: str,
        *,
        max_bytes: int,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Answer:
        """GET `url` with the session's rules; raises `HttpProblem` once trying is over."""
        headers = {"User-Agent": self.user_agent}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        deadline = time.monotonic() + self.deadline_seconds
        attempts = max(1, self.retry.attempts)
        for attempt in range(attempts):
            host = _host(url)[1]
            if host in self._down:
                raise HttpProblem(self._down[host])
            try:
                return self._attempt(url, headers, max_bytes, deadline)
            except HttpProblem as exc:
                if not exc.transient:
                    raise
                problem = f"{exc} (after {attempt + 1} attempt{'s' * (attempt > 0)})"
                if exc.unreachable and attempt + 1 >= self.retry.connect_attempts:
                    self._down[host] = problem
                    raise HttpProblem(problem) from None
                wait = self.retry.delay(attempt, exc.retry_after)
                if attempt + 1 >= attempts or time.monotonic() + wait >= deadline:
                    raise HttpProblem(problem, status=exc.status) from None
            self.sleep(wait)
        raise AssertionError("unreachable")  # the loop returns or raises

    def _attempt(
        self, url: str, headers: dict[str, str], max_bytes: int, deadline: float
    ) -> Answer:
        """One attempt, following up to MAX_REDIRECTS redirects within the allowed hosts."""
        current, seen = url, {url}
        for _ in range(MAX_REDIRECTS + 1):
            refusal = self.allowed.refusal(current)
            if refusal:
                raise HttpProblem(refusal)
            try:
                with self.client.stream(
                    "GET",
                    current,
                    headers=headers,
                    follow_redirects=False,
                    timeout=self._timeout(deadline),
                ) as response:
                    if not response.has_redirect_location:
                        return self._answer(response, headers, max_bytes, deadline)
                    target = urljoin(current, response.headers["Location"])
            except httpx.HTTPError as exc:
                raise self._transport_problem(exc, deadline) from None
            except (httpx.InvalidURL, UnicodeError, ValueError) as exc:
                problem = f"cannot request {one_line(current)[:160]} ({one_line(exc)[:120]})"
                raise HttpProblem(problem) from None
            if target in seen:
                raise HttpProblem(
                    f"redirect loop: {one_line(current)[:160]} leads back to "
                    f"{one_line(target)[:160]}"
                )
            seen.add(target)
            current = target
        raise HttpProblem(f"more than {MAX_REDIRECTS} redirects from {one_line(url)[:160]}")

    def _timeout(self, deadline: float) -> httpx.Timeout:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise HttpProblem(self._deadline_problem())
        limit = min(self.timeout, remaining)
        return httpx.Timeout(limit, connect=min(10.0, limit))

    def _deadline_problem(self) -> str:
        return (
            f"took longer than the {self.deadline_seconds:g}-second download deadline "
            "(CROSSINGS_DOWNLOAD_DEADLINE_SECONDS; a trickling connection?)"
        )

    def _transport_problem(self, exc: httpx.HTTPError, deadline: float) -> HttpProblem:
        if time.monotonic() >= deadline:
            return HttpProblem(self._deadline_problem())
        if isinstance(exc, httpx.TimeoutException):
            return HttpProblem(f"timed out ({type(exc).__name__})", transient=True)
        detail = one_line(exc)[:200] or type(exc).__name__
        if isinstance(exc, httpx.ConnectError):
            return HttpProblem(f"could not connect ({detail})", unreachable=True)
        if isinstance(exc, httpx.TransportError):
            return HttpProblem(f"connection failed ({detail})", transient=True)
        return HttpProblem(f"request failed ({type(exc).__name__}: {detail})")

    def _answer(
        self, response: httpx.Response, headers: dict[str, str], max_bytes: int, deadline: float
    ) -> Answer:
        status = response.status_code
        meta: dict[str, Any] = {
            "url": str(response.url),
            "http_status": status,
            "etag": response.headers.get("ETag"),
            "last_modified": response.headers.get("Last-Modified"),
            "fetched_at": _now_utc(),
        }
        if status == 304:
            if "If-None-Match" in headers or "If-Modified-Since" in headers:
                return Answer(not_modified=True, **meta)
            raise HttpProblem("answered 304 Not Modified to a request that was not conditional")
        if status >= 500:
            raise HttpProblem(
                f"HTTP {status}", transient=True, retry_after=response.headers.get("Retry-After")
            )
        if status != 200:
            reason = f"HTTP {status} {response.reason_phrase}".strip()
            raise HttpProblem(reason if status >= 400 else f"unexpected {reason}", status=status)
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise HttpProblem(f"is {int(declared):,} bytes, over the {max_bytes:,}-byte limit")
        content = self._body(response, max_bytes, deadline)
        return Answer(
            not_modified=False, content=content, sha256=hashlib.sha256(content).hexdigest(), **meta
        )

    def _body(self, response: httpx.Response, max_bytes: int, deadline: float) -> bytes:
        """The body, refusing more than `max_bytes` or a trickle past the deadline."""
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise HttpProblem(f"is over the {max_bytes:,}-byte limit")
            if time.monotonic() > deadline:
                raise HttpProblem(self._deadline_problem())
            chunks.append(chunk)
        return b"".join(chunks)
