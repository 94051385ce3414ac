"""Shared fixtures: the real GOV.UK files in ../shared/data, read in place, and fresh stores."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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
def real_releases(release_paths: list[Path]) -> list[Any]:
    """The real releases read as `crossings ingest` reads them (every check, today's date),
    once per process, in `release_paths` order; tests must not change them."""
    from forecasting.sources.release import read_release

    return [read_release(path) for path in release_paths]


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


def built_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], object]
) -> Path:
    """A store built once per test run and copied for this process.

    Under pytest-xdist the workers share the run's temporary folder: the first to get there
    builds the store under a file lock, the others wait and copy it, so a store of every real
    publication is not parsed once per worker. Each gets its own copy, as DuckDB lets only one
    process hold a file it writes to."""
    import fcntl

    base = tmp_path_factory.getbasetemp()
    run = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    shared = run / f"built-once-{name}"
    shared.mkdir(exist_ok=True)
    built, done = shared / "crossings.duckdb", shared / "done"
    with (shared / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not done.exists():
            built.unlink(missing_ok=True)  # a worker that failed half-way
            build(built)
            done.touch()
    own = tmp_path_factory.mktemp(name) / "crossings.duckdb"
    shutil.copy2(built, own)
    return own


def _ingest_in_order(db: Path, paths: list[Path], *, each_latest: bool = True) -> None:
    """Store the publications as `crossings ingest` would, oldest first: none held back, and
    (`each_latest`) each new and the latest when it came. (Some page captures repeat the one
    before, byte for byte: already held.)"""
    from forecasting.operations.ingest import ingest_many

    for outcome in ingest_many(db, [str(p) for p in paths], raw_dir=db.parent / "raw"):
        assert not outcome.held, outcome.describe()
        assert (outcome.stored and outcome.is_latest) or not each_latest, outcome.describe()


@pytest.fixture(scope="session")
def latest_store(tmp_path_factory: pytest.TempPathFactory, latest_release: Path) -> Path:
    """A store holding the 27 February 2026 release, built once; tests that write use a copy."""
    return built_once(tmp_path_factory, "latest", lambda db: _ingest_in_order(db, [latest_release]))


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
    return built_once(tmp_path_factory, "releases", lambda db: _ingest_in_order(db, release_paths))


@pytest.fixture(scope="session")
def all_real_store(
    tmp_path_factory: pytest.TempPathFactory, release_paths: list[Path], page_paths: list[Path]
) -> Path:
    """Every real release and page capture, in publication order (a page before the release of
    the same day), built once; tests that write use a copy."""
    everything = [*release_paths, *page_paths]
    return built_once(
        tmp_path_factory, "all-real", lambda db: _ingest_in_order(db, everything, each_latest=False)
    )


@pytest.fixture(scope="session")
def report_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report tests' made-up store with forecasts (tests/report_store.py), built once."""
    from report_store import store_with_forecasts

    # it writes FOLDER/crossings.duckdb: the shared file itself
    return built_once(tmp_path_factory, "report", lambda db: store_with_forecasts(db.parent))


@pytest.fixture
def crossings(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Any]:
    """`crossings(ARGS)`: the command run in this interpreter (unit tier), with the child's
    environment (never the real GOV.UK); a `cli_run.Run` back, peak memory not measured."""
    from cli_run import call_cli, child_env

    for name, value in child_env().items():
        if name.startswith(("CROSSINGS_", "PREFECT_", "DO_NOT_TRACK")):
            monkeypatch.setenv(name, value)
    return lambda args: call_cli(args, capsys)


@pytest.fixture(scope="module")
def prefect_api() -> Iterator[str]:
    """One temporary Prefect server (SQLite in a temp dir) for a module's flows; its URL, for a
    child `crossings run` (flows run in-process use it through Prefect's settings)."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield PREFECT_API_URL.value()
