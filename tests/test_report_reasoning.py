"""The report explains itself on the real bundled snapshot: why the forecast says what it says
(computed, so a second date reads differently), what changed since the last forecast, one row
per milestone total, honest "N in 10", UK dates in charts, plain words in the reader's part.

Stores hold the real release of 27 February 2026 (the bundled snapshot) or every real weekly
release; forecasts are made by the engine itself. Expected figures are computed here from the
store's own reads, independently of the report's code.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from forecasting import store
from forecasting.operations.forecast import forecast_and_store
from forecasting.report import write_report
from forecasting.ytd import year_to_date

THROUGH = date(2026, 2, 26)
AGREE = date(2025, 9, 30)  # 2025 up on 2024 so far, and projected above 2024's total
TODAY = date(2026, 2, 27)


@pytest.fixture(scope="module")
def snapshot(latest_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The snapshot's store with the engine's forecasts of 26 February 2026 and 30 September
    2025 (written once; tests only read it)."""
    db = tmp_path_factory.mktemp("snapshot") / "crossings.duckdb"
    shutil.copy2(latest_store, db)
    forecast_and_store(db, THROUGH)
    forecast_and_store(db, AGREE)
    return db


def _words(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).replace("&#39;", "'").split())


def _section(html: str, element_id: str) -> str:
    found = re.search(rf'<section id="{element_id}".*?</section>', html, re.S)
    assert found, f"no section {element_id}"
    return _words(found.group(0))


def _reader_part(html: str) -> str:
    """The page a reader reads: before the analysts' section and the provenance block."""
    return _words(html[: html.index('id="for-analysts-section"')])


