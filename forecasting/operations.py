"""What each command does, shared by the `crossings` command and the Prefect flows.

Both call these functions, so a command and a scheduled run cannot drift apart: the same checks
(models, horizon, as-of dates), the same cache (a forecast already held from the same
publications is not refitted) and the same writes. No Prefect here: a flow passes its own task
where it wants a step to show in the Prefect UI (`fit_with`).

Fits are pure (`fit`: a daily frame in, JSON payloads out) and never touch the store; reads and
writes are separate short store calls, so a fit can run anywhere while the writer (the command or
flow that owns the run) holds the DuckDB file only for the moment it writes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from forecasting.calendar import (
    BadArgument,
    Step,
    as_of_dates,
    check_as_of,
    check_range,
    london_today,
    long_date,
    parse_every,
    sundays_every,
)
from forecasting.errors import BadInput, CrossingsError, ExitStatus, StoreError
from forecasting.fits import fit, save_fits, slim_read
from forecasting.settings import Settings

__all__ = [
    "MAX_HORIZON_WEEKS",
    "model_names",
    "check_horizon",
    "latest_data_through",
    "check_held_through",
    "check_backfill",
    "check_backtest",
    "AsOfReader",
    "ForecastOutcome",
    "forecast_and_store",
    "BacktestOutcome",
    "backtest_and_store",
    "protocol_and_store",
    "publication_order",
    "expand_sources",
    "ingest_many",
    "GovukOutcome",
    "ingest_govuk",
    "run_status",
    "exit_status_of",
]

MAX_HORIZON_WEEKS = 104  # two years: past that the intervals say nothing, and memory grows
FitFn = Callable[..., Any]  # forecasting.fits.fit, or a flow's task wrapping it


# ---------------------------------------------------------------------------------------------
# Checks every command makes before doing any work


def model_names(models: list[str] | None) -> list[str]:
    """The models a fit will produce (None: every default model), checked against the registry."""
    from forecasting.models import check_models

    try:
        return check_models(models)
    except ValueError as exc:
        raise BadArgument("--models", str(exc)) from None


def check_horizon(weeks: int) -> int:
    """Weeks ahead to forecast: 1 to MAX_HORIZON_WEEKS."""
    if not 1 <= weeks <= MAX_HORIZON_WEEKS:
        raise BadArgument("--horizon-weeks", f"{weeks} is outside 1 to {MAX_HORIZON_WEEKS}")
    return weeks


def latest_data_through(db: Path) -> date | None:
    """The last day with figures in any held publication (None for an empty or missing store)."""
    from forecasting.store import held_publications

    held = held_publications(db)
    if held.empty or "data_through" not in held:
        return None
    return pd.Timestamp(held["data_through"].max()).date()


def check_held_through(
    db: Path, day: date | None, argument: str = "--as-of", *, forecast: bool = True
) -> date:
    """The store's last day with figures, refusing `day` if it is later (None: no check).

    A forecast as of a later date would be made from older figures yet carry the later date, and
    would pass for the current forecast in the store and the report: refused, not labelled.
    """
    latest = latest_data_through(db)
    if latest is None:
        raise StoreError(f"{db}: the store holds no figures yet; run `crossings ingest` first")
    if day is not None and day > latest:
        why = " (a forecast as of a later day would pass for a current one)" if forecast else ""
        raise BadArgument(
            argument,
            f"{day} is after the last day with figures ({long_date(latest)}); ingest newer "
            f"figures first{why}",
        )
    return latest


def check_backfill(
    db: Path, start: date, end: date, every: str, models: list[str] | None, horizon_weeks: int
) -> tuple[list[date], list[str]]:
    """Every check a backfill makes before any work; its as-of dates and model names."""
    check_range(start, end)
    dates = as_of_dates(start, end, every)
    names = model_names(models)
    check_horizon(horizon_weeks)
    check_held_through(db, end, "--end")
    return dates, names


def check_backtest(
    db: Path, start: date, end: date, every: str, models: list[str] | None, horizon_weeks: int
) -> tuple[Step, list[str]]:
    """Every check a backtest makes before any work; its step and model names."""
    check_range(start, end)
    step = parse_every(every)
    sundays_every(start, end, step)  # refuses a step that is not whole weeks
    names = model_names(models)
    check_horizon(horizon_weeks)
    check_held_through(db, end, "--end")
    return step, names


# ---------------------------------------------------------------------------------------------
# The as-of read cache


class AsOfReader:
    """`read_as_of` for many dates, reading the store once per distinct set of publications.

    read_as_of(d) takes, for each day, the newest publication among those whose data ended by d
    (or, when none had, the oldest held, cut at d). Between two publications' data_through dates
    that set does not change, so one read at the last date of such a span, cut at d, gives the
    same figures as reading at d: as-of semantics kept, reads cut from one per date to one per
    publication (or one in all when the store only holds vintages newer than every date).
    """

    def __init__(self, db: Path, end: date) -> None:
        from forecasting.store import held_publications

        self.db = db
        self.end = end
        held = held_publications(db)
        throughs = held.get("data_through", [])
        self._throughs = sorted({pd.Timestamp(v).date() for v in throughs})
        self._cache: dict[int, Any] = {}
        self.reads = 0

    def _span(self, d: date) -> tuple[int, date]:
        eligible = sum(1 for t in self._throughs if t <= d)
        upper = self.end
        if eligible < len(self._throughs):
            upper = min(upper, self._throughs[eligible] - timedelta(days=1))
        return eligible, max(upper, d)

    def read(self, d: date) -> Any:
        """The AsOfRead for `d` (figures up to d only), from one cached read per span."""
        from forecasting.store import read_as_of

        key, upper = self._span(d)
        cached = self._cache.get(key)
        if cached is None or cached.as_of < d:
            cached = read_as_of(self.db, upper)
            self._cache[key] = cached
            self.reads += 1
        if cached.as_of == d:
            return cached
        daily = cached.daily[cached.daily["date"] <= d].reset_index(drop=True)
        weekly = cached.weekly[cached.weekly["week_ending"] <= d].reset_index(drop=True)
        if daily.empty:
            return read_as_of(self.db, d)
        # Publications eligible in this span end by d, so cutting at d drops none of their days:
        # the publication list stays exactly what read_as_of(d) reports.
        return replace(cached, as_of=d, daily=daily, weekly=weekly)

    def daily(self, d: date) -> pd.DataFrame:
        """The daily frame as known on d: the callable `run_backtest` wants."""
        return self.read(d).daily


# ---------------------------------------------------------------------------------------------
# Forecast


@dataclass(frozen=True)
class ForecastOutcome:
    """One stored forecast: what it was made from, whether it was refitted, its published JSON."""

    as_of: date
    data_through: date
    publication_names: list[str]
    refitted: bool
    production_model: str
    payload: dict[str, Any]  # the production model's published JSON (forecasting.contract)
    seconds: float

    def describe(self) -> str:
        year_end = self.payload["year_end"]
        how = "fitted" if self.refitted else "already held from the same publications"
        return (
            f"forecast as of {self.as_of} ({self.production_model}, data through "
            f"{self.data_through}; {how}): {year_end['year']} year end p50 "
            f"{year_end['p50']:,.0f} (p10 {year_end['p10']:,.0f}, p90 {year_end['p90']:,.0f})"
        )


def _production_of(names: list[str]) -> str:
    from forecasting.models import PRODUCTION_MODEL

    return PRODUCTION_MODEL if PRODUCTION_MODEL in names else names[0]


def forecast_and_store(
    db: Path,
    as_of: date | None = None,
    *,
    horizon_weeks: int = 13,
    models: list[str] | None = None,
    force: bool = False,
    fit_with: FitFn | None = None,
) -> ForecastOutcome:
    """Forecast as of a date (default: the last day with figures) and store every model's figures.

    Refused before any work: unknown models, a horizon outside 1-104 weeks, a date outside
    2018-today or after the store's last day with figures. Not refitted when the store already
    holds these models' forecasts from the same publications (unless `force`).
    """
    from forecasting.contract import published
    from forecasting.store import already_forecast, read_as_of, read_forecast_frames

    started = time.perf_counter()
    names = model_names(models)
    check_horizon(horizon_weeks)
    if as_of is not None:
        check_as_of(as_of)
    latest = check_held_through(db, as_of)
    as_of = as_of or latest
    read = read_as_of(db, as_of)
    if read.daily.empty:
        raise StoreError(f"{db}: no figures on or before {as_of}; run `crossings ingest` first")
    assert read.data_through is not None  # it holds figures (checked above)
    production = _production_of(names)
    refitted = force or not already_forecast(db, as_of, read.publications, names, horizon_weeks)
    if refitted:
        frames = (fit_with or fit)(read.daily, as_of, horizon_weeks, names)
        save_fits(db, [(frames, slim_read(read))])
    else:
        frames = read_forecast_frames(db, as_of, models=[production])
    payload = published(frames, as_of).model_dump(mode="json")
    return ForecastOutcome(
        as_of,
        read.data_through,
        read.publication_names,
        refitted,
        payload["model"],
        payload,
        time.perf_counter() - started,
    )


# ---------------------------------------------------------------------------------------------
# Backtest


@dataclass(frozen=True)
class BacktestOutcome:
    """A stored backtest: its tables and the run it came from."""

    result: Any  # forecasting.backtest.BacktestResult
    db: Path
    run_id: int
    what: str

    def describe(self) -> str:
        from forecasting.backtest import format_protocol

        return (
            f"{format_protocol({self.what: self.result})}\n"
            f"stored in {self.db} as backtest run {self.run_id} "
            "(backtest_runs, backtest_scores, backtest_year_end, backtest_forecasts)"
        )


def backtest_and_store(
    db: Path,
    start: date,
    end: date,
    *,
    every: str = "4W",
    horizon_weeks: int = 13,
    models: list[str] | None = None,
    year_end_years: tuple[int, int] | None = None,
    thursdays: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> BacktestOutcome:
    """Rolling-origin backtest from start to end (Sundays every `every`; with `thursdays`, the
    Thursday of each of those weeks too, a release's cut) with the data as known at each origin,
    plus year-end origins, stored in one transaction."""
    from forecasting.backtest import run_backtest, year_end_origins
    from forecasting.store import latest_daily, save_backtest

    step, names = check_backtest(db, start, end, every, models, horizon_weeks)
    sundays = sundays_every(start, end, step)
    first, last = year_end_years or (start.year, end.year)
    origins = {
        "sunday": sundays,
        "thursday": [d - timedelta(days=3) for d in sundays if d - timedelta(days=3) >= start]
        if thursdays
        else [],
        "year_end": [
            d
            for d in year_end_origins(date(first, 1, 1), date(last, 12, 31))
            if year_end_years or start <= d <= end
        ],
    }
    # One store read per distinct set of publications, not per origin (see AsOfReader).
    reader = AsOfReader(db, max([end, *origins["year_end"]]))
    result = run_backtest(
        reader.daily,
        origins,
        latest_daily(db).daily,
        horizon_weeks=horizon_weeks,
        models=names,
        progress=progress,
    )
    run = {"run_start": start, "run_end": end, "run_every": step.text,
           "horizon_weeks": horizon_weeks, "thursdays": thursdays,
           "year_end_years": list(year_end_years) if year_end_years else None}  # fmt: skip
    run_id = save_backtest(db, result, run)
    return BacktestOutcome(result, db, run_id, f"{start} to {end} every {step.text}")


def protocol_and_store(
    db: Path,
    *,
    models: list[str] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[str, dict[str, int]]:
    """The selection protocol (validation, then evaluation), each period stored as a run;
    returns the Markdown tables and the run ids."""
    from forecasting.backtest import EVALUATION, PROTOCOL_MODELS, VALIDATION, format_protocol
    from forecasting.backtest import run_protocol as run
    from forecasting.store import latest_daily, save_backtest

    names = model_names(list(models or PROTOCOL_MODELS))
    check_held_through(db, None)
    reader = AsOfReader(db, EVALUATION.end)
    results = run(reader.daily, latest_daily(db).daily, models=names, progress=progress)
    run_ids = {}
    for period in (VALIDATION, EVALUATION):
        run_ids[period.name] = save_backtest(
            db,
            results[period.name],
            {"run_start": period.start, "run_end": period.end, "run_every": "4W",
             "horizon_weeks": 13, "protocol": period.name},
        )  # fmt: skip
    return format_protocol(results), run_ids


# ---------------------------------------------------------------------------------------------
# Ingest

PUBLICATION_SUFFIXES = (".ods", ".html", ".htm", ".xlsx")  # .xlsx: the quarterly dataset
_REISSUE = re.compile(r"_v(\d+)$", re.IGNORECASE)


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def publication_order(path: Path) -> tuple[date, int, str]:
    """Sort key: the release date in the name (a saved page: its capture day), then reissue."""
    from forecasting.sources.release import released_on_from_name

    day = released_on_from_name(path.name)
    if day is None:
        try:
            day = date.fromisoformat(path.stem[:10])
        except ValueError:
            day = date.max  # undated names last, in name order
    reissue = _REISSUE.search(path.stem)
    return day, int(reissue.group(1)) if reissue else 1, path.name


def expand_sources(sources: list[str]) -> list[Path]:
    """Files as given, folders as the publications in them, all in publication order."""
    paths: list[Path] = []
    for source in sources:
        path = Path(source)
        if path.is_dir():
            # Anything named like a publication is read, so what is not a regular file is
            # refused by the reader, as it would be on its own.
            found = [p for p in path.iterdir() if p.suffix.lower() in PUBLICATION_SUFFIXES]
            if not found:
                raise BadInput(
                    source, "the folder holds no .ods or .html publications (nor .xlsx workbooks)"
                )
            paths += found
        else:
            paths.append(path)
    return sorted(dict.fromkeys(paths), key=publication_order)


def ingest_many(
    db: Path, sources: list[str], *, raw_dir: Path, settings: Settings | None = None
) -> list[Any]:
    """Store publications from files, folders or one URL, oldest publication first.

    Every file is read and checked before any is stored, so one bad file in a batch changes
    nothing; each is then stored in its own transaction. (`settings`: for a URL's download.)
    """
    from forecasting.ingest import ingest_source, read_source
    from forecasting.store import ingest_all

    urls = [s for s in sources if _is_url(s)]
    if urls:
        if len(sources) > 1:
            raise BadInput(urls[0], "a URL is ingested on its own, not with other sources")
        return [ingest_source(db, urls[0], raw_dir=raw_dir, settings=settings)]
    from forecasting.quarterly_ingest import is_quarterly_source, read_quarterly_source
    from forecasting.store import ingest_quarterly

    paths = expand_sources(sources)
    quarterly = [p for p in paths if is_quarterly_source(p)]
    read = [(read_quarterly_source(p), str(p.resolve())) for p in quarterly]
    releases = [(read_source(p), str(p.resolve())) for p in paths if p not in quarterly]
    return ingest_all(db, releases) + ingest_quarterly(db, read)


@dataclass(frozen=True)
class GovukOutcome:
    """What asking GOV.UK stored, and what failed (one line each) while the rest was stored."""

    outcomes: list[Any]
    failures: list[str]


def ingest_govuk(db: Path, *, raw_dir: Path, settings: Settings) -> GovukOutcome:
    """Store what GOV.UK publishes now; raises when nothing usable could be fetched."""
    from forecasting.ingest import ingest_from_govuk

    result = ingest_from_govuk(db, raw_dir=raw_dir, settings=settings)
    quarterly = getattr(result, "quarterly", [])  # the quarterly dataset's, when checked
    return GovukOutcome([*result.outcomes, *quarterly], list(result.failures))


# ---------------------------------------------------------------------------------------------
# What a run ends with


def run_status(
    data_through: date,
    failures: list[str],
    *,
    stale_after_days: int,
    today: date | None = None,
) -> tuple[ExitStatus, list[str]]:
    """OK, or STALE with the reasons: a source failed, or the figures are older than allowed."""
    reasons = list(failures)
    age = ((today or london_today()) - data_through).days
    if age > stale_after_days:
        reasons.append(
            f"the figures end on {long_date(data_through)}, {age} days ago "
            f"(stale after {stale_after_days})"
        )
    return (ExitStatus.STALE if reasons else ExitStatus.OK), reasons


def exit_status_of(exc: BaseException) -> ExitStatus | None:
    """An expected failure's exit status; None for anything else (a bug)."""
    return exc.exit_status if isinstance(exc, CrossingsError) else None
