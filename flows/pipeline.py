"""Prefect flows: ingest, forecast, report, nightly (all three in turn) and backfill.

Rules that keep any mix of these runs safe on one DuckDB file (see docs/scaling.md):

- Every store call is one short transaction that waits out other processes' locks (store.py).
- Fits are pure (`flows.core.fit`): a daily frame in, JSON payloads out. No connection is held
  while fitting, so a fit can run in a thread, a process or on a remote Dask worker.
- The flow itself is the one writer: it reads, submits fits, and writes each result as it lands.
- Only the network step (GOV.UK) retries; a bad file fails at once, since retrying cannot fix it.
- The cache is the store: a forecast whose (as_of, publications, models, horizon) is already
  held is not refitted (`flows.core.already_forecast`), across processes and task runners.

`flows/__init__.py` runs before this module imports prefect, so Prefect starts offline.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed
from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner
from pydantic import Field

from flows.announce import announce, on_nightly_failure
from flows.core import (
    AsOfReader,
    Fit,
    already_forecast,
    as_of_dates,
    covers,
    held_forecasts,
    latest_data_through,
    model_names,
    resolve_db,
    resolve_raw_dir,
    resolve_reports_dir,
    save_fit,
    save_fits,
    slim_read,
)
from flows.core import fit as fit_models

__all__ = [
    "ingest",
    "forecast",
    "report",
    "nightly",
    "backfill",
    "make_task_runner",
    "progress_to",
    "shared_api",
    "FETCH_RETRY_DELAYS",
]

# Seconds between attempts at GOV.UK: a blip, a short outage, a restart.
FETCH_RETRY_DELAYS: list[float] = [2, 5, 15]
TASK_RUNNERS = ("threads", "processes", "dask")
# Also in the deployment's parameter schema, so a run with every="monthly" is refused up front.
EVERY_PATTERN = r"^\s*\d*\s*[DWdw]\s*$"

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


@contextmanager
def shared_api() -> Iterator[str]:
    """The configured Prefect API, or one temporary local server shared by the whole run.

    With no PREFECT_API_URL, Prefect starts a temporary server per process, so every process-pool
    or Dask worker would start (and wait for) its own. Starting one here and handing its URL to
    the settings and environment that workers inherit gives them all the same server.
    """
    from prefect.settings import PREFECT_API_URL, temporary_settings

    configured = PREFECT_API_URL.value()
    if configured:
        yield configured
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    server.start()
    previous = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = server.api_url
    try:
        with temporary_settings({PREFECT_API_URL: server.api_url}):
            yield server.api_url
    finally:
        _drain_to_api()  # logs and events still queued would otherwise retry a closed server
        if previous is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = previous
        server.stop()


def _drain_to_api(timeout: float = 10) -> None:
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        # Never started, or already stopped: nothing to flush.
        with contextlib.suppress(Exception):
            worker.drain_all(timeout=timeout)


def _tick(done: int, total: int, what: str) -> None:
    if _progress is not None:
        _progress(done, total, what)


# ---------------------------------------------------------------------------------------------
# Tasks


def _retry_if_unavailable(task: Any, task_run: Any, state: Any) -> bool:
    """Retry only when GOV.UK could not be reached; a malformed file stays malformed."""
    try:
        state.result()
    except Exception as exc:  # the task's own exception, re-raised by result()
        return type(exc).__name__ == "SourceUnavailable"
    return False


# Only network steps retry, and only when GOV.UK could not be reached.
NETWORK_TASK: dict[str, Any] = {
    "retries": len(FETCH_RETRY_DELAYS),
    "retry_delay_seconds": FETCH_RETRY_DELAYS,
    "retry_condition_fn": _retry_if_unavailable,
    "cache_policy": NO_CACHE,
}


@task(name="fetch-govuk", **NETWORK_TASK)
def fetch_govuk(db: Path, raw_dir: Path) -> list[Any]:
    """Discover, download, check and store what GOV.UK publishes now (storing is idempotent)."""
    from forecasting.ingest import ingest_from_govuk

    return list(ingest_from_govuk(db, raw_dir=raw_dir).outcomes)


@task(name="fetch-url", **NETWORK_TASK)
def fetch_url(db: Path, url: str, raw_dir: Path) -> Any:
    """Download one release by URL into raw_dir and store it (the same bytes twice: a no-op)."""
    from forecasting.ingest import ingest_source

    return ingest_source(db, url, raw_dir=raw_dir)


@task(name="store-file", cache_policy=NO_CACHE)
def store_file(db: Path, path: Path) -> Any:
    """Read, check and store one publication file in a single transaction."""
    from forecasting.ingest import ingest_source

    return ingest_source(db, path)


@task(name="fit", cache_policy=NO_CACHE, task_run_name="fit-{as_of}")
def fit_forecast(
    daily: Any, as_of: date, horizon_weeks: int, models: list[str] | None
) -> Fit:
    """Fit one as-of date's models; pure, so it runs on any worker that can import the project."""
    return fit_models(daily, as_of, horizon_weeks=horizon_weeks, models=models)