@pytest.fixture(scope="module")
def pages(snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[date, str]:
    out = tmp_path_factory.mktemp("pages")
    return {
        day: write_report(snapshot, out, day, today=TODAY).read_text("utf-8")
        for day in (THROUGH, AGREE)
    }


def _level_trailing(db: Path, as_of: date) -> float:
    runs = store.read_forecast_frames(db, as_of, production_only=True).runs
    return float(runs["level_trailing"].iloc[0])


def test_why_states_the_recent_level_and_why_the_projection_is_below_last_year(
    snapshot: Path, pages: dict[date, str]
) -> None:
    why = _section(pages[THROUGH], "why-this-forecast")
    level = _level_trailing(snapshot, THROUGH)
    assert round(level * 100) == 72  # the level check the model makes, as measured today
    assert "ran at 72% of the same weeks a year earlier" in why
    ytd = year_to_date(store.latest_daily(snapshot).daily, THROUGH).table
    assert ytd["change_pct"].iloc[-1] > 0  # the year so far is up...
    year_end = store.read_forecast_frames(snapshot, THROUGH, production_only=True).year_end
    assert year_end["p50"].iloc[0] < 41_472  # ...and the projection below 2025's total
    assert "Why the year so far is up 7% on 2025 yet the projection ends below 2025's total" in why
    share = ytd["migrants_arrived"].iloc[-2] / 41_472
    assert f"only {round(share * 100)}% of 2025's total had arrived" in why


def test_why_is_computed_in_the_library_as_typed_facts(snapshot: Path) -> None:
    """The reasoning without any HTML: `report.contents.why` on the data the page reads."""
    from forecasting.report.contents import why
    from forecasting.report.data import load_report_data

    facts = why(load_report_data(snapshot, THROUGH))
    assert facts is not None
    assert facts.level_trailing == pytest.approx(_level_trailing(snapshot, THROUGH))
    assert (facts.ytd_up, facts.projection_up, facts.disagree) == (True, False, True)
    assert [m.model for m in facts.members] == ["profile", "ets", "trend_fourier"]
    assert facts.rest is not None and facts.rest.best_year is not None
    assert facts.sentences[0] == facts.direction_sentence()
    agree = why(load_report_data(snapshot, AGREE))
    assert agree is not None and not agree.disagree
    assert agree.sentences[0] != facts.sentences[0]


def test_the_chance_and_the_median_agree_as_one_set_of_simulations(
    snapshot: Path, pages: dict[date, str]
) -> None:
    """The chance of passing last year is read off the same simulated years as the median: a
    median below 2025's total comes with a chance below one in two, never a rule's 67%."""
    frames = store.read_forecast_frames(snapshot, THROUGH, production_only=True)
    m = frames.milestones
    chance = float(m[(m["kind"] == "year_total") & (m["label"] == "2025")]["probability"].iloc[0])
    median = float(frames.year_end["p50"].iloc[0])
    assert (chance > 0.5) == (median > 41_472)
    rows = m[m["probability"] < 1].sort_values("threshold")
    assert rows["probability"].is_monotonic_decreasing  # a bigger total is never likelier
    assert "points the other way from the median" not in _words(pages[THROUGH])


def test_why_names_each_member_in_plain_words(snapshot: Path, pages: dict[date, str]) -> None:
    why = _section(pages[THROUGH], "why-this-forecast")
    members = store.read_forecast_frames(snapshot, THROUGH).year_end.set_index("model")
    for model in ("profile", "ets", "trend_fourier"):
        assert f"about {round(members.at[model, 'p50']):,} (80% range" in why
        assert model not in why  # code names stay with the analysts
    assert why.count("(80% range") == 4  # three members and last year's weeks repeated


def test_why_says_what_the_rest_of_the_year_would_need(
    snapshot: Path, pages: dict[date, str]
) -> None:
    daily = store.latest_daily(snapshot).daily
    days = [d for d in daily["date"]]
    ytd = int(year_to_date(daily, THROUGH).table["migrants_arrived"].iloc[-1])
    needed = 41_472 + 1 - ytd
    per_week = needed / ((date(2026, 12, 31) - THROUGH).days / 7)
    best = {}
    for year in range(2019, 2026):
        start = date(year, 2, 27)
        best[year] = int(
            daily["migrants_arrived"][[start <= d <= date(year, 12, 31) for d in days]].sum()
        )
    top = max(best, key=lambda y: best[y])
    why = _section(pages[THROUGH], "why-this-forecast")
    assert (
        f"2026 would need about {round(per_week):,} a week from now to the end of December "
        f"({needed:,} in all); the most in the same weeks of any year so far was "
        f"{best[top]:,}"
    ) in why
    assert f"in {top}." in why


def test_why_says_why_the_range_is_this_wide(snapshot: Path, pages: dict[date, str]) -> None:
    """The year-end range's reasons: each earlier year's miss at this point of the year, as the
    forecast stored them, and the widening for few years (Student's t, computed here)."""
    import numpy as np
    from scipy.stats import norm, t

    for day, years in ((THROUGH, list(range(2019, 2026))), (AGREE, list(range(2019, 2025)))):
        frames = store.read_forecast_frames(snapshot, day, production_only=True)
        errors = json.loads(frames.runs["remaining_year_errors"].iloc[0])
        assert [int(y) for y in errors] == years  # every earlier year with a year before it
        ratio = {int(y): float(np.exp(e)) for y, e in errors.items()}
        # a tripling year missed low, a fall high (against each forecast's own centre, the
        # median of its paths: 2.0 times in 2021, where the sum of the members' medians gave 3.8)
        assert ratio[2021] > 1.5 and ratio[2023] < 1
        why = _section(pages[day], "why-this-forecast")
        ye = frames.year_end.iloc[0]
        assert f"Why the 80% range ({round(ye['p10']):,} to {round(ye['p90']):,})" in why
        said = {y: f"{r:.1f}" if r >= 1 else f"{r:.2f}" for y, r in ratio.items()}
        assert f"came to {said[2019]} times the forecast in 2019, " in why
        assert f" and {said[years[-1]]} times in {years[-1]}." in why
        assert f"{said[2023]} times in 2023" in why
        wider = t.ppf(0.9, df=len(years)) / norm.ppf(0.9) - 1
        few = f"{len(years)} earlier years are known"
        assert f"drawn {round(100 * wider)}% wider because only {few}" in why
        assert "Each miss is weighed against how unsure that forecast was" in why


def test_a_date_where_the_year_so_far_and_the_projection_agree_reads_differently(
    pages: dict[date, str],
) -> None:
    agree = _section(pages[AGREE], "why-this-forecast")
    disagree = _section(pages[THROUGH], "why-this-forecast")
    assert "The year so far and the projection point the same way: 2025 is up" in agree
    assert "above 2024's total" in agree
    assert "Why the year so far" not in agree
    assert agree.split(".")[0] != disagree.split(".")[0]


def test_what_changed_after_a_second_publication(releases_store: Path, tmp_path: Path) -> None:
    db = tmp_path / "crossings.duckdb"
    shutil.copy2(releases_store, db)
    before = date(2026, 2, 19)  # the release of 20 February's last day
    assert store.read_as_of(db, before).data_through == before
    forecast_and_store(db, before)
    forecast_and_store(db, THROUGH)
    html = write_report(db, tmp_path / "reports", THROUGH, today=TODAY).read_text("utf-8")
    old, new = store.read_as_of(db, before).daily, store.read_as_of(db, THROUGH).daily
    old_by_day = dict(zip(old["date"], old["migrants_arrived"], strict=True))
    new_days = new[[d > before for d in new["date"]]]
    revised = [
        d
        for d, v in zip(new["date"], new["migrants_arrived"], strict=True)
        if d in old_by_day and old_by_day[d] != v
    ]
    p50 = {
        d: store.read_forecast_frames(db, d, production_only=True).year_end["p50"].iloc[0]
        for d in (before, THROUGH)
    }
    moved = round(p50[THROUGH]) - round(p50[before])
    changed = _section(html, "what-changed")
    assert (
        f"Since our forecast of 19 February 2026: {len(new_days)} new days of figures "
        f"(20 February to 26 February), {int(new_days['migrants_arrived'].sum()):,} people"
    ) in changed
    if revised:
        assert f"{len(revised)} earlier day" in changed
    else:
        assert "no earlier day was revised" in changed
    assert f"moved {'up' if moved > 0 else 'down'} by {abs(moved):,}" in changed
    # the projection's history: one point per stored as-of date of the year
    history = _chart_json(html, "projection-history")
    median = next(t for t in history["data"] if t.get("name", "").startswith("Projected"))
    assert median["x"] == [before.isoformat(), THROUGH.isoformat()]
    assert [round(v) for v in median["y"]] == [round(p50[before]), round(p50[THROUGH])]


def _chart_json(html: str, slug: str) -> dict:
    found = re.search(rf'<script type="application/json" id="figure-{slug}">(.*?)</script>', html)
    assert found, f"no chart {slug}"
    return json.loads(found.group(1))


def test_milestones_list_each_total_once_named_by_its_year(
    snapshot: Path, pages: dict[date, str]
) -> None:
    stored = store.read_forecast_frames(snapshot, THROUGH, production_only=True).milestones
    assert (stored["threshold"] == 45_755).sum() == 2  # the record (2022) and 2022's total
    table = pages[THROUGH].split('<table id="milestones"')[1].split("</table>")[0]
    rows = [_words(r) for r in table.split("<tr>")[2:]]
    assert len(rows) == stored["threshold"].nunique()
    assert sum("45,755" in r for r in rows) == 1
    assert any(r.startswith("2022's total, the record, 45,755") for r in rows)


def test_charts_write_dates_the_uk_way(pages: dict[date, str]) -> None:
    html = pages[THROUGH]
    for slug in ("weekly", "daily", "track-record", "projection-history", "preventions"):
        if f'id="figure-{slug}"' not in html:
            continue
        xaxis = _chart_json(html, slug)["layout"]["xaxis"]
        assert xaxis["tickformat"].startswith("%-d %b"), (slug, xaxis.get("tickformat"))
        assert "%-d %B" in xaxis["hoverformat"], slug


def test_the_readers_part_has_no_jargon_commands_or_hashes(
    snapshot: Path, pages: dict[date, str]
) -> None:
    html = pages[THROUGH]
    reader = _reader_part(html)
    assert "percentile" not in reader.lower()
    commands = r"\bcrossings (ytd|report|run|forecast|ingest|backtest|backfill|export|notify)\b"
    assert not re.search(commands, reader)
    sha = store.read_frame(snapshot, "SELECT sha256 FROM publications")["sha256"].iloc[0]
    assert sha not in reader and sha in html  # the hash stays in the provenance block
    for slug in ("weekly", "track-record", "projection-history"):
        names = [t.get("name", "") for t in _chart_json(html, slug)["data"]]
        assert not any("percentile" in n for n in names), names
    assert "Ensemble ensemble" not in _words(html)


def test_no_word_is_doubled_in_the_analysts_model_names(pages: dict[date, str]) -> None:
    analysts = pages[THROUGH].split('id="for-analysts-section"')[1]
    assert "Ensemble ensemble" not in _words(analysts)
    assert "Median of three models (<code>ensemble</code>)" in analysts


@pytest.mark.parametrize(
    ("held", "weeks", "said"),
    [(39, 52, "3 in 4"), (38, 52, "38 of 52"), (47, 52, "9 in 10"), (4, 7, "4 of 7")],
)
def test_n_in_10_never_rounds_a_rate_up(held: int, weeks: int, said: str) -> None:
    from forecasting.report.formats import how_many_of

    assert how_many_of(held, weeks) == said
    if " in " in said:
        a, b = (int(x) for x in said.split(" in "))
        assert a / b <= held / weeks  # the old round(10 * 39 / 52) said "8 in 10"


def test_report_as_of_after_the_figures_is_refused_in_one_line(
    crossings: Callable[[list[str]], Any], snapshot: Path, tmp_path: Path
) -> None:
    later = THROUGH + timedelta(days=30)
    reports = tmp_path / "reports"
    run = crossings(
        ["report", "--db", str(snapshot), "--reports-dir", str(reports), "--as-of", str(later)]
    )
    assert run.status == 2
    lines = run.lines
    assert len(lines) == 1 and "after the last day with figures (26 February 2026)" in lines[0]
    assert not (reports / later.isoformat()).exists()
    assert not (reports / "index.html").exists()


def test_index_carries_the_stale_warning_and_its_dates(snapshot: Path, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    write_report(snapshot, reports, today=date(2026, 4, 1))
    index = _words((reports / "index.html").read_text("utf-8"))
    assert "Stale data: the newest publication held runs to 26 February 2026" in index
    assert "Home Office figures to 26 February 2026." in index
    assert re.search(r"Generated on \d{1,2} [A-Z][a-z]+ \d{4} at \d\d:\d\d UTC", index)
    write_report(snapshot, reports, today=date(2026, 2, 27))
    fresh = _words((reports / "index.html").read_text("utf-8"))
    assert "Stale data" not in fresh and "Home Office figures to 26 February 2026." in fresh
