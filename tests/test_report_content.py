"""What the report says: the forecast and staleness it shows on current and historical pages,
its track record, milestones, revisions, CSV downloads and the index of runs.

Stores are made up (tests/report_store.py) so every expected figure is computed here from the
inputs, independently of the report's own code.
"""

from __future__ import annotations

import io
import json
import re
import shutil
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pandas as pd
import pytest
from ods_factory import daily_rows, write_release
from report_store import (
    SUNDAYS,
    THROUGH,
    build_store,
    forecast_payload,
    save_payload,
)

from forecasting import report, store
from forecasting.calendar import BadArgument
from forecasting.frames import MILESTONE_COLUMNS
from forecasting.ingest import ingest_source
from forecasting.report import formats, series
from forecasting.report.data import load_report_data
from forecasting.report.formats import how_many_of

TODAY = date(2026, 11, 30)


@pytest.fixture(scope="module")
def base(report_store: Path) -> Path:
    """A store with forecasts of 26 Feb, 8 Jan and each Sunday 4 Jan - 15 Feb (never written to:
    tests that add rows use `copy`)."""
    return report_store


@pytest.fixture
def copy(base: Path, tmp_path: Path) -> Path:
    db = tmp_path / "store" / "crossings.duckdb"
    db.parent.mkdir()
    shutil.copy2(base, db)
    return db


