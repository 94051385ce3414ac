"""The `crossings` command.

Every command does what `forecasting.operations` says (the flows call the same functions);
`run` and `backfill` go through the Prefect flows. Settings are read once, here, when the command
starts, and passed down. Arguments are checked before any work, each refusal one line and exit 2.
Heavy libraries (prophet, plotly, statsmodels, prefect) are imported inside the commands that
use them, so the command starts quickly. Exit statuses are `forecasting.errors.ExitStatus`
(README, "Exit statuses").
"""

from __future__ import annotations

import argparse
import importlib
import json
import signal
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

from flows.runtime import Terminated, reap_children, stop_on_signals, stopped_by, terminal
from forecasting.calendar import BadArgument, check_as_of, long_date, parse_every
from forecasting.errors import BadInput, ExitStatus, one_line
from forecasting.settings import Settings

__all__ = ["main", "build_parser"]

LONG = 2000  # printed lines keep their whole advice; the errors bound their own length


def _argument_type(check: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse type from a check that raises BadInput: its problem becomes the message."""

    def convert(text: str) -> Any:
        try:
            return check(text)
        except BadInput as exc:
            raise argparse.ArgumentTypeError(exc.problem) from None

    convert.__name__ = check.__name__
    return convert


def _parse_date(text: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise BadInput(text, f"{text!r} is not a date like 2026-02-26") from None
    return check_as_of(day)


def _parse_horizon(text: str) -> int:
    from forecasting.operations import check_horizon  # light: pandas only when it runs

    try:
        weeks = int(text)
    except ValueError:
        raise BadInput(text, f"{text!r} is not a whole number of weeks") from None
    return check_horizon(weeks)


def _parse_every(text: str) -> str:
    return parse_every(text).text


def _parse_years(text: str) -> tuple[int, int]:
    """'2021-2025' -> (2021, 2025)."""
    first, _, last = text.partition("-")
    try:
        years = (int(first), int(last or first))
    except ValueError:
        raise BadInput(text, f"{text!r} is not years like 2021-2025") from None
    if years[0] > years[1] or years[0] < 2018:
        raise BadInput(text, f"{text!r} is not a range of years from 2018 on")
    return years


as_date = _argument_type(_parse_date)
as_horizon = _argument_type(_parse_horizon)
as_every = _argument_type(_parse_every)
as_years = _argument_type(_parse_years)


def _say(line: str, *, err: bool = False) -> None:
    """A line of the command's own: on the terminal, even while a flow's output goes to its log."""
    out, error = terminal()
    print(line, file=error if err else out)


def _fail(message: str, status: int) -> int:
    _say(f"crossings: {one_line(message, LONG)}", err=True)
    return int(status)


def _stopped(signum: int) -> int:
    name = signal.Signals(signum).name
    return _fail(f"stopped by {name}; the store keeps its last complete state", 128 + signum)


def _failure(command: str, exc: BaseException) -> int:
    """One line for an exception: its own text for an expected failure, else named as a bug."""
    from forecasting.operations import exit_status_of

    if stopped_by() is not None:  # whatever surfaced, a signal stopped the command
        return _stopped(stopped_by())
    status = exit_status_of(exc)
    if status is None:
        return _fail(f"{command} failed: {type(exc).__name__}: {exc}", ExitStatus.FAILED)
    return _fail(str(exc), status)


# ---------------------------------------------------------------------------------------------
# Commands that need no Prefect


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from forecasting import operations as ops

    db, raw = Path(args.db or settings.db), Path(args.raw_dir or settings.raw_dir)
    failures: list[str] = []
    if args.source:
        outcomes = ops.ingest_many(db, args.source, raw_dir=raw, settings=settings)
    else:
        got = ops.ingest_govuk(db, raw_dir=raw, settings=settings)
        outcomes, failures = got.outcomes, got.failures
    for outcome in outcomes:
        _say(one_line(outcome.describe(), LONG))  # a file name cannot drive the terminal
    if not outcomes and not failures:
        _say("nothing new on GOV.UK: the store already holds the latest publications")
    for failure in failures:
        _fail(f"source failed: {failure}", ExitStatus.STALE)
    return ExitStatus.STALE if failures else ExitStatus.OK


def cmd_ytd(args: argparse.Namespace, settings: Settings) -> int:
    from forecasting.operations import check_held_through
    from forecasting.store import latest_daily
    from forecasting.ytd import format_ytd_table, year_to_date

    db = Path(args.db or settings.db)
    check_held_through(db, args.as_of, forecast=False)
    # Year-to-date figures use the latest published value of every day (revisions included).
    ytd = year_to_date(latest_daily(db).daily, args.as_of)
    text = format_ytd_table(ytd)
    if args.format == "json":
        text = json.dumps(ytd.to_json_dict(), indent=2)
    _say(text)
    return ExitStatus.OK


def _write_text(text: str, output: str) -> None:
    from forecasting.files import atomic_write

    atomic_write(Path(output), text)  # a reader never sees half a file


def _write_json(payload: dict, output: str | None) -> None:
    text = json.dumps(payload, indent=2) + "\n"
    if not output:
        terminal()[0].write(text)
        return
    _write_text(text, output)


def cmd_forecast(args: argparse.Namespace, settings: Settings) -> int:
    from forecasting.operations import forecast_and_store

    outcome = forecast_and_store(
        Path(args.db or settings.db),
        args.as_of,
        horizon_weeks=args.horizon_weeks,
        force=args.force,
    )
    _write_json(outcome.payload, args.output)
    if args.output:
        _say(f"{outcome.describe()}; written to {args.output}")
    return ExitStatus.OK


def cmd_backtest(args: argparse.Namespace, settings: Settings) -> int:
    from forecasting import operations as ops

    db = Path(args.db or settings.db)
    if args.protocol:
        with _progress_bar("protocol") as progress:
            tables, run_ids = ops.protocol_and_store(
                db,
                models=args.models,
                progress=lambda what, done, total: progress(done, total, what),
            )
        if args.output:
            _write_text(tables, args.output)
        _say(tables)
        _say(
            f"stored in {db} as backtest runs " + ", ".join(f"{k} {v}" for k, v in run_ids.items())
        )
        return ExitStatus.OK
    if args.start is None or args.end is None:
        raise BadArgument("--start/--end", "give both, or --protocol")
    ops.check_backtest(db, args.start, args.end, args.every, args.models, args.horizon_weeks)
    with _progress_bar("backtest") as progress:
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
    _say(outcome.describe())
    return ExitStatus.OK


def cmd_notify(args: argparse.Namespace, settings: Settings) -> int:
    """Send to every URL in $CROSSINGS_NOTIFY: a test message, or what the store shows now."""
    if not settings.notify:
        return _fail(
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
            _say("nothing new to announce")
            return ExitStatus.OK
        _say(result.title)
        deliveries = result.deliveries
    for delivery in deliveries:
        _say(delivery.describe())
    ok = deliveries and all(d.delivered for d in deliveries)
    return ExitStatus.OK if ok else ExitStatus.FAILED


def cmd_accept(args: argparse.Namespace, settings: Settings) -> int:
    """Make a publication held back for review (it rewrote history) part of the official series."""
    from forecasting.store import accept_publication

    _say(accept_publication(Path(args.db or settings.db), args.publication).describe())
    return ExitStatus.OK


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    """Write the store's public tables and views as files analysts can query without the lock."""
    from forecasting.store import export_views

    _say(export_views(Path(args.db or settings.db), args.out_dir, format=args.format).describe())
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
    _say(f"report written: {path}")
    return ExitStatus.OK


# ---------------------------------------------------------------------------------------------
# Commands that run Prefect flows


def _in_flow_run(command: str, settings: Settings, body: Callable[[], int]) -> int:
    """Run `body` with Prefect's log in a file (its path printed last) and a temporary API."""
    from flows.runtime import log_to_file, new_log_path, shared_api

    log = new_log_path(settings.log_dir, command)
    try:
        # The flows are imported while the temporary server starts: both take seconds.
        with log_to_file(log), shared_api(log, lambda: importlib.import_module("flows.pipeline")):
            return body()
    except Exception as exc:
        return _failure(command, exc)
    finally:
        _say(f"full log: {log}", err=True)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    def body() -> int:
        from flows.pipeline import nightly

        summary = nightly(
            source=args.source or settings.source,
            db=str(args.db or settings.db),
            reports_dir=str(args.reports_dir or settings.reports_dir),
            raw_dir=str(args.raw_dir or settings.raw_dir),
            horizon_weeks=args.horizon_weeks,
        )
        for failure in summary["failures"]:
            _fail(f"source failed: {failure}", ExitStatus.STALE)
        if summary["seeded"]:
            _fail(
                f"the store was empty: seeded it from the bundled snapshot {summary['seeded']}",
                ExitStatus.STALE,
            )
        for reason in summary["reasons"][len(summary["failures"]) :]:
            _fail(f"stale: {reason}", ExitStatus.STALE)
        fc = summary["forecast"]
        _say(
            f"report written: {summary['index']} (figures to "
            f"{long_date(date.fromisoformat(summary['data_through']))}; new publication: "
            f"{'yes' if summary['new_publication'] else 'no'}; forecast as of {fc['as_of']} "
            f"{'fitted' if fc['refitted'] else 'already held from the same publications'})"
        )
        return summary["status"]

    return _in_flow_run("run", settings, body)


def cmd_backfill(args: argparse.Namespace, settings: Settings) -> int:
    from forecasting.operations import check_backfill

    db = Path(args.db or settings.db)
    # Every check before paying for Prefect's start-up.
    check_backfill(db, args.start, args.end, args.every, args.models, args.horizon_weeks)

    def body() -> int:
        from flows.pipeline import backfill, progress_to

        with _progress_bar("backfill") as progress, progress_to(progress):
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
        _say(
            f"{len(summary['dates'])} as-of dates: {summary['fitted']} fitted and stored, "
            f"{summary['skipped']} already held; {summary['seconds']} s on "
            f"{summary['task_runner']}"
        )
        return ExitStatus.OK

    return _in_flow_run("backfill", settings, body)


class _Bar:
    """A rich progress bar on stderr, driven by (done, total, what) calls."""

    def __init__(self, label: str) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn(f"[bold]{label}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.description}"),
            console=Console(file=terminal()[1]),
            transient=False,
        )
        self._task = self._progress.add_task("", total=None)

    def __enter__(self) -> _Bar:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def __call__(self, done: int, total: int, what: str) -> None:
        self._progress.update(self._task, completed=done, total=total, description=what)


