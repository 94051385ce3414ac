"""The steps the command and the flows share (forecasting/operations/), called directly."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from ods_factory import rows_like, write_release

from forecasting import store
from forecasting.batch import publication_order
from forecasting.errors import BadInput, ExitStatus, ReportError, SourceUnavailable, StoreBusy
from forecasting.operations.as_of_reader import AsOfReader
from forecasting.operations.checks import check_horizon, model_names
from forecasting.operations.forecast import forecast_and_store
from forecasting.operations.ingest import ingest_many
from forecasting.operations.status import exit_status_of, run_status
from forecasting.store import read_frame


def test_models_and_horizon_are_checked_against_the_library() -> None:
    from forecasting.models import DEFAULT_MODELS

    assert model_names(None) == list(DEFAULT_MODELS)
    with pytest.raises(BadInput, match="unknown model.*crystal_ball; known: ensemble"):
        model_names(["ensemble", "crystal_ball"])
    assert check_horizon(1) == 1 and check_horizon(104) == 104
    for weeks in (0, 105, 10**9):
        with pytest.raises(BadInput, match="outside 1 to 104"):
            check_horizon(weeks)


def test_last_official_day(latest_store: Path, tmp_path: Path) -> None:
    missing = tmp_path / "none.duckdb"
    assert store.last_official_day(missing) is None
    assert not missing.exists()  # asking does not create a store
    assert store.last_official_day(latest_store) == date(2026, 2, 26)


def test_nothing_is_forecast_as_of_a_day_after_the_figures(store_copy: Path) -> None:
    """Refused, before any fit or write: it would pass for the current forecast."""
    with pytest.raises(BadInput, match="after the last day with figures .26 February 2026."):
        forecast_and_store(store_copy, date(2026, 2, 27), horizon_weeks=2)
    assert read_frame(store_copy, "SELECT count(*) AS n FROM forecasts")["n"].iloc[0] == 0


def test_forecast_and_store_uses_the_store_as_its_cache(store_copy: Path) -> None:
    calls: list[date] = []

    def counting_fit(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202 - the real fit, counted
        calls.append(args[1])
        from forecasting.fits import fit

        return fit(*args, **kwargs)

    models = ["seasonal_naive", "profile"]
    first = forecast_and_store(
        store_copy, date(2026, 1, 31), horizon_weeks=3, models=models, fit_with=counting_fit
    )
    again = forecast_and_store(
        store_copy, date(2026, 1, 31), horizon_weeks=3, models=models, fit_with=counting_fit
    )
    assert (first.refitted, again.refitted) == (True, False)
    assert calls == [date(2026, 1, 31)]
    assert again.payload == first.payload and again.production_model == "seasonal_naive"
    assert "already held" in again.describe() and "fitted" in first.describe()
    default = forecast_and_store(store_copy, None, horizon_weeks=3, models=models)
    assert default.as_of == date(2026, 2, 26)  # the last day with figures


def test_a_folder_is_stored_in_publication_order(release_paths: list[Path], tmp_path: Path):
    """Release date, then reissue: a 20 February release before its v2, the newest last."""
    folder = tmp_path / "releases"
    folder.mkdir()
    release_paths = release_paths[-5:]  # 23 January to 27 February: enough to order
    for path in reversed(release_paths):  # copied newest first: the order must come from names
        shutil.copy(path, folder / path.name)
    v2 = "20_February_2026_Small_boats_-_time_series_v2.ods"
    # the real folder only holds the v2: its first issue, made up, with the same figures
    first_issue = write_release(
        folder, date(2026, 2, 20), daily=rows_like(folder / v2, date(2026, 2, 19))
    )
    (folder / "notes.txt").write_text("not a publication")
    db = tmp_path / "crossings.duckdb"
    outcomes = ingest_many(db, [str(folder)], raw_dir=tmp_path / "raw")
    names = [o.file_name for o in outcomes]
    assert names == sorted(
        [first_issue.name, *(p.name for p in release_paths)],
        key=lambda n: publication_order(Path(n)),
    )
    assert names[names.index(first_issue.name) + 1] == v2
    assert names[-1] == release_paths[-1].name
    assert all(o.stored and o.is_latest for o in outcomes)  # each newer than the last
    held = read_frame(db, "SELECT DISTINCT publication FROM daily_arrivals")
    assert set(held["publication"]) == {release_paths[-1].name}


def test_one_bad_file_in_a_batch_stores_nothing(release_paths: list[Path], tmp_path: Path):
    bad = write_release(tmp_path, date(2026, 3, 6))
    bad.write_bytes(bad.read_bytes()[:500])  # truncated
    db = tmp_path / "crossings.duckdb"
    with pytest.raises(Exception, match="damaged or truncated") as caught:
        ingest_many(db, [str(release_paths[-1]), str(bad)], raw_dir=tmp_path / "raw")
    assert exit_status_of(caught.value) == ExitStatus.BAD_INPUT
    assert not db.exists()


def test_sources_that_cannot_go_together(tmp_path: Path, latest_release: Path) -> None:
    with pytest.raises(BadInput, match="a URL is ingested on its own"):
        ingest_many(
            tmp_path / "db.duckdb", [str(latest_release), "https://x.test/a.ods"], raw_dir=tmp_path
        )
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BadInput, match="holds no .ods or .html publications"):
        ingest_many(tmp_path / "db.duckdb", [str(empty)], raw_dir=tmp_path)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("27_February_2026_Small_boats_-_time_series.ods", (date(2026, 2, 27), 1)),
        ("20_February_2026_Small_boats_-_time_series_v2.ods", (date(2026, 2, 20), 2)),
        ("2026-02-21.html", (date(2026, 2, 21), 1)),
        ("mystery.ods", (date.max, 1)),
    ],
)
def test_publication_order(name: str, key: tuple[date, int]) -> None:
    assert publication_order(Path(name))[:2] == key


def test_exit_statuses_come_from_the_error_classes() -> None:
    assert exit_status_of(BadInput("x.ods", "bad")) == ExitStatus.BAD_INPUT == 2
    assert exit_status_of(SourceUnavailable("gov.uk", "down")) == 3
    assert exit_status_of(StoreBusy("held")) == 4
    assert exit_status_of(ReportError("cannot write")) == 5
    assert exit_status_of(RuntimeError("a bug")) is None
    assert exit_status_of(KeyError("SourceUnavailable")) is None  # never by name


def test_run_status_is_stale_when_a_source_failed_or_the_figures_are_old() -> None:
    today = date(2026, 3, 6)
    assert run_status(date(2026, 2, 26), [], stale_after_days=8, today=today) == (
        ExitStatus.OK,
        [],
    )
    status, reasons = run_status(date(2026, 2, 26), ["page: 503"], stale_after_days=8, today=today)
    assert status == ExitStatus.STALE == 10 and reasons == ["page: 503"]
    status, reasons = run_status(date(2026, 2, 26), [], stale_after_days=8, today=date(2026, 3, 7))
    assert status == ExitStatus.STALE
    assert reasons == ["the figures end on 26 February 2026, 9 days ago (stale after 8)"]


@pytest.fixture(scope="module")
def vintages_store(tmp_path_factory: pytest.TempPathFactory, release_paths: list[Path]) -> Path:
    """Three releases but not the latest: several vintages to read as of."""
    from forecasting.ingest import ingest_source

    db = tmp_path_factory.mktemp("vintages") / "crossings.duckdb"
    for path in (release_paths[0], release_paths[5], release_paths[-2]):
        ingest_source(db, path)
    return db


def test_as_of_reader_gives_read_as_of(vintages_store: Path) -> None:
    """Reading once per span of publications changes nothing: same figures, rule, publications."""
    import pandas as pd

    from forecasting.store import read_as_of

    dates = [
        date(2025, 6, 1),
        date(2025, 11, 12),
        date(2025, 11, 13),
        date(2025, 12, 20),
        date(2026, 1, 31),
        date(2026, 2, 19),
        date(2026, 2, 26),
    ]
    reader = AsOfReader(vintages_store, dates[-1])
    for d in dates:
        direct, cached = read_as_of(vintages_store, d), reader.read(d)
        pd.testing.assert_frame_equal(cached.daily, direct.daily)
        pd.testing.assert_frame_equal(cached.weekly, direct.weekly, check_dtype=False)
        assert (cached.rule, cached.publications) == (direct.rule, direct.publications), d
    assert reader.reads < len(dates)