def _words(page: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def _page(db: Path, folder: Path, as_of: date | None = None, today: date = TODAY) -> str:
    return report.write_report(db, folder, as_of, today=today).read_text("utf-8")


def _save(db: Path, as_of: date, p50: float) -> None:
    """A forecast as of `as_of` made from the data known then (recorded like the engine's)."""
    read = store.read_as_of(db, as_of)
    save_payload(db, forecast_payload(as_of, p50=p50), read)


# ---------------------------------------------------------------------------------------------
# The forecast shown, and staleness


def test_forecast_dated_after_the_page_is_never_shown(copy: Path, tmp_path: Path) -> None:
    _save(copy, date(2030, 1, 1), 77_777.0)  # `crossings forecast --as-of 2030-01-01`
    _save(copy, date(2026, 3, 15), 66_666.0)  # a backfill past the data's end
    assert store.read_as_of(copy, date(2030, 1, 1)).data_through == THROUGH  # same data
    current = _words(_page(copy, tmp_path / "r"))
    assert "Our forecast of 26 February 2026 puts the 2026 total at about 9,400" in current
    assert "77,777" not in current and "66,666" not in current
    assert "No forecast" not in current
    assert "Our forecast for the 2026 total 9,400" in current  # the card is back
    # a historical page shows the newest forecast made on or before its date
    assert load_report_data(copy, date(2026, 2, 1)).forecast.as_of == date(2026, 2, 1)
    assert load_report_data(copy, date(2026, 2, 4)).forecast.as_of == date(2026, 2, 1)
    assert load_report_data(copy, date(2026, 1, 9)).forecast.as_of == date(2026, 1, 8)
    historical = _words(_page(copy, tmp_path / "r", date(2026, 2, 4)))
    assert "Our forecast of 1 February 2026" in historical
    assert "forecast of 26 February" not in historical.lower()
    assert load_report_data(copy, date(2026, 1, 2)).forecast is None  # none made by then


def test_staleness_is_judged_against_the_page_date(base: Path, tmp_path: Path) -> None:
    current = _words(_page(base, tmp_path / "r"))
    assert (
        "Stale data: the newest publication held runs to 26 February 2026, 277 days "
        "before 30 November 2026" in current
    )
    nightly = _words(_page(base, tmp_path / "r", THROUGH))  # the nightly passes its own date
    assert "277 days before 30 November 2026" in nightly
    # a page dated after the figures is refused (it would pass for a current one); a page of a
    # store whose figures were old on the page's own date says so, judged on that date
    with pytest.raises(BadArgument, match="after the last day with figures"):
        _page(base, tmp_path / "r", date(2026, 5, 3))
    assert not (tmp_path / "r" / "2026-05-03").exists()
    may = report.stale_warning(THROUGH, TODAY, as_of=date(2026, 5, 3))
    assert may is not None
    assert (
        "on 3 May 2026 the newest figures held ran only to 26 February 2026, 66 days earlier" in may
    )
    february = _page(base, tmp_path / "r", date(2026, 2, 1))
    assert 'id="stale-warning"' not in february  # fresh on its own date, whatever today is


# ---------------------------------------------------------------------------------------------
# Track record


def _expected_record(db: Path) -> tuple[int, int, float, float]:
    """(weeks, held, our MAE, same-week-last-year MAE), from the payloads and the daily figures
    directly: each Sunday's forecast of the week ending 7 days later."""
    daily = store.latest_daily(db).daily
    by_day = dict(zip(daily["date"], daily["migrants_arrived"], strict=True))

    def week(end: date) -> int:
        return sum(by_day[end - timedelta(days=k)] for k in range(7))

    held, ours, naive = 0, [], []
    for k, sunday in enumerate(SUNDAYS):
        level = (150.0, 420.0)[k % 2]
        actual = week(sunday + timedelta(days=7))
        held += level * 0.5 <= actual <= level * 1.7
        ours.append(abs(level * 0.95 - actual))
        naive.append(abs(week(sunday + timedelta(days=7) - timedelta(weeks=52)) - actual))
    return len(SUNDAYS), held, float(np.mean(ours)), float(np.mean(naive))


def test_track_record_sentence_from_the_stored_forecasts(base: Path, tmp_path: Path) -> None:
    weeks, held, ours, naive = _expected_record(base)
    assert 0 < held < weeks  # the made-up forecasts both hold and miss
    page = _page(base, tmp_path / "r")
    text = _words(page)
    said = how_many_of(held, weeks)
    assert f"Over the last {weeks} weeks, {said} weekly ranges held the real figure" in text
    if " in " in said:  # a fraction names its counts beside it, never a rate rounded up
        a, b = (int(x) for x in said.split(" in "))
        assert a / b <= held / weeks
        assert f"({held} of {weeks})" in text
    assert f"was off by about {round(ours):,} people" in text
    assert f"would have been off by about {round(naive):,}" in text
    assert ("so ours did better" in text) == (ours < naive)
    # the chart of past forecasts against what happened, and its data
    csv = _csv(page, "track-record")
    assert csv["week_ending"].tolist() == [str(d + timedelta(days=7)) for d in SUNDAYS]
    assert int(csv["inside_80"].sum()) == held


def test_no_earlier_forecast_says_so(tmp_path: Path) -> None:
    db = build_store(tmp_path, note=None)
    save_payload(db, forecast_payload(THROUGH))
    page = _page(db, tmp_path / "r", today=THROUGH)
    assert "No earlier forecast can be checked yet" in _words(page)
    assert 'id="track-record"' not in page


# ---------------------------------------------------------------------------------------------
# Milestones


def _milestones(year_2025_total: int) -> pd.DataFrame:
    rows = [
        ("round", "1,000", 1_000, 1.0, None, None, None),
        ("round", "5,000", 5_000, 0.95, date(2026, 5, 2), date(2026, 6, 14), date(2026, 8, 30)),
        ("year_total", "2025", year_2025_total, 0.42, date(2026, 9, 1), None, None),
        ("round", "10,000", 10_000, 0.3, date(2026, 11, 1), None, None),
        ("record", "2025", 90_000, 0.05, None, None, None),
    ]
    frame = pd.DataFrame([(THROUGH, "ensemble", 2026, *r) for r in rows], columns=MILESTONE_COLUMNS)
    for column in ("date_p10", "date_p50", "date_p90"):
        frame[column] = pd.to_datetime(frame[column])
    return frame


def test_milestones_table_read_when_stored(copy: Path, tmp_path: Path) -> None:
    daily = store.latest_daily(copy).daily
    total_2025 = int(series.complete_year_totals(daily).set_index("year").loc[2025].iloc[0])
    store.save_frame(copy, "forecast_milestones", _milestones(total_2025), key=["as_of", "model"])
    page = _page(copy, tmp_path / "r")
    table = page[page.index('<table id="milestones"') :]
    table = table[: table.index("</table>")]
    cells = [
        re.findall(r"<td[^>]*>(.*?)</td>", row)
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)
    ]
    cells = [c for c in cells if c]
    running = np.cumsum(
        [v for d, v in zip(daily["date"], daily["migrants_arrived"], strict=True) if d.year == 2026]
    )
    passed = date(2026, 1, 1) + timedelta(days=int(np.argmax(running > 1000)))
    small = '<br><span class="small">'
    assert cells[0] == ["1,000 people", "passed", f"passed on {passed.day} {passed:%B}"]
    # a chance at its bound (95%, 5%) says the data say little there: words, not a figure
    assert cells[1] == [
        "5,000 people",
        "almost certain",
        f"14 June{small}2 May to 30 August</span>",
    ]
    assert cells[2] == [
        f"2025&#39;s total, {total_2025:,}",
        "42%",
        f"less likely than not this year{small}1 September at the earliest</span>",
    ]
    assert cells[3][:2] == ["10,000 people", "30%"]
    assert cells[4] == ["The record (2025), 90,000", "very unlikely", "unlikely this year"]
    text = _words(page)
    assert "Chance 2026 ends above 2025 42%" in text  # from the milestones, not prob_exceeds
    assert 'id="prob-exceeds"' not in page
    # a page whose forecast has no milestone rows says nothing about milestones
    older = _page(copy, tmp_path / "r", date(2026, 2, 1))
    assert 'id="milestones"' not in older and "Milestones" not in older