def _progress_bar(label: str) -> _Bar:
    return _Bar(label)


# ---------------------------------------------------------------------------------------------
# Arguments


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line on stderr (exit 2), like any other bad input."""

    def error(self, message: str) -> NoReturn:
        self.exit(ExitStatus.BAD_INPUT, f"{self.prog}: {message} (see --help)\n")


class _Help(argparse.HelpFormatter):
    """Fills `{models}` in help texts from the library's model list, only when help is shown."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = super()._get_help_string(action)
        if text and "{models}" in text:
            from forecasting.models import MODEL_NAMES

            text = text.replace("{models}", ", ".join(MODEL_NAMES))
        return text


def _add(sub: Any, name: str, func: Callable[..., int], help_text: str) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=help_text, description=help_text, formatter_class=_Help)
    p.add_argument("--db", help="DuckDB store (default: $CROSSINGS_DB or data/crossings.duckdb)")
    p.set_defaults(func=func)
    return p


def _add_range(p: argparse.ArgumentParser, every: str, what: str, *, required: bool = True) -> None:
    p.add_argument("--start", type=as_date, required=required, help="first date (2018-01-01 on)")
    p.add_argument(
        "--end", type=as_date, required=required, help="last date (up to the last day with figures)"
    )
    p.add_argument(
        "--every",
        type=as_every,
        default=every,
        help=f"{what}: days or weeks, 1D to 52W, like 1W, 4W or 7D (default {every})",
    )
    p.add_argument(
        "--models", nargs="+", metavar="MODEL", help="default: every model; known: {models}"
    )
    p.add_argument("--horizon-weeks", type=as_horizon, default=13, help=HORIZON_HELP)


