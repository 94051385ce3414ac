"""Publications: provenance, reissues, same-named files, held-back history changes, the ledger."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from ods_factory import daily_rows, release_name, write_release

from forecasting import store
from forecasting.errors import BadInput
from forecasting.ingest import ingest_source
from forecasting.sources.release import read_release


def versioned(path: Path, version: int):
    """The parsed release with its reissue number. The sources' parser sets `.version` itself;
    until it does, the test sets it as the parser will (the store reads it with getattr)."""
    release = read_release(path)
    if getattr(release, "version", None) != version:
        object.__setattr__(release, "version", version)
    return release


def year_total(db: Path, year: int, view: str = "daily_arrivals") -> int:
    return int(
        store.read_frame(
            db, f"SELECT sum(migrants_arrived) AS n FROM {view} WHERE year(date) = ?", [year]
        )["n"][0]
    )


@pytest.fixture
def reissue(tmp_path: Path) -> tuple[Path, Path]:
    """An original release and its `_v2` reissue, which corrects one day."""
    released = date(2026, 2, 20)
    original = write_release(tmp_path / "v1", released)
    rows = daily_rows(date(2026, 2, 19))
    rows[-3][1] += 11
    name = release_name(released).replace(".ods", "_v2.ods")
    v2 = write_release(tmp_path / "v2", released, daily=rows, name=name)
    return original, v2


@pytest.mark.parametrize("order", ["original_first", "reissue_first"])
def test_reissue_supersedes_its_original_whatever_the_order(
    tmp_path: Path, reissue: tuple[Path, Path], order: str
) -> None:
    original, v2 = reissue
    db = tmp_path / "s.duckdb"
    pairs = [(original, 1), (v2, 2)]
    for path, version in pairs if order == "original_first" else pairs[::-1]:
        store.ingest(db, versioned(path, version), source=str(path))
    fixed_day = date(2026, 2, 17)
    want = daily_rows(date(2026, 2, 19))[-3][1] + 11
    latest = store.read_frame(
        db, "SELECT migrants_arrived, publication FROM daily_arrivals WHERE date = ?", [fixed_day]
    )
    assert latest.iloc[0].tolist() == [want, v2.name]
    assert set(store.read_frame(db, "SELECT DISTINCT publication FROM daily_arrivals")[
        "publication"]) == {v2.name}  # fmt: skip
    pubs = store.held_publications(db).set_index("file_name")
    assert pubs.loc[v2.name, "version"] == 2 and pubs.loc[original.name, "version"] == 1
    assert pubs.loc[original.name, "superseded"] and not pubs.loc[v2.name, "superseded"]
    read = store.read_as_of(db, date(2026, 2, 19))
    assert read.publication_names == [v2.name]
    assert read.daily.set_index("date").loc[fixed_day, "migrants_arrived"] == want
    # The ledger shows the reissue revising its original, not the other way round.
    ledger = store.read_frame(db, "SELECT * FROM revision_ledger")
    assert ledger[["series", "publication", "change"]].values.tolist() == [
        ["daily_migrants_arrived", v2.name, 11]
    ]


def test_same_name_different_content_are_two_publications(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    first = write_release(tmp_path / "a", date(2026, 2, 27))
    rows = daily_rows(date(2026, 2, 26))
    rows[-1][1] += 5
    second = write_release(tmp_path / "b", date(2026, 2, 27), daily=rows)
    assert first.name == second.name
    ingest_source(db, first)
    outcome = ingest_source(db, second)
    assert outcome.stored and outcome.revised_days == 1
    pubs = store.held_publications(db)
    assert len(pubs) == 2 and pubs["sha256"].nunique() == 2
    revisions = store.read_frame(db, "SELECT * FROM revisions")
    assert len(revisions) == 1
    row = revisions.iloc[0]
    assert row["publication"] == row["previous_publication"] == first.name
    assert row["sha256"] == outcome.sha256 and row["previous_sha256"] != outcome.sha256
    latest = store.read_frame(db, "SELECT sha256 FROM daily_arrivals WHERE date = '2026-02-26'")
    assert latest["sha256"][0] == outcome.sha256


def test_provenance_keeps_repairs_version_and_url(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    path = write_release(tmp_path, date(2026, 2, 27))
    release = replace(
        read_release(path),
        provenance={"url": "https://www.gov.uk/x.ods", "discovered_via": "content_api",
                    "repairs": ["merged a split header row", "dropped a footnote row"]},
    )  # fmt: skip
    store.ingest(db, release, source="https://www.gov.uk/x.ods")
    plain = write_release(tmp_path / "p", date(2026, 2, 20))
    ingest_source(db, plain)
    pubs = store.held_publications(db).set_index("file_name")
    repaired = pubs.loc[path.name]
    assert list(repaired["repairs"]) == ["merged a split header row", "dropped a footnote row"]
    assert repaired["url"] == "https://www.gov.uk/x.ods" and repaired["version"] == 1
    assert list(pubs.loc[plain.name, "repairs"]) == []
    assert pubs.loc[plain.name, "status"] == "official"


def _rewritten(tmp_path: Path, released: date, factor: float, year: int = 2024) -> Path:
    rows = daily_rows(released.replace(day=released.day - 1))
    for row in rows[1:]:
        if row[0].year == year:
            row[1] = round(row[1] * factor)
            row[2] = min(row[2], row[1])  # never more boats than people
    return write_release(tmp_path / f"r{released:%m%d}", released, daily=rows)


def test_history_changing_release_is_held_until_accepted(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    first = write_release(tmp_path / "a", date(2026, 2, 20))
    ingest_source(db, first)
    before_2024 = year_total(db, 2024)
    rewritten = _rewritten(tmp_path, date(2026, 2, 27), 1.10)  # 2024 up by about 10%

    outcome = ingest_source(db, rewritten)
    assert outcome.stored and outcome.held and not outcome.is_latest
    line = outcome.describe()
    assert "HELD BACK FOR REVIEW" in line and "revises 2024's total" in line
    assert f"crossings accept {outcome.sha256[:12]}" in line
    # Stored as a vintage, but the official series and as-of reads ignore it.
    assert year_total(db, 2024) == before_2024
    last = store.read_frame(db, "SELECT max(date) AS d FROM daily_arrivals")["d"][0]
    assert last.date() == date(2026, 2, 19)
    weekly = store.read_frame(db, "SELECT DISTINCT publication FROM weekly_activity")
    assert weekly["publication"].tolist() == [first.name]
    assert store.read_as_of(db, date(2026, 2, 26)).publication_names == [first.name]
    assert store.last_official_day(db) == date(2026, 2, 19)
    pub = store.held_publications(db).set_index("sha256").loc[outcome.sha256]
    assert pub["status"] == "held" and "2024" in pub["held_reason"]
    ledger = store.read_frame(db, "SELECT DISTINCT status, publication FROM revision_ledger")
    assert ledger.values.tolist() == [["held", rewritten.name]]
    assert store.read_frame(db, "SELECT count(*) AS n FROM revisions")["n"][0] == 0

    accepted = store.accept_publication(db, outcome.sha256[:12])
    assert accepted.was_held and "accepted" in accepted.describe()
    assert year_total(db, 2024) > before_2024 * 1.05
    assert store.last_official_day(db) == date(2026, 2, 26)
    assert store.read_frame(db, "SELECT DISTINCT status FROM revision_ledger")["status"].tolist() \
        == ["official"]  # fmt: skip
    assert not store.accept_publication(db, str(rewritten)).was_held  # already official


def test_a_release_that_zeroes_a_year_is_held(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    ingest_source(db, write_release(tmp_path / "a", date(2026, 2, 20)))
    outcome = ingest_source(db, _rewritten(tmp_path, date(2026, 2, 27), 0.0, year=2019))
    assert outcome.held and "zeroes 2019's migrants" in outcome.held_reason


def test_small_revision_of_a_past_year_is_not_held(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    ingest_source(db, write_release(tmp_path / "a", date(2026, 2, 20)))
    before = year_total(db, 2024)
    outcome = ingest_source(db, _rewritten(tmp_path, date(2026, 2, 27), 1.03))
    assert not outcome.held and outcome.is_latest and outcome.revised_days > 100
    assert 1.01 < year_total(db, 2024) / before <= 1 + store.HISTORY_CHANGE_THRESHOLD


def test_accepting_explains_later_held_releases(tmp_path: Path) -> None:
    """Releases after a held one carry the same new history: accepting it accepts them."""
    db = tmp_path / "s.duckdb"
    ingest_source(db, write_release(tmp_path / "a", date(2026, 2, 13)))
    first = ingest_source(db, _rewritten(tmp_path, date(2026, 2, 20), 1.10))
    second = ingest_source(db, _rewritten(tmp_path, date(2026, 2, 27), 1.10))
    assert first.held and second.held
    accepted = store.accept_publication(db, first.file_name)
    assert accepted.also_official == [second.file_name]
    assert store.last_official_day(db) == date(2026, 2, 26)


def test_accept_refuses_unknown_or_ambiguous(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    ingest_source(db, write_release(tmp_path / "a", date(2026, 2, 27)))
    rows = daily_rows(date(2026, 2, 26))
    rows[-1][1] += 1
    ingest_source(db, write_release(tmp_path / "b", date(2026, 2, 27), daily=rows))
    with pytest.raises(BadInput, match="no publication"):
        store.accept_publication(db, "deadbeefdeadbeef")
    with pytest.raises(BadInput, match="matches 2 publications"):
        store.accept_publication(db, release_name(date(2026, 2, 27)))


def test_real_releases_all_become_official(all_real_store: Path) -> None:
    """The 14 releases and 76 page captures, in date order: nothing held, v2 in the series."""
    pubs = store.held_publications(all_real_store)
    assert (pubs["status"] == "official").all()
    assert pubs["held_reason"].isna().all()
    assert len(pubs[pubs["kind"] == "weekly_release"]) == 14
    v2 = pubs[pubs["file_name"].str.endswith("_v2.ods")].iloc[0]
    assert v2["in_series"] and not v2["superseded"]


def test_ledger_over_the_real_releases(all_real_store: Path) -> None:
    """The real releases agree on every day and week but one: the 27 February release revised
    the week ending 15 February 2026's boats in uncontrolled landings from 5 to 0."""
    ledger = store.read_frame(all_real_store, "SELECT * FROM revision_ledger")
    assert ledger[["series", "previous_value", "value", "change", "status"]].values.tolist() == [
        ["weekly_boats_uncontrolled", 5, 0, -5, "official"]
    ]
    row = ledger.iloc[0]
    assert row["period"].date() == date(2026, 2, 15)
    assert row["previous_publication"] == "20_February_2026_Small_boats_-_time_series_v2.ods"
    assert row["publication"] == "27_February_2026_Small_boats_-_time_series.ods"
    first = store.read_frame(
        all_real_store,
        "SELECT count(*) AS days, count(*) FILTER (migrants_change <> 0) AS changed, "
        "count(*) FILTER (first_publication LIKE '%.html') AS from_page "
        "FROM daily_as_first_published",
    ).iloc[0]
    # 2018-01-01 to 2026-02-27: the last capture of the page runs a day past the last release.
    assert first["days"] == 2980 and first["changed"] == 0
    assert first["from_page"] > 60  # the daily page published most recent days first


@pytest.mark.integration
def test_accept_command(tmp_path: Path) -> None:
    from cli_run import run_cli

    db = tmp_path / "s.duckdb"
    ingest_source(db, write_release(tmp_path / "a", date(2026, 2, 20)))
    held = run_cli(["ingest", "--source", _rewritten(tmp_path, date(2026, 2, 27), 1.1), "--db", db])
    assert held.status == 0 and "HELD BACK FOR REVIEW" in held.stdout, held.stderr
    sha = store.held_publications(db).query("status == 'held'")["sha256"].iloc[0]
    run = run_cli(["accept", sha[:12], "--db", db])
    assert run.status == 0 and "accepted" in run.stdout, run.stderr
    assert store.last_official_day(db) == date(2026, 2, 26)
    unknown = run_cli(["accept", "no-such-release.ods", "--db", db])
    assert unknown.status == 2 and "no publication" in unknown.stderr
