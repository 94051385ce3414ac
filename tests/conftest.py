"""Shared fixtures: the real GOV.UK files in ../shared/data, read in place, and fresh stores."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CROSSINGS_SHARED_DATA", ROOT.parent / "shared" / "data"))
RELEASES_DIR = SHARED / "govuk" / "small-boats-time-series"
PAGES_DIR = SHARED / "govuk" / "last-7-days"

# Prefect must never call out, whichever test imports it first.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

pytest_plugins = ["govuk_server"]


def _need_shared() -> None:
    if not RELEASES_DIR.is_dir():
        pytest.skip(
            f"real GOV.UK releases not found at {RELEASES_DIR}: "
            "these tests need ../shared/data beside the clone"
        )


@pytest.fixture(scope="session")
def release_paths() -> list[Path]:
    """The real weekly ODS releases, oldest first (by release date in the file name)."""
    _need_shared()
    from forecasting.sources.release import released_on_from_name

    return sorted(RELEASES_DIR.glob("*.ods"), key=lambda p: released_on_from_name(p.name))


@pytest.fixture(scope="session")
def latest_release(release_paths: list[Path]) -> Path:
    """The release of 27 February 2026 (data through 26 February)."""
    return release_paths[-1]


@pytest.fixture(scope="session")
def page_paths() -> list[Path]:
    """The real 'last 7 days' captures, oldest first."""
    _need_shared()
    return sorted(PAGES_DIR.glob("*.html"))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A fresh DuckDB file on disk for one test."""
    return tmp_path / "crossings.duckdb"


@pytest.fixture(scope="session")
def latest_store(tmp_path_factory: pytest.TempPathFactory, latest_release: Path) -> Path:
    """A store holding the 27 February 2026 release, built once; tests that write use a copy."""
    from forecasting.ingest import ingest_source

    db = tmp_path_factory.mktemp("latest-store") / "crossings.duckdb"
    ingest_source(db, latest_release)
    return db


@pytest.fixture
def store_copy(latest_store: Path, tmp_path: Path) -> Path:
    """A private copy of `latest_store` for one test to change."""
    db = tmp_path / "store" / "crossings.duckdb"
    db.parent.mkdir()
    shutil.copy2(latest_store, db)
    return db


@pytest.fixture(scope="session")
def releases_store(tmp_path_factory: pytest.TempPathFactory, release_paths: list[Path]) -> Path:
    """A store holding every real weekly release (the vintages), built once; tests that write
    use a copy."""
    from forecasting.ingest import ingest_source

    db = tmp_path_factory.mktemp("releases-store") / "crossings.duckdb"
    for path in release_paths:
        ingest_source(db, path)
    return db


@pytest.fixture(scope="module")
def prefect_api() -> Iterator[str]:
    """One temporary Prefect server (SQLite in a temp dir) for a module's flows; its URL, for a
    child `crossings run` (flows run in-process use it through Prefect's settings)."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield PREFECT_API_URL.value()
