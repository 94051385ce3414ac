"""The report in a real browser: opens from disk, draws every chart, asks nothing of the network,
shows the right forecast and staleness on current and historical pages, a track record with real
figures, the milestones, and fits a 390 px phone screen.

Headless Debian Chromium driven by Playwright's Python API; nothing is downloaded at run time.
The store holds every real weekly release (the vintages, `releases_store`), the track record
filled from them by `fill_track_record` (26 weekly fits), a hand-made forecast of 26 February,
a forecast dated 2030 that must never show, and milestone rows for the forecast of 26 February.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from report_store import save_payload

from forecasting import store
from forecasting.calendar import BadArgument
from forecasting.frames import MILESTONE_COLUMNS
from forecasting.operations.forecast import forecast_and_store
from forecasting.report import write_report
from forecasting.report.formats import how_many_of
from forecasting.track_record import fill_track_record

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
THROUGH = date(2026, 2, 26)
TRACK_WEEKS = 26
LATER = date(2026, 11, 30)  # a "today" long after the data

pytestmark = [pytest.mark.slow, pytest.mark.integration]

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright (python) is not installed: pip install playwright"
)
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} not found: apt-get install chromium", allow_module_level=True)


def _payload(as_of: str, p50: float) -> dict[str, Any]:
    weeks = []
    for k in range(13):
        mean = 350.0 + 90 * k
        weeks.append(
            {
                "week_ending": (date(2026, 3, 1) + timedelta(weeks=k)).isoformat(),
                "mean": mean,
                "p10": round(mean * 0.45, 1),
                "p50": round(mean * 0.92, 1),
                "p90": round(mean * 1.75, 1),
            }
        )
    return {
        "as_of": as_of,
        "model": "ensemble",
        "weekly": weeks,
        "year_end": {
            "year": int(as_of[:4]),
            "observed_ytd": 2209,
            "mean": p50 + 600,
            "p10": p50 - 8500,
            "p50": p50,
            "p90": p50 + 10700,
            "prob_exceeds": {"2025": 0.31, "2024": 0.62, "2023": 0.81, "2022": 0.12},
        },
    }


def _milestones() -> pd.DataFrame:
    rows = [
        ("round", "10,000", 10_000, 0.97, "2026-05-20", "2026-06-25", "2026-08-01"),
        ("year_total", "2025", 41_472, 0.31, "2026-11-20", None, None),
        ("record", "2022", 45_755, 0.2, "2026-12-10", None, None),
        ("round", "60,000", 60_000, 0.04, None, None, None),
    ]
    frame = pd.DataFrame([(THROUGH, "ensemble", 2026, *r) for r in rows], columns=MILESTONE_COLUMNS)
    for column in ("date_p10", "date_p50", "date_p90"):
        frame[column] = pd.to_datetime(frame[column])
    return frame


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory, releases_store: Path) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("browser")
    db = folder / "crossings.duckdb"
    shutil.copy2(releases_store, db)
    fill = fill_track_record(db, THROUGH, TRACK_WEEKS)
    assert len(fill.fitted) == TRACK_WEEKS and not fill.failed
    for as_of, p50 in (("2026-02-26", 39_500.0), ("2030-01-01", 77_777.0)):
        read = store.read_as_of(db, date.fromisoformat(as_of))
        save_payload(db, _payload(as_of, p50), read)
    store.save_frame(db, "forecast_milestones", _milestones(), key=["as_of", "model"])
    reports = folder / "reports"
    path = write_report(db, reports, today=date(2026, 2, 27))
    return {"folder": folder, "db": db, "reports": reports, "path": path}


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


def _open(browser: Any, path: Path, width: int) -> tuple[Any, _Watch, float]:
    page = browser.new_page(viewport={"width": width, "height": 900})
    watch = _Watch(page)
    started = time.monotonic()
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_function(ALL_DRAWN, timeout=30_000)
    return page, watch, time.monotonic() - started


def _text(page: Any, selector: str) -> str:
    return " ".join(page.locator(selector).inner_text().split())


def _overflow(page: Any) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def _expected_track_record(db: Path) -> tuple[int, int, float, float]:
    """(weeks, held, our MAE, same-week-last-year MAE) from the store directly: each Sunday's
    production forecast of the week ending 7 days later, against that week's total."""
    daily = store.latest_daily(db).daily
    by_day = dict(zip(daily["date"], daily["migrants_arrived"], strict=True))

    def week(end: date) -> int:
        return sum(by_day[end - timedelta(days=k)] for k in range(7))

    rows = store.read_frame(
        db,
        "SELECT f.as_of, w.week_ending, w.p10, w.p50, w.p90 FROM forecasts f "
        "JOIN forecast_weeks w USING (as_of, model) WHERE f.production "
        "AND w.week_ending = f.as_of + INTERVAL 7 DAY AND dayofweek(f.as_of) = 0 "
        "AND w.week_ending <= ?",
        [THROUGH],
    )
    actual = np.array([week(d.date()) for d in rows["week_ending"]])
    naive = np.array([week(d.date() - timedelta(weeks=52)) for d in rows["week_ending"]])
    held = int(((rows["p10"] <= actual) & (actual <= rows["p90"])).sum())
    return (
        len(rows),
        held,
        float(np.mean(np.abs(rows["p50"] - actual))),
        float(np.mean(np.abs(naive - actual))),
    )


