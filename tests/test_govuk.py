"""GOV.UK fetching against a real local HTTP server (tests/govuk_server.py), and the page parser.

Nothing here reaches www.gov.uk: every request goes to 127.0.0.1, serving the shared real files.
"""

from __future__ import annotations

import io
import socket
import time
import zipfile
from datetime import UTC, date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecasting.govuk import (
    INGEST_HINT,
    USER_AGENT,
    Retry,
    SourceUnavailable,
    discover,
    download,
    fetch_latest,
    make_client,
    parse_last_7_days,
    safe_file_name,
)
from forecasting.release import BadInput, read_release

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


# ------------------------------------------------------------------------------------------
# Discovery


def test_discovery_through_content_api(govuk_server):
    found = discover(base=govuk_server.url, retry=FAST)
    assert found.release is not None
    assert found.release.discovered_via == "content_api"
    assert found.release.url == govuk_server.ods_url
    assert found.page.discovered_via == "content_api"
    assert found.page.url == govuk_server.page_url
    assert govuk_server.hits("publication") == 0


def test_discovery_picks_the_newest_of_several_releases(govuk_server):
    govuk_server.use_release("20_February_2026")  # the _v2 reissue
    govuk_server.also_list("06_February_2026", "30_January_2026")
    found = discover(base=govuk_server.url, retry=FAST)
    assert found.release.file_name == "20_February_2026_Small_boats_-_time_series_v2.ods"


@pytest.mark.parametrize("how", ["api_500", "api_changed_shape", "api_lists_no_ods"])
def test_discovery_falls_back_to_the_publication_page(govuk_server, how):
    if how == "api_500":
        govuk_server.fault("api", status=500)
    elif how == "api_changed_shape":
        govuk_server.api_shape = "changed"
    else:
        govuk_server.api_shape = "no_ods"
    found = discover(base=govuk_server.url, retry=FAST)
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


def test_base_url_comes_from_the_environment(govuk_url, tmp_path):
    result = fetch_latest(tmp_path, retry=FAST)
    assert all(r.provenance["url"].startswith(govuk_url) for r in result.releases)


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
        assert set(release.provenance) >= PROVENANCE_KEYS
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
    assert {r.headers.get("User-Agent") for r in govuk_server.requests} == {USER_AGENT}


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


def test_timeout_after_retries_is_source_unavailable(govuk_server, tmp_path):
    govuk_server.fault("ods", delay=10)
    started = time.monotonic()
    with pytest.raises(SourceUnavailable) as caught:
        fetch_latest(tmp_path, None, govuk_server.url, retry=Retry(2, 0.01), timeout=0.3)
    assert time.monotonic() - started < 5
    text = _one_line_with_hint(caught.value)
    assert "timed out" in text and "after 2 attempts" in text
    assert govuk_server.hits("ods") == 2
    assert isinstance(caught.value, BadInput)
    # The page was still fetched; it is in the partial result and on disk, the ODS is not.
    partial = caught.value.result
    assert [r.kind for r in partial.releases] == ["last_7_days"]
    assert [f for f in _files(tmp_path) if f.endswith(".ods") or f.startswith(".part")] == []


def test_404_is_not_retried(govuk_server, tmp_path):
    govuk_server.fault("ods", status=404)
    with pytest.raises(SourceUnavailable) as caught:
        fetch_latest(tmp_path, None, govuk_server.url, retry=FAST)
    assert "HTTP 404" in _one_line_with_hint(caught.value)
    assert govuk_server.hits("ods") == 1


def test_page_404_still_keeps_the_release(govuk_server, tmp_path):
    govuk_server.fault("page", status=404)
    with pytest.raises(SourceUnavailable) as caught:
        fetch_latest(tmp_path, None, govuk_server.url, retry=FAST)
    assert "last-7-days page" in _one_line_with_hint(caught.value)
    assert [r.kind for r in caught.value.result.releases] == ["weekly_release"]


