"""Who crosses: the official quarterly figures broken down by nationality, age group or sex.

`crossings breakdown` and the report's "Who is crossing" section read these functions, so an
analyst gets the same numbers as the page. Every breakdown adds up to its total: blank cells
are their own category ("Not given"), never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from forecasting.errors import BadInput

__all__ = [
    "BY",
    "METHODS",
    "BreakdownRow",
    "Breakdown",
    "breakdown",
    "breakdown_of",
    "format_breakdown",
]

# --by -> the column of quarterly_detections
BY = {"nationality": "nationality", "age": "age_group", "sex": "sex", "region": "region"}
# --method -> the method of entry as the dataset names it (None: every method)
METHODS: dict[str, str | None] = {
    "small-boats": "Small boat arrivals",
    "air": "Inadequately documented air arrivals",
    "ports": "Recorded detections at UK ports",
    "in-uk": "Recorded detections in the UK",
    "all": None,
}


@dataclass(frozen=True)
class BreakdownRow:
    label: str
    detections: int
    share: float  # of the total, 0-1


@dataclass(frozen=True)
class Breakdown:
    """One year's detections by one characteristic, top first, with the release it is from."""

    year: int
    by: str
    method: str
    rows: list[BreakdownRow]
    total: int
    quarters: list[int]  # the quarters of `year` held (1-4)
    publication: str
    published_on: date | None

    @property
    def complete(self) -> bool:
        return self.quarters == [1, 2, 3, 4]

    def share_of(self, label: str) -> float:
        return next((r.share for r in self.rows if r.label == label), 0.0)


def breakdown_of(
    detections: pd.DataFrame, year: int, by: str, method: str = "small-boats"
) -> Breakdown:
    """A breakdown from rows shaped as `quarterly_detections` (e.g. `store.quarterly_as_of`)."""
    if by not in BY:
        raise BadInput("--by", f"{by!r} is not one of {', '.join(BY)}")
    if method not in METHODS:
        raise BadInput("--method", f"{method!r} is not one of {', '.join(METHODS)}")
    frame = detections[detections["year"] == year]
    wanted = METHODS[method]
    if wanted is not None:
        frame = frame[frame["method_of_entry"].str.lower() == wanted.lower()]
    if frame.empty:
        held = sorted(detections["year"].unique().tolist()) if len(detections) else []
        span = f"{held[0]} to {held[-1]}" if held else "none: ingest a quarterly workbook first"
        raise BadInput("--year", f"no official quarterly figures for {year} (years held: {span})")
    sums = frame.groupby(BY[by])["detections"].sum()
    total = int(sums.sum())
    ordered = sorted(sums.items(), key=lambda item: (-int(item[1]), str(item[0])))
    newest = frame.sort_values(["quarter"]).iloc[-1]
    return Breakdown(
        year=year,
        by=by,
        method=method,
        rows=[BreakdownRow(str(k), int(v), int(v) / total if total else 0.0) for k, v in ordered],
        total=total,
        quarters=sorted(int(q) for q in frame["quarter"].unique()),
        publication=str(newest["publication"]),
        published_on=None
        if pd.isna(newest["published_on"])
        else pd.Timestamp(newest["published_on"]).date(),
    )


def breakdown(
    db_path: str | Path, year: int, by: str, method: str = "small-boats", as_of: date | None = None
) -> Breakdown:
    """The official breakdown of `year` as held now (or as known on `as_of`)."""
    from forecasting import store

    if not Path(db_path).exists():
        raise BadInput(db_path, "no store there; run `crossings ingest` first")
    return breakdown_of(store.quarterly_as_of(db_path, as_of), year, by, method)


def format_breakdown(result: Breakdown, top: int | None = None) -> str:
    """The table `crossings breakdown` prints: top first, with shares and the total."""
    what = {"nationality": "Nationality", "age": "Age group", "sex": "Sex", "region": "Region"}
    quarters = "" if result.complete else f" (quarters held: {_quarters(result.quarters)})"
    published = f", published {result.published_on:%d %B %Y}" if result.published_on else ""
    lines = [
        f"{result.year}{quarters}, {result.method}: detections by {result.by}",
        f"official quarterly figures: {result.publication}{published}",
        "",
        f"{what[result.by]:<34} {'detections':>10} {'share':>7}",
    ]
    rows = result.rows if top is None else result.rows[:top]
    for row in rows:
        lines.append(f"{row.label[:34]:<34} {row.detections:>10,} {row.share:>7.1%}")
    lines.append(f"{'Total':<34} {result.total:>10,} {1:>7.1%}")
    return "\n".join(lines)


def _quarters(quarters: list[int]) -> str:
    return ", ".join(f"Q{q}" for q in quarters)
