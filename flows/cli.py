"""The `crossings` command.

Commands that need no flow (ingest, ytd, forecast, backtest) call the library directly so they
start quickly; `run` and `backfill` go through the Prefect flows. Heavy libraries (prophet,
plotly, statsmodels, prefect) are imported inside the commands that use them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import NoReturn

__all__ = ["main"]

EXIT_BAD_INPUT = 2
EXIT_SOURCE_UNAVAILABLE = 3
EXIT_FAILED = 1


def _year_range(text: str) -> tuple[int, int]:
    """'2021-2025' -> (2021, 2025)."""
    first, _, last = text.partition("-")
    try:
        years = (int(first), int(last or first))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not years like 2021-2025") from None
    if years[0] > years[1] or years[0] < 2018:
        raise argparse.ArgumentTypeError(f"{text!r} is not a range of years from 2018 on")
    return years


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-02-26") from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return value


def _db(args: argparse.Namespace) -> Path:
    from forecasting.store import default_db_path

    return Path(args.db) if args.db else default_db_path()


def _fail(message: str, status: int) -> int:
    print(f"crossings: {message}", file=sys.stderr)
    return status


def cmd_ingest(args: argparse.Namespace) -> int:
    from forecasting.errors import CrossingsError, ExitStatus, one_line
    from forecasting.ingest import ingest_source

    db = _db(args)
    failures: list[str] = []
    try:
        if args.source:
            outcomes = [ingest_source(db, args.source, raw_dir=Path(args.raw_dir))]
        else:
            from forecasting.ingest import ingest_from_govuk

            got = ingest_from_govuk(db, raw_dir=Path(args.raw_dir))
            outcomes, failures = got.outcomes, got.failures
    except CrossingsError as exc:
        return _fail(str(exc), exc.exit_status)
    for outcome in outcomes:
        print(one_line(outcome.describe(), 1000))  # a file name cannot drive the terminal
    if not outcomes and not failures:
        print("nothing new on GOV.UK: the store already holds the latest publications")
    # One source failed, the other was stored or is current: say which, and exit STALE.
    for failure in failures:
        _fail(_one_line(failure), ExitStatus.STALE)
    return ExitStatus.STALE if failures else 0


def cmd_ytd(args: argparse.Namespace) -> int:
    from forecasting.store import latest_daily
    from forecasting.ytd import format_ytd_table, year_to_date

    db = _db(args)
    # Year-to-date figures use the latest published value of every day (revisions included).
    read = latest_daily(db)
    if read.daily.empty:
        return _fail(f"{db}: the store holds no figures yet; run `crossings ingest` first", 1)
    if args.as_of and args.as_of > read.as_of:
        return _fail(
            f"the data runs to {read.as_of:%d %B %Y}; no figures for {args.as_of:%d %B %Y} yet", 1
        )
    ytd = year_to_date(read.daily, args.as_of)
    if args.format == "json":
        print(json.dumps(ytd.to_json_dict(), indent=2))
    else:
        print(format_ytd_table(ytd))
    return 0


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def _write_json(payload: dict, output: str | None) -> None:
    text = json.dumps(payload, indent=2) + "\n"
    if not output:
        sys.stdout.write(text)
        return
    target = Path(output)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(target)  # a reader never sees half a file


def cmd_forecast(args: argparse.Namespace) -> int:
    from flows.core import contract, fit, save_fit
    from forecasting.store import read_as_of

    db = _db(args)
    read = read_as_of(db, args.as_of)
    if read.daily.empty:
        return _fail(f"{db}: no figures on or before {args.as_of}; run `crossings ingest` first", 1)
    try:
        result = fit(read.daily, args.as_of, horizon_weeks=args.horizon_weeks)
    except ValueError as exc:
        return _fail(_one_line(exc), EXIT_BAD_INPUT)
    save_fit(db, result, read)  # every model, the production one flagged
    _write_json(contract(result.production), args.output)
    if args.output:
        year_end = result.production["year_end"]
        print(
            f"forecast as of {args.as_of} ({result.production_model}, data through "
            f"{read.data_through}): {year_end['year']} year end p50 {year_end['p50']:,.0f} "
            f"(p10 {year_end['p10']:,.0f}, p90 {year_end['p90']:,.0f}); written to {args.output}"
        )
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from flows.core import AsOfReader
    from forecasting.backtest import (
        format_scores,
        format_year_end,
        origins_between,
        run_backtest,
        summarise_year_end,
    )
    from forecasting.store import latest_daily, save_frames

    try:
        if args.end < args.start:
            raise ValueError(f"end {args.end} is before start {args.start}")
        origins_between(args.start, args.end, args.every)
    except ValueError as exc:
        return _fail(_one_line(exc), EXIT_BAD_INPUT)
    db = _db(args)
    truth = latest_daily(db)
    if truth.daily.empty:
        return _fail(f"{db}: the store holds no figures yet; run `crossings ingest` first", 1)
    # One store read per distinct set of publications, not per origin: same figures as
    # read_as_of(db, origin).daily for every origin (see AsOfReader).
    reader = AsOfReader(db, args.end)
    with _progress_bar("backtest") as progress:
        result = run_backtest(
            reader.daily, args.start, args.end, every=args.every,
            horizon_weeks=args.horizon_weeks, models=args.models,
            progress=lambda done, total: progress(done, total, ""), actuals=truth.daily,
            year_end_years=args.year_end_years,
        )
    # Which run made the rows (column names avoid SQL keywords such as END).
    run = {
        "run_start": args.start, "run_end": args.end, "run_every": args.every,
        "horizon_weeks": args.horizon_weeks, "created_at": datetime.now(UTC),
    }
    save_frames(  # one transaction: readers see all three tables of a run, or none
        db,
        [
            ("backtest_scores", result.scores.assign(**run),
             ["run_start", "run_end", "run_every", "horizon_weeks", "model"]),
            ("backtest_year_end", result.year_end.assign(**run), ["origin", "model"]),
            ("backtest_forecasts", result.forecasts.assign(**run),
             ["origin", "model", "horizon_weeks"]),
        ],
    )
    print(format_scores(result.scores))
    if not result.year_end.empty:
        print(format_year_end(summarise_year_end(result.year_end)))
    print(
        f"{len(result.forecasts['origin'].unique()) if not result.forecasts.empty else 0} "
        f"origins from {args.start} to {args.end} every {args.every}; stored in {db} "
        "(backtest_scores, backtest_year_end, backtest_forecasts)"
    )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from flows.core import resolve_reports_dir
    from forecasting.report import write_report

    path = write_report(_db(args), resolve_reports_dir(args.reports_dir), as_of=args.as_of)
    print(f"report written: {path}")
    return 0


def cmd_notify(args: argparse.Namespace) -> int:
    """Send to every URL in $CROSSINGS_NOTIFY: a test message, or what the store shows now."""
    from forecasting.settings import Settings

    try:
        settings = Settings.from_env()
    except ValueError as exc:
        return _fail(_one_line(exc), EXIT_BAD_INPUT)
    if not settings.notify:
        return _fail(
            "CROSSINGS_NOTIFY is not set: no URL to send to "
            "(comma-separated Apprise URLs, e.g. json://127.0.0.1:8099/hook)",
            EXIT_BAD_INPUT,
        )
    if args.test:
        from forecasting.notify import send_test

        deliveries = send_test(settings.notify)
    else:
        from forecasting.alerts import RunFacts
        from forecasting.notify import announce_run

        result = announce_run(_db(args), settings.reports_dir, RunFacts(), settings)
        if result is None:
            print("nothing new to announce")
            return 0
        print(result.title)
        deliveries = result.deliveries
    for delivery in deliveries:
        print(delivery.describe())
    return 0 if deliveries and all(d.delivered for d in deliveries) else EXIT_FAILED


def cmd_run(args: argparse.Namespace) -> int:
    from flows.pipeline import nightly, shared_api

    with shared_api():
        summary = nightly(
            source=args.source, db=str(_db(args)), reports_dir=args.reports_dir,
            raw_dir=args.raw_dir, horizon_weeks=args.horizon_weeks,
        )
    if summary["gov_uk_unavailable"]:
        print(f"GOV.UK unavailable, used the data held: {summary['gov_uk_unavailable']}")
    fc = summary["forecast"]
    print(
        f"data through {summary['data_through']}; new publication: "
        f"{'yes' if summary['new_publication'] else 'no'}; forecast as of {fc['as_of']} "
        f"{'refitted' if fc['refitted'] else 'already held (same publications)'}; "
        f"report: {summary['index']}"
    )
    return 0


def cmd_backfill(args: argparse.Namespace) -> int:
    from flows.core import as_of_dates, model_names

    try:  # check arguments before paying for Prefect's start-up
        as_of_dates(args.start, args.end, args.every)
        model_names(args.models)
    except ValueError as exc:
        return _fail(_one_line(exc), EXIT_BAD_INPUT)
    from flows.pipeline import backfill, progress_to, shared_api
    with shared_api(), _progress_bar("backfill") as progress, progress_to(progress):
        summary = backfill(
            start=args.start, end=args.end, every=args.every, models=args.models,
            db=str(_db(args)), horizon_weeks=args.horizon_weeks, with_report=args.with_report,
            reports_dir=args.reports_dir, task_runner=args.task_runner,
            dask_address=args.dask_address, force=args.force,
        )
    print(
        f"{len(summary['dates'])} as-of dates: {summary['fitted']} fitted and stored, "
        f"{summary['skipped']} already held; {summary['seconds']} s on {summary['task_runner']}"
    )
    return 0


def cmd_accept(args: argparse.Namespace) -> int:
    """Make a publication held back for review (it rewrote history) part of the official series."""
    from forecasting.errors import BadInput
    from forecasting.store import accept_publication

    try:
        print(accept_publication(_db(args), args.publication).describe())
    except BadInput as exc:
        return _fail(_one_line(exc), EXIT_BAD_INPUT)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Write the store's public tables and views as files analysts can query without the lock."""
    from forecasting.errors import BadInput
    from forecasting.store import export_views

    try:
        print(export_views(_db(args), args.out_dir, format=args.format).describe())
    except BadInput as exc:
        return _fail(_one_line(exc), EXIT_BAD_INPUT)
    return 0


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
            TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), TimeRemainingColumn(), TextColumn("{task.description}"),
            console=Console(stderr=True), transient=False,
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


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line on stderr (exit 2), like any other bad input."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="crossings",
        description=(
            "Home Office small-boat crossings: store every release, forecast, and report. "
            "Data: GOV.UK, Open Government Licence v3.0."
        ),
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def with_db(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument(
            "--db", help="DuckDB store (default: $CROSSINGS_DB or data/crossings.duckdb)"
        )
        return p

    p = with_db(sub.add_parser("ingest", help="store one publication (file, URL, or GOV.UK)"))
    p.add_argument(
        "--source",
        help="a downloaded release (.ods), a saved last-7-days page (.html), or a URL; "
        "default: discover the newest on GOV.UK ($CROSSINGS_GOVUK_URL)",
    )
    p.add_argument("--raw-dir", default=os.environ.get("CROSSINGS_RAW_DIR", "data/raw"))
    p.set_defaults(func=cmd_ingest)

    p = with_db(sub.add_parser("ytd", help="year-to-date arrivals against the same day each year"))
    p.add_argument("--as-of", type=_date, help="calendar day (default: last day with data)")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(func=cmd_ytd)

    p = with_db(sub.add_parser("forecast", help="forecast the coming weeks and the year end"))
    p.add_argument("--as-of", type=_date, required=True, help="forecast with data known then")
    p.add_argument("--horizon-weeks", type=_positive, default=13)
    p.add_argument("--output", help="write the JSON here (default: stdout)")
    p.set_defaults(func=cmd_forecast)

    p = with_db(sub.add_parser("backtest", help="rolling-origin evaluation of every model"))
    p.add_argument("--start", type=_date, required=True)
    p.add_argument("--end", type=_date, required=True)
    p.add_argument("--every", default="4W", help="weeks between origins (default 4W)")
    p.add_argument("--horizon-weeks", type=_positive, default=13)
    p.add_argument("--models", nargs="+", help="default: every model")
    p.add_argument(
        "--year-end-years", type=_year_range, metavar="FIRST-LAST",
        help="year-end origins (31 Mar, 30 Jun, 30 Sep) in these years, e.g. 2021-2025 "
        "(default: those between --start and --end)",
    )
    p.set_defaults(func=cmd_backtest)

    p = with_db(sub.add_parser("report", help="write the HTML report"))
    p.add_argument("--as-of", type=_date, help="default: the last day with data")
    p.add_argument("--reports-dir", help="default: $CROSSINGS_REPORTS_DIR or reports/")
    p.set_defaults(func=cmd_report)

    p = with_db(sub.add_parser("notify", help="alerts: a test message, or what to announce now"))
    p.add_argument(
        "--test", action="store_true",
        help="send a test message to every URL in $CROSSINGS_NOTIFY and say what each did",
    )
    p.set_defaults(func=cmd_notify)

    p = with_db(sub.add_parser("run", help="the nightly flow once: ingest, forecast, report"))
    p.add_argument("--source", help="a release file or URL (default: $CROSSINGS_SOURCE or GOV.UK)")
    p.add_argument("--reports-dir", help="default: $CROSSINGS_REPORTS_DIR or reports/")
    p.add_argument("--raw-dir", help="downloads (default: $CROSSINGS_RAW_DIR or data/raw)")
    p.add_argument("--horizon-weeks", type=_positive, default=13)
    p.set_defaults(func=cmd_run)

    p = with_db(sub.add_parser("backfill", help="a stored forecast as of each date in a range"))
    p.add_argument("--start", type=_date, required=True)
    p.add_argument("--end", type=_date, required=True)
    p.add_argument("--every", default="1W", help="step between as-of dates (default 1W)")
    p.add_argument("--models", nargs="+", help="default: every model")
    p.add_argument("--horizon-weeks", type=_positive, default=13)
    p.add_argument(
        "--task-runner", choices=["threads", "processes", "dask"], default="threads",
        help="where fits run (default threads); dask: a local cluster or --dask-address",
    )
    p.add_argument("--dask-address", help="a Dask scheduler, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--with-report", action="store_true", help="then write the report as of --end")
    p.add_argument("--reports-dir", help="default: $CROSSINGS_REPORTS_DIR or reports/")
    p.add_argument("--force", action="store_true", help="refit dates already held")
    p.set_defaults(func=cmd_backfill)

    p = with_db(sub.add_parser("accept", help="make a release held back for review official"))
    p.add_argument("publication", help="its sha256 (or first 8+ characters) or file name")
    p.set_defaults(func=cmd_accept)

    p = with_db(sub.add_parser("export", help="write the public tables and views as files"))
    p.add_argument("out_dir", metavar="DIR", help="folder to write (replaced whole)")
    p.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    p.set_defaults(func=cmd_export)

    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `crossings` console command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "dask_address", None) and args.task_runner != "dask":
        parser.error("--dask-address needs --task-runner dask")
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return _fail("interrupted; the store keeps its last complete state", 130)
    except Exception as exc:
        # Bad input is one line and exit 2 (GOV.UK unreachable: 3); anything else fails the
        # command loudly with exit 1. The store's transactions and the report's atomic writes
        # leave the last good data and report in place either way.
        from forecasting.errors import CrossingsError

        if isinstance(exc, CrossingsError):
            return _fail(_one_line(exc), exc.exit_status)
        if type(exc).__name__ == "ReportError":
            return _fail(_one_line(exc), EXIT_FAILED)
        return _fail(f"{args.command} failed: {type(exc).__name__}: {_one_line(exc)}", EXIT_FAILED)


if __name__ == "__main__":
    sys.exit(main())
