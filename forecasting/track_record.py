"""The forecasts a track record needs, fitted from the vintages so the report has one from day one.

The report judges each week against the production forecast made the week before. A store that
has only just started its nightly runs holds no such forecasts, so `fill_track_record` fits them:
for each of the last 52 Sundays that lacks a stored production forecast, the production model is
fitted on the figures as they were known that Sunday (`store.read_as_of`) and stored like any
other forecast. Afterwards each new week needs one fit, so the nightly run can call it every
night at almost no cost.

Fits are pure and happen outside any store connection; each batch of fits is written in one short
transaction, so a run that is killed keeps the whole forecasts already written and the next run
fits only what is still missing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from forecasting import store
from forecasting.horizon import HORIZON_WEEKS

__all__ = [
    "TRACK_RECORD_WEEKS",
    "TrackRecordProgress",
    "TrackRecordFill",
    "track_record_dates",
    "fill_track_record",
]

TRACK_RECORD_WEEKS = 52


@dataclass(frozen=True)
class TrackRecordProgress:
    """One step of a fill, for a progress bar or a log line."""

    step: str  # "planned", "fitted", "failed", "stored" or "done"
    as_of: date | None  # the date fitted (None for "planned", "stored" and "done")
    done: int  # dates fitted or failed so far
    total: int  # dates to fit in this run
    elapsed_seconds: float
    message: str

    @property
    def remaining_seconds(self) -> float | None:
        """A rough estimate from the pace so far (None before the first fit)."""
        if self.done == 0:
            return None
        return self.elapsed_seconds / self.done * (self.total - self.done)


@dataclass(frozen=True)
class TrackRecordFill:
    """What one fill did."""

    wanted: list[date]  # the weekly as-of dates the track record uses, oldest first
    already_held: list[date]
    fitted: list[date]
    failed: dict[date, str] = field(default_factory=dict)  # as_of -> why it could not be fitted
    seconds: float = 0.0

    def describe(self) -> str:
        text = (
            f"track record: {len(self.wanted)} weekly forecasts wanted, "
            f"{len(self.already_held)} already held, {len(self.fitted)} fitted"
        )
        if self.failed:
            text += f", {len(self.failed)} could not be fitted"
        return text + f" ({self.seconds:.1f} s)"


Progress = Callable[[TrackRecordProgress], None]


def track_record_dates(as_of: date, weeks: int = TRACK_RECORD_WEEKS) -> list[date]:
    """The last `weeks` Sundays whose following week has ended by `as_of`, oldest first.

    A forecast made on Sunday S is judged on the week ending S + 7, so S + 7 <= as_of.
    """
    if weeks < 1:
        raise ValueError(f"weeks must be at least 1, not {weeks}")
    latest = as_of - timedelta(days=7)
    latest -= timedelta(days=(latest.weekday() + 1) % 7)  # the Sunday on or before
    return [latest - timedelta(weeks=k) for k in range(weeks - 1, -1, -1)]


def _fit_and_store(
    db_path: Path, reads: list[store.AsOfRead], horizon_weeks: int, report: Callable[..., None]
) -> dict[date, str]:
    """Fit the production model as of each read's date and store the batch in one transaction.

    The one place this module calls the forecasting API. Returns the dates that could not be
    fitted (too little history, say) with the reason.
    """
    from forecasting.fits import fit, save_fits, slim_read
    from forecasting.models import PRODUCTION_MODEL

    fitted: list[tuple[Any, Any]] = []
    failed: dict[date, str] = {}
    for read in reads:
        started = time.perf_counter()
        try:
            result = fit(read.daily, read.as_of, horizon_weeks, models=[PRODUCTION_MODEL])
        except ValueError as exc:
            failed[read.as_of] = str(exc)
            report("failed", read.as_of, f"{read.as_of}: not fitted: {exc}")
            continue
        fitted.append((result, slim_read(read)))
        seconds = time.perf_counter() - started
        report("fitted", read.as_of, f"{read.as_of}: fitted in {seconds:.1f} s")
    save_fits(db_path, fitted)
    return failed


def fill_track_record(
    db_path: str | Path,
    as_of: date,
    weeks: int = TRACK_RECORD_WEEKS,
    *,
    horizon_weeks: int = HORIZON_WEEKS,
    batch_size: int = 8,
    progress: Progress | None = None,
) -> TrackRecordFill:
    """Fit and store the production forecasts the track record as of `as_of` still lacks.

    `progress` is called after every step (planned, each fit, each stored batch, done) with a
    `TrackRecordProgress`; it must not raise.
    """
    db_path = Path(db_path)
    started = time.monotonic()
    wanted = track_record_dates(as_of, weeks)
    # Any production forecast as of the date will do: a week once judged is never refitted.
    held = store.forecasts_held(db_path, wanted, store.HeldIf.ANY_PRODUCTION)
    missing = [d for d in wanted if d not in held]
    done = 0

    def report(step: str, day: date | None, message: str) -> None:
        nonlocal done
        done += step in ("fitted", "failed")
        if progress is not None:
            elapsed = time.monotonic() - started
            progress(TrackRecordProgress(step, day, done, len(missing), elapsed, message))

    report("planned", None, f"{len(missing)} of {len(wanted)} weekly forecasts to fit")
    failed: dict[date, str] = {}
    for start in range(0, len(missing), batch_size):
        batch = missing[start : start + batch_size]
        reads = [read for read in (store.read_as_of(db_path, d) for d in batch)]
        failed |= _fit_and_store(
            db_path, [r for r in reads if not r.daily.empty], horizon_weeks, report
        )
        for read in reads:
            if read.daily.empty:
                failed[read.as_of] = "no figures known on that date"
        report("stored", None, f"stored forecasts as of {batch[0]} to {batch[-1]}")
    outcome = TrackRecordFill(
        wanted=wanted,
        already_held=sorted(held),
        fitted=[d for d in missing if d not in failed],
        failed=failed,
        seconds=time.monotonic() - started,
    )
    report("done", None, outcome.describe())
    return outcome
