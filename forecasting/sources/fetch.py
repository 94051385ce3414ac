"""Fetch what GOV.UK publishes now: only what is new, only what is whole, each source on its own.

Two publications are fetched: the weekly ODS release and the daily "last 7 days" page. Each URL
is asked conditionally with the validators of the store's newest fetch of it, every body is
checked in full (`parse_release_bytes`, `parse_last_7_days`) before it is written to `raw_dir`
(atomically, under a safe name), and anything already held (same sha256, or a 304) is not
returned again. One bad source never sinks the other: a failure is recorded in
`FetchResult.failures` and the other publication is still returned; `GovukUnavailable` is raised
only when nothing usable was obtained.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from forecasting.errors import BadInput, CrossingsError, StoreError, one_line
from forecasting.files import atomic_write
from forecasting.settings import DEFAULT_USER_AGENT
from forecasting.sources.archive import NOT_ODS_FROM_WEB, sniff
from forecasting.sources.discovery import Discovery, Found, discover
from forecasting.sources.http import (
    DEFAULT_BASE_URL,
    Answer,
    GovukUnavailable,
    Http,
    HttpProblem,
    Retry,
)
from forecasting.sources.page import MAX_PAGE_BYTES, parse_last_7_days
from forecasting.sources.release import MAX_ODS_BYTES, Release, parse_release_bytes

__all__ = [
    "Download",
    "Outcome",
    "FetchResult",
    "safe_file_name",
    "download",
    "fetch_latest",
]


@dataclass(frozen=True)
class Download(Answer):
    """The answer to one conditional GET of an ODS (its body not kept); `path` is set only for
    a new, whole file."""

    path: Path | None = None
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
    """New publications (ODS first, then the page), what happened to each, and what failed."""

    releases: list[Release]
    outcomes: list[Outcome]
    discovery: Discovery | None = None
    failures: list[str] = field(default_factory=list)  # "<url>: <problem>", one line each

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
        return "\n".join(lines) or "nothing fetched"


@dataclass(frozen=True)
class _Held:
    """What the store holds: sha256s, and per URL the validators of its newest fetch."""

    shas: frozenset[str] = frozenset()
    validators: Mapping[str, tuple[str | None, str | None]] = field(default_factory=dict)


def _held_state(held: Mapping[str, Mapping[str, Any]] | Iterable[str] | None) -> _Held:
    if held is None:
        return _Held()
    if not isinstance(held, Mapping):
        return _Held(frozenset(str(h) for h in held))
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
    return _Held(frozenset(shas), {url: pair for url, (_, pair) in latest.items()})


# --------------------------------------------------------------------------------------------
# Files in raw_dir


def safe_file_name(url_or_name: str, *, suffix: str = ".ods") -> str:
    """A file name taken from the web made safe to join to raw_dir: one plain component.

    Percent-escapes are decoded first (so %2F cannot smuggle a separator), then everything up to
    the last / or \\ is dropped, characters outside [A-Za-z0-9._-] become "_", leading dots go,
    and the name is capped at 150 characters and made to end in `suffix`.
    """
    name = urlsplit(url_or_name).path if "://" in url_or_name else url_or_name
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
        raise StoreError(f"file name {name!r} would be written outside {raw_dir}")
    return target


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _ods_target(raw_dir: Path, url: str, sha256: str) -> Path:
    """Where a new ODS goes: its web name, or with a hash suffix if that name holds other bytes."""
    name = safe_file_name(url)
    target = _inside(raw_dir, name)
    if target.exists() and _sha256_file(target) != sha256:
        target = _inside(raw_dir, f"{name[: -len('.ods')]}.{sha256[:12]}.ods")
    return target


def _write_atomically(target: Path, content: bytes) -> None:
    """The whole file appears at `target`, or nothing does."""
    try:
        atomic_write(target, content)
    except OSError as exc:
        raise StoreError(
            f"{target.parent}: cannot save a download ({exc.strerror or exc})"
        ) from None


# --------------------------------------------------------------------------------------------
# One publication


def _provenance(found: Found, answer: Answer, sha256: str, **extra: Any) -> dict[str, Any]:
    provenance = {
        "url": answer.url,
        "discovered_via": found.discovered_via,
        "http_status": answer.http_status,
        "etag": answer.etag,
        "last_modified": answer.last_modified,
        "fetched_at": answer.fetched_at,
        "sha256": sha256,
        **extra,
    }
    if answer.url != found.url:
        provenance["requested_url"] = found.url
    return provenance


def download(
    http: Http,
    url: str,
    raw_dir: Path,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    held_sha256: Iterable[str] = (),
    max_bytes: int = MAX_ODS_BYTES,
    today: date | None = None,
) -> Download:
    """Download one ODS into `raw_dir`, conditionally; only a new, fully checked file lands there.

    Returns `not_modified` for a 304, `path=None` when the sha256 is already held, otherwise
    `path` (the whole file, named from the URL, sanitised) and `release`, its parse. Raises
    `GovukUnavailable` for a failed request or a body that is not a valid release.
    """
    try:
        answer = http.get(url, max_bytes=max_bytes, etag=etag, last_modified=last_modified)
    except HttpProblem as exc:
        raise GovukUnavailable(url, f"time series download failed: {exc}") from None
    got = Download(**{**vars(answer), "content": None})
    if answer.not_modified or answer.sha256 in set(held_sha256):
        return got
    content = answer.content or b""
    problem = sniff(content)
    if problem:
        raise GovukUnavailable(url, f"time series download refused: {NOT_ODS_FROM_WEB[problem]}")
    target = _ods_target(Path(raw_dir), url, answer.sha256 or "")
    try:
        release = parse_release_bytes(content, target.name, today=today, from_web=True)
    except BadInput as exc:
        raise GovukUnavailable(url, f"time series downloaded but unusable: {exc.problem}") from None
    _write_atomically(target, content)
    return replace(got, path=target, release=release)


def _fetch_release(
    found: Found, http: Http, raw_dir: Path, held: _Held, today: date | None
) -> tuple[Release | None, Outcome]:
    etag, modified = held.validators.get(found.url, (None, None))
    got = download(
        http,
        found.url,
        raw_dir,
        etag=etag,
        last_modified=modified,
        held_sha256=held.shas,
        today=today,
    )
    outcome = Outcome("time series", found.url, found.discovered_via, "", got.http_status)
    if got.not_modified:
        return None, replace(outcome, status="not_modified")
    if got.path is None or got.release is None:
        return None, replace(
            outcome,
            status="already_held",
            file_name=safe_file_name(found.url),
            detail=f"sha256 {got.sha256}",
        )
    release = replace(
        got.release,
        provenance={**got.release.provenance, **_provenance(found, got, got.release.sha256)},
    )
    detail = f"{got.path.stat().st_size:,} bytes, daily figures to {release.data_through:%Y-%m-%d}"
    return release, replace(outcome, status="new", file_name=got.path.name, detail=detail)


def _fetch_page(
    found: Found, http: Http, raw_dir: Path, held: _Held, today: date | None
) -> tuple[Release | None, Outcome]:
    etag, modified = held.validators.get(found.url, (None, None))
    try:
        answer = http.get(found.url, max_bytes=MAX_PAGE_BYTES, etag=etag, last_modified=modified)
    except HttpProblem as exc:
        raise GovukUnavailable(found.url, f"last-7-days page download failed: {exc}") from None
    outcome = Outcome("last 7 days", found.url, found.discovered_via, "", answer.http_status)
    if answer.not_modified:
        return None, replace(outcome, status="not_modified")
    content = answer.content or b""
    try:
        parsed = parse_last_7_days(content, "last-7-days page", today=today)
    except BadInput as exc:
        raise GovukUnavailable(found.url, f"last-7-days page unusable: {exc.problem}") from None
    assert parsed.published_at is not None
    stamp = parsed.published_at.astimezone(UTC).strftime("%Y-%m-%dT%H%M%SZ")
    name = f"last_7_days_{stamp}_{parsed.sha256[:8]}.html"
    updated = f"updated {parsed.published_at.isoformat()}"
    if parsed.sha256 in held.shas or answer.sha256 in held.shas:
        return None, replace(outcome, status="already_held", file_name=name, detail=updated)
    _write_atomically(_inside(raw_dir, name), content)
    provenance = _provenance(found, answer, parsed.sha256, raw_sha256=answer.sha256)
    release = replace(parsed, file_name=name, provenance={**parsed.provenance, **provenance})
    detail = f"{updated}, days {release.data_from:%Y-%m-%d} to {release.data_through:%Y-%m-%d}"
    if release.repairs:
        detail += f"; {len(release.repairs)} repair(s): {' '.join(release.repairs)}"
    return release, replace(outcome, status="new", file_name=name, detail=detail)


Fetcher = Callable[..., tuple[Release | None, Outcome]]


def _one_source(
    what: str,
    where: Found,
    fetch: Fetcher,
    http: Http,
    raw_dir: Path,
    held: _Held,
    today: date | None,
) -> tuple[Release | None, Outcome]:
    """One publication, its failure kept to itself: whatever the network sends (a redirect
    loop, JSON nested past recursion, a protocol error) is a failure of that source, never a
    crash. A local failure (raw_dir cannot be written) is not the source's and is raised."""
    try:
        return fetch(where, http, raw_dir, held, today)
    except GovukUnavailable as exc:
        problem = exc.problem
    except CrossingsError:
        raise
    except Exception as exc:  # noqa: BLE001 - anything the web can provoke (RecursionError too)
        problem = f"{what} failed unexpectedly ({type(exc).__name__}: {one_line(exc)[:160]})"
    return None, Outcome(what, where.url, where.discovered_via, "failed", None, None, problem)


