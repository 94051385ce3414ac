"""Discovery and fetching (forecasting.sources.discovery, .fetch) against a real local GOV.UK.

Nothing here reaches www.gov.uk: every request goes to tests/govuk_server.py on 127.0.0.1,
serving the shared real files. The page parser is tested in test_page.py, the HTTP rules in
test_http.py, and the same faults through the real command in test_ingest_govuk.py.
"""

from __future__ import annotations

import io
import socket
import time
import zipfile
from datetime import date
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasting.errors import BadInput, SourceUnavailable
from forecasting.settings import DEFAULT_USER_AGENT
from forecasting.sources.discovery import discover
from forecasting.sources.fetch import download, fetch_latest, safe_file_name
from forecasting.sources.http import INGEST_HINT, GovukUnavailable, Http, Retry
from forecasting.sources.release import read_release

FAST = Retry(attempts=3, backoff=0.01, max_delay=0.05)
PROVENANCE_KEYS = {
    "url",
    "discovered_via",
    "http_status",
    "etag",
    "last_modified",
    "fetched_at",
    "sha256",
}


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _one_line_with_hint(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text
    assert "crossings ingest --source PATH" in text
    return text


def _http(server, **options) -> Http:
    return Http(server.url, retry=options.pop("retry", FAST), **options)


def _failed(result, what: str) -> str:
    """The one failure of `what` in a result whose other publication was fetched."""
    (outcome,) = [o for o in result.outcomes if o.status == "failed"]
    assert outcome.what == what
    assert result.failures == [f"{outcome.url}: {outcome.detail}"]
    assert "\n" not in outcome.detail
    return outcome.detail


# ------------------------------------------------------------------------------------------
# Discovery


def test_discovery_through_content_api(govuk_server):
    found = discover(_http(govuk_server))
    assert found.release is not None
    assert found.release.discovered_via == "content_api"
    assert found.release.url == govuk_server.ods_url
    assert found.page.discovered_via == "content_api"
    assert found.page.url == govuk_server.page_url
    assert govuk_server.hits("publication") == 0


def test_discovery_picks_the_newest_of_several_releases(govuk_server):
    govuk_server.use_release("20_February_2026")  # the _v2 reissue
    govuk_server.also_list("06_February_2026", "30_January_2026")
    found = discover(_http(govuk_server))
    assert found.release.file_name == "20_February_2026_Small_boats_-_time_series_v2.ods"


@pytest.mark.parametrize("how", ["api_500", "api_changed_shape", "api_lists_no_ods"])
def test_discovery_falls_back_to_the_publication_page(govuk_server, how):
    if how == "api_500":
        govuk_server.fault("api", status=500)
    elif how == "api_changed_shape":
        govuk_server.api_shape = "changed"
    else:
        govuk_server.api_shape = "no_ods"
    found = discover(_http(govuk_server))
    assert found.release.discovered_via == "publication_page"
    assert found.release.url == govuk_server.ods_url
    assert found.page.url == govuk_server.page_url
    assert found.notes  # says why the fallback was used
    if how == "api_500":
        assert govuk_server.hits("api") == FAST.attempts  # 5xx is retried


def test_page_found_by_known_url_when_nothing_links_it(govuk_server, tmp_path):
    govuk_server.api_shape = "no_html"
    govuk_server.page_links_last_7_days = False
    result = fetch_latest(tmp_path, None, govuk_server.url, retry=FAST)
    page = next(r for r in result.releases if r.kind == "last_7_days")
    assert page.provenance["discovered_via"] == "known_url"
    assert page.provenance["url"] == govuk_server.page_url


def test_base_url_comes_from_the_environment_when_the_ingest_runs(govuk_url, tmp_path):
    """CROSSINGS_GOVUK_URL is read when an ingest starts (never at import), then passed down."""
    from forecasting.ingest import ingest_from_govuk

    got = ingest_from_govuk(tmp_path / "crossings.duckdb", raw_dir=tmp_path / "raw", retry=FAST)
    assert [o.kind for o in got.outcomes] == ["weekly_release", "last_7_days"]
    assert got.failures == []
    from forecasting import store

    urls = store.held_publications(tmp_path / "crossings.duckdb")["url"]
    assert len(urls) == 2 and all(u.startswith(govuk_url) for u in urls)


# ------------------------------------------------------------------------------------------
# Fetching


def test_fetch_returns_new_releases_with_provenance_then_nothing_new(
    govuk_server, latest_release, tmp_path
):
    raw = tmp_path / "raw"
    first = fetch_latest(raw, None, govuk_server.url, retry=FAST)
    kinds = [r.kind for r in first.releases]
    assert kinds == ["weekly_release", "last_7_days"]
    ods, page = first.releases
    assert ods.file_name == latest_release.name
    assert (raw / ods.file_name).read_bytes() == latest_release.read_bytes()
    assert ods.sha256 == read_release(latest_release).sha256
    for release in first.releases:
        assert set(release.provenance) >= PROVENANCE_KEYS | {"repairs"}
        assert release.repairs == []
        assert release.provenance["http_status"] == 200
        assert release.provenance["sha256"] == release.sha256
        assert release.provenance["fetched_at"].endswith("+00:00")
        assert release.provenance["etag"] and release.provenance["last_modified"]
    assert page.data_through == date(2026, 2, 27)
    assert "new" in first.summary
    files = _files(raw)
    assert len(files) == 2 and not any(f.startswith(".part") for f in files)

    # The store now holds both: conditional requests answer 304 and nothing is returned.
    held = {r.sha256: r.provenance for r in first.releases}
    again = fetch_latest(raw, held, govuk_server.url, retry=FAST)
    assert again.releases == []
    assert {o.status for o in again.outcomes} == {"not_modified"}
    conditional = [r for r in govuk_server.requests if r.route in ("ods", "page")][-2:]
    assert all(r.headers.get("If-None-Match") for r in conditional)

    # Only the sha256s are known (no validators): downloaded, recognised, not returned.
    by_hash = fetch_latest(raw, set(held), govuk_server.url, retry=FAST)
    assert by_hash.releases == []
    assert {o.status for o in by_hash.outcomes} == {"already_held"}
    assert _files(raw) == files


def test_requests_identify_the_pipeline(govuk_server, tmp_path):
    fetch_latest(tmp_path, None, govuk_server.url, retry=FAST)
    assert govuk_server.requests
    assert {r.headers.get("User-Agent") for r in govuk_server.requests} == {DEFAULT_USER_AGENT}
    govuk_server.requests.clear()
    fetch_latest(tmp_path, None, govuk_server.url, retry=FAST, user_agent="ops@example (test)")
    assert {r.headers.get("User-Agent") for r in govuk_server.requests} == {"ops@example (test)"}


def test_a_new_release_after_an_old_one_is_returned(govuk_server, tmp_path):
    govuk_server.use_release("20_February_2026")
    govuk_server.use_page("2026-02-20")
    first = fetch_latest(tmp_path, None, govuk_server.url, retry=FAST)
    held = {r.sha256: r.provenance for r in first.releases}
    govuk_server.use_release("27_February_2026")
    govuk_server.use_page("2026-02-28")
    second = fetch_latest(tmp_path, held, govuk_server.url, retry=FAST)
    assert [r.data_through for r in second.releases] == [date(2026, 2, 26), date(2026, 2, 27)]


def test_503_then_success_is_retried_with_backoff(govuk_server, tmp_path):
    govuk_server.fault("ods", status=503, times=2)
    slept: list[float] = []
    result = fetch_latest(tmp_path, None, govuk_server.url, retry=FAST, sleep=slept.append)
    assert [r.kind for r in result.releases] == ["weekly_release", "last_7_days"]
    assert govuk_server.hits("ods") == 3
    assert slept == [0.01, 0.02]


def test_timeout_after_retries_fails_that_source_only(govuk_server, tmp_path):
    govuk_server.fault("ods", delay=10)
    started = time.monotonic()
    result = fetch_latest(tmp_path, None, govuk_server.url, retry=Retry(2, 0.01), timeout=0.3)
    assert time.monotonic() - started < 5
    problem = _failed(result, "time series")
    assert "timed out" in problem and "after 2 attempts" in problem
    assert govuk_server.hits("ods") == 2
    # The page was still fetched; it is in the result and on disk, the ODS is not.
    assert [r.kind for r in result.releases] == ["last_7_days"]
    assert [f for f in _files(tmp_path) if f.endswith(".ods") or f.startswith(".part")] == []


def test_both_failing_is_source_unavailable_not_bad_input(govuk_server, tmp_path):
    govuk_server.fault("ods", status=404)
    govuk_server.fault("page", status=404)
    with pytest.raises(GovukUnavailable) as caught:
        fetch_latest(tmp_path, None, govuk_server.url, retry=FAST)
    text = _one_line_with_hint(caught.value)
    assert "HTTP 404" in text and "(and 1 more problem)" in text
    assert isinstance(caught.value, SourceUnavailable)
    assert not isinstance(caught.value, BadInput)
    assert caught.value.exit_status == 3
    assert len(caught.value.failures) == 2 and caught.value.result.releases == []


def test_404_is_not_retried(govuk_server, tmp_path):
    govuk_server.fault("ods", status=404)
    result = fetch_latest(tmp_path, None, govuk_server.url, retry=FAST)
    assert "HTTP 404" in _failed(result, "time series")
    assert govuk_server.hits("ods") == 1


def test_page_404_still_keeps_the_release(govuk_server, tmp_path):
    govuk_server.fault("page", status=404)
    result = fetch_latest(tmp_path, None, govuk_server.url, retry=FAST)
    assert "last-7-days page download failed: HTTP 404" in _failed(result, "last 7 days")
    assert [r.kind for r in result.releases] == ["weekly_release"]


def test_truncated_body_is_refused_and_leaves_no_file(govuk_server, tmp_path):
    govuk_server.fault("ods", truncate=True)
    result = fetch_latest(tmp_path, None, govuk_server.url, retry=FAST)
    assert "connection failed" in _failed(result, "time series")
    assert govuk_server.hits("ods") == FAST.attempts  # a dropped connection may be transient
    assert [f for f in _files(tmp_path) if not f.startswith("last_7_days")] == []


def test_silently_short_body_is_refused(govuk_server, latest_release, tmp_path):
    half = latest_release.read_bytes()[: latest_release.stat().st_size // 2]
    govuk_server.fault("ods", body=half, content_type="application/octet-stream")
    with pytest.raises(SourceUnavailable) as caught, _http(govuk_server) as http:
        download(http, govuk_server.ods_url, tmp_path)
    assert "truncated" in _one_line_with_hint(caught.value)
    assert _files(tmp_path) == []


def test_html_page_where_the_ods_should_be_is_refused(govuk_server, tmp_path):
    error_page = b"<!DOCTYPE html><html><body><h1>Sorry, there is a problem</h1></body></html>"
    govuk_server.fault("ods", body=error_page, content_type="text/html")
    result = fetch_latest(tmp_path, None, govuk_server.url, retry=FAST)
    assert "sent an HTML page where the ODS spreadsheet should be" in _failed(result, "time series")
    assert [f for f in _files(tmp_path) if f.endswith(".ods") or f.startswith(".part")] == []


def test_an_ods_without_the_figures_is_refused(govuk_server, tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", '<?xml version="1.0"?><document-content/>')
    govuk_server.fault("ods", body=buffer.getvalue())
    with pytest.raises(SourceUnavailable) as caught, _http(govuk_server) as http:
        download(http, govuk_server.ods_url, tmp_path)
    assert "unusable" in _one_line_with_hint(caught.value)
    assert _files(tmp_path) == []


def test_oversized_download_is_refused(govuk_server, tmp_path):
    with pytest.raises(SourceUnavailable) as caught, _http(govuk_server) as http:
        download(http, govuk_server.ods_url, tmp_path, max_bytes=1000)
    assert "limit" in _one_line_with_hint(caught.value)
    assert _files(tmp_path) == []


def test_unreachable_govuk_says_how_to_ingest_by_hand(tmp_path):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(SourceUnavailable) as caught:
        fetch_latest(tmp_path, None, f"http://127.0.0.1:{port}", retry=Retry(2, 0.01))
    text = _one_line_with_hint(caught.value)
    assert "could not be reached" in text
    assert str(caught.value).endswith(INGEST_HINT)


def test_a_client_can_be_passed_in(govuk_server, tmp_path):
    with httpx.Client(timeout=5) as client:
        result = fetch_latest(tmp_path, None, govuk_server.url, client, retry=FAST)
        assert not client.is_closed
    assert len(result.releases) == 2


def test_same_name_other_content_does_not_overwrite(govuk_server, latest_release, tmp_path):
    (tmp_path / latest_release.name).write_bytes(b"kept as it was")
    with _http(govuk_server) as http:
        got = download(http, govuk_server.ods_url, tmp_path)
    assert (tmp_path / latest_release.name).read_bytes() == b"kept as it was"
    assert got.path.parent == tmp_path and got.path.name != latest_release.name
    assert got.path.read_bytes() == latest_release.read_bytes()


# ------------------------------------------------------------------------------------------
# File names from the web


@pytest.mark.parametrize(
    "hostile",
    [
        "..%2F..%2F27_February_2026_Small_boats_-_time_series.ods",
        "%2e%2e%2f%2e%2e%2fescape_Small_boats_-_time_series.ods",
        "..%5C..%5Cescape_Small_boats_-_time_series.ods",
        "%252e%252e%252fescape_Small_boats_-_time_series.ods",
    ],
)
def test_hostile_names_from_the_web_stay_in_raw_dir(govuk_server, tmp_path, hostile):
    raw = tmp_path / "deep" / "raw"
    govuk_server.ods_name = hostile
    result = fetch_latest(raw, None, govuk_server.url, retry=FAST, include_page=False)
    (release,) = result.releases
    assert (raw / release.file_name).is_file()
    assert sorted(
        p.relative_to(tmp_path).parts[:2] for p in tmp_path.rglob("*") if p.is_file()
    ) == [("deep", "raw")]


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_safe_file_name_is_one_plain_component(name):
    safe = safe_file_name(name)
    assert "/" not in safe and "\\" not in safe and "\x00" not in safe
    assert safe not in ("", ".", "..") and not safe.startswith(".")
    assert safe.endswith(".ods") and len(safe) <= 160
    raw = Path("/tmp/raw-dir-for-test")
    assert (raw / safe).resolve().parent == raw.resolve()
