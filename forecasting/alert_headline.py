"""The figures every alert message carries: year to date, the latest day and week, the newest
year-end forecast, and where the report is (only when it exists)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from forecasting.calendar import long_date
from forecasting.store import alert_reads as store_alerts

__all__ = ["headline_figures", "daily_series"]


def daily_series(daily: pd.DataFrame) -> pd.Series:
    """People arrived per day, indexed by date (for weeks, months and records)."""
    return pd.Series(
        daily["migrants_arrived"].to_numpy(dtype="int64"),
        index=pd.to_datetime(pd.Series(daily["date"])),
    )


def headline_figures(db: str | Path, reports_dir: str | Path) -> list[str]:
    """The lines every message carries: year to date, latest day and week, year-end forecast,
    and where the report is."""
    from forecasting.store import latest_daily
    from forecasting.ytd import headline, year_to_date

    lines = []
    daily = latest_daily(db).daily if Path(db).exists() else pd.DataFrame()
    if not daily.empty:
        lines.append(f"Year to date: {headline(year_to_date(daily))}.")
        last = daily.iloc[-1]
        lines.append(
            f"Latest day, {long_date(last['date'])}: {int(last.migrants_arrived):,} people in "
            f"{int(last.boats_arrived):,} boats."
        )
        lines.append(_week_line(daily))
    year_end = store_alerts.latest_year_end(db) if Path(db).exists() else None
    if year_end:
        as_of = long_date(pd.Timestamp(year_end["as_of"]).date())
        lines.append(
            f"Year-end {int(year_end['year'])} forecast (as of {as_of}):"
            f" median {year_end['p50']:,.0f}, 80% range {year_end['p10']:,.0f} to "
            f"{year_end['p90']:,.0f}."
        )
    index = (Path(reports_dir) / "index.html").resolve()
    if index.is_file():  # never a link to a page that was not written
        lines.append(f"Report: {index.as_uri()}")
    else:
        lines.append(f"No report has been written yet in {index.parent}.")
    return lines


def _week_line(daily: pd.DataFrame) -> str:
    """The latest complete week (Monday to Sunday), and the week in progress so far."""
    series = daily_series(daily)
    weeks = series.groupby(series.index.to_period("W-SUN")).agg(["sum", "count"])
    current = weeks.iloc[-1]
    ending = weeks.index[-1].end_time.date()
    if current["count"] == 7:
        return f"Latest week, ending {long_date(ending)}: {int(current['sum']):,} people."
    text = f"Week ending {long_date(ending)} so far ({int(current['count'])} days): "
    text += f"{int(current['sum']):,} people"
    if len(weeks) > 1:
        before = weeks.iloc[-2]
        text += f"; the week before, ending {long_date(weeks.index[-2].end_time.date())}: "
        text += f"{int(before['sum']):,}"
    return text + "."
