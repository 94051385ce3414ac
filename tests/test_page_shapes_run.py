"""A page in either shape once refused whole loses none of its days: from GOV.UK in the nightly
(`crossings run`, the local GOV.UK serving it) and given as `crossings run --source PAGE`.

The pages are the real 28 February 2026 capture re-laid in the two shapes (tests/
test_page_shapes.py); the expected figures come from the untouched capture.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from govuk_server import GovukServer
from test_page import _capture, _truth
from test_page_shapes import header_as_markdown_above, table_as_markdown_text

from forecasting import store
from forecasting.ingest import ingest_source

pytestmark = pytest.mark.integration  # `crossings run` starts flows against a Prefect API

SHAPES: dict[str, Callable[[str], str]] = {
    "header_as_markdown_above": header_as_markdown_above,
    "table_as_markdown_text": lambda html: table_as_markdown_text(html, run_in="after_last_row"),
}


def _stored_page(db: Path) -> tuple[dict, list[str]]:
    """The stored page's figures (date -> the three counts) and its recorded repairs."""
    pages = store.read_frame(
        db, "SELECT publication_id, repairs FROM publications WHERE kind = 'last_7_days'"
    )
    assert len(pages) == 1
    values = store.read_frame(
        db,
        "SELECT date, migrants_arrived, boats_arrived, boats_uncontrolled FROM daily_values "
        f"WHERE publication_id = {int(pages['publication_id'][0])}",
    )
    figures = {
        r.date.date() if hasattr(r.date, "date") else r.date: (
            int(r.migrants_arrived), int(r.boats_arrived), int(r.boats_uncontrolled)
        )
        for r in values.itertuples(index=False)
    }  # fmt: skip
    return figures, list(pages["repairs"][0])


@pytest.fixture
def run_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("CROSSINGS_SOURCE", raising=False)
    monkeypatch.setenv("CROSSINGS_STALE_AFTER_DAYS", "100000")  # the shared figures are old
    monkeypatch.setenv("CROSSINGS_LOG_DIR", str(tmp_path / "logs"))
    return tmp_path


def _run(tmp_path: Path, *source: str) -> int:
    from flows.cli import main

    db, reports = tmp_path / "crossings.duckdb", tmp_path / "reports"
    return main(["run", *source, "--db", str(db), "--reports-dir", str(reports),
                 "--raw-dir", str(tmp_path / "raw")])  # fmt: skip


@pytest.mark.parametrize("shape", list(SHAPES))
def test_the_nightly_stores_every_day_of_a_shaped_page_from_govuk(
    prefect_api: None,
    govuk_server: GovukServer,
    govuk_url: str,
    run_env: Path,
    page_paths: list[Path],
    shape: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    html = _capture(page_paths, "2026-02-28")
    govuk_server.fault("page", body=SHAPES[shape](html).encode("utf-8"))
    status = _run(run_env)
    out, err = capsys.readouterr()
    assert status == 0, err  # both publications new and good: the documented OK
    assert "source failed" not in err and "report written" in out
    figures, repairs = _stored_page(run_env / "crossings.duckdb")
    assert figures == _truth(html)  # all seven days, every figure
    assert len(repairs) == 1 and not any("Left out" in r for r in repairs)


@pytest.mark.parametrize("shape", list(SHAPES))
def test_run_with_a_shaped_page_as_source_stores_every_day(
    prefect_api: None,
    run_env: Path,
    page_paths: list[Path],
    latest_release: Path,
    shape: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    html = _capture(page_paths, "2026-02-28")
    page = run_env / f"2026-02-28-{shape}.html"
    page.write_text(SHAPES[shape](html), encoding="utf-8")
    ingest_source(run_env / "crossings.duckdb", latest_release)
    status = _run(run_env, "--source", str(page))
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "report written" in out and "figures to 27 February 2026" in out
    figures, repairs = _stored_page(run_env / "crossings.duckdb")
    assert figures == _truth(html)
    assert len(repairs) == 1