@task(name="fit-dates", cache_policy=NO_CACHE, task_run_name="fit-{first}-to-{last}")
def fit_forecasts(
    work: list[tuple[date, Any]],
    first: date,
    last: date,
    horizon_weeks: int,
    models: list[str] | None,
) -> list[Fit]:
    """Fit several as-of dates in one task: each task run costs the API a few round trips, which
    would otherwise rival the fit itself (about 0.16 s a date)."""
    return [
        fit_models(daily, as_of, horizon_weeks=horizon_weeks, models=models)
        for as_of, daily in work
    ]


@task(name="write-forecast", cache_policy=NO_CACHE, task_run_name="write-{result.as_of}")
def write_forecast(db: Path, result: Fit, read: Any) -> None:
    """The single writer's short transaction for one as-of date."""
    save_fit(db, result, read)


@task(name="write-report", cache_policy=NO_CACHE)
def write_report_task(db: Path, reports_dir: Path, as_of: date | None) -> Path:
    """Render the HTML report; report.py replaces the files atomically, so a failure keeps the
    last good report in place."""
    from forecasting.report import write_report

    return Path(write_report(db, reports_dir, as_of=as_of))


# ---------------------------------------------------------------------------------------------
# Flows


@flow(name="ingest")
def ingest(source: str | None = None, db: str | None = None, raw_dir: str | None = None) -> dict:
    """Store one publication (a file path or URL) or whatever GOV.UK publishes now.

    Raises SourceUnavailable (after retries) when GOV.UK cannot be reached, BadInput for a file
    that fails its checks; the store is untouched in both cases.
    """
    logger = get_run_logger()
    store, raw = resolve_db(db), resolve_raw_dir(raw_dir)
    source = source or os.environ.get("CROSSINGS_SOURCE") or None
    fetch_delays = list(FETCH_RETRY_DELAYS)
    if source is None:
        logger.info("asking GOV.UK for new publications")
        outcomes = fetch_govuk.with_options(retry_delay_seconds=fetch_delays)(store, raw)
    elif source.startswith(("http://", "https://")):
        outcomes = [fetch_url.with_options(retry_delay_seconds=fetch_delays)(store, source, raw)]
    else:
        outcomes = [store_file(store, Path(source))]
    lines = [o.describe() for o in outcomes] or ["nothing new: the store already holds it"]
    for line in lines:
        logger.info(line)
    stored = [o for o in outcomes if o.stored]
    return {
        "outcomes": lines,
        "new": bool(stored),
        "new_latest": any(o.is_latest for o in stored),
        "new_files": [o.file_name for o in stored],
    }


@flow(name="forecast")
def forecast(
    as_of: date | None = None,
    db: str | None = None,
    horizon_weeks: int = 13,
    models: list[str] | None = None,
    force: bool = False,
) -> dict:
    """Forecast as of a date (default: the last day with data) and store every model's figures."""
    from forecasting.store import read_as_of

    logger = get_run_logger()
    store = resolve_db(db)
    names = model_names(models)
    as_of = as_of or latest_data_through(store)
    if as_of is None:
        raise RuntimeError(f"{store}: the store holds no figures yet; ingest a release first")
    read = read_as_of(store, as_of)
    if read.daily.empty:
        raise RuntimeError(f"{store}: no figures on or before {as_of}")
    summary = {"as_of": as_of.isoformat(), "data_through": str(read.data_through)}
    if not force and already_forecast(store, as_of, read.publications, names, horizon_weeks):
        logger.info(
            "forecast as of %s already held from the same publications (%s): not refitted",
            as_of, ", ".join(read.publication_names),
        )
        return {**summary, "refitted": False}
    result = fit_forecast(read.daily, as_of, horizon_weeks, names)
    write_forecast(store, result, slim_read(read))
    year_end = result.production["year_end"]
    logger.info(
        "forecast as of %s (%s, data through %s): %s year end p50 %.0f (p10 %.0f, p90 %.0f)",
        as_of, result.production_model, read.data_through, year_end["year"], year_end["p50"],
        year_end["p10"], year_end["p90"],
    )
    return {**summary, "refitted": True, "model": result.production_model, "year_end": year_end}