def test_truncated_body_is_refused_and_leaves_no_file(govuk_server, tmp_path):
    govuk_server.fault("ods", truncate=True)
    with pytest.raises(SourceUnavailable) as caught:
        fetch_latest(tmp_path, None, govuk_server.url, retry=FAST)
    _one_line_with_hint(caught.value)
    assert govuk_server.hits("ods") == FAST.attempts  # a dropped connection may be transient
    assert [f for f in _files(tmp_path) if not f.startswith("last_7_days")] == []


def test_silently_short_body_is_refused(govuk_server, latest_release, tmp_path):
    half = latest_release.read_bytes()[: latest_release.stat().st_size // 2]
    govuk_server.fault("ods", body=half, content_type="application/octet-stream")
    with pytest.raises(SourceUnavailable) as caught:
        download(govuk_server.ods_url, tmp_path, retry=FAST)
    assert "truncated" in _one_line_with_hint(caught.value)
    assert _files(tmp_path) == []


def test_html_page_where_the_ods_should_be_is_refused(govuk_server, tmp_path):
    error_page = b"<!DOCTYPE html><html><body><h1>Sorry, there is a problem</h1></body></html>"
    govuk_server.fault("ods", body=error_page, content_type="text/html")
    with pytest.raises(SourceUnavailable) as caught:
        fetch_latest(tmp_path, None, govuk_server.url, retry=FAST)
    assert "HTML page" in _one_line_with_hint(caught.value)
    assert [f for f in _files(tmp_path) if f.endswith(".ods") or f.startswith(".part")] == []


def test_an_ods_without_the_figures_is_refused(govuk_server, tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", '<?xml version="1.0"?><document-content/>')
    govuk_server.fault("ods", body=buffer.getvalue())
    with pytest.raises(SourceUnavailable) as caught:
        download(govuk_server.ods_url, tmp_path, retry=FAST)
    assert "unusable" in _one_line_with_hint(caught.value)
    assert _files(tmp_path) == []


def test_oversized_download_is_refused(govuk_server, tmp_path):
    with pytest.raises(SourceUnavailable) as caught:
        download(govuk_server.ods_url, tmp_path, retry=FAST, max_bytes=1000)
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
    with make_client(timeout=5) as client:
        result = fetch_latest(tmp_path, None, govuk_server.url, client, retry=FAST)
        assert not client.is_closed
    assert len(result.releases) == 2


def test_same_name_other_content_does_not_overwrite(govuk_server, latest_release, tmp_path):
    (tmp_path / latest_release.name).write_bytes(b"kept as it was")
    got = download(govuk_server.ods_url, tmp_path, retry=FAST)
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


# ------------------------------------------------------------------------------------------
# The last-7-days page


@pytest.fixture(scope="module")
def parsed_pages(page_paths):
    return [(p, parse_last_7_days(p.read_bytes(), p.name)) for p in page_paths]


@pytest.fixture(scope="module")
def parsed_releases(release_paths):
    return [read_release(p) for p in release_paths]


def test_every_real_capture_parses(parsed_pages):
    assert len(parsed_pages) == 76
    for path, page in parsed_pages:
        assert page.kind == "last_7_days" and page.weekly is None
        assert 7 <= len(page.daily) <= 8, path.name  # 2026-01-23 has 8 days
        assert page.published_at.tzinfo is not None
        assert page.published_at.astimezone(UTC).date() <= date.fromisoformat(path.stem)
        assert page.data_through < date.fromisoformat(path.stem)
        assert list(page.daily.columns) == [
            "date",
            "migrants_arrived",
            "boats_arrived",
            "boats_uncontrolled",
            "revised",
            "note",
        ]
    # Captures of an unchanged page (same updated-at) get the same content hash.
    assert len({page.sha256 for _, page in parsed_pages}) == len(
        {page.published_at for _, page in parsed_pages}
    )


def test_captures_agree_with_the_following_ods_release(parsed_pages, parsed_releases):
    """Measured: all 526 overlapping day-rows agree; none was revised by the next release."""
    columns = ["migrants_arrived", "boats_arrived", "boats_uncontrolled"]
    releases = sorted(parsed_releases, key=lambda r: (r.released_on, r.file_name))
    compared, disagreements = 0, []
    for path, page in parsed_pages:
        published = page.published_at.date()
        following = next(
            (
                r
                for r in releases
                if r.released_on >= published and r.data_through >= page.data_through
            ),
            None,
        )
        if following is None:
            continue  # the newest capture has no later release
        ods = following.daily.set_index("date")
        for row in page.daily.itertuples(index=False):
            compared += 1
            for column in columns:
                if getattr(row, column) != ods.loc[row.date, column]:
                    disagreements.append((path.name, row.date, column, following.file_name))
    assert compared == 526
    assert disagreements == []


def _capture(page_paths) -> str:
    return page_paths[-1].read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "expect"),
    [
        (("Migrants arrived</th>", "People arrived</th>"), "no table with"),
        (('<th scope="col">Boats arrived</th>', '<th scope="col">Vessels</th>'), "missing"),
        (("<td>605</td>", ""), "cells where the header has"),
        (("<td>605</td>", "<td>six hundred</td>"), "not a count"),
        ((">25 February 2026<", ">25 Febtember 2026<"), "where a date should be"),
        ((">26 February 2026<", ">25 February 2026<"), "more than once"),
        (("<table>", "<div>"), "no table with"),
        (('name="govuk:updated-at"', 'name="x"'), "updated-at"),
    ],
)
def test_changed_page_is_bad_input(page_paths, change, expect):
    html = _capture(page_paths)
    assert change[0] in html
    with pytest.raises(BadInput) as caught:
        parse_last_7_days(html.replace(change[0], change[1], 1).encode(), "changed.html")
    assert expect in str(caught.value)
    assert str(caught.value).startswith("changed.html: ") and "\n" not in str(caught.value)


