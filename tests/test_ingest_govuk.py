"""`crossings ingest` with no --source: discover on (a local) GOV.UK, download, store.

Every case runs the real command in a fresh interpreter against tests/govuk_server.py on
127.0.0.1, including a hostile GOV.UK: a refused connection or unknown host, a trickling
download, attachments and redirects leading elsewhere, redirect loops, a zip bomb as the ODS,
a 304 nobody asked for, JSON nested past recursion, a broken protocol, and one source failing
while the other is fine. `OUTCOMES` states each case's exit status and message fragment;
RELIABILITY.md is checked against it (tests/test_bad_input.py).

A partial fetch (one publication stored or current, the other failed) exits 10 (`STALE`): the
stored publication's line on stdout, the failure's one line on stderr.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from cli_run import Run, child_env, run_cli, snapshot
from govuk_server import GovukServer
from ods_factory import write_zip_bomb

from forecasting import store
from forecasting.sources.release import read_release

pytestmark = pytest.mark.integration

# case id -> (exit status, fragment of the one stderr line, or of stdout when the status is 0)
OUTCOMES = {
    "govuk_stores_both": (0, "stored"),
    "govuk_nothing_new": (0, "nothing new"),
    "govuk_all_404": (3, "GOV.UK could not be reached"),
    "given_url": (0, "stored"),
    "given_url_off_site": (2, "is not GOV.UK"),
    "refused_connection_fast": (3, "GOV.UK could not be reached"),
    "unknown_host_fast": (3, "GOV.UK could not be reached"),
    "download_trickles": (10, "took longer than the 2-second download deadline"),
    "attachment_off_site": (10, "is not GOV.UK"),
    "redirect_off_site": (10, "is not GOV.UK"),
    "redirect_loop": (10, "redirect loop"),
    "redirect_on_site": (0, "stored"),
    "mimetype_bomb_download": (10, "a zip bomb?); refused before parsing"),
    "unasked_304": (10, "answered 304 Not Modified to a request that was not conditional"),
    "api_nested_json": (0, "stored"),
    "api_huge_json": (0, "stored"),
    "broken_protocol": (10, "connection failed"),
    "page_fails_release_stored": (10, "last-7-days page unusable"),
    "release_fails_page_stored": (10, "sent an HTML page where the ODS spreadsheet should be"),
}
STALE = 10
# The fast failures must end well within this, interpreter start-up included (was ~15 s).
FAST_FAILURE_SECONDS = 8


def crossings(*args: str | Path, base_url: str, cwd: Path, **env: str) -> Run:
    """`crossings ARGS` in a fresh interpreter, with GOV.UK at `base_url`."""
    return run_cli(
        list(args), cwd=cwd, env=child_env(CROSSINGS_GOVUK_URL=base_url, **env), timeout=180
    )


def ingest(server_url: str, tmp_path: Path, **env: str) -> Run:
    db, raw = tmp_path / "crossings.duckdb", tmp_path / "raw"
    return crossings("ingest", "--db", db, "--raw-dir", raw, base_url=server_url, cwd=tmp_path,
                     **env)  # fmt: skip


def kinds(tmp_path: Path) -> list[str]:
    db = tmp_path / "crossings.duckdb"
    return sorted(store.held_publications(db)["kind"]) if db.exists() else []


def publication_rows(db: Path) -> list:
    if not db.exists():
        return []
    return store.read_frame(
        db, "SELECT sha256, data_through FROM publications ORDER BY ALL"
    ).values.tolist()


def assert_outcome(run: Run, case: str) -> str:
    """The run ended as OUTCOMES says; returns the line holding the fragment."""
    status, fragment = OUTCOMES[case]
    assert "Traceback" not in run.stderr, run.stderr[-2000:]
    assert run.status == status, (run.status, run.stdout[-800:], run.stderr[-800:])
    if status == 0:
        assert fragment in run.stdout, run.stdout
        assert run.lines == [], run.stderr
        return run.stdout
    assert len(run.lines) == 1, run.stderr
    assert fragment in run.lines[0], run.lines[0]
    assert run.lines[0].startswith("crossings: ")
    if status == STALE:
        assert "stored" in run.stdout  # the other publication
    return run.lines[0]


# ------------------------------------------------------------------------------------------
# The usual runs


def test_ingest_stores_newest_release_and_last_7_days(
    govuk_server: GovukServer, tmp_path: Path
) -> None:
    govuk_server.use_release("20_February_2026")
    govuk_server.use_page("2026-02-26")
    db = tmp_path / "crossings.duckdb"
    assert_outcome(ingest(govuk_server.url, tmp_path), "govuk_stores_both")
    pubs = store.held_publications(db)
    assert sorted(pubs["kind"]) == ["last_7_days", "weekly_release"]
    ods = pubs[pubs["kind"] == "weekly_release"].iloc[0]
    assert ods["discovered_via"] == "content_api"
    assert ods["url"].startswith(govuk_server.url) and ods["http_status"] == 200
    assert ods["fetched_at"] is not None and len(ods["sha256"]) == 64
    assert (tmp_path / "raw" / ods["file_name"]).is_file()

    # The page runs past the release: daily_arrivals reaches the page's last day.
    page = pubs[pubs["kind"] == "last_7_days"].iloc[0]
    last = store.read_frame(db, "SELECT max(date) AS d FROM daily_arrivals")["d"][0]
    assert last == page["data_through"] > ods["data_through"]

    # The following release supersedes the page's days and agrees with them.
    govuk_server.use_release("27_February_2026")
    result = ingest(govuk_server.url, tmp_path)
    assert result.status == 0, result.stderr
    assert "27_February_2026" in result.stdout
    overlap = store.read_frame(
        db,
        """
        SELECT d.date, d.migrants_arrived, d.publication, v.migrants_arrived AS page_value
        FROM daily_arrivals d
        JOIN daily_values v ON v.date = d.date
        JOIN publications p ON p.publication_id = v.publication_id AND p.kind = 'last_7_days'
        """,
    )
    assert len(overlap) == 7
    assert overlap["publication"].str.startswith("27_February_2026").all()
    assert (overlap["migrants_arrived"] == overlap["page_value"]).all()
    assert store.read_frame(db, "SELECT count(*) AS n FROM revisions")["n"][0] == 0


def test_second_run_with_nothing_new_changes_nothing(
    govuk_server: GovukServer, tmp_path: Path
) -> None:
    db = tmp_path / "crossings.duckdb"
    first = crossings("ingest", "--db", str(db), base_url=govuk_server.url, cwd=tmp_path)
    assert first.status == 0, first.stderr
    before = publication_rows(db)
    second = crossings("ingest", "--db", str(db), base_url=govuk_server.url, cwd=tmp_path)
    assert_outcome(second, "govuk_nothing_new")
    assert publication_rows(db) == before
    # Conditional requests: the second fetch of the ODS sent the stored validators.
    ods_requests = [r for r in govuk_server.requests if r.route == "ods"]
    assert any("If-None-Match" in r.headers or "if-none-match" in r.headers
               for r in ods_requests[1:])  # fmt: skip


def test_unreachable_govuk_leaves_store_unchanged(
    govuk_server: GovukServer, tmp_path: Path, latest_release: Path
) -> None:
    db = tmp_path / "crossings.duckdb"
    store.ingest(db, read_release(latest_release), source="seed")
    before = publication_rows(db)
    govuk_server.fault("api", status=404)
    govuk_server.fault("publication", status=404)
    govuk_server.fault("ods", status=404)
    result = crossings("ingest", "--db", str(db), base_url=govuk_server.url, cwd=tmp_path)
    line = assert_outcome(result, "govuk_all_404")
    assert "crossings ingest --source" in line
    assert publication_rows(db) == before


def test_ingest_from_a_url(govuk_server: GovukServer, tmp_path: Path) -> None:
    db = tmp_path / "crossings.duckdb"
    result = crossings(
        "ingest",
        "--source",
        govuk_server.ods_url,
        "--db",
        str(db),
        "--raw-dir",
        str(tmp_path / "raw"),
        base_url=govuk_server.url,
        cwd=tmp_path,
    )
    assert_outcome(result, "given_url")
    pubs = store.held_publications(db)
    assert pubs.iloc[0]["discovered_via"] == "given_url"
    assert pubs.iloc[0]["url"] == govuk_server.ods_url


def test_a_given_url_off_gov_uk_is_refused_before_any_request(
    govuk_server: GovukServer, elsewhere: GovukServer, tmp_path: Path
) -> None:
    result = crossings("ingest", "--source", elsewhere.ods_url, "--db", tmp_path / "x.duckdb",
                       base_url=govuk_server.url, cwd=tmp_path)  # fmt: skip
    line = assert_outcome(result, "given_url_off_site")
    assert elsewhere.ods_url in line and "--source PATH" in line
    assert elsewhere.requests == [] and not (tmp_path / "x.duckdb").exists()


# ------------------------------------------------------------------------------------------
# GOV.UK out of reach: over within seconds


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    ("case", "base"),
    [
        ("refused_connection_fast", "http://127.0.0.1:{port}"),
        ("unknown_host_fast", "http://crossings-no-such-host.invalid"),
    ],
)
def test_govuk_out_of_reach_fails_within_seconds(
    store_copy: Path, tmp_path: Path, case: str, base: str
) -> None:
    before = snapshot(store_copy)
    run = crossings("ingest", "--db", store_copy, "--raw-dir", tmp_path / "raw",
                    base_url=base.format(port=_free_port()), cwd=tmp_path)  # fmt: skip
    line = assert_outcome(run, case)
    assert "could not connect" in line and "crossings ingest --source PATH" in line
    assert run.seconds < FAST_FAILURE_SECONDS, f"{run.seconds:.1f} s"
    assert snapshot(store_copy) == before
    assert not (tmp_path / "raw").exists()


# ------------------------------------------------------------------------------------------
# One source hostile, the other fine: the good one is stored, the bad one named


def test_a_trickling_download_is_cut_at_the_deadline(
    govuk_server: GovukServer, tmp_path: Path
) -> None:
    govuk_server.fault("ods", drip=0.5)
    run = ingest(govuk_server.url, tmp_path, CROSSINGS_DOWNLOAD_DEADLINE_SECONDS="2")
    assert_outcome(run, "download_trickles")
    assert kinds(tmp_path) == ["last_7_days"]
    assert run.seconds < 2 + FAST_FAILURE_SECONDS and govuk_server.hits("ods") == 1


def test_an_attachment_listed_off_gov_uk_is_refused_and_named(
    govuk_server: GovukServer, elsewhere: GovukServer, tmp_path: Path
) -> None:
    govuk_server.ods_listed_at = elsewhere.ods_url  # in the API and on the publication page
    line = assert_outcome(ingest(govuk_server.url, tmp_path), "attachment_off_site")
    assert elsewhere.ods_url in line
    assert elsewhere.requests == []  # never asked
    assert kinds(tmp_path) == ["last_7_days"]


def test_a_redirect_off_gov_uk_is_refused_and_named(
    govuk_server: GovukServer, elsewhere: GovukServer, tmp_path: Path
) -> None:
    govuk_server.fault("ods", redirect=elsewhere.ods_url)
    line = assert_outcome(ingest(govuk_server.url, tmp_path), "redirect_off_site")
    assert elsewhere.ods_url in line and elsewhere.requests == []
    assert kinds(tmp_path) == ["last_7_days"]


def test_a_redirect_loop_is_refused(govuk_server: GovukServer, tmp_path: Path) -> None:
    path = govuk_server.ods_url[len(govuk_server.url) :]
    govuk_server.fault("ods", redirect=path)  # to itself, forever
    assert_outcome(ingest(govuk_server.url, tmp_path), "redirect_loop")
    assert govuk_server.hits("ods") == 1
    assert kinds(tmp_path) == ["last_7_days"]


def test_a_redirect_on_gov_uk_is_followed_and_the_final_url_recorded(
    govuk_server: GovukServer, tmp_path: Path
) -> None:
    moved = govuk_server.ods_url + "?moved=1"
    govuk_server.fault("ods", redirect=moved, times=1)
    assert_outcome(ingest(govuk_server.url, tmp_path), "redirect_on_site")
    pubs = store.held_publications(tmp_path / "crossings.duckdb")
    assert pubs.loc[pubs["kind"] == "weekly_release", "url"].tolist() == [moved]


@pytest.fixture(scope="module")
def mimetype_bomb(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """An 8.7 MB ODS whose `mimetype` member inflates to 1.9 GB (built at zlib level 1)."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.ods"
    write_zip_bomb(path, b"", 1900 << 20, member="mimetype", compresslevel=1, rest="<a/>")
    return path.read_bytes()


