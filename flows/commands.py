"""What each `crossings` subcommand does: a thin layer over `forecasting.operations`' jobs.

`flows/cli.py` parses the arguments and calls these; each takes the parsed arguments and the
Settings read once at start, prints its own lines (the command's output stays on the terminal
while Prefect's goes to the log file) and returns its exit status.
"""

from __future__ import annotations

import argparse
import importlib
import json
import signal
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from flows.log_file import terminal
from flows.progress import progress_bar
from flows.signals import stopped_by
from forecasting.calendar import long_date
from forecasting.errors import BadArgument, ExitStatus, one_line
from forecasting.settings import Settings

if TYPE_CHECKING:
    from forecasting.operations.results import NightResult

__all__ = [
    "cmd_ingest",
    "cmd_ytd",
    "cmd_forecast",
    "cmd_backtest",
    "cmd_report",
    "cmd_notify",
    "cmd_accept",
    "cmd_export",
    "cmd_run",
    "cmd_backfill",
    "fail",
    "say",
    "stopped",
    "failure",
]

LONG = 2000  # printed lines keep their whole advice; the errors bound their own length


def say(line: str, *, err: bool = False) -> None:
    """A line of the command's own: on the terminal, even while a flow's output goes to its log."""
    out, error = terminal()
    print(line, file=error if err else out)


def fail(message: str, status: int) -> int:
    say(f"crossings: {one_line(message, LONG)}", err=True)
    return int(status)


def stopped(signum: int) -> int:
    name = signal.Signals(signum).name
    return fail(f"stopped by {name}; the store keeps its last complete state", 128 + signum)


def failure(command: str, exc: BaseException) -> int:
    """One line for an exception: its own text for an expected failure, else named as a bug."""
    from forecasting.operations.status import exit_status_of

    signum = stopped_by()
    if signum is not None:  # whatever surfaced, a signal stopped the command
        return stopped(signum)
    status = exit_status_of(exc)
    if status is None:
        return fail(f"{command} failed: {type(exc).__name__}: {exc}", ExitStatus.FAILED)
    return fail(str(exc), status)


# ---------------------------------------------------------------------------------------------
# Commands that need no Prefect


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from forecasting.operations import ingest as ops

    db, raw = Path(args.db or settings.db), Path(args.raw_dir or settings.raw_dir)
    failures: list[str] = []
    if args.source:
        from forecasting.batch import skipped_files

        for skipped in skipped_files(args.source):
            say(one_line(skipped.describe(), LONG))
        outcomes = ops.ingest_many(db, args.source, raw_dir=raw, settings=settings)
    else:
        got = ops.ingest_govuk(db, raw_dir=raw, settings=settings)
        outcomes, failures = got.outcomes, got.failures
    for outcome in outcomes:
        say(one_line(outcome.describe(), LONG))  # a file name cannot drive the terminal
    if not outcomes and not failures:
        say("nothing new on GOV.UK: the store already holds the latest publications")
    for failure in failures:
        fail(f"source failed: {failure}", ExitStatus.STALE)
    return ExitStatus.STALE if failures else ExitStatus.OK


def cmd_ytd(args: argparse.Namespace, settings: Settings) -> int:
    from forecasting.operations.checks import check_held_through
    from forecasting.store import latest_daily
    from forecasting.ytd import format_ytd_table, year_to_date

    db = Path(args.db or settings.db)
    check_held_through(db, args.as_of, forecast=False)
    # Year-to-date figures use the latest published value of every day (revisions included).
    ytd = year_to_date(latest_daily(db).daily, args.as_of)
    text = format_ytd_table(ytd)
    if args.format == "json":
        text = json.dumps(ytd.to_json_dict(), indent=2)
    say(text)
    return ExitStatus.OK


def _write_text(text: str, output: str) -> None:
    from forecasting.files import atomic_write

    atomic_write(Path(output), text)  # a reader never sees half a file


