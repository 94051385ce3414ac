"""The quarterly data set from GOV.UK (the local stand-in serving the shared workbooks).

Discovery through the Content API, GOV.UK's date as the vintage, nothing downloaded when the
newest is already held, and the weekly release's rules: other hosts refused (redirects too),
zip bombs refused before parsing; a bad quarterly release is a failed source (exit 10), never a
reason to lose the weekly figures.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cli_run import child_env, run_cli
from govuk_server import GovukServer

from forecasting import store
from forecasting.alerts import quarterly_alerts


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "crossings.duckdb"


def _ingest(crossings: Callable[..., Any], db: Path) -> Any:
    return crossings(["ingest", "--db", db, "--raw-dir", db.parent / "raw"])


def _xlsx_bomb() -> bytes:
    """An xlsx whose sheet inflates to 200 MB of spaces (a 0.2 MB download)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b" " * (200 * 1024 * 1024))
    return out.getvalue()


def test_the_newest_release_is_discovered_with_govuks_date(
    govuk_server: GovukServer, govuk_url: str, db: Path, crossings: Callable[..., Any]
) -> None:
    govuk_server.use_quarterly("september-2023")
    govuk_server.also_list_quarterly("december-2022", "march-2023")
    run = _ingest(crossings, db)
    assert run.status == 0, run.stderr
    held = store.quarterly_publications(db)
    assert list(held["file_name"]) == [govuk_server.quarterly.name]  # type: ignore[union-attr]
    row = held.iloc[0]
    assert row["vintage_source"] == "govuk_metadata" and str(row["published_on"])[:10] == (
        "2023-11-23"
    )
    assert row["discovered_via"] == "content_api" and row["url"].startswith(govuk_server.url)
    assert (db.parent / "raw" / govuk_server.quarterly.name).exists()  # type: ignore[union-attr]
    assert "quarterly figures to 2023 Q3" in run.stdout
    [alert] = quarterly_alerts(db)
    assert alert.kind == "quarterly" and "2023 Q3" in alert.title
    # Nothing new: the listing is read, the workbook is not downloaded again.
    downloads = govuk_server.hits("quarterly")
    again = _ingest(crossings, db)
    assert again.status == 0 and govuk_server.hits("quarterly") == downloads
    # A new quarterly release: stored, announced under a new key.
    govuk_server.use_quarterly("december-2023")
    assert _ingest(crossings, db).status == 0
    assert len(store.quarterly_publications(db)) == 2
    [newer] = quarterly_alerts(db)
    assert newer.key != alert.key and "2023 Q4" in newer.title


@pytest.mark.parametrize(
    ("fault", "fragment"),
    [
        ({"body": b"<!DOCTYPE html><html><body>Sorry</body></html>"}, "HTML page"),
        ({"body": _xlsx_bomb()}, "zip bomb"),
        ({"status": 404}, "quarterly dataset download failed"),
    ],
    ids=["html_error_page", "zip_bomb", "not_found"],
)
def test_a_bad_quarterly_download_is_a_failed_source_and_the_weekly_figures_are_stored(
    govuk_server: GovukServer,
    govuk_url: str,
    db: Path,
    crossings: Callable[..., Any],
    fault: dict[str, Any],
    fragment: str,
) -> None:
    govuk_server.fault("quarterly", **fault)
    run = _ingest(crossings, db)
    assert run.status == 10, run.stderr
    assert any(fragment in line and "source failed" in line for line in run.lines), run.lines
    assert store.quarterly_publications(db).empty
    assert sorted(store.held_publications(db)["kind"]) == ["last_7_days", "weekly_release"]
    assert not any(p.suffix == ".xlsx" for p in (db.parent / "raw").iterdir())


def test_a_redirect_to_another_host_is_refused(
    govuk_server: GovukServer,
    elsewhere: GovukServer,
    govuk_url: str,
    db: Path,
    crossings: Callable[..., Any],
) -> None:
    govuk_server.fault("quarterly", redirect=elsewhere.quarterly_url())
    run = _ingest(crossings, db)
    assert run.status == 10
    assert any("quarterly dataset download failed" in line for line in run.lines), run.lines
    assert elsewhere.hits("quarterly") == 0
    assert store.quarterly_publications(db).empty


def test_a_quarterly_url_is_ingested_and_another_host_refused(
    govuk_server: GovukServer,
    elsewhere: GovukServer,
    govuk_url: str,
    db: Path,
    crossings: Callable[..., Any],
) -> None:
    url = govuk_server.quarterly_url()
    run = crossings(["ingest", "--db", db, "--raw-dir", db.parent / "raw", "--source", url])
    assert run.status == 0, run.stderr
    held = store.quarterly_publications(db)
    assert held.iloc[0]["discovered_via"] == "given_url"
    assert held.iloc[0]["vintage_source"] == "cover_sheet"  # no GOV.UK metadata for a bare URL
    refused = crossings(["ingest", "--db", db, "--source", elsewhere.quarterly_url()])
    assert refused.status == 2 and "refusing" in refused.lines[0], refused.lines
    assert elsewhere.hits("quarterly") == 0


@pytest.mark.integration
def test_run_with_a_bad_quarterly_release_exits_10_with_the_report_written(
    govuk_server: GovukServer, tmp_path: Path
) -> None:
    govuk_server.fault("quarterly", body=b"PK\x03\x04 not really a workbook")
    env = child_env(CROSSINGS_GOVUK_URL=govuk_server.url, PREFECT_HOME=str(tmp_path / "ph"))
    run = run_cli(["run"], cwd=tmp_path, env=env, timeout=300)
    assert run.status == 10, run.stderr[-2000:]
    assert "quarterly" in run.stdout + run.stderr
    assert (tmp_path / "reports" / "index.html").is_file()