# ---------------------------------------------------------------------------------------------
# Revisions


def _two_releases(folder: Path, *, change: int) -> Path:
    """Releases of 20 and 27 February; the later one revises 10 February by `change`."""
    db = folder / "crossings.duckdb"
    first = daily_rows(date(2026, 2, 19))
    ingest_source(db, write_release(folder / "raw", date(2026, 2, 20), daily=first))
    later = daily_rows(THROUGH)
    row = next(r for r in later[1:] if r[0] == date(2026, 2, 10))
    row[1] += change
    ingest_source(db, write_release(folder / "raw", date(2026, 2, 27), daily=later))
    return db


def test_revisions_say_what_was_compared(tmp_path: Path) -> None:
    db = _two_releases(tmp_path, change=5)
    data = load_report_data(db)
    page = _page(db, tmp_path / "r", today=THROUGH)
    text = _words(page[page.index('id="revisions-summary"') :])
    assert (
        "in the 2 publications held for 26 February 2026 (2 weekly releases, from "
        "20_February_2026_Small_boats_-_time_series.ods to 27_February" in text
    )
    if data.revisions_source == "revisions":
        assert "We compared each day's figures (people and boats arriving; weekly figures" in text
        assert "1 figure was revised: 1 daily and 0 weekly" in text
    else:  # the store's ledger of every series: the week holding 10 February changes too
        assert data.revisions_source == "revision_ledger"
        assert "We compared every figure" in text and "weekly" in text
    row = re.search(r"<tr><td>People arrived</td><td>10 February 2026</td>(.*?)</tr>", page, re.S)
    assert row is not None
    before = daily_rows(THROUGH)[1:][(date(2026, 2, 10) - date(2018, 1, 1)).days][1]
    assert re.findall(r">([^<]*)</td>", row.group(1))[-3:] == [
        f"{before:,}",
        f"{before + 5:,}",
        "+5",
    ]
    # a page of an earlier date sees only the first release: nothing to compare with
    early = _words(_page(db, tmp_path / "r", date(2026, 2, 19), today=THROUGH))
    assert "Only one publication is held for this date, so there is nothing to compare" in early