def _write_json(payload: dict[str, Any], output: str | None) -> None:
    text = json.dumps(payload, indent=2) + "\n"
    if not output:
        terminal()[0].write(text)
        return
    _write_text(text, output)


def cmd_forecast(args: argparse.Namespace, settings: Settings) -> int:
    from forecasting.operations.forecast import forecast_and_store

    outcome = forecast_and_store(
        Path(args.db or settings.db),
        args.as_of,
        horizon_weeks=args.horizon_weeks,
        force=args.force,
    )
    _write_json(outcome.payload, args.output)
    if args.output:
        say(f"{outcome.describe()}; written to {args.output}")
    return ExitStatus.OK


def cmd_backtest(args: argparse.Namespace, settings: Settings) -> int:
    from forecasting.operations import backtest as ops
    from forecasting.operations.checks import check_backtest

    db = Path(args.db or settings.db)
    if args.protocol:
        with progress_bar("protocol") as progress:
            protocol = ops.protocol_and_store(
                db,
                models=args.models,
                progress=lambda what, done, total: progress(done, total, what),
            )
        if args.output:
            _write_text(protocol.tables, args.output)
        say(protocol.describe())
        return ExitStatus.OK
    if args.start is None or args.end is None:
        raise BadArgument("--start/--end", "give both, or --protocol")
    if args.target == "year-end":
        from forecasting.year_end_run import year_end_and_store, year_end_models

        models = year_end_models(args.models)
        check_backtest(db, args.start, args.end, args.every, models, args.horizon_weeks)
        with progress_bar("year-end backtest") as progress:
            year_end = year_end_and_store(
                db,
                args.start,
                args.end,
                every=args.every,
                models=models,
                progress=lambda done, total: progress(done, total, ""),
            )
        say(year_end.describe())
        return ExitStatus.OK
    check_backtest(db, args.start, args.end, args.every, args.models, args.horizon_weeks)
    with progress_bar("backtest") as progress:
        outcome = ops.backtest_and_store(
            db,
            args.start,
            args.end,
            every=args.every,
            horizon_weeks=args.horizon_weeks,
            models=args.models,
            year_end_years=args.year_end_years,
            thursdays=args.thursdays,
            progress=lambda done, total: progress(done, total, ""),
        )
    say(outcome.describe())
    return ExitStatus.OK


def cmd_notify(args: argparse.Namespace, settings: Settings) -> int:
    """Send to every URL in $CROSSINGS_NOTIFY: a test message, or what the store shows now."""
    if not settings.notify:
        return fail(
            "CROSSINGS_NOTIFY is not set: no URL to send to "
            "(comma-separated Apprise URLs, e.g. json://127.0.0.1:8099/hook)",
            ExitStatus.BAD_INPUT,
        )
    if args.test:
        from forecasting.notify import send_test

        deliveries = send_test(settings.notify)
    else:
        from forecasting.alerts import RunFacts
        from forecasting.notify import announce_run

        db, reports = Path(args.db or settings.db), Path(settings.reports_dir)
        result = announce_run(db, reports, RunFacts(), settings)
        if result is None:
            say("nothing new to announce")
            return ExitStatus.OK
        say(result.title)
        deliveries = result.deliveries
    for delivery in deliveries:
        say(delivery.describe())
    ok = deliveries and all(d.delivered for d in deliveries)
    return ExitStatus.OK if ok else ExitStatus.FAILED


def cmd_accept(args: argparse.Namespace, settings: Settings) -> int:
    """Make a publication held back for review (it rewrote history) part of the official series."""
    from forecasting.store import accept_publication

    say(accept_publication(Path(args.db or settings.db), args.publication).describe())
    return ExitStatus.OK


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    """Write the store's public tables and views as files analysts can query without the lock."""
    from forecasting.store import export_views

    say(export_views(Path(args.db or settings.db), args.out_dir, format=args.format).describe())
    return ExitStatus.OK


