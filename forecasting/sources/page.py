"""The daily "last 7 days" page, parsed as it really comes, and repaired only where unambiguous.

GOV.UK's page has shown its table in several shapes in 2026: an HTML table (the usual), the
table as markdown text (`|# 28 March 2026 | 0 | ...` lines, stray markup and the next heading run
in), the header row as markdown text above an HTML table; and its rows have carried a wrong year
(`20 April 2025` among April 2026), left a day out, or listed eight days. `page_rows` finds the
day rows by content, whatever the shape; this module repairs and checks them.

What it may change, and always says so in `provenance["repairs"]` (one sentence each):
- a date whose year is off by one inside an otherwise contiguous run of days gets that year;
- a day's row that cannot be read, or whose date fits nowhere, is left out (its figures are
  unknown) and named; the page's other days are kept;
- two rows for one day with the same figures count once; with different figures neither counts;
- a day the page does not give is noted, and the days it does give are stored.
It never invents a figure. It refuses (`BadInput`, one line) only when no figure can be trusted:
no day that can be read, a header naming other columns, no publication time, or figures that
cannot be true (`checks`).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd

from forecasting.calendar import LONDON, long_date
from forecasting.errors import BadInput
from forecasting.sources.checks import check_daily, check_publication_date, missing_days
from forecasting.sources.page_html import read_page
from forecasting.sources.page_rows import DayRow, read_day_rows
from forecasting.sources.release import Release

__all__ = ["MAX_PAGE_BYTES", "parse_last_7_days"]

# The page is about 80 kB; this cap leaves ample room.
MAX_PAGE_BYTES = 2 * 1024 * 1024
# A row's date further than this from the middle of the others is out of the run of days.
RUN_REACH = timedelta(days=10)


def _shift_year(day: date, years: int) -> date | None:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return None


def _fits(day: date, row: int, run: list[DayRow]) -> bool:
    """`day` lies in the run's reach, is not already there, and keeps the table's row order."""
    dates = sorted(r.date for r in run)
    if day in dates or not dates[0] - timedelta(days=1) <= day <= dates[-1] + timedelta(days=1):
        return False
    ascending = run[0].date <= run[-1].date
    before = [r.date for r in run if r.number < row]
    after = [r.date for r in run if r.number > row]
    if ascending:
        return (not before or before[-1] < day) and (not after or day < after[0])
    return (not before or before[-1] > day) and (not after or day > after[0])


def _repair_years(rows: list[DayRow], name: str) -> tuple[list[DayRow], list[str]]:
    """Give a year-off-by-one date its year back; leave out a date that fits nowhere."""
    if len(rows) < 3:
        return rows, []
    middle = sorted(r.date for r in rows)[len(rows) // 2]
    run = [r for r in rows if abs(r.date - middle) <= RUN_REACH]
    outliers = [r for r in rows if abs(r.date - middle) > RUN_REACH]
    if not outliers:
        return rows, []
    if len(run) * 2 <= len(rows):
        raise BadInput(name, "table dates do not form a run of days; no figure can be trusted")
    span = f"{long_date(min(r.date for r in run))} to {long_date(max(r.date for r in run))}"
    notes: list[str] = []
    kept = list(run)
    for row in outliers:
        shifted = [d for d in (_shift_year(row.date, -1), _shift_year(row.date, 1)) if d]
        fitting = [d for d in shifted if _fits(d, row.number, run)]
        if len(fitting) == 1:
            notes.append(
                f"Read {long_date(row.date)} (table row {row.number}) as "
                f"{long_date(fitting[0])}: its year was off by one among the other days "
                f"({span})."
            )
            row.date = fitting[0]
            kept.append(row)
        else:
            notes.append(
                f"Left out the row dated {long_date(row.date)} (table row {row.number}): it "
                f"lies outside the run of the other days ({span}) and no one-year correction "
                "fits."
            )
    return sorted(kept, key=lambda r: r.number), notes


def _one_row_per_day(rows: list[DayRow]) -> tuple[list[DayRow], list[str]]:
    """A day listed twice counts once if the figures agree, and not at all if they differ."""
    by_day: dict[date, list[DayRow]] = {}
    for row in rows:
        by_day.setdefault(row.date, []).append(row)
    kept, notes = [], []
    for day, same in by_day.items():
        if len(same) == 1:
            kept.append(same[0])
        elif all(r.figures == same[0].figures for r in same):
            kept.append(same[0])
            notes.append(
                f"The row for {long_date(day)} appears {len(same)} times with the same "
                "figures; counted once."
            )
        else:
            values = " and ".join(str(r.figures["migrants_arrived"]) for r in same)
            notes.append(
                f"Left out the {len(same)} rows dated {long_date(day)}: they give different "
                f"figures ({values} migrants arrived), so none can be trusted."
            )
    return kept, notes


# --------------------------------------------------------------------------------------------
# The page


def _published_at(updated_at: str | None, name: str) -> datetime:
    if not updated_at:
        raise BadInput(name, "has no govuk:updated-at meta tag (not the GOV.UK page?)")
    try:
        published_at = datetime.fromisoformat(updated_at.strip())
    except ValueError:
        raise BadInput(
            name, f"has {updated_at[:40]!r} in govuk:updated-at, not a timestamp"
        ) from None
    return published_at if published_at.tzinfo else published_at.replace(tzinfo=UTC)


def _content_sha256(updated_at: str, daily: pd.DataFrame) -> str:
    """Identity of what the page publishes; the bytes differ on every request (CSRF, nonce)."""
    lines = [f"last_7_days {updated_at}"]
    for row in daily.itertuples(index=False):
        lines.append(
            f"{row.date:%Y-%m-%d}\t{row.migrants_arrived}\t{row.boats_arrived}\t"
            f"{'' if pd.isna(row.boats_uncontrolled) else int(row.boats_uncontrolled)}\t"
            f"{'' if pd.isna(row.note) else row.note}"
        )
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def _trusted_rows(blocks: list[tuple[str, Any]], name: str) -> tuple[list[DayRow], list[str]]:
    """The day rows whose figures can be trusted, and a sentence for everything done to get
    them; `BadInput` only when the page gives no day that can be read."""
    reading = read_day_rows(blocks, name)
    if not reading.rows and not reading.left_out:
        raise BadInput(
            name, "has no table with 'Date' and 'Migrants arrived' columns (the page changed?)"
        )
    rows, repaired = _repair_years(reading.rows, name)
    rows, merged = _one_row_per_day(rows)
    notes = reading.notes + repaired + merged
    if not rows:
        raise BadInput(name, f"has no figures that can be trusted ({notes[-1]})")
    return rows, notes


def parse_last_7_days(html: bytes | str, name: str, today: date | None = None) -> Release:
    """Parse and check a capture of the "last 7 days" page; raises `BadInput` on any problem.

    Columns are found by header name (trimmed, case-insensitive), so reordering is harmless but a
    renamed or missing column is refused. Notes are kept as plain text (markup is never kept).
    The Release's sha256 identifies the published content (updated-at and table), not the bytes,
    because GOV.UK embeds a fresh CSRF token and nonce in every response; `released_on` is the
    London date of `published_at`.
    """
    if isinstance(html, str):
        html = html.encode("utf-8", errors="replace")
    if not html.strip():
        raise BadInput(name, "is empty, not the last-7-days page")
    if len(html) > MAX_PAGE_BYTES:
        raise BadInput(name, f"is over the {MAX_PAGE_BYTES:,}-byte limit for the page")
    page = read_page(html, name)
    published_at = _published_at(page.updated_at, name)
    published_on = published_at.astimezone(LONDON).date()
    check_publication_date(published_on, name, what="says it was updated on", today=today)
    rows, repairs = _trusted_rows(page.blocks, name)
    daily = pd.DataFrame.from_records([{"date": r.date, **r.figures} for r in rows])
    daily["note"] = pd.Series(daily["note"], dtype="str")  # as release.py reads the ODS notes
    daily = check_daily(daily, name, today=today, published_on=published_on, allow_gaps=True)
    gaps = missing_days(daily["date"])
    if gaps:
        repairs.append(
            f"The page gives no figures for {', '.join(long_date(d) for d in gaps)}; stored the "
            f"{len(daily)} days it gives."
        )
    return Release(
        kind="last_7_days",
        file_name=name,
        sha256=_content_sha256(published_at.isoformat(), daily),
        daily=daily,
        weekly=None,
        released_on=published_on,
        published_at=published_at,
        provenance={"repairs": repairs},
    )
