"""Deciding what to announce, from real stores: new figures, records, quiet sources, an older page
served after a newer one, a stuck "updated" stamp, revised history, held releases and failures.

Publications go in through the real ingest (the real releases and captures in ../shared/data,
or files written in the Home Office layout); `compute_alerts` then reads the real DuckDB store.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from hook_receiver import edited_page
from ods_factory import daily_rows, write_release

from forecasting.alert_headline import headline_figures
from forecasting.alerts import RunFacts, compute_alerts
from forecasting.ingest import ingest_source
from forecasting.settings import Settings
from forecasting.store import accept_publication

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "govuk"
RELEASE_20_FEB = "20_February_2026_Small_boats_-_time_series_v2.ods"


def _keys(alerts: list) -> list[str]:
    return [a.key for a in alerts]


def _by_kind(alerts: list, kind: str) -> list:
    return [a for a in alerts if a.kind == kind]


def _page(page_paths: list[Path], name: str) -> Path:
    return next(p for p in page_paths if p.name == name)


def _release(release_paths: list[Path], name: str) -> Path:
    return next(p for p in release_paths if p.name == name)


def test_new_figures_are_news_but_a_first_load_sets_no_records(
    db_path: Path, release_paths: list[Path], page_paths: list[Path]
) -> None:
    release = ingest_source(db_path, _release(release_paths, RELEASE_20_FEB))
    alerts = compute_alerts(db_path, RunFacts(stored=(release.sha256,), today=date(2026, 2, 21)))
    # A first load: its history holds every record there is, none of them news.
    assert _keys(alerts) == [f"new:{release.sha256}"]
    assert "19 February 2026" in alerts[0].title

    page = ingest_source(db_path, _page(page_paths, "2026-02-21.html"))
    alerts = compute_alerts(db_path, RunFacts(stored=(page.sha256,), today=date(2026, 2, 21)))
    assert _keys(alerts) == [f"new:{page.sha256}"]  # 20 February (0 people) breaks no record
    assert "20 February 2026" in alerts[0].title

    # Nothing stored, sources fresh: nothing to say.
    assert compute_alerts(db_path, RunFacts(today=date(2026, 2, 22))) == []


def test_a_record_day_week_month_and_year_to_date(
    store_copy: Path, page_paths: list[Path], tmp_path: Path
) -> None:
    con = duckdb.connect(str(store_copy), read_only=True)
    best_day, best_day_on = con.execute(
        "SELECT migrants_arrived, date FROM daily_arrivals ORDER BY migrants_arrived DESC LIMIT 1"
    ).fetchone()
    best_month = con.execute(
        "SELECT sum(migrants_arrived) s FROM daily_arrivals GROUP BY date_trunc('month', date) "
        "ORDER BY s DESC LIMIT 1"
    ).fetchone()[0]
    ytd_2023 = con.execute(
        "SELECT sum(migrants_arrived) FROM daily_arrivals "
        "WHERE date BETWEEN '2023-01-01' AND '2023-02-27'"
    ).fetchone()[0]
    ytd_2026 = con.execute(
        "SELECT sum(migrants_arrived) FROM daily_arrivals WHERE date >= '2026-01-01'"
    ).fetchone()[0]
    con.close()
    huge = best_month + 1000  # beats every day, week and month, and every year to date
    page = edited_page(
        _page(page_paths, "2026-02-28.html"), tmp_path / "2026-02-28.html", "27 February 2026", huge
    )
    stored = ingest_source(store_copy, page)
    alerts = compute_alerts(store_copy, RunFacts(stored=(stored.sha256,), today=date(2026, 2, 28)))
    records = {a.key: a for a in _by_kind(alerts, "record")}
    assert sorted(records) == [
        "record:day:2026-02-27",
        "record:month:2026-02",
        "record:week:2026-03-01",
        "record:ytd:2026-02-27",
    ]
    day = records["record:day:2026-02-27"].body
    assert f"{huge:,}" in day and f"{best_day:,}" in day and f"{best_day_on:%B %Y}" in day
    assert "so far" in records["record:week:2026-03-01"].body  # the week runs to 1 March
    ytd = records["record:ytd:2026-02-27"].body
    # 2026 was 2nd to 2023 up to 26 February; with 27 February it leads.
    assert f"{ytd_2026 + huge:,} people crossed in 2026 up to 27 February" in ytd
    assert "2023" in ytd and f"{ytd_2023:,}" in ytd
    assert f"new:{stored.sha256}" in _keys(alerts)


def test_an_ordinary_day_sets_no_record(store_copy: Path, page_paths: list[Path]) -> None:
    stored = ingest_source(store_copy, _page(page_paths, "2026-02-28.html"))
    alerts = compute_alerts(store_copy, RunFacts(stored=(stored.sha256,), today=date(2026, 2, 28)))
    assert _keys(alerts) == [f"new:{stored.sha256}"]


def test_a_year_already_leading_is_not_a_new_record(
    store_copy: Path, page_paths: list[Path], tmp_path: Path
) -> None:
    """Records are set by the newly stored days only: a lead taken before is not news again."""
    first = edited_page(
        _page(page_paths, "2026-02-28.html"), tmp_path / "a.html", "27 February 2026", 900
    )
    ingest_source(store_copy, first)  # 2026 now leads 2023 (2,209 + 900 > 2,953)
    later = edited_page(
        _page(page_paths, "2026-02-28.html"),
        tmp_path / "b.html",
        "27 February 2026",
        901,
        updated_at="2026-02-28T12:00:00+00:00",
    )
    stored = ingest_source(store_copy, later)
    alerts = compute_alerts(store_copy, RunFacts(stored=(stored.sha256,), today=date(2026, 2, 28)))
    assert not _by_kind(alerts, "record")


def test_quiet_sources_after_their_thresholds(store_copy: Path, page_paths: list[Path]) -> None:
    # The release of 27 February: quiet after 9 days, so on 8 March but not on 7 March.
    assert compute_alerts(store_copy, RunFacts(today=date(2026, 3, 8))) == []
    alerts = compute_alerts(store_copy, RunFacts(today=date(2026, 3, 9)))
    assert _keys(alerts) == ["quiet:release:2026-02-27"]
    assert "10 days" in alerts[0].title
    patient = Settings.from_env({"CROSSINGS_QUIET_RELEASE_DAYS": "30"})
    assert compute_alerts(store_copy, RunFacts(today=date(2026, 3, 9)), patient) == []

    # The page counts from its own "updated" stamp (28 February 09:20), after 3 days.
    ingest_source(store_copy, _page(page_paths, "2026-02-28.html"))
    assert compute_alerts(store_copy, RunFacts(today=date(2026, 3, 3))) == []
    assert _keys(compute_alerts(store_copy, RunFacts(today=date(2026, 3, 4)))) == [
        "quiet:page:2026-02-28"
    ]


def test_the_page_stamp_that_does_not_advance(
    store_copy: Path, page_paths: list[Path], tmp_path: Path
) -> None:
    ingest_source(store_copy, _page(page_paths, "2026-02-28.html"))
    # New figures behind the same "updated" stamp: stored, and said to be suspicious.
    changed = edited_page(
        _page(page_paths, "2026-02-28.html"), tmp_path / "same-stamp.html", "24 February 2026", 75
    )
    stored = ingest_source(store_copy, changed)
    alerts = compute_alerts(store_copy, RunFacts(stored=(stored.sha256,), today=date(2026, 2, 28)))
    assert _keys(alerts) == [f"new:{stored.sha256}", f"stamp:{stored.sha256}"]
    assert "28 February 2026 09:20" in alerts[1].body


def test_an_older_page_served_after_a_newer_one(store_copy: Path, page_paths: list[Path]) -> None:
    ingest_source(store_copy, _page(page_paths, "2026-02-28.html"))
    older = ingest_source(store_copy, _page(page_paths, "2026-02-21.html"))
    assert older.stored and not older.is_latest
    alerts = compute_alerts(store_copy, RunFacts(stored=(older.sha256,), today=date(2026, 2, 28)))
    assert _keys(alerts) == [f"older:{older.sha256}"]
    assert "20 February 2026" in alerts[0].body and "27 February 2026" in alerts[0].body


def _revised_release(folder: Path, released_on: date, bump_2024: int) -> Path:
    rows = daily_rows(released_on - timedelta(days=1))
    for row in rows[1:]:
        if row[0].year == 2024:
            row[1] += bump_2024
    return write_release(folder, released_on, daily=rows)


def test_history_revised_beyond_the_threshold(db_path: Path, tmp_path: Path) -> None:
    first = ingest_source(db_path, _revised_release(tmp_path, date(2025, 3, 1), 0))
    alerts = compute_alerts(db_path, RunFacts(stored=(first.sha256,), today=date(2025, 3, 1)))
    assert _keys(alerts) == [f"new:{first.sha256}"]
    # +1 a day in 2024 (about +4%): over 3%.
    big = ingest_source(db_path, _revised_release(tmp_path, date(2025, 3, 8), 1))
    # The store holds such a release back for review: announced as held, not as new figures.
    alerts = compute_alerts(db_path, RunFacts(stored=(big.sha256,), today=date(2025, 3, 8)))
    assert [a.key for a in _by_kind(alerts, "held")] == [f"held:{big.sha256}"]
    assert not _by_kind(alerts, "new")
    # Once an analyst accepts it, the revision itself is announced, with the years it changed.
    accept_publication(db_path, big.sha256)
    alerts = compute_alerts(db_path, RunFacts(stored=(big.sha256,), today=date(2025, 3, 8)))
    revision = _by_kind(alerts, "revision")
    assert [a.key for a in revision] == [f"revision:{big.sha256}"]
    con = duckdb.connect(str(db_path), read_only=True)
    before, after = (
        con.execute(
            "SELECT sum(migrants_arrived) FROM daily_values WHERE publication_id = ? "
            "AND year(date) = 2024",
            [pid],
        ).fetchone()[0]
        for pid in (1, 2)
    )
    con.close()
    assert after - before == 366  # a leap year, one more each day
    assert f"2024: {before:,} to {after:,}" in revision[0].body
    assert "2023" not in revision[0].body  # untouched years are not listed
    # A threshold above the change: no alert.
    lenient = Settings(revision_alert_pct=50.0)
    assert not _by_kind(
        compute_alerts(db_path, RunFacts(stored=(big.sha256,), today=date(2025, 3, 8)), lenient),
        "revision",
    )


def test_releases_held_for_review_when_the_store_keeps_a_status(
    store_copy: Path, page_paths: list[Path]
) -> None:
    """The store's review status ('official' or 'held', with its reason) is what is announced."""
    assert not _by_kind(compute_alerts(store_copy, RunFacts(today=date(2026, 2, 28))), "held")
    page = ingest_source(store_copy, _page(page_paths, "2026-02-28.html"))
    con = duckdb.connect(str(store_copy))
    con.execute(
        "UPDATE publications SET status = 'held', held_reason = 'revises 2025''s total' "
        "WHERE sha256 = ?",
        [page.sha256],
    )
    con.close()
    alerts = compute_alerts(store_copy, RunFacts(stored=(page.sha256,), today=date(2026, 2, 28)))
    # Held back: announced as held, not as new figures.
    assert _keys(alerts) == [f"held:{page.sha256}"]
    assert "status 'held'" in alerts[0].body and "it revises 2025's total." in alerts[0].body


