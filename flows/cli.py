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

__all__ = ["main"]

EXIT_BAD_INPUT = 2
EXIT_SOURCE_UNAVAILABLE = 3
EXIT_FAILED = 1


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-02-26") from None


def _db(args: argparse.Namespace) -> Path:
    from forecasting.store import default_db_path

    return Path(args.db) if args.db else default_db_path()


def _fail(message: str, status: int) -> int:
    print(f"crossings: {message}", file=sys.stderr)
    return status


def cmd_ingest(args: argparse.Namespace) -> int:
    from forecasting.ingest import ingest_source
    from forecasting.release import BadInput

    db = _db(args)
    try:
        if args.source:
            outcomes = [ingest_source(db, args.source)]
        else:
            from forecasting.ingest import ingest_from_govuk

            outcomes = ingest_from_govuk(db, raw_dir=Path(args.raw_dir)).outcomes
    except BadInput as exc:
        status = EXIT_SOURCE_UNAVAILABLE if _is_unavailable(exc) else EXIT_BAD_INPUT
        return _fail(str(exc), status)
    for outcome in outcomes:
        print(outcome.describe())
    if not outcomes:
        print("nothing new on GOV.UK: the store already holds the latest publications")
    return 0


def _is_unavailable(exc: Exception) -> bool:
    return type(exc).__name__ == "SourceUnavailable"


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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

    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `crossings` console command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return _fail("interrupted; the store keeps its last complete state", 130)


if __name__ == "__main__":
    sys.exit(main())