@flow(name="report")
def report(
    as_of: date | None = None, db: str | None = None, reports_dir: str | None = None
) -> str:
    """Write the HTML report for as_of (default: the latest) and the site's index page."""
    logger = get_run_logger()
    path = write_report_task(resolve_db(db), resolve_reports_dir(reports_dir), as_of)
    logger.info("report written: %s", path)
    return str(path)


@flow(name="nightly", on_failure=[on_nightly_failure])
def nightly(
    source: str | None = None,
    db: str | None = None,
    reports_dir: str | None = None,
    raw_dir: str | None = None,
    horizon_weeks: int = 13,
) -> dict:
    """Ingest, then forecast, then report; GOV.UK being down only makes the report stale.

    Unset arguments come from $CROSSINGS_SOURCE, $CROSSINGS_DB, $CROSSINGS_REPORTS_DIR and
    $CROSSINGS_RAW_DIR (a deployment's worker passes its environment on), then the defaults.
    """
    logger = get_run_logger()
    store = resolve_db(db)
    reports = resolve_reports_dir(reports_dir)
    before = latest_data_through(store)
    unavailable: Any = None  # the SourceUnavailable raised by the ingest
    try:
        ingested = ingest(source=source, db=str(store), raw_dir=raw_dir)
    except Exception as exc:
        if type(exc).__name__ != "SourceUnavailable":
            raise
        unavailable = exc
        ingested = {"outcomes": [], "new": False, "new_latest": False, "new_files": []}
        logger.warning("GOV.UK unavailable, carrying on with the data held: %s", unavailable)
    through = latest_data_through(store)
    if through is None:
        if unavailable:
            from forecasting.errors import SourceUnavailable

            raise SourceUnavailable(
                unavailable.source, f"{unavailable.problem}; and the store holds no figures yet"
            ) from None
        raise RuntimeError(f"{store}: the store holds no figures after ingest")
    if through != before:
        logger.info("data now run to %s (before: %s)", through, before or "nothing held")
    else:
        logger.info("no newer figures: data still run to %s", through)
    forecasted = forecast(as_of=through, db=str(store), horizon_weeks=horizon_weeks)
    page = report(as_of=through, db=str(store), reports_dir=str(reports))
    summary = {
        "data_through": through.isoformat(),
        "new_publication": ingested["new"],
        "new_files": ingested["new_files"],
        "gov_uk_unavailable": str(unavailable) if unavailable else None,
        "forecast": forecasted,
        "report": page,
        "index": str(reports / "index.html"),
    }
    _nightly_artifact(store, summary)
    announce(store, reports, summary)  # alerts to $CROSSINGS_NOTIFY; never fails the run
    return summary


def _headline(store: Path) -> str:
    from forecasting.store import latest_daily
    from forecasting.ytd import headline, year_to_date

    try:
        return headline(year_to_date(latest_daily(store).daily))
    except Exception as exc:  # the artifact must never fail the run
        return f"(no headline: {exc})"


