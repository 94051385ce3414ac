"""The quarterly detailed dataset (Irr_D01): the five real releases, stored, reconciled, revised.

Figures asserted here are the issue's, measured from the real releases in ../shared/data; every
one comes out of the store's views (nothing is computed in the test but the check).
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import duckdb
import pytest
from quarterly_factory import quarterly_path, quarterly_paths, real_rows, write_quarterly_ods

from forecasting import store
from forecasting.breakdown import breakdown, format_breakdown
from forecasting.operations.ingest import ingest_many
from forecasting.sources.quarterly import read_quarterly
from forecasting.sources.quarterly_labels import age_group, sex


def _ingest(db: Path, paths: list[Path]) -> list[object]:
    return ingest_many(db, [str(p) for p in paths], raw_dir=db.parent / "raw")


def _q(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def quarterly_store(tmp_path_factory: pytest.TempPathFactory, latest_release: Path) -> Path:
    """The latest weekly release and the five quarterly releases, in a shuffled order, twice."""
    db = tmp_path_factory.mktemp("quarterly") / "crossings.duckdb"
    paths = quarterly_paths()
    order = paths[:]
    random.Random(22).shuffle(order)
    _ingest(db, [latest_release, *order])
    again = _ingest(db, list(reversed(paths)))
    assert [o.stored for o in again] == [False] * 5  # type: ignore[attr-defined]
    return db


def test_the_labels_map_to_one_vocabulary() -> None:
    assert [age_group(x) for x in ["Under 18", "18-24", "25-39", "40+", "", None]] == [
        "17 and under", "18 to 24", "25 to 39", "40 and over", "Not given", "Not given",
    ]  # fmt: skip
    assert [age_group(x) for x in ["17 and under", "40 and over", "unknown"]] == [
        "17 and under", "40 and over", "Unknown",
    ]  # fmt: skip
    assert [sex(x) for x in ["Male", " female ", "Not currently recorded", ""]] == [
        "Male", "Female", "Not currently recorded", "Not given",
    ]  # fmt: skip


def test_a_release_is_read_by_content_with_its_vintage() -> None:
    oldest = read_quarterly(quarterly_path("december-2022"))
    assert oldest.sheet == "Data - Irr_D01"
    assert str(oldest.published_on) == "2023-02-23" and oldest.vintage_source == "cover_sheet"
    assert str(oldest.data_from) == "2018-01-01" and str(oldest.data_through) == "2022-12-31"
    blanks = oldest.values[oldest.values["sex_as_published"] == ""]
    # the 994 rows with Sex and Age Group blank: kept, as "Not given", nothing dropped
    assert len(blanks) == 994 and int(blanks["detections"].sum()) == 33_308
    assert set(blanks["sex"]) == {"Not given"} and set(blanks["age_group"]) == {"Not given"}
    assert set(blanks["method_of_entry"]) == {
        "Recorded detections at UK ports", "Recorded detections in the UK",
    }  # fmt: skip
    assert len(oldest.values) == len(real_rows(quarterly_path("december-2022")))


def test_the_official_totals_and_breakdowns(quarterly_store: Path) -> None:
    totals = dict(_q(quarterly_store, """
        SELECT year, sum(detections) FROM quarterly_detections
        WHERE method_of_entry = 'Small boat arrivals' GROUP BY year"""))  # fmt: skip
    assert totals[2022] == 45_774 and totals[2023] == 29_437
    assert [totals[y] for y in range(2018, 2022)] == [299, 1_843, 8_466, 28_526]
    top_2022 = breakdown(quarterly_store, 2022, "nationality")
    top_2023 = breakdown(quarterly_store, 2023, "nationality")
    assert (top_2022.rows[0].label, top_2022.rows[0].detections) == ("Albania", 12_658)
    assert (top_2023.rows[0].label, top_2023.rows[0].detections) == ("Afghanistan", 5_545)
    ages = breakdown(quarterly_store, 2022, "age")
    assert next(r.detections for r in ages.rows if r.label == "17 and under") == 8_161
    for year in (2018, 2020, 2022, 2023):
        for by in ("nationality", "age", "sex", "region"):
            for method in ("small-boats", "all", "ports"):
                result = breakdown(quarterly_store, year, by, method)
                assert sum(r.detections for r in result.rows) == result.total
                assert abs(sum(r.share for r in result.rows) - 1) < 1e-9
    everything = _q(quarterly_store, "SELECT year, sum(detections) FROM quarterly_detections "
                    "GROUP BY year ORDER BY year")  # fmt: skip
    for year, total in everything:
        assert breakdown(quarterly_store, year, "sex", "all").total == total
    text = format_breakdown(top_2023, top=3)
    assert "Afghanistan" in text and "5,545" in text and "18.8%" in text and "29,437" in text


def test_the_reconciliation_against_the_weekly_series(quarterly_store: Path) -> None:
    rows = {
        (y, q): (official, weekly, diff, flagged)
        for y, q, official, weekly, diff, flagged in _q(quarterly_store, """
            SELECT year, quarter, quarterly_small_boats, weekly_small_boats, difference, flagged
            FROM quarterly_reconciliation""")
    }  # fmt: skip
    assert rows[(2022, 3)] == (20_301, 20_282, 19, False)
    assert rows[(2020, 3)][2] == 2 and rows[(2020, 4)][2] == 2
    differing = {k for k, v in rows.items() if v[2] != 0}
    assert differing == {(2020, 3), (2020, 4), (2022, 3)}
    assert not any(v[3] for v in rows.values())


def test_the_revision_between_releases_is_in_the_ledger(quarterly_store: Path) -> None:
    ledger = _q(quarterly_store, """
        SELECT period, previous_publication, publication, previous_value, value, change
        FROM revision_ledger WHERE series = 'quarterly_small_boat_arrivals'""")  # fmt: skip
    assert len(ledger) == 1
    period, before, after, old, new, change = ledger[0]
    assert str(period) == "2022-09-30" and (old, new, change) == (20_282, 20_301, 19)
    assert "march-2023" in before and "june-2023" in after


def test_quarterly_releases_are_never_weekly_figures(
    quarterly_store: Path, latest_store: Path
) -> None:
    """The last day with figures, the publications a forecast reads and the official daily
    series are those of the weekly release alone."""
    assert store.last_official_day(quarterly_store) == store.last_official_day(latest_store)
    assert store.publication_data_throughs(quarterly_store) == store.publication_data_throughs(
        latest_store
    )
    with_quarterly, without = store.latest_daily(quarterly_store), store.latest_daily(latest_store)
    assert with_quarterly.publications == without.publications
    assert with_quarterly.daily.equals(without.daily)
    assert len(store.held_publications(quarterly_store)) == 1
    weekly_ledger = "SELECT * FROM revision_ledger WHERE series NOT LIKE 'quarterly%' ORDER BY ALL"
    assert _q(quarterly_store, weekly_ledger) == _q(latest_store, weekly_ledger)


def test_as_of_reads_use_the_releases_known_then(quarterly_store: Path) -> None:
    from datetime import date

    def q3_2022(as_of: date | None) -> int:
        frame = store.quarterly_as_of(quarterly_store, as_of, small_boats_only=True)
        return int(frame[(frame.year == 2022) & (frame.quarter == 3)]["detections"].sum())

    assert q3_2022(date(2023, 3, 1)) == 20_282  # the December 2022 release
    assert q3_2022(date(2023, 8, 23)) == 20_282  # March 2023 release, the day before June's
    assert q3_2022(date(2023, 8, 24)) == 20_301
    assert q3_2022(None) == 20_301
    assert store.quarterly_as_of(quarterly_store, date(2023, 2, 22)).empty
    assert breakdown(quarterly_store, 2023, "nationality", as_of=date(2023, 9, 1)).quarters == [
        1, 2,
    ]  # fmt: skip


def test_an_ods_with_other_title_rows_and_an_extra_column_gives_identical_rows(
    tmp_path: Path,
) -> None:
    source = quarterly_path("december-2022")
    rows = real_rows(source)
    header = ["Year", "Quarter", "Notes", "Method of entry", "Nationality", "Region", "Sex",
              "Age Group", "Number of detections", "Source"]  # fmt: skip
    moved = [[*r[:2], "see note 3", *r[2:], "Home Office"] for r in rows]
    ods = write_quarterly_ods(
        tmp_path / "irregular-migration-detailed-dataset-dec-2022.ods", moved, header=header,
        title_rows=4, cover="Published 2023-02-23",
    )  # fmt: skip
    a, b = tmp_path / "a" / "crossings.duckdb", tmp_path / "b" / "crossings.duckdb"
    a.parent.mkdir()
    b.parent.mkdir()
    assert _ingest(a, [source])[0].stored  # type: ignore[attr-defined]
    assert _ingest(b, [ods])[0].stored  # type: ignore[attr-defined]
    columns = "* EXCLUDE (publication_id, sheet_row)"
    values = f"SELECT {columns} FROM quarterly_values ORDER BY ALL"
    assert _q(a, values) == _q(b, values) and len(_q(a, values)) == len(rows)
    pubs = (
        "SELECT published_on, vintage_source, data_from, data_through FROM quarterly_publications"
    )
    assert _q(a, pubs) == _q(b, pubs)


def test_a_release_without_a_vintage_is_ordered_by_its_period(tmp_path: Path) -> None:
    rows = real_rows(quarterly_path("march-2023"))
    undated = write_quarterly_ods(tmp_path / "irr-d01-undated.ods", rows, cover=None)
    db = tmp_path / "crossings.duckdb"
    _ingest(db, [quarterly_path("december-2023"), undated])
    held = store.quarterly_publications(db)
    row = held[held["file_name"] == undated.name].iloc[0]
    assert row["vintage_source"] == "unknown" and str(row["published_on"]) in ("NaT", "None")
    assert str(row["known_from"])[:10] == "2023-03-31"
    assert held.iloc[0]["file_name"] != undated.name  # the December 2023 release is newest


def test_the_export_includes_the_quarterly_views(quarterly_store: Path, tmp_path: Path) -> None:
    db = tmp_path / "crossings.duckdb"
    shutil.copy2(quarterly_store, db)
    exported = store.export_views(db, tmp_path / "out")
    for name in ("quarterly_detections", "quarterly_reconciliation"):
        assert exported.files[name][1] > 0
        assert (tmp_path / "out" / f"{name}.parquet").exists()
    total = duckdb.sql(
        f"SELECT sum(detections) FROM '{tmp_path}/out/quarterly_detections.parquet' "
        "WHERE year = 2023 AND method_of_entry = 'Small boat arrivals'"
    ).fetchall()
    assert total == [(29_437,)]


def test_a_folder_of_quarterly_workbooks_is_ingested(tmp_path: Path) -> None:
    folder = quarterly_paths()[0].parent
    db = tmp_path / "crossings.duckdb"
    outcomes = _ingest(db, [folder])
    assert sorted(o.file_name for o in outcomes) == sorted(p.name for p in folder.glob("*.xlsx"))  # type: ignore[attr-defined]
    assert all(o.stored for o in outcomes)  # type: ignore[attr-defined]
    assert [o.stored for o in _ingest(db, [folder])] == [False] * 5  # type: ignore[attr-defined]


def test_a_quarter_far_from_the_weekly_series_is_stored_flagged_and_named(
    tmp_path: Path, latest_store: Path
) -> None:
    """A release whose 2023 Q4 small-boat total is 10% above the weekly series: stored, flagged
    in the reconciliation, named by the report; the other quarters are not flagged."""
    from forecasting.report.who import who_context
    from forecasting.report.who_data import load_who

    rows = real_rows(quarterly_path("december-2023"))
    for row in rows:
        if row[1] == "2023 Q4" and row[2] == "Small boat arrivals":
            row[7] = round(float(row[7]) * 1.1)
    odd = write_quarterly_ods(tmp_path / "irr-d01-odd.ods", rows, cover="Published 2024-03-01")
    db = tmp_path / "crossings.duckdb"
    shutil.copy2(latest_store, db)
    assert _ingest(db, [quarterly_path("december-2023"), odd])[1].stored  # type: ignore[attr-defined]
    flagged = _q(db, "SELECT year, quarter, difference_pct FROM quarterly_reconciliation "
                     "WHERE flagged")  # fmt: skip
    assert [(y, q) for y, q, _ in flagged] == [(2023, 4)] and 9 < flagged[0][2] < 11
    daily = store.latest_daily(db).daily
    who = load_who(db, store.last_official_day(db), daily, 100)
    context = who_context(who)["who"]
    [named] = context["flagged"]
    assert named.startswith("2023 Q4 (+") and abs(float(named[10:-2]) - flagged[0][2]) < 0.06