def test_weekly_prevention_revisions_from_the_ledger(tmp_path: Path) -> None:
    db = _two_releases(tmp_path, change=0)
    if "revision_ledger" in set(
        store.read_frame(db, "SELECT table_name FROM information_schema.tables")["table_name"]
    ):
        pytest.skip("the store defines revision_ledger itself; the real one is tested above")
    ledger = pd.DataFrame(
        {
            "series": ["weekly.migrants_prevented"],
            "period": [date(2026, 2, 15)],
            "previous_publication": ["20_February_2026_Small_boats_-_time_series.ods"],
            "publication": ["27_February_2026_Small_boats_-_time_series.ods"],
            "previous_value": [812],
            "value": [790],
            "change": [-22],
        }
    )
    store.save_frame(db, "revision_ledger", ledger, key=["series", "period", "publication"])
    page = _page(db, tmp_path / "r", today=THROUGH)
    text = _words(page)
    assert (
        "We compared every figure (each day's people and boats arriving, and each week's "
        "totals and French prevention estimates)" in text
    )
    assert "1 figure was revised: 0 daily and 1 weekly" in text
    assert "People prevented from crossing by France week ending 15 February 2026" in text
    assert "812 790 -22" in text
    csv = pd.read_csv(
        io.StringIO(
            unquote(
                re.search(
                    r'download="revisions.csv" href="data:text/csv;charset=utf-8,([^"]*)"', page
                ).group(1)
            )
        )
    )
    assert csv["change"].tolist() == [-22]  # a negative number stays a number


# ---------------------------------------------------------------------------------------------
# CSV downloads


def test_csv_downloads_neutralise_formulas(tmp_path: Path) -> None:
    hostile = [
        '=HYPERLINK("http://evil.example","x")',
        "+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A9)",
        "\tleading tab",
        "\rleading return",
    ]
    frame = pd.DataFrame(
        {"note": [*hostile, "-12", "plain"], "change": [-5, 3, -1, 0, 2, -7, 1, 4]}
    )
    csv = pd.read_csv(
        io.StringIO(unquote(formats.csv_data_uri(frame).split(",", 1)[1])),
        keep_default_na=False,
        dtype={"note": str},
    )
    assert csv["note"].tolist() == ["'" + h for h in hostile] + ["-12", "plain"]
    assert csv["change"].tolist() == [-5, 3, -1, 0, 2, -7, 1, 4]  # numbers stay numbers
    # end to end: a Home Office note that is a formula downloads inert
    rows = daily_rows(THROUGH)
    rows[-3][4] = "=1+1"
    db = tmp_path / "crossings.duckdb"
    ingest_source(db, write_release(tmp_path / "raw", date(2026, 2, 27), daily=rows))
    page = _page(db, tmp_path / "r", today=THROUGH)
    daily = _csv(page, "daily")
    assert "'=1+1" in daily["note"].tolist() and "=1+1" not in daily["note"].tolist()
    assert pd.api.types.is_integer_dtype(daily["migrants_arrived"])


# ---------------------------------------------------------------------------------------------
# The index