def _nightly_artifact(store: Path, summary: dict) -> None:
    fc = summary["forecast"]
    year_end = fc.get("year_end")
    if year_end is None:  # not refitted: read the held production forecast back
        from forecasting.store import read_frame

        held = read_frame(
            store,
            "SELECT year, observed_ytd, year_end_p10 AS p10, year_end_p50 AS p50, "
            "year_end_p90 AS p90 FROM forecasts WHERE as_of = ? AND production",
            [date.fromisoformat(fc["as_of"])],
        )
        year_end = held.iloc[0].to_dict() if not held.empty else None
    arrived = (
        "yes: " + ", ".join(summary["new_files"]) if summary["new_publication"] else "no"
    )
    if summary["gov_uk_unavailable"]:
        arrived = f"unknown, GOV.UK unavailable ({summary['gov_uk_unavailable']})"
    index = Path(summary["index"]).resolve()
    lines = [
        "# Channel crossings: nightly run",
        "",
        f"- **Data through:** {summary['data_through']}",
        f"- **New publication:** {arrived}",
        f"- **Headline:** {_headline(store)}",
    ]
    if year_end:
        lines.append(
            f"- **Year-end {int(year_end['year'])} forecast:** {year_end['p50']:,.0f} "
            f"(80% range {year_end['p10']:,.0f} to {year_end['p90']:,.0f}; "
            f"{int(year_end['observed_ytd']):,} so far)"
        )
    lines.append(f"- **Refitted:** {'yes' if fc.get('refitted') else 'no, same publications'}")
    lines.append(f"- **Report:** [{index}]({index.as_uri()})")
    create_markdown_artifact(
        "\n".join(lines), key="crossings-nightly", description="nightly run summary"
    )


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
        from prefect_dask import DaskTaskRunner

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
    start: date,
    end: date,
    every: Annotated[str, Field(pattern=EVERY_PATTERN)] = "1W",
    models: list[str] | None = None,
    db: str | None = None,
    horizon_weeks: int = 13,
    with_report: bool = False,
    reports_dir: str | None = None,
    task_runner: str = "threads",
    dask_address: str | None = None,
    force: bool = False,
) -> dict:
    """A forecast as of each date from start to end (both included) every `every`.

    Fits run in parallel on the chosen task runner, a few dates per task; this flow is the only
    writer and stores each chunk's forecasts in one short transaction as it returns, so an
    interrupted backfill keeps what it did and a rerun refits only what is missing or was made
    from other publications.
    """
    logger = get_run_logger()
    store = resolve_db(db)
    names = model_names(models)
    dates = as_of_dates(start, end, every)
    started = time.perf_counter()
    reader = AsOfReader(store, end)
    held = {} if force else held_forecasts(store, dates, horizon_weeks)
    reads: dict[date, Any] = {}
    todo: list[date] = []
    skipped: list[date] = []
    for d in dates:
        read = reader.read(d)
        if read.daily.empty:
            raise RuntimeError(f"{store}: no figures on or before {d}; ingest releases first")
        if covers(held.get(d, {}), read.publications, names):
            skipped.append(d)
            continue
        reads[d] = read
        todo.append(d)
    logger.info(
        "backfill %s..%s every %s: %d dates, %d already held from the same publications, "
        "%d to fit on %s (%d store reads)",
        start, end, every, len(dates), len(skipped), len(todo), task_runner, reader.reads,
    )
    total, done = len(dates), len(skipped)
    _tick(done, total, "already held")
    failures: list[str] = []
    failed_dates = 0
    if todo:
        workers = os.cpu_count() or 2
        with make_task_runner(task_runner, dask_address, workers) as runner:
            futures = {
                runner.submit(
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
            # Fits come back in any order; the flow alone writes them, one short transaction
            # per chunk of dates.
            for future in as_completed(list(futures)):
                chunk = futures[future]
                try:
                    results: list[Fit] = future.result()
                except Exception as exc:
                    failures.append(f"{chunk[0]}..{chunk[-1]}: {exc}")
                    failed_dates += len(chunk)
                    logger.error("fits as of %s..%s failed: %s", chunk[0], chunk[-1], exc)
                else:
                    save_fits(store, [(r, slim_read(reads.pop(r.as_of))) for r in results])
                done += len(chunk)
                _tick(done, total, f"as of {chunk[0]}..{chunk[-1]}")
    seconds = time.perf_counter() - started
    summary = {
        "dates": [d.isoformat() for d in dates],
        "fitted": len(todo) - failed_dates,
        "skipped": len(skipped),
        "failed": failures,
        "task_runner": task_runner,
        "seconds": round(seconds, 1),
    }
    if with_report and not failures:
        summary["report"] = report(as_of=end, db=str(store), reports_dir=reports_dir)
    _backfill_artifact(summary, start, end, every, names)
    if failures:
        raise RuntimeError(
            f"{failed_dates} of {len(todo)} fits failed (the rest are stored): {failures[0]}"
        )
    logger.info(
        "backfill stored %d as-of forecasts (%d skipped) in %.1f s",
        summary["fitted"], len(skipped), seconds,
    )
    return summary


def _backfill_artifact(
    summary: dict, start: date, end: date, every: str, names: list[str]
) -> None:
    lines = [
        "# Channel crossings: backfill",
        "",
        f"- **As-of dates:** {start} to {end} every {every} ({len(summary['dates'])} dates)",
        f"- **Models:** {', '.join(names)}",
        f"- **Fitted and stored:** {summary['fitted']}; **already held:** {summary['skipped']}",
        f"- **Task runner:** {summary['task_runner']}; **wall time:** {summary['seconds']} s",
    ]
    if summary["failed"]:
        lines.append(f"- **Failed:** {'; '.join(summary['failed'])}")
    if summary.get("report"):
        lines.append(f"- **Report:** {summary['report']}")
    create_markdown_artifact(
        "\n".join(lines), key="crossings-backfill", description="backfill summary"
    )
