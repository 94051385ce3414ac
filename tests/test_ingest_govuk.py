"""`crossings ingest` with no --source: discover on (a local) GOV.UK, download, store."""

from __future__ import annotations

from pathlib import Path

from cli_run import Run, child_env, run_cli
from govuk_server import GovukServer

from forecasting import store
from forecasting.sources.release import read_release


def crossings(*args: str | Path, base_url: str, cwd: Path) -> Run:
    """`crossings ARGS` in a fresh interpreter, with GOV.UK at `base_url`."""
    return run_cli(list(args), cwd=cwd, env=child_env(CROSSINGS_GOVUK_URL=base_url), timeout=180)


def snapshot(db: Path) -> list:
    if not db.exists():
        return []
    return store.read_frame(
        db, "SELECT sha256, data_through FROM publications ORDER BY ALL"
    ).values.tolist()


def test_ingest_stores_newest_release_and_last_7_days(
    govuk_server: GovukServer, tmp_path: Path
) -> None:
    govuk_server.use_release("20_February_2026")
    govuk_server.use_page("2026-02-26")
    db = tmp_path / "crossings.duckdb"
    result = crossings("ingest", "--db", str(db), "--raw-dir", str(tmp_path / "raw"),
                       base_url=govuk_server.url, cwd=tmp_path)
    assert result.status == 0, result.stderr
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
    result = crossings("ingest", "--db", str(db), "--raw-dir", str(tmp_path / "raw"),
                       base_url=govuk_server.url, cwd=tmp_path)
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
    before = snapshot(db)
    second = crossings("ingest", "--db", str(db), base_url=govuk_server.url, cwd=tmp_path)
    assert second.status == 0, second.stderr
    assert snapshot(db) == before
    assert "nothing new" in second.stdout
    # Conditional requests: the second fetch of the ODS sent the stored validators.
    ods_requests = [r for r in govuk_server.requests if r.route == "ods"]
    assert any("If-None-Match" in r.headers or "if-none-match" in r.headers
               for r in ods_requests[1:])


def test_unreachable_govuk_leaves_store_unchanged(
    govuk_server: GovukServer, tmp_path: Path, latest_release: Path
) -> None:
    db = tmp_path / "crossings.duckdb"
    store.ingest(db, read_release(latest_release), source="seed")
    before = snapshot(db)
    govuk_server.fault("api", status=404)
    govuk_server.fault("publication", status=404)
    govuk_server.fault("ods", status=404)
    result = crossings("ingest", "--db", str(db), base_url=govuk_server.url, cwd=tmp_path)
    assert result.status == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "crossings ingest --source" in lines[0]
    assert snapshot(db) == before

    refused = crossings("ingest", "--db", str(db), base_url="http://127.0.0.1:9", cwd=tmp_path)
    assert refused.status == 3
    assert len(refused.stderr.strip().splitlines()) == 1
    assert snapshot(db) == before


def test_ingest_from_a_url(govuk_server: GovukServer, tmp_path: Path) -> None:
    db = tmp_path / "crossings.duckdb"
    result = crossings("ingest", "--source", govuk_server.ods_url, "--db", str(db),
                       "--raw-dir", str(tmp_path / "raw"), base_url=govuk_server.url, cwd=tmp_path)
    assert result.status == 0, result.stderr
    pubs = store.held_publications(db)
    assert pubs.iloc[0]["discovered_via"] == "given_url"
    assert pubs.iloc[0]["url"] == govuk_server.ods_url
