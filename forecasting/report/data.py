"""What one report reads: the figures as known on its date, the forecast it shows, and the rest.

All SQL lives in `forecasting.store.report_queries`; this module turns those rows into the
report's own shape (`ReportData`, and `ForecastView`: the shown forecast's long frames, read as
the page needs them) with plain `datetime.date` values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from forecasting import store
from forecasting.errors import ReportError
from forecasting.frames import ForecastFrames
from forecasting.report.changes import previous_forecast_date
from forecasting.report.formats import as_date
from forecasting.store.report_queries import read_report_tables
from forecasting.ytd import YearToDate, year_to_date

__all__ = ["ForecastView", "ReportData", "load_report_data", "validated_date", "with_dates"]


@dataclass(frozen=True)
class ForecastView:
    """The forecast a report shows: the long frames of one (as_of, model), read as the page
    needs them (its year end as attributes, its weeks and running total as frames)."""

    frames: ForecastFrames

    def _year_end(self, column: str) -> Any:
        return self.frames.year_end[column].iloc[0]

    @property
    def as_of(self) -> date:
        return as_date(self.frames.runs["as_of"].iloc[0])  # type: ignore[return-value]

    @property
    def model(self) -> str:
        return str(self.frames.runs["model"].iloc[0])

    @property
    def year(self) -> int:
        return int(self._year_end("year"))

    @property
    def observed_ytd(self) -> int:
        return int(self._year_end("observed_ytd"))

    @property
    def mean(self) -> float:
        return float(self._year_end("mean"))

    @property
    def p10(self) -> float:
        return float(self._year_end("p10"))

    @property
    def p50(self) -> float:
        return float(self._year_end("p50"))

    @property
    def p90(self) -> float:
        return float(self._year_end("p90"))

    @property
    def prob_exceeds(self) -> dict[int, float]:
        """Earlier year -> the chance this year passes its total, newest year first."""
        m = self.frames.milestones
        years = m[m["kind"] == "year_total"]
        pairs = {
            int(y): float(p) for y, p in zip(years["label"], years["probability"], strict=True)
        }
        return dict(sorted(pairs.items(), reverse=True))

    @property
    def weeks(self) -> pd.DataFrame:
        """week_ending, mean, p10, p50, p90 (the weekly frame's, first week first)."""
        weekly = self.frames.weekly.sort_values("week_ending")
        return weekly[["week_ending", "mean", "p10", "p50", "p90"]].reset_index(drop=True)

    @property
    def cumulative(self) -> pd.DataFrame | None:
        """The running total to 31 December (None when the forecast has none stored)."""
        cum = self.frames.cumulative.sort_values("week_ending")
        if cum.empty:
            return None
        return cum[["week_ending", "mean", "p10", "p50", "p90"]].reset_index(drop=True)


@dataclass
class ReportData:
    """Everything one report shows, read from the store as known on `as_of`."""

    as_of: date
    read: store.AsOfRead
    ytd: YearToDate
    publications: pd.DataFrame  # the publications the figures came from, newest first
    newest_data_through: date  # newest publication in the whole store
    forecast: ForecastView | None
    members: ForecastFrames | None  # every model stored beside the shown forecast (same as_of)
    earlier_forecasts: pd.DataFrame  # as_of, model, production, week_ending, mean, p10, p50, p90
    earlier_year_end: pd.DataFrame  # forecasts rows with as_of before this one
    revisions: pd.DataFrame
    revisions_source: str | None = None  # "revision_ledger" (every series) or "revisions" (daily)
    milestones: pd.DataFrame = field(default_factory=pd.DataFrame)  # forecasting.frames columns
    held_publications: pd.DataFrame = field(default_factory=pd.DataFrame)  # known on as_of
    backtest_scores: pd.DataFrame | None = None
    backtest_year_end: pd.DataFrame | None = None
    previous_daily: pd.DataFrame = field(default_factory=pd.DataFrame)  # known on the last forecast
    current: bool = True  # the store's newest figures, not a page of an earlier date
    notes: list[str] = field(default_factory=list)
    who: Any = None  # "Who is crossing": report/who_data.WhoData, None without quarterly data

    @property
    def data_through(self) -> date:
        through = self.read.data_through
        assert through is not None
        return through


def validated_date(value: Any, what: str) -> date:
    """A real `date` (not a datetime, not a string): folder names are built from it."""
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{what} must be a datetime.date, not {type(value).__name__}")
    return value


def with_dates(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """A copy with the named columns as `datetime.date` (DuckDB hands back Timestamps)."""
    frame = frame.copy()
    for column in columns:
        if column in frame:
            frame[column] = [as_date(v) for v in frame[column]]
    return frame


def _view(frames: ForecastFrames | None) -> ForecastView | None:
    return None if frames is None or frames.runs.empty else ForecastView(frames)


def load_report_data(db_path: Path, as_of: date | None = None) -> ReportData:
    """Read the figures, forecasts, scores and provenance as known on `as_of` (default: latest).

    The page is `current` when it shows the store's newest figures (no `as_of`, or the newest
    data's own date, as the nightly run asks); any other date makes a historical page.
    """
    db_path = Path(db_path)
    requested = as_of
    if not db_path.exists():
        raise ReportError(f"{db_path}: no store there; run `crossings ingest` first")
    if as_of is None:
        read = store.latest_daily(db_path)
        as_of = read.data_through or read.as_of
    else:
        as_of = validated_date(as_of, "as_of")
        read = store.read_as_of(db_path, as_of)
    through = read.data_through
    if read.daily.empty or through is None:
        raise ReportError(f"{db_path}: the store holds no figures yet; run `crossings ingest`")
    tables = read_report_tables(db_path, as_of, through)
    ytd = year_to_date(read.daily, through)
    held = with_dates(tables.publications, "released_on", "data_from", "data_through")
    newest = store.last_official_day(db_path) or through
    earlier_year_end = with_dates(tables.earlier_year_end, "as_of")
    previous = (
        None
        if tables.forecast is None or tables.forecast.year_end.empty
        else previous_forecast_date(earlier_year_end, int(tables.forecast.year_end["year"].iloc[0]))
    )
    return ReportData(
        as_of=as_of,
        read=read,
        ytd=ytd,
        publications=held[held["sha256"].isin(read.publications)].reset_index(drop=True),
        newest_data_through=newest,
        forecast=_view(tables.forecast),
        members=tables.members,
        earlier_forecasts=with_dates(tables.earlier_weeks, "as_of", "week_ending"),
        earlier_year_end=earlier_year_end,
        revisions=with_dates(tables.revisions, "date", "period"),
        revisions_source=tables.revisions_source,
        milestones=(tables.forecast.milestones if tables.forecast is not None else pd.DataFrame()),
        held_publications=held[
            [d is not None and d <= through for d in held["data_through"]]
        ].reset_index(drop=True),
        backtest_scores=tables.backtest_scores,
        backtest_year_end=tables.backtest_year_end,
        previous_daily=_known_on(db_path, previous, read, held),
        current=requested is None or requested == newest,
        who=_who(db_path, as_of, read.daily, int(ytd.table.iloc[-1]["migrants_arrived"])),
    )


def _known_on(
    db_path: Path, day: date | None, read: store.AsOfRead, held: pd.DataFrame
) -> pd.DataFrame:
    """The daily figures as known on `day` (the last forecast's date; empty without one).

    With a single publication held, that is it cut at `day` (the store's own rule when no
    publication had ended by then), so the page reads nothing twice; otherwise the store's."""
    if day is None:
        return pd.DataFrame()
    if len(held) == 1 and list(held["sha256"]) == list(read.publications):
        return read.daily[[d <= day for d in read.daily["date"]]].reset_index(drop=True)
    return store.read_as_of(db_path, day).daily


def _who(db_path: Path, as_of: date, daily: pd.DataFrame, ytd_total: int) -> Any:
    """The official quarterly record known on as_of (report/who_data.py), or None."""
    from forecasting.report.who_data import load_who

    return load_who(db_path, as_of, daily, ytd_total)
