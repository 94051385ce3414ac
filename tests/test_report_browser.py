"""The report in a real browser: opens from disk, draws every chart, asks nothing of the network.

Headless Debian Chromium driven by Playwright's Python API; nothing is downloaded at run time.
The store is built from the real release of 27 February 2026 plus a hand-made forecast.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from forecasting import store
from forecasting.ingest import ingest_source
from forecasting.report import write_report

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ALL_DRAWN = """() => {
  const divs = [...document.querySelectorAll('.plotly-graph-div')];
  return divs.length > 0 && divs.every(d => d.querySelector('svg.main-svg'));
}"""

pytestmark = pytest.mark.slow

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright (python) is not installed: pip install playwright"
)
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} not found: apt-get install chromium", allow_module_level=True)


def _payload() -> dict[str, Any]:
    weeks = []
    for k in range(13):
        mean = 350.0 + 90 * k
        weeks.append(
            {"week_ending": (date(2026, 3, 1) + timedelta(weeks=k)).isoformat(), "mean": mean,
             "p10": round(mean * 0.45, 1), "p50": round(mean * 0.92, 1),
             "p90": round(mean * 1.75, 1)}
        )
    return {
        "as_of": "2026-02-26",
        "model": "ensemble",
        "weekly": weeks,
        "year_end": {"year": 2026, "observed_ytd": 2209, "mean": 40100.0, "p10": 31000.0,
                     "p50": 39500.0, "p90": 50200.0,
                     "prob_exceeds": {"2025": 0.31, "2024": 0.62, "2023": 0.81, "2022": 0.12}},
    }


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory, latest_release: Path) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("browser")
    db = folder / "crossings.duckdb"
    ingest_source(db, latest_release)
    store.save_forecasts(db, {"ensemble": _payload()}, production_model="ensemble")
    reports = folder / "reports"
    path = write_report(db, reports, today=date(2026, 2, 27))
    return {"folder": folder, "reports": reports, "path": path}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


class _Watch:
    """Console errors, uncaught exceptions and every request a page makes."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: self.requests.append(r.url))

    def outside(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(("file://", "data:", "blob:"))]


def test_report_draws_offline(browser: Any, written: dict[str, Path]) -> None:
    path = written["path"]
    size_mb = path.stat().st_size / 1e6
    assert size_mb <= 6 * 1024 * 1024 / 1e6
    timings = {}
    for name, width in (("desktop", 1280), ("phone", 390)):
        page = browser.new_page(viewport={"width": width, "height": 900})
        watch = _Watch(page)
        started = time.monotonic()
        page.goto(path.as_uri(), wait_until="load")
        page.wait_for_function(ALL_DRAWN, timeout=30_000)
        timings[name] = round(time.monotonic() - started, 2)

        assert watch.errors == [], watch.errors
        assert watch.outside() == [], watch.outside()
        charts = page.locator(".plotly-graph-div")
        assert charts.count() >= 6  # the track record needs earlier forecasts
        for i in range(charts.count()):
            assert charts.nth(i).locator("svg.main-svg").count() > 0
        text = page.locator("#headline").inner_text()
        assert "2,209" in text and "2nd highest" in text and "2023: 2,953" in text
        assert "Open Government Licence v3.0" in page.locator("#licence").inner_text()
        assert page.locator("#stale-warning").count() == 0
        # at phone width nothing may force sideways scrolling of the page itself
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"page is {overflow}px wider than a {width}px screen"
        shot = written["folder"] / f"report-{name}.png"
        page.screenshot(path=str(shot), full_page=name == "phone")
        if name == "desktop":
            page.screenshot(path=str(written["folder"] / "report-desktop-full.png"),
                            full_page=True)
        page.close()
    (written["folder"] / "timings.json").write_text(
        json.dumps({"size_mb": round(size_mb, 2), "load_to_drawn_seconds": timings})
    )
    print(f"report {size_mb:.2f} MB, drawn in {timings} s; screenshots in {written['folder']}")


def test_root_index_leads_to_latest(browser: Any, written: dict[str, Path]) -> None:
    reports = written["reports"]
    # an older run beside it: the root index must still lead to the newest
    older = reports / "2026-01-31"
    older.mkdir(exist_ok=True)
    shutil.copy(written["path"], older / "index.html")
    write_report(written["folder"] / "crossings.duckdb", reports, today=date(2026, 2, 27))

    page = browser.new_page(viewport={"width": 390, "height": 800})
    watch = _Watch(page)
    page.goto((reports / "index.html").as_uri(), wait_until="load")
    links = page.locator("#runs a")
    assert [links.nth(i).inner_text() for i in range(links.count())] == [
        "26 February 2026", "31 January 2026",
    ]
    page.locator("#latest").click()
    page.wait_for_url("**/2026-02-26/index.html")
    page.wait_for_function(ALL_DRAWN, timeout=30_000)
    assert "2,209" in page.locator("#headline").inner_text()
    page.locator("a", has_text="All reports").click()
    page.wait_for_url("**/reports/index.html")
    assert watch.errors == [] and watch.outside() == []
    page.close()