def fetch_latest(
    raw_dir: Path | str = Path("data/raw"),
    held: Mapping[str, Mapping[str, Any]] | Iterable[str] | None = None,
    base_url: str = DEFAULT_BASE_URL,
    client: httpx.Client | None = None,
    *,
    retry: Retry | None = None,
    timeout: float = 30.0,
    deadline_seconds: float = 120.0,
    user_agent: str = DEFAULT_USER_AGENT,
    today: date | None = None,
    include_page: bool = True,
    sleep: Callable[[float], Any] = time.sleep,
) -> FetchResult:
    """Fetch what GOV.UK publishes now and return only what the store does not hold yet.

    `held` is either the sha256s the store holds, or {sha256: provenance} as earlier fetches
    returned it (then each URL is asked conditionally with its stored ETag / Last-Modified).
    Each publication is tried on its own; `failures` says what failed. Raises `GovukUnavailable`
    (its `result` holding the outcomes) only when no publication could be obtained at all.
    """
    raw_dir = Path(raw_dir)
    state = _held_state(held)
    releases: list[Release] = []
    outcomes: list[Outcome] = []
    with Http(
        base_url,
        user_agent=user_agent,
        timeout=timeout,
        deadline_seconds=deadline_seconds,
        retry=retry,
        client=client,
        sleep=sleep,
    ) as http:
        found = discover(http)
        items: list[tuple[str, Found | None, Fetcher]] = [
            ("time series", found.release, _fetch_release)
        ]
        if include_page:
            items.append(("last 7 days", found.page, _fetch_page))
        for what, where, fetch in items:
            if where is None:
                problem = "no time-series ODS found (" + "; ".join(found.notes) + ")"
                outcomes.append(Outcome(what, http.base_url, "none", "failed", detail=problem))
                continue
            release, outcome = _one_source(what, where, fetch, http, raw_dir, state, today)
            outcomes.append(outcome)
            if release is not None:
                releases.append(release)
    failed = [o for o in outcomes if o.status == "failed"]
    result = FetchResult(releases, outcomes, found, [f"{o.url}: {o.detail}" for o in failed])
    if failed and len(failed) == len(outcomes):
        more = f" (and {len(failed) - 1} more problem)" if len(failed) > 1 else ""
        raise GovukUnavailable(
            failed[0].url, failed[0].detail + more, failures=result.failures, result=result
        )
    return result
