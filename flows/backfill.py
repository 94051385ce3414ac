"""The backfill flow: a forecast as of each of many dates, fitted in parallel, stored by the flow.

Fits run on a task runner (threads, processes or Dask), a few dates per task; the flow itself is
the one writer, in short transactions (docs/scaling.md).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from prefect import flow, get_run_logger
from prefect.futures import PrefectFuture, as_completed
from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner
from pydantic import Field

from flows.artifacts import backfill_artifact
from flows.pipeline import IsoDate, report, run_paths
from flows.tasks import fit_forecasts
from forecasting import fits
from forecasting.calendar import EVERY_PATTERN
from forecasting.errors import BadInput, StoreError, one_line
from forecasting.frames import ForecastFrames
from forecasting.horizon import HORIZON_WEEKS
from forecasting.operations.as_of_reader import AsOfReader
from forecasting.operations.checks import check_backfill
from forecasting.operations.results import BackfillResult
from forecasting.store import HeldIf, forecasts_held

if TYPE_CHECKING:
    from forecasting.store import AsOfRead

__all__ = ["backfill", "make_task_runner", "progress_to", "TASK_RUNNERS"]

TASK_RUNNERS = ("threads", "processes", "dask")

ProgressFn = Callable[[int, int, str], None]
_progress: ProgressFn | None = None


@contextmanager
def progress_to(callback: ProgressFn | None) -> Iterator[None]:
    """Send backfill progress (done, total, what) to `callback` while a flow runs in-process."""
    global _progress
    previous, _progress = _progress, callback
    try:
        yield
    finally:
        _progress = previous


def _tick(done: int, total: int, what: str) -> None:
    if _progress is not None:
        _progress(done, total, what)


def make_task_runner(
    kind: str = "threads", dask_address: str | None = None, max_workers: int | None = None
) -> TaskRunner:
    """threads (default), processes, or dask (a local cluster, or the scheduler at dask_address)."""
    workers = max_workers or os.cpu_count() or 2
    if kind == "threads":
        return ThreadPoolTaskRunner(max_workers=workers)
    if kind == "processes":
        return ProcessPoolTaskRunner(max_workers=workers)
    if kind == "dask":
        try:
            from prefect_dask.task_runners import DaskTaskRunner
        except ImportError:
            raise BadInput(
                "--task-runner", "dask needs prefect-dask: pip install 'channel-crossings[dask]'"
            ) from None

        if dask_address:
            return DaskTaskRunner(address=dask_address)
        return DaskTaskRunner(
            cluster_kwargs={"n_workers": workers, "processes": True, "threads_per_worker": 1}
        )
    raise ValueError(f"task runner {kind!r}: use one of {', '.join(TASK_RUNNERS)}")


def _chunks(dates: list[date], workers: int) -> list[list[date]]:
    """Split the dates into chunks of at most 4, at least two chunks per worker where possible:
    few task runs (each costs API round trips), yet every worker busy and progress to show."""
    size = max(1, min(4, len(dates) // (2 * workers) or 1))
    return [dates[i : i + size] for i in range(0, len(dates), size)]


@flow(name="backfill")
def backfill(
    start: IsoDate,
    end: IsoDate,
    every: Annotated[str, Field(pattern=EVERY_PATTERN)] = "1W",
    models: list[str] | None = None,
    db: str | None = None,
    horizon_weeks: int = HORIZON_WEEKS,
    with_report: bool = False,
    reports_dir: str | None = None,
    task_runner: str = "threads",
    dask_address: str | None = None,
    force: bool = False,
) -> BackfillResult:
    """A forecast as of each date from start to end (both included) every `every`.

    Fits run in parallel on the chosen task runner, a few dates per task; this flow is the only
    writer and stores each chunk's forecasts in one short transaction as it returns, so an
    interrupted backfill keeps what it did and a rerun refits only what is missing or was made
    from other publications.
    """
    logger = get_run_logger()
    settings, store, _ = run_paths(db)
    dates, names = check_backfill(store, start, end, every, models, horizon_weeks)
    started = time.perf_counter()
    reads, skipped = _to_fit(store, dates, end, names, horizon_weeks, force)
    todo = list(reads)
    logger.info(
        f"backfill {start}..{end} every {every} on {task_runner}: {len(dates)} dates, "
        f"{len(skipped)} already held from the same publications"
    )
    _tick(len(skipped), len(dates), "already held")
    runner = (task_runner, dask_address)
    failures = _fit_and_store(store, reads, names, horizon_weeks, runner, done=len(skipped))
    failed_dates = sum(n for _, n in failures)
    summary = BackfillResult(
        dates,
        len(todo) - failed_dates,
        len(skipped),
        [text for text, _ in failures],
        task_runner,
        round(time.perf_counter() - started, 1),
    )
    if with_report and not failures:
        reports = reports_dir or str(settings.reports_dir)
        page = report(as_of=end, db=str(store), reports_dir=reports)
        summary = replace(summary, report=page)
    backfill_artifact(summary, start, end, every, names)
    if failures:
        raise RuntimeError(
            f"{failed_dates} of {len(todo)} fits failed (the rest are stored): {failures[0][0]}"
        )
    logger.info("backfill stored %d as-of forecasts in %.1f s", len(todo), summary.seconds)
    return summary


def _to_fit(
    store: Path, dates: list[date], end: date, names: list[str], horizon_weeks: int, force: bool
) -> tuple[dict[date, AsOfRead], list[date]]:
    """The figures as known on each date still to fit, and the dates already held from the same
    publications (one store read per span of publications, one query for what is held)."""
    reader = AsOfReader(store, end)
    reads: dict[date, AsOfRead] = {}
    for d in dates:
        read = reader.read(d)
        if read.daily.empty:
            raise StoreError(f"{store}: no figures on or before {d}; ingest releases first")
        reads[d] = read
    held = (
        set()
        if force
        else forecasts_held(
            store,
            dates,
            HeldIf.SAME_PUBLICATIONS,
            publications={d: read.publications for d, read in reads.items()},
            models=names,
            horizon_weeks=horizon_weeks,
        )
    )
    skipped = [d for d in dates if d in held]
    return {d: read for d, read in reads.items() if d not in held}, skipped


def _fit_and_store(
    store: Path,
    reads: dict[date, AsOfRead],
    names: list[str],
    horizon_weeks: int,
    runner: tuple[str, str | None],
    *,
    done: int,
) -> list[tuple[str, int]]:
    """Fit the dates on the task runner and store each chunk as it lands; the failed chunks."""
    failures: list[tuple[str, int]] = []
    todo, total = list(reads), done + len(reads)
    if not todo:
        return failures
    logger = get_run_logger()
    workers = os.cpu_count() or 2
    with make_task_runner(*runner, workers) as task_runner:
        futures: dict[PrefectFuture[list[ForecastFrames]], list[date]] = {
            task_runner.submit(
                fit_forecasts,
                {
                    "work": [(d, reads[d].daily) for d in chunk],
                    "first": chunk[0],
                    "last": chunk[-1],
                    "horizon_weeks": horizon_weeks,
                    "models": names,
                },
            ): chunk
            for chunk in _chunks(todo, workers)
        }
        # Fits come back in any order; the flow alone writes them, one short transaction per
        # chunk of dates.
        for future in as_completed(list(futures)):
            chunk = futures[future]
            try:
                results: list[ForecastFrames] = future.result()
            except Exception as exc:
                failures.append((f"{chunk[0]}..{chunk[-1]}: {one_line(exc)}", len(chunk)))
                logger.error("fits as of %s..%s failed: %s", chunk[0], chunk[-1], exc)
            else:
                fits.save_fits(
                    store,
                    [
                        (r, fits.slim_read(reads.pop(d)))
                        for d, r in zip(chunk, results, strict=True)
                    ],
                )
            done += len(chunk)
            _tick(done, total, f"as of {chunk[0]}..{chunk[-1]}")
    return failures