REPORTS_HELP = "default: $CROSSINGS_REPORTS_DIR or reports/"
RAW_HELP = "where downloads are kept (default: $CROSSINGS_RAW_DIR or data/raw)"
HORIZON_HELP = "1 to 104 (default 13)"


def _library_commands(sub: Any) -> None:
    p = _add(sub, "ingest", cmd_ingest, "store publications (files, a folder, a URL, or GOV.UK)")
    p.add_argument(
        "--source",
        nargs="+",
        metavar="PATH_OR_URL",
        help="releases (.ods), saved last-7-days pages (.html), folders of them (stored oldest "
        "publication first), or one URL; default: the newest on GOV.UK ($CROSSINGS_GOVUK_URL)",
    )
    p.add_argument("--raw-dir", help=RAW_HELP)

    p = _add(sub, "ytd", cmd_ytd, "year-to-date arrivals against the same day each year")
    p.add_argument("--as-of", type=as_date, help="calendar day (default: last day with data)")
    p.add_argument("--format", choices=["table", "json"], default="table")

    p = _add(sub, "forecast", cmd_forecast, "forecast the coming weeks and the year end")
    p.add_argument(
        "--as-of",
        type=as_date,
        help="forecast with the figures known then "
        "(default: the last day with figures; never later)",
    )
    p.add_argument("--horizon-weeks", type=as_horizon, default=13, help=HORIZON_HELP)
    p.add_argument("--output", help="write the JSON here (default: stdout)")
    p.add_argument(
        "--force", action="store_true", help="refit even if held from the same publications"
    )

    p = _add(sub, "backtest", cmd_backtest, "rolling-origin evaluation of the models")
    _add_range(p, "4W", "weeks between origins (Sundays)", required=False)
    p.add_argument(
        "--thursdays",
        action="store_true",
        help="also forecast from the Thursday before each Sunday (a release's cut: the first "
        "week is then part-observed)",
    )
    p.add_argument(
        "--protocol",
        action="store_true",
        help="the selection protocol instead: validation (Jul 2019 - Dec 2021) and evaluation "
        "(2022-2025) of the production model, its members and the benchmarks",
    )
    p.add_argument("--output", help="with --protocol: also write its tables (Markdown) here")
    p.add_argument(
        "--year-end-years",
        type=as_years,
        metavar="FIRST-LAST",
        help="year-end origins (31 Mar, 30 Jun, 30 Sep) in these years, e.g. 2021-2025 "
        "(default: those between --start and --end)",
    )

    p = _add(sub, "report", cmd_report, "write the HTML report")
    p.add_argument("--as-of", type=as_date, help="default: the last day with data")
    p.add_argument("--reports-dir", help=REPORTS_HELP)

    p = _add(sub, "notify", cmd_notify, "alerts: a test message, or what to announce now")
    p.add_argument(
        "--test",
        action="store_true",
        help="send a test message to every URL in $CROSSINGS_NOTIFY and say what each did",
    )

    p = _add(sub, "accept", cmd_accept, "make a release held back for review official")
    p.add_argument("publication", help="its sha256 (or first 8+ characters) or file name")

    p = _add(sub, "export", cmd_export, "write the public tables and views as files")
    p.add_argument("out_dir", metavar="DIR", help="folder to write (replaced whole)")
    p.add_argument("--format", choices=["parquet", "csv"], default="parquet")


