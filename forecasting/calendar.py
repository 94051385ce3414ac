"""The calendar the figures live on: London days, Monday-Sunday weeks, years, steps between dates.

The Home Office counts days in UK time and publishes weeks ending on Sunday, so every rule about
"today", "a complete week" or "every 4 weeks" is here, once, for the commands, the flows, the
backtests and the backfills alike. Argument checks raise `BadInput` naming the argument, so a
command refuses them in one line before doing any work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from forecasting.errors import BadArgument

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "LONDON",
    "FIRST_DAY",
    "MAX_STEP_DAYS",
    "EVERY_PATTERN",
    "ISO_DATE_PATTERN",
    "Step",
    "london_today",
    "london_now",
    "week_ending",
    "weekly_totals",
    "complete_year_totals",
    "same_day_a_year_before",
    "last_complete_week_ending",
    "last_complete_year",
    "parse_every",
    "check_as_of",
    "check_range",
    "as_of_dates",
    "sundays_every",
    "long_date",
]

LONDON = ZoneInfo("Europe/London")
FIRST_DAY = date(2018, 1, 1)  # the daily series starts here
MAX_STEP_DAYS = 52 * 7  # a step longer than a year gives at most one date a year: never meant
# The one grammar for `--every` (backfill and backtest alike, and the deployment's schema): a
# whole number of days or weeks, like 1W, 4W or 7D ("W" alone is one week).
EVERY_PATTERN = r"^\s*\d{0,4}\s*[DWdw]\s*$"
_EVERY = re.compile(r"^\s*(\d{0,9})\s*([DW])\s*$", re.IGNORECASE)
# A date as the deployment's parameter schema accepts it: ISO, from 2018 on (checked fully when
# the run starts); `01/06/2025` is refused when the run is created.
ISO_DATE_PATTERN = r"^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"


def london_now() -> datetime:
    """Now in London, on the day CROSSINGS_TODAY sets when it is set (the clock's time of day)."""
    from forecasting.settings import simulated_today

    now = datetime.now(LONDON)
    day = simulated_today()
    return now if day is None else datetime.combine(day, now.timetz())


def london_today() -> date:
    """Today in the Home Office's time zone: the one place "today" comes from. 'After today',
    staleness, alerts and the report's date are judged against it; CROSSINGS_TODAY=YYYY-MM-DD
    runs as if it were that day (replays, tests, the soak in benchmarks/soak.py)."""
    return london_now().date()


def long_date(day: date) -> str:
    """26 February 2026: how dates are written for people (no leading zero)."""
    return f"{day.day} {day:%B %Y}"


def week_ending(day: date) -> date:
    """The Sunday ending the Monday-Sunday week that holds `day` (weeks are labelled by it)."""
    return day + timedelta(days=6 - day.weekday())


def weekly_totals(
    daily: pd.DataFrame,
    columns: tuple[str, ...] = ("migrants_arrived",),
    *,
    through: date | None = None,
    complete: bool = True,
) -> pd.DataFrame:
    """Daily figures summed into Monday-Sunday weeks labelled by their Sunday.

    Columns `week_ending` (a date), the summed `columns` and `days` (how many days the data held
    in that week). Rows after `through` are dropped first, so nothing later leaks in; with
    `complete`, only weeks with all seven days are kept (a part week would look like a dip).
    """
    import numpy as np
    import pandas as pd

    days = pd.to_datetime(pd.Series(daily["date"])).to_numpy().astype("datetime64[D]")
    keep = days <= np.datetime64(through, "D") if through is not None else np.ones(len(days), bool)
    numbers = days[keep].astype("int64")
    frame = pd.DataFrame(
        {
            # 1970-01-05 (day 4) was a Monday: its week's Sunday is day 10
            "week_ending": ((numbers - 4) // 7) * 7 + 10,
            **{c: daily[c].to_numpy()[keep] for c in columns},
            "days": 1,
        }
    )
    weeks = frame.groupby("week_ending", as_index=False).sum()
    if complete:
        weeks = weeks[weeks["days"] == 7]
    endings = weeks["week_ending"].to_numpy().astype("datetime64[D]")
    return weeks.assign(week_ending=[d.item() for d in endings]).reset_index(drop=True)


def same_day_a_year_before(d: date) -> date:
    """`d`'s month and day a year earlier; 29 February becomes 28 February."""
    day = min(d.day, 28) if d.month == 2 else d.day
    return d.replace(year=d.year - 1, day=day)


def complete_year_totals(daily: pd.DataFrame, column: str = "migrants_arrived") -> dict[int, float]:
    """Totals of every calendar year the data covers from 1 January to 31 December."""
    import pandas as pd

    if daily.empty:
        return {}
    days = pd.to_datetime(pd.Series(daily["date"]))
    first, last = days.min().date(), days.max().date()
    totals = daily[column].groupby(days.dt.year.to_numpy()).sum()
    return {
        int(year): float(total)
        for year, total in totals.items()
        if first <= date(int(year), 1, 1) and last >= date(int(year), 12, 31)
    }


def last_complete_week_ending(day: date) -> date:
    """The last Sunday on or before `day`: the end of the last week complete by then."""
    return day - timedelta(days=(day.weekday() + 1) % 7)


def last_complete_year(day: date) -> int:
    """The last calendar year complete by the end of `day`."""
    return day.year if (day.month, day.day) == (12, 31) else day.year - 1


@dataclass(frozen=True)
class Step:
    """A step between dates, parsed from `--every`: always a whole number of days."""

    days: int
    text: str  # as given, for messages and records

    @property
    def whole_weeks(self) -> int | None:
        """The step in weeks, or None when it is not a whole number of weeks."""
        return self.days // 7 if self.days % 7 == 0 else None

    @property
    def offset(self) -> pd.Timedelta:
        import pandas as pd  # imported when used: the command starts without it

        return pd.Timedelta(days=self.days)

    def __str__(self) -> str:
        return self.text


def parse_every(text: str, argument: str = "--every") -> Step:
    """'1W', '4W', '7D', 'W' -> a Step of 1 day to 52 weeks; anything else is BadInput."""
    match = _EVERY.match(text or "")
    shown = repr(text if len(text or "") <= 24 else text[:21] + "...")
    if not match:
        raise BadArgument(argument, f"{shown} is not a step like 1W, 4W or 7D (days or weeks)")
    count = int(match.group(1) or 1)
    days = count * (7 if match.group(2).upper() == "W" else 1)
    if not 1 <= days <= MAX_STEP_DAYS:
        raise BadArgument(argument, f"{shown} is outside 1 day to 52 weeks")
    return Step(days, " ".join(text.split()).upper())


def check_as_of(day: date, argument: str = "--as-of", *, today: date | None = None) -> date:
    """A date a forecast or read can be as of: from 1 January 2018 to today (London)."""
    today = today or london_today()
    if day < FIRST_DAY:
        raise BadArgument(argument, f"{day} is before the figures start ({FIRST_DAY})")
    if day > today:
        raise BadArgument(argument, f"{day} is after today ({today}, Europe/London)")
    return day


def check_range(start: date, end: date, *, today: date | None = None) -> tuple[date, date]:
    """--start and --end: each a possible as-of date, and not the wrong way round."""
    check_as_of(start, "--start", today=today)
    check_as_of(end, "--end", today=today)
    if end < start:
        raise BadArgument("--end", f"{end} is before --start {start}")
    return start, end


def as_of_dates(start: date, end: date, every: str | Step) -> list[date]:
    """start, start + every, ... up to and including end (both ends count when they fall on it)."""
    step = every if isinstance(every, Step) else parse_every(every)
    if end < start:
        raise BadArgument("--end", f"{end} is before --start {start}")
    import pandas as pd

    return [t.date() for t in pd.date_range(start, end, freq=step.offset)]


def sundays_every(start: date, end: date, every: str | Step) -> list[date]:
    """Sundays from the first on or after `start`, every `every` (whole weeks), up to `end`.

    Backtest origins are week ends, so a step that is not whole weeks (3D) is refused rather
    than rounded.
    """
    step = every if isinstance(every, Step) else parse_every(every)
    if step.whole_weeks is None:
        raise BadArgument(
            "--every", f"{step.text!r}: origins are Sundays, so use whole weeks (7D, 1W, 4W)"
        )
    first = week_ending(start)
    if end < first:
        return []
    import pandas as pd

    return [t.date() for t in pd.date_range(first, end, freq=step.offset)]