def test_failures_are_announced_even_without_a_store(tmp_path: Path) -> None:
    facts = RunFacts(
        failure="ReportError: disk full",
        source_failures=("GOV.UK could not be reached",),
        run_id="run-1",
        today=date(2026, 3, 1),
        store_readable=False,
    )
    missing = tmp_path / "no-store.duckdb"
    alerts = compute_alerts(missing, facts)
    assert _keys(alerts) == ["failed:run-1", "source:2026-03-01"]
    assert "disk full" in alerts[0].body and "could not be reached" in alerts[1].body
    assert not missing.exists()


def test_headline_figures_carry_the_numbers(store_copy: Path, tmp_path: Path) -> None:
    lines = headline_figures(store_copy, tmp_path / "reports")
    text = "\n".join(lines)
    assert "2,209 people crossed in small boats in 2026 up to 26 February" in text
    assert "up 7% on 2025 (2,056)" in text
    assert "Latest day, 26 February 2026:" in text
    assert "Week ending 1 March 2026 so far (4 days)" in text
    assert "forecast" not in text  # none stored yet
    # no report was written there: no link to a page that does not exist
    assert "Report:" not in text and "file://" not in text
    assert lines[-1] == f"No report has been written yet in {(tmp_path / 'reports').resolve()}."
    index = tmp_path / "reports" / "index.html"
    index.parent.mkdir()
    index.write_text("<p>a report</p>", encoding="utf-8")
    written = headline_figures(store_copy, tmp_path / "reports")
    assert written[-1] == f"Report: {index.resolve().as_uri()}"


@pytest.fixture(autouse=True)
def _no_notify(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CROSSINGS_NOTIFY", raising=False)