def _flow_commands(sub: Any) -> None:
    p = _add(sub, "run", cmd_run, "the nightly flow once: ingest, forecast, report")
    p.add_argument(
        "--source", help="a release file, folder or URL (default: $CROSSINGS_SOURCE, else GOV.UK)"
    )
    p.add_argument("--reports-dir", help=REPORTS_HELP)
    p.add_argument("--raw-dir", help=RAW_HELP)
    p.add_argument("--horizon-weeks", type=as_horizon, default=13, help=HORIZON_HELP)

    p = _add(sub, "backfill", cmd_backfill, "a stored forecast as of each date in a range")
    _add_range(p, "1W", "step between as-of dates")
    p.add_argument(
        "--task-runner",
        choices=["threads", "processes", "dask"],
        default="threads",
        help="where fits run (default threads); dask: a local cluster or --dask-address",
    )
    p.add_argument("--dask-address", help="a Dask scheduler, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--with-report", action="store_true", help="then write the report as of --end")
    p.add_argument("--reports-dir", help=REPORTS_HELP)
    p.add_argument("--force", action="store_true", help="refit dates already held")


def build_parser() -> argparse.ArgumentParser:
    """The `crossings` command's arguments, each checked as it is parsed."""
    parser = _Parser(
        prog="crossings",
        description=(
            "Home Office small-boat crossings: store every release, forecast, and report. "
            "Data: GOV.UK, Open Government Licence v3.0."
        ),
    )
    sub = parser.add_subparsers(dest="command", required=True)
    _library_commands(sub)
    _flow_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `crossings` console command; returns its exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if getattr(args, "dask_address", None) and args.task_runner != "dask":
            parser.error("--dask-address needs --task-runner dask")
    except SystemExit as done:  # --help, or a usage mistake already printed in one line
        return int(done.code or 0)
    try:
        settings = Settings.from_env()
    except ValueError as exc:  # a malformed CROSSINGS_* number, named
        return _fail(str(exc), ExitStatus.BAD_INPUT)
    # SIGTERM and SIGHUP unwind like Ctrl-C; whatever the command started is stopped on the way
    # out. The store's transactions and the report's atomic writes keep the last good state.
    with stop_on_signals(), reap_children():
        try:
            return int(args.func(args, settings))
        except KeyboardInterrupt as exc:
            return _stopped(exc.signum if isinstance(exc, Terminated) else signal.SIGINT)
        except Exception as exc:
            return _failure(args.command, exc)


if __name__ == "__main__":
    sys.exit(main())