def test_index_lists_runs_with_headline_figures(base: Path, tmp_path: Path) -> None:
    reports = tmp_path / "r"
    report.write_report(base, reports, THROUGH, today=THROUGH)
    report.write_report(base, reports, date(2026, 2, 1), today=THROUGH)
    report.write_report(base, reports, date(2026, 1, 11), today=THROUGH)
    index = (reports / "index.html").read_text("utf-8")
    summary = json.loads((reports / "2026-02-26" / "summary.json").read_text("utf-8"))
    ytd = load_report_data(base).ytd.table.iloc[-1]
    assert summary["ytd"] == int(ytd["migrants_arrived"]) and summary["projection"]["p50"] == 9400
    rows = re.findall(r"<tr><td><a href=\"([^\"]+)\">.*?</tr>", index, re.S)
    assert rows == ["2026-02-26/index.html", "2026-02-01/index.html", "2026-01-11/index.html"]
    text = _words(index)
    change = f"{'up' if ytd['change_pct'] >= 0 else 'down'} {abs(ytd['change_pct']):.0f}% on 2025"
    assert (
        f"26 February 2026 {int(ytd['migrants_arrived']):,} in 2026 {change} 9,400 "
        "(8,000 to 11,200)" in text
    )
    assert "1 February 2026" in text and "(8,000 to 11,200)" in text
    svg = re.search(r"<svg id=\"runs-chart\".*?</svg>", index, re.S)
    assert svg and svg.group(0).count("<polyline") == 2 and "<polygon" in svg.group(0)
    assert "http" not in svg.group(0) and "<script" not in index
    # a summary that is not what we wrote is ignored, not trusted
    (reports / "2026-02-01" / "summary.json").write_text('{"ytd": "<b>x</b>"}')
    report.write_report(base, reports, THROUGH, today=THROUGH)
    index = (reports / "index.html").read_text("utf-8")
    assert "<b>x</b>" not in index and "figures not recorded for this report" in index


# ---------------------------------------------------------------------------------------------


def _csv(page: str, slug: str) -> pd.DataFrame:
    match = re.search(
        rf'download="{slug}-[0-9-]+\.csv" href="data:text/csv;charset=utf-8,'
        r'([^"]*)"',
        page,
    )
    assert match, slug
    return pd.read_csv(io.StringIO(unquote(match.group(1))), keep_default_na=False)


def test_revisions_count_weekly_releases_and_daily_pages(
    tmp_path: Path, latest_release: Path, page_paths: list[Path]
) -> None:
    """Both kinds of publication are named, in words a reader can parse."""
    db = tmp_path / "crossings.duckdb"
    ingest_source(db, latest_release)
    ingest_source(db, page_paths[-1])  # the newest page, a day after the release's data
    text = _words(_page(db, tmp_path / "r", today=date(2026, 2, 28)))
    assert "publications held for" in text
    assert "(1 weekly release and 1 daily page, from " in text


def test_the_chance_of_passing_last_year_is_scored_beside_the_readers_rule(tmp_path: Path) -> None:
    """Forecasts made in a finished year: the page scores the chances they printed of passing
    the year before, beside the rule "ahead so far, so ahead at the end"."""
    db = build_store(tmp_path)
    daily = pd.DataFrame(daily_rows(THROUGH)[1:], columns=daily_rows(THROUGH)[0][:5])
    days = pd.to_datetime(daily.iloc[:, 0])
    people = daily.iloc[:, 1].astype(float)

    def to_date(d: date) -> float:
        return float(people[(days.dt.year == d.year) & (days <= pd.Timestamp(d))].sum())

    said = {date(2025, 3, 2): 0.3, date(2025, 9, 7): 0.8}
    for as_of, chance in said.items():
        payload = forecast_payload(as_of, observed_ytd=int(to_date(as_of)))
        payload["year_end"]["prob_exceeds"] = {"2024": chance}
        save_payload(db, payload, store.read_as_of(db, as_of))
    _save(db, SUNDAYS[-1], 9000.0)  # the forecast shown; the two above are earlier ones
    total = {y: float(people[days.dt.year == y].sum()) for y in (2024, 2025)}
    above = float(total[2025] > total[2024])
    ahead = [float(to_date(d) > to_date(d.replace(year=2024))) for d in said]
    ours = np.mean([(p - above) ** 2 for p in said.values()])
    rule = np.mean([(a - above) ** 2 for a in ahead])
    text = _words(_page(db, tmp_path / "r", today=THROUGH))
    assert (
        "our 2 earlier forecasts of 2025 (made 2 March 2025 to 7 September 2025) scored "
        f"{ours:.3f}" in text
    )
    assert f'so ahead at the end" scored {rule:.3f} taken as certain' in text
    verdict = "our chances did better" if ours < rule else "the rule did better"
    assert verdict in text
    happened = int(above)
    assert f"30% to 70% 1 30% {happened} of 1 70% or more 1 80% {happened} of 1" in text