def test_current_page_draws_offline_with_its_forecast_and_track_record(
    browser: Any, written: dict[str, Any]
) -> None:
    path = written["path"]
    size_mb = path.stat().st_size / 1e6
    assert size_mb <= 6 * 1024 * 1024 / 1e6
    weeks, held, ours, naive = _expected_track_record(written["db"])
    assert weeks == TRACK_WEEKS and 0 < held <= weeks
    timings = {}
    for name, width in (("desktop", 1280), ("phone", 390)):
        page, watch, seconds = _open(browser, path, width)
        timings[name] = round(seconds, 2)
        assert watch.errors == [], watch.errors
        assert watch.outside() == [], watch.outside()
        charts = page.locator(".plotly-graph-div")
        assert charts.count() >= 7  # the track record's chart included
        for i in range(charts.count()):
            assert charts.nth(i).locator("svg.main-svg").count() > 0
        text = _text(page, "#headline")
        assert "2,209" in text and "2nd highest" in text and "2023: 2,953" in text
        assert text.count("2,056") == 1
        assert "Open Government Licence v3.0" in _text(page, "#licence")
        assert page.locator("#stale-warning").count() == 0
        # the forecast of 26 February, never the one dated 2030 made from the same data
        summary = _text(page, "#forecast-summary")
        assert "Our forecast of 26 February 2026" in summary and "39,500" in summary
        assert "77,777" not in page.content()
        # the track record, in plain words, with the figures the store gives
        sentence = _text(page, "#track-sentence")
        assert (
            f"Over the last {weeks} weeks, {how_many_of(held, weeks)} weekly ranges "
            "held the real figure"
        ) in sentence
        error = _text(page, "#track-error")
        assert f"off by about {round(ours):,} people" in error
        assert f"off by about {round(naive):,}" in error
        # the milestones, from forecast_milestones
        rows = page.locator("#milestones tbody tr")
        assert rows.count() == 4
        assert " ".join(rows.nth(0).inner_text().split()) == (
            "10,000 people almost certain 25 June 20 May to 1 August"
        )
        assert "unlikely this year" in rows.nth(3).inner_text()
        assert "Chance 2026 ends above 2025 31%" in _text(page, ".cards")
        # at phone width nothing may force sideways scrolling, analysts' tables open or shut
        assert _overflow(page) <= 1, f"page is {_overflow(page)}px wider than {width}px"
        page.locator("#for-analysts > summary").click()
        assert page.locator("#scores").is_visible()
        assert _overflow(page) <= 1, f"open analysts' section overflows at {width}px"
        lines = page.evaluate(
            "[...document.querySelectorAll('code')].map(c => c.getClientRects().length)"
        )
        assert lines and set(lines) == {1}  # model names never break mid-word
        page.screenshot(path=str(written["folder"] / f"report-{name}.png"), full_page=True)
        page.close()
    (written["folder"] / "timings.json").write_text(
        json.dumps({"size_mb": round(size_mb, 2), "load_to_drawn_seconds": timings})
    )
    print(f"report {size_mb:.2f} MB, drawn in {timings} s; screenshots in {written['folder']}")


def test_historical_pages_show_their_own_forecast_and_staleness(
    browser: Any, written: dict[str, Any]
) -> None:
    db, reports = written["db"], written["folder"] / "history"
    january = write_report(db, reports, date(2026, 1, 25), today=LATER)
    page, watch, _ = _open(browser, january, 390)
    assert watch.errors == [] and watch.outside() == []
    assert "Our forecast of 25 January 2026" in _text(page, "#forecast-summary")
    assert page.locator("#stale-warning").count() == 0  # fresh on 25 January, whatever today
    # its own forecast's milestones (the engine stores them with every forecast), not today's
    assert "Milestones for 2026" in _text(page, "#milestones")
    assert page.locator("#milestones").count() == 1
    assert "Over the last" in _text(page, "#track-sentence")
    assert _overflow(page) <= 1
    page.close()

    # a page dated after the figures would pass for a current one: refused, nothing written
    with pytest.raises(BadArgument, match="after the last day with figures"):
        write_report(db, reports, date(2026, 5, 3), today=LATER)
    assert not (reports / "2026-05-03").exists()

    current = write_report(db, reports, today=LATER)
    page, _, _ = _open(browser, current, 1280)
    assert "277 days before 30 November 2026" in _text(page, "#stale-warning")
    page.close()


