"""Year-to-date figures: arrivals from 1 January to the same calendar day in every year.

This one table answers "how many so far this year, against the same day in earlier years", and
both `crossings ytd` and the report read it, so they agree to the person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

__all__ = ["YearToDate", "year_to_date", "ordinal", "format_ytd_table", "headline"]


@dataclass(frozen=True)
class YearToDate:
    """The year-to-date table as of one calendar day, every year side by side."""

    as_of: date
    table: pd.DataFrame  # year, through, migrants_arrived, rank, change, change_pct, complete

    def row(self, year: int) -> pd.Series:
        return self.table.set_index("year").loc[year]

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "years": [
                {
                    "year": int(r.year),
                    "through": r.through.isoformat(),
                    "migrants_arrived": int(r.migrants_arrived),
                    "rank": int(r["rank"]),
                    "change_on_previous_year": None if pd.isna(r.change) else int(r.change),
                    "change_pct": None if pd.isna(r.change_pct) else round(float(r.change_pct), 1),
                }
                for _, r in self.table.iterrows()
            ],
        }


def _same_day(year: int, as_of: date) -> date | None:
    """as_of's month and day in `year`; 29 February counts only in leap years (else None)."""
    try:
        return as_of.replace(year=year)
    except ValueError:  # 29 February in a year without one: up to 28 February
        return date(year, 2, 28)


def year_to_date(daily: pd.DataFrame, as_of: date | None = None) -> YearToDate:
    """Arrivals from 1 January to as_of's calendar day for each year in `daily`.

    `as_of` defaults to the last day with data. A year whose data does not reach that day (the
    first year, if records started later) is left out rather than shown short.
    """
    if daily.empty:
        raise ValueError("no daily figures in the store yet: run `crossings ingest` first")
    last_day = daily["date"].iloc[-1]
    as_of = as_of or last_day
    if as_of > last_day:
        raise ValueError(
            f"the data runs to {last_day:%d %B %Y}; there are no figures for {as_of:%d %B %Y} yet"
        )
    first_day = daily["date"].iloc[0]
    dates = pd.to_datetime(pd.Series(daily["date"]))
    values = pd.Series(daily["migrants_arrived"].to_numpy(), index=dates)
    rows = []
    for year in range(first_day.year, as_of.year + 1):
        through = _same_day(year, as_of)
        if date(year, 1, 1) < first_day or through > last_day:
            continue
        total = int(values[pd.Timestamp(year, 1, 1) : pd.Timestamp(through)].sum())
        rows.append({"year": year, "through": through, "migrants_arrived": total})
    table = pd.DataFrame(rows)
    table["rank"] = table["migrants_arrived"].rank(ascending=False, method="min").astype(int)
    previous = table["migrants_arrived"].shift(1)
    table["change"] = (table["migrants_arrived"] - previous).astype("Int64")
    table["change_pct"] = (table["migrants_arrived"] / previous.where(previous > 0) - 1) * 100
    return YearToDate(as_of=as_of, table=table)


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st ..."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def headline(ytd: YearToDate) -> str:
    """One sentence a journalist could quote, built only from the table.

    e.g. "2,209 people crossed in small boats in 2026 up to 26 February, the 2nd highest
    year-to-date figure since records began in 2018 (2023: 2,953), up 7% on 2025 (2,056)".
    Each year's figure appears once: when the year that leads (or runs second) is also last
    year, the comparison with last year carries it.
    """
    table = ytd.table
    this = table.iloc[-1]
    year = int(this.year)
    text = (
        f"{int(this.migrants_arrived):,} people crossed in small boats in {year} up to "
        f"{ytd.as_of.day} {ytd.as_of:%B}"
    )
    if len(table) == 1:
        return text
    previous = table.iloc[-2]
    compared = not pd.isna(this.change_pct)
    text += _rank_phrase(table, this, int(table["year"].iloc[0]), int(previous.year), compared)
    if compared:
        direction = "up" if this.change >= 0 else "down"
        text += (
            f", {direction} {abs(this.change_pct):.0f}% on {int(previous.year)} "
            f"({int(previous.migrants_arrived):,})"
        )
    return text


def _rank_phrase(
    table: pd.DataFrame, this: pd.Series, first_year: int, last_year: int, compared: bool
) -> str:
    """ ", the 2nd highest ... since records began in 2018 (2023: 2,953)"; the bracket names the
    leader (or, for the highest, the runner-up) unless the comparison with last year will."""
    rank = int(this["rank"])
    others = table[table["year"] != int(this.year)]
    if rank == 1:
        other = others.sort_values(["migrants_arrived", "year"]).iloc[-1]
        joint = "joint " if other.migrants_arrived == this.migrants_arrived else ""
        phrase = f", the {joint}highest year-to-date figure since records began in {first_year}"
        label = "level with " if joint else "next: "
    else:
        other = table.sort_values(["migrants_arrived", "year"]).iloc[-1]
        phrase = (
            f", the {ordinal(rank)} highest year-to-date figure since records began in {first_year}"
        )
        label = ""
    if compared and int(other.year) == last_year:
        return phrase
    return phrase + f" ({label}{int(other.year)}: {int(other.migrants_arrived):,})"


def format_ytd_table(ytd: YearToDate) -> str:
    """A plain-text table with thousands separators, for the terminal."""
    lines = [
        f"Year to date: 1 January to {ytd.as_of.day} {ytd.as_of:%B} of each year",
        f"{'Year':<6}{'Through':>14}{'Arrived':>10}{'Rank':>6}{'Change':>10}{'%':>8}",
    ]
    for _, r in ytd.table.iterrows():
        change = "" if pd.isna(r.change) else f"{int(r.change):+,}"
        pct = "" if pd.isna(r.change_pct) else f"{r.change_pct:+.0f}%"
        lines.append(
            f"{int(r.year):<6}{r.through:%d %b %Y}".ljust(20)
            + f"{int(r.migrants_arrived):>10,}{ordinal(int(r['rank'])):>6}{change:>10}{pct:>8}"
        )
    lines.append(headline(ytd))
    return "\n".join(lines)
