"""The report's "Who is crossing" section, from the real weekly and quarterly releases.

The page's figures are checked against the store's views and the shared breakdown (what
`crossings breakdown` prints), the once-only note on the year totals, the analysts'
reconciliation, the estimate with its measured error, a page of an earlier date (only the
releases published by then), and the section in headless Chromium at 1280 and 390 px.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from quarterly_factory import quarterly_paths

from forecasting import store
from forecasting.breakdown import breakdown
from forecasting.operations.ingest import ingest_many
from forecasting.report import write_report
from forecasting.report.formats import share
from forecasting.report.who_data import load_who

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory, latest_store: Path) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("who")
    db = folder / "crossings.duckdb"
    shutil.copy2(latest_store, db)
    ingest_many(db, [str(p) for p in quarterly_paths()], raw_dir=folder / "raw")
    reports = folder / "reports"
    current = write_report(db, reports, today=date(2026, 2, 27))
    earlier = write_report(db, reports, as_of=date(2023, 6, 1), today=date(2026, 2, 27))
    return {"db": db, "current": Path(current), "earlier": Path(earlier)}


def _text(html: str, element_id: str) -> str:
    match = re.search(rf'<(\w+)[^>]*id="{element_id}"[^>]*>(.*?)</\1>', html, re.S)
    assert match, f"no element #{element_id}"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(2)).split())


def test_the_section_shows_the_official_figures_dated(pages: dict[str, Any]) -> None:
    html = pages["current"].read_text(encoding="utf-8")
    dated = _text(html, "who-dated")
    assert "official figures to 31 December 2023, published 29 February 2024" in dated
    weekly_through = store.last_official_day(pages["db"])
    lag = (weekly_through - date(2023, 12, 31)).days
    assert f"{lag:,} days before the weekly figures" in dated
    latest = _text(html, "who-latest")
    top = breakdown(pages["db"], 2023, "nationality")  # what `crossings breakdown` prints
    assert latest.index(top.rows[0].label) < latest.index(top.rows[1].label)
    assert f"{top.rows[0].label} {top.rows[0].detections:,} {share(top.rows[0].share)}" in latest
    year_2022 = _text(html, "who-year-2022")
    assert "Albania 12,658" in year_2022 and "45,774 people" in year_2022
    ages = breakdown(pages["db"], 2022, "age")
    people = _text(html, "who-people")
    assert f"2022 45,774 {share(ages.share_of('17 and under'))}" in people
    assert 'data-figure="figure-who-mix"' in html and 'href="#who"' in html


def test_the_year_totals_note_and_the_reconciliation(pages: dict[str, Any]) -> None:
    html = pages["current"].read_text(encoding="utf-8")
    needle = "2022: 45,755 in the weekly series, 45,774 in the official quarterly figures"
    assert html.count(needle) == 1
    assert "2023:" not in _text(html, "official-totals-note")  # the same total: not mentioned
    rows = _text(html, "quarterly-reconciliation")
    assert "2022 Q3 20,301 20,282 +19" in rows and "2020 Q3" in rows
    assert "who-flagged" not in html  # no quarter differs by more than 5%


def test_the_estimate_shows_its_measured_error(pages: dict[str, Any]) -> None:
    html = pages["current"].read_text(encoding="utf-8")
    db = pages["db"]
    daily = store.latest_daily(db).daily
    ytd_2026 = int(daily[daily["date"] >= date(2026, 1, 1)]["migrants_arrived"].sum())
    who = load_who(db, store.last_official_day(db), daily, ytd_2026)
    assert who is not None and who.estimate is not None and who.backtest is not None
    assert sum(r.estimate for r in who.estimate.rows) == pytest.approx(ytd_2026)
    assert all(r.low <= r.estimate <= r.high for r in who.estimate.rows)
    # releases Dec 2022, Mar, Jun, Sep 2023 each replayed 1-3 quarters ahead, up to 2023 Q4
    assert who.backtest.tests == 3 + 3 + 2 + 1
    assert 0 < who.backtest.misallocated < 1 and 0 <= who.backtest.coverage <= 1
    error = _text(html, "who-estimate-error")
    assert f"put {share(who.backtest.misallocated)} of people" in error
    assert f"held the official figure {share(who.backtest.coverage)} of the time" in error
    assert f"({ytd_2026:,})" in _text(html, "who")


def test_a_page_of_an_earlier_date_uses_the_releases_published_by_then(
    pages: dict[str, Any],
) -> None:
    html = pages["earlier"].read_text(encoding="utf-8")
    dated = _text(html, "who-dated")
    assert "official figures to 31 March 2023, published 25 May 2023" in dated
    assert "2022 Q3 20,282" in _text(html, "quarterly-reconciliation")  # before the revision


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: apt-get install chromium")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.mark.integration
@pytest.mark.parametrize("width", [1280, 390])
def test_the_section_renders_in_chromium_without_overflow(
    browser: Any, pages: dict[str, Any], width: int
) -> None:
    page = browser.new_page(viewport={"width": width, "height": 900})
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(pages["current"].as_uri(), wait_until="load")
    page.wait_for_function(
        "() => document.querySelector('#chart-who-mix svg.main-svg') !== null", timeout=30_000
    )
    assert page.locator("#who-title").is_visible()
    assert page.locator("#who-estimate").is_visible()
    bars = page.evaluate("document.querySelectorAll('#chart-who-mix g.trace.bars').length")
    assert bars == 9  # eight nationalities and the rest
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"page is {overflow}px wider than {width}px"
    box = page.locator("#who").bounding_box()
    assert box is not None and box["width"] <= width
    assert errors == []
    assert [u for u in requests if not u.startswith(("file://", "data:", "blob:"))] == []
    page.close()