def test_a_zip_bomb_download_is_refused_with_bounded_memory(
    govuk_server: GovukServer, tmp_path: Path, mimetype_bomb: bytes
) -> None:
    """The download path runs the same bounded reads as a file (it peaked at 3.9 GB)."""
    govuk_server.fault("ods", body=mimetype_bomb)
    run = ingest(govuk_server.url, tmp_path)
    assert_outcome(run, "mimetype_bomb_download")
    print(f"peak RSS {run.peak_mb:.0f} MB")
    assert run.peak_mb < 400, f"peak RSS {run.peak_mb:.0f} MB"
    assert kinds(tmp_path) == ["last_7_days"]
    # (the quarterly workbook the stand-in also lists is a good download of its own)
    raw = (tmp_path / "raw").iterdir()
    assert [p.name for p in raw if p.suffix not in (".html", ".xlsx")] == []


def test_a_304_nobody_asked_for_is_an_error(govuk_server: GovukServer, tmp_path: Path) -> None:
    govuk_server.fault("ods", status=304)  # the store is empty: the request was not conditional
    assert_outcome(ingest(govuk_server.url, tmp_path), "unasked_304")
    assert kinds(tmp_path) == ["last_7_days"]


@pytest.mark.parametrize(
    ("case", "body"),
    [
        ("api_nested_json", b"[" * 200_000 + b"]" * 200_000),  # RecursionError in json
        ("api_huge_json", b'{"details": "' + b"x" * (6 << 20) + b'"}'),  # over the 5 MB cap
    ],
)
def test_unusable_content_api_falls_back_to_the_publication_page(
    govuk_server: GovukServer, tmp_path: Path, case: str, body: bytes
) -> None:
    govuk_server.fault("api", body=body, content_type="application/json")
    assert_outcome(ingest(govuk_server.url, tmp_path), case)
    pubs = store.held_publications(tmp_path / "crossings.duckdb")
    assert sorted(pubs["discovered_via"]) == ["publication_page", "publication_page"]


