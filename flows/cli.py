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
import signal
import sys
from collections.abc import Callable
from datetime import date
from typing import Any, NoReturn

from flows.children import reap_children
from flows.commands import (
    cmd_accept,
    cmd_backfill,
    cmd_backtest,
    cmd_breakdown,
    cmd_export,
    cmd_forecast,
    cmd_ingest,
    cmd_notify,
    cmd_report,
    cmd_run,
    cmd_ytd,
    fail,
    failure,
    say,
    stopped,
)
from flows.signals import Terminated, stop_on_signals
from forecasting.calendar import check_as_of, parse_every
from forecasting.errors import BadInput, ExitStatus
from forecasting.horizon import HORIZON_WEEKS, MAX_HORIZON_WEEKS
from forecasting.notices import send_notices_to
from forecasting.settings import Settings

__all__ = ["main", "build_parser"]


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
    from forecasting.operations.checks import check_horizon  # light: pandas only when it runs

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
    p: argparse.ArgumentParser = sub.add_parser(
        name, help=help_text, description=help_text, formatter_class=_Help
    )
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
    p.add_argument("--horizon-weeks", type=as_horizon, default=HORIZON_WEEKS, help=HORIZON_HELP)


REPORTS_HELP = "default: $CROSSINGS_REPORTS_DIR or reports/"
RAW_HELP = "where downloads are kept (default: $CROSSINGS_RAW_DIR or data/raw)"
HORIZON_HELP = f"1 to {MAX_HORIZON_WEEKS} (default {HORIZON_WEEKS})"


def _library_commands(sub: Any) -> None:
    p = _add(sub, "ingest", cmd_ingest, "store publications (files, a folder, a URL, or GOV.UK)")
    p.add_argument(
        "--source",
        nargs="+",
        metavar="PATH_OR_URL",
        help="releases (.ods), saved last-7-days pages (.html), quarterly detailed datasets "
        "(.xlsx or .ods), folders of them (stored oldest publication first), or one URL; "
        "default: the newest on GOV.UK ($CROSSINGS_GOVUK_URL)",
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
    p.add_argument("--horizon-weeks", type=as_horizon, default=HORIZON_WEEKS, help=HORIZON_HELP)
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
        "--target",
        choices=["weekly", "year-end"],
        default="weekly",
        help="year-end: the year end forecast from every Sunday from --start to --end (use "
        "--every 1W), scored by quarter of the year beside the plain rules",
    )
    p.add_argument(
        "--year-end-years",
        type=as_years,
        metavar="FIRST-LAST",
        help="year-end origins (31 Mar, 30 Jun, 30 Sep) in these years, e.g. 2021-2025 "
        "(default: those between --start and --end)",
    )


def _store_commands(sub: Any) -> None:
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


def _quarterly_commands(sub: Any) -> None:
    """Who crosses: the official quarterly breakdowns (forecasting/breakdown.py)."""
    p = _add(sub, "breakdown", cmd_breakdown, "who crossed: a year's official quarterly figures")
    p.add_argument("--year", type=int, required=True, help="e.g. 2023")
    p.add_argument("--by", choices=["nationality", "age", "sex", "region"], required=True)
    p.add_argument(
        "--method",
        choices=["small-boats", "air", "ports", "in-uk", "all"],
        default="small-boats",
        help="method of entry (default small-boats)",
    )
    p.add_argument("--top", type=int, help="only the first N rows (the total stays whole)")


def _flow_commands(sub: Any) -> None:
    p = _add(sub, "run", cmd_run, "the nightly flow once: ingest, forecast, report")
    p.add_argument(
        "--source", help="a release file, folder or URL (default: $CROSSINGS_SOURCE, else GOV.UK)"
    )
    p.add_argument("--reports-dir", help=REPORTS_HELP)
    p.add_argument("--raw-dir", help=RAW_HELP)
    p.add_argument("--horizon-weeks", type=as_horizon, default=HORIZON_WEEKS, help=HORIZON_HELP)

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
    _store_commands(sub)
    _quarterly_commands(sub)
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
        return fail(str(exc), ExitStatus.BAD_INPUT)
    # A wait for the store is said on the terminal at once, even while a flow logs to a file.
    send_notices_to(lambda line: say(line, err=True))
    # SIGTERM and SIGHUP unwind like Ctrl-C; whatever the command started is stopped on the way
    # out. The store's transactions and the report's atomic writes keep the last good state.
    with stop_on_signals(), reap_children():
        try:
            return int(args.func(args, settings))
        except KeyboardInterrupt as exc:
            return stopped(exc.signum if isinstance(exc, Terminated) else signal.SIGINT)
        except Exception as exc:
            return failure(args.command, exc)


if __name__ == "__main__":
    sys.exit(main())