def cmd_breakdown(args: argparse.Namespace, settings: Settings) -> int:
    """A year's official quarterly detections by nationality, age group or sex, top first."""
    from forecasting.breakdown import breakdown, format_breakdown

    result = breakdown(Path(args.db or settings.db), args.year, args.by, args.method)
    say(format_breakdown(result, top=args.top))
    return ExitStatus.OK


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from forecasting.report import write_report

    reports = Path(args.reports_dir or settings.reports_dir)
    path = write_report(
        Path(args.db or settings.db),
        reports,
        as_of=args.as_of,
        stale_after_days=settings.stale_after_days,
    )
    say(f"report written: {path}")
    return ExitStatus.OK


# ---------------------------------------------------------------------------------------------
# Commands that run Prefect flows


def _in_flow_run(command: str, settings: Settings, body: Callable[[], int]) -> int:
    """Run `body` with Prefect's log in a file (its path printed last) and a temporary API."""
    from flows.log_file import log_to_file, new_log_path
    from flows.prefect_server import shared_api

    log = new_log_path(settings.log_dir, command)
    try:
        # The flows are imported while the temporary server starts: both take seconds.
        with log_to_file(log), shared_api(log, lambda: importlib.import_module("flows.pipeline")):
            return body()
    except Exception as exc:
        return failure(command, exc)
    finally:
        say(f"full log: {log}", err=True)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from forecasting.batch import check_sources, skipped_files

    source = args.source or settings.source
    sources = [source] if source else []
    for skipped in skipped_files(sources):
        say(one_line(skipped.describe(), LONG))
    # Every argument checked before paying for Prefect's start-up (the horizon, as parsed).
    check_sources(sources, settings.govuk_url)

    def body() -> int:
        from flows.pipeline import nightly

        # Calling the flow gives its summary, even when it ends in a "Stale" state carrying it
        # (hence its `-> Any`); Prefect's overloads read a flow returning Any as returning None.
        night = cast(
            "NightResult",
            nightly(
                source=source,
                db=str(args.db or settings.db),
                reports_dir=str(args.reports_dir or settings.reports_dir),
                raw_dir=str(args.raw_dir or settings.raw_dir),
                horizon_weeks=args.horizon_weeks,
            ),
        )
        for failure in night.failures:
            fail(f"source failed: {failure}", ExitStatus.STALE)
        if night.seeded:
            fail(
                f"the store was empty: seeded it from the bundled snapshot {night.seeded}",
                ExitStatus.STALE,
            )
        for reason in night.reasons[len(night.failures) :]:
            fail(f"stale: {reason}", ExitStatus.STALE)
        fc = night.forecast
        new = "yes" if night.new_publication else "no"
        if night.seeded:
            new = "yes (the bundled snapshot)"
        say(
            f"report written: {night.index} (figures to "
            f"{long_date(night.data_through)}; new publication: "
            f"{new}; forecast as of {fc.as_of} "
            f"{'fitted' if fc.refitted else 'already held from the same publications'})"
        )
        return night.status

    return _in_flow_run("run", settings, body)


def cmd_backfill(args: argparse.Namespace, settings: Settings) -> int:
    from forecasting.operations.checks import check_backfill

    db = Path(args.db or settings.db)
    # Every check before paying for Prefect's start-up.
    check_backfill(db, args.start, args.end, args.every, args.models, args.horizon_weeks)

    def body() -> int:
        from flows.backfill import backfill, progress_to

        with progress_bar("backfill") as progress, progress_to(progress):
            summary = backfill(
                start=args.start,
                end=args.end,
                every=args.every,
                models=args.models,
                db=str(db),
                horizon_weeks=args.horizon_weeks,
                with_report=args.with_report,
                reports_dir=str(args.reports_dir or settings.reports_dir),
                task_runner=args.task_runner,
                dask_address=args.dask_address,
                force=args.force,
            )
        say(
            f"{len(summary.dates)} as-of dates: {summary.fitted} fitted and stored, "
            f"{summary.skipped} already held; {summary.seconds} s on "
            f"{summary.task_runner}"
        )
        return ExitStatus.OK

    return _in_flow_run("backfill", settings, body)