def test_root_index_leads_to_latest(browser: Any, written: dict[str, Any]) -> None:
    reports = written["reports"]
    # an older run beside it: the root index must still lead to the newest
    older = reports / "2026-01-31"
    older.mkdir(exist_ok=True)
    shutil.copy(written["path"], older / "index.html")
    write_report(written["db"], reports, today=date(2026, 2, 27))

    page = browser.new_page(viewport={"width": 390, "height": 800})
    watch = _Watch(page)
    page.goto((reports / "index.html").as_uri(), wait_until="load")
    links = page.locator("#runs a")
    assert [links.nth(i).inner_text() for i in range(links.count())] == [
        "26 February 2026",
        "31 January 2026",
    ]
    assert "2,209 in 2026" in _text(page, "#runs") and "39,500" in _text(page, "#runs")
    assert _overflow(page) <= 1
    page.locator("#latest").click()
    page.wait_for_url("**/2026-02-26/index.html")
    page.wait_for_function(ALL_DRAWN, timeout=30_000)
    assert "2,209" in page.locator("#headline").inner_text()
    page.locator("a", has_text="All reports").click()
    page.wait_for_url("**/reports/index.html")
    assert watch.errors == [] and watch.outside() == []
    page.close()


@pytest.fixture(scope="module")
def snapshot_reports(
    tmp_path_factory: pytest.TempPathFactory, latest_store: Path
) -> dict[str, Any]:
    """What a new user sees: the bundled snapshot's release, the engine's forecast and its track
    record (52 weekly forecasts fitted from it), read five weeks later (stale)."""
    folder = tmp_path_factory.mktemp("snapshot-browser")
    db = folder / "crossings.duckdb"
    shutil.copy2(latest_store, db)
    fill_track_record(db, THROUGH)
    forecast_and_store(db, THROUGH)
    reports = folder / "reports"
    path = write_report(db, reports, today=date(2026, 4, 1))
    return {"folder": folder, "db": db, "path": path, "index": reports / "index.html"}


def _history_dates(db: Path) -> list[str]:
    """Every stored production forecast of 2026 made from figures to 26 February or before."""
    rows = store.read_frame(
        db,
        "SELECT DISTINCT as_of FROM forecasts WHERE production AND year = 2026 "
        "AND as_of <= ? ORDER BY as_of",
        [THROUGH],
    )
    return [d.date().isoformat() for d in pd.to_datetime(rows["as_of"])]


def test_a_readers_check_of_the_snapshot_at_desktop_and_phone_widths(
    browser: Any, snapshot_reports: dict[str, Any]
) -> None:
    path, index = snapshot_reports["path"], snapshot_reports["index"]
    assert path.stat().st_size <= 6 * 1024 * 1024
    shots = snapshot_reports["folder"]
    for width in (1280, 390):
        page, watch, _ = _open(browser, path, width)
        assert watch.errors == [] and watch.outside() == [], (watch.errors, watch.outside())
        charts = page.locator(".plotly-graph-div")
        assert charts.count() >= 8
        for i in range(charts.count()):
            assert charts.nth(i).locator("svg.main-svg").count() > 0
        why = _text(page, "#why-this-forecast")
        assert "72% of the same weeks a year earlier" in why
        assert "yet the projection ends below 2025's total" in why
        assert page.locator("#why-members li").count() == 4
        assert page.locator("#what-changed").count() == 1
        assert "Stale data" in _text(page, "#stale-warning")
        # the projection's history: one point per stored as-of date of the year
        points = page.evaluate(
            "document.getElementById('chart-projection-history').data"
            ".find(t => (t.name || '').startsWith('Projected')).x"
        )
        assert points == _history_dates(snapshot_reports["db"])
        # the weekly chart's ticks read the UK way ("30 Nov 2025"), never "Nov 30"
        ticks = page.eval_on_selector_all(
            "#chart-weekly .xtick text", "els => els.map(e => e.textContent)"
        )
        assert ticks and all(re.fullmatch(r"\d{1,2} [A-Z][a-z]{2} \d{4}", t) for t in ticks), ticks
        assert _overflow(page) <= 1, f"page is {_overflow(page)}px wider than {width}px"
        page.screenshot(path=str(shots / f"snapshot-report-{width}.png"), full_page=True)
        page.close()

        page = browser.new_page(viewport={"width": width, "height": 900})
        watch = _Watch(page)
        page.goto(index.as_uri(), wait_until="load")
        assert watch.errors == [] and watch.outside() == []
        assert "Stale data" in _text(page, "#stale-warning")
        assert "Home Office figures to 26 February 2026" in _text(page, "#figures-through")
        assert "Generated on" in _text(page, "#generated")
        assert _overflow(page) <= 1
        page.screenshot(path=str(shots / f"snapshot-index-{width}.png"), full_page=True)
        page.close()
    print(f"screenshots: {shots}/snapshot-*.png")