def test_a_broken_protocol_fails_that_source_only(
    govuk_server: GovukServer, tmp_path: Path
) -> None:
    govuk_server.fault("ods", raw=b"HTTP/1.1 200 OK\r\nContent-Length: banana\r\n\r\nPK")
    assert_outcome(ingest(govuk_server.url, tmp_path), "broken_protocol")
    assert kinds(tmp_path) == ["last_7_days"]


def test_a_broken_page_does_not_stop_a_good_release(
    govuk_server: GovukServer, tmp_path: Path, page_paths: list[Path]
) -> None:
    changed = page_paths[-1].read_bytes().replace(b"Migrants arrived", b"People detected")
    govuk_server.fault("page", body=changed)
    line = assert_outcome(ingest(govuk_server.url, tmp_path), "page_fails_release_stored")
    assert "has no table with 'Date' and 'Migrants arrived' columns" in line
    pubs = store.held_publications(tmp_path / "crossings.duckdb")
    assert pubs["file_name"].tolist() == [govuk_server.release.name]


def test_a_broken_release_does_not_stop_a_good_page(
    govuk_server: GovukServer, tmp_path: Path
) -> None:
    govuk_server.fault("ods", body=b"<!DOCTYPE html><html><body>Sorry</body></html>")
    assert_outcome(ingest(govuk_server.url, tmp_path), "release_fails_page_stored")
    assert kinds(tmp_path) == ["last_7_days"]
    assert [p.suffix for p in (tmp_path / "raw").iterdir() if p.suffix != ".xlsx"] == [".html"]