def test_columns_are_found_by_name_not_position(page_paths):
    html = _capture(page_paths).replace(
        '<th scope="col">Migrants arrived</th>', '<th scope="col">  MIGRANTS ARRIVED </th>'
    )
    release = parse_last_7_days(html.encode(), "x.html")
    assert release.daily["migrants_arrived"].sum() == 679


def test_script_in_a_notes_cell_is_plain_text(page_paths):
    html = _capture(page_paths)
    empty = "<td>\xa0</td>"  # GOV.UK writes an empty note as a no-break space
    assert empty in html
    raw_tag = html.replace(empty, "<td><script>alert(1)</script> Revised</td>", 1)
    escaped = html.replace(empty, "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>", 1)
    first = parse_last_7_days(raw_tag.encode(), "x.html").daily.iloc[0]
    assert first["note"] == "alert(1) Revised"  # the text, never the markup
    assert bool(first["revised"]) is True
    second = parse_last_7_days(escaped.encode(), "x.html").daily.iloc[0]
    assert second["note"] == "<script>alert(1)</script>"  # kept literally, as text
    assert bool(second["revised"]) is False


def test_future_dates_are_refused(page_paths):
    with pytest.raises(BadInput, match="after today"):
        parse_last_7_days(page_paths[-1].read_bytes(), "x.html", today=date(2026, 2, 25))


@given(st.binary(max_size=4000))
@settings(max_examples=300, deadline=None)
def test_arbitrary_bytes_give_a_release_or_bad_input(content):
    try:
        parse_last_7_days(content, "fuzz.html")
    except BadInput as exc:
        assert "\n" not in str(exc)


@given(data=st.data())
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_mutated_real_page_gives_a_release_or_bad_input(page_paths, data):
    html = _capture(page_paths)
    start, end = html.index("<table>"), html.index("</table>") + len("</table>")
    table = html[start:end]
    cut = data.draw(st.integers(0, len(table)))
    insert = data.draw(
        st.text(alphabet=st.sampled_from(list("<>/td th tr 0123456789,-&;")), max_size=30)
    )
    mutated = html[:start] + table[:cut] + insert + table[cut + data.draw(st.integers(0, 40)) :]
    try:
        release = parse_last_7_days(mutated + html[end:], "mutated.html")
    except BadInput:
        return
    assert len(release.daily) >= 1
