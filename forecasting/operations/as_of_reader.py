"""The as-of read cache: the figures as known on many dates, one store read per span."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from forecasting.store import AsOfRead

__all__ = ["AsOfReader"]


class AsOfReader:
    """`read_as_of` for many dates, reading the store once per distinct set of publications.

    read_as_of(d) takes, for each day, the newest publication among those whose data ended by d
    (or, when none had, the oldest held, cut at d). Between two publications' data_through dates
    that set does not change, so one read at the last date of such a span, cut at d, gives the
    same figures as reading at d: as-of semantics kept, reads cut from one per date to one per
    publication (or one in all when the store only holds vintages newer than every date).
    """

    def __init__(self, db: Path, end: date) -> None:
        from forecasting.store import publication_data_throughs

        self.db = db
        self.end = end
        self._throughs = publication_data_throughs(db)
        self._cache: dict[int, AsOfRead] = {}
        self.reads = 0

    def _span(self, d: date) -> tuple[int, date]:
        eligible = sum(1 for t in self._throughs if t <= d)
        upper = self.end
        if eligible < len(self._throughs):
            upper = min(upper, self._throughs[eligible] - timedelta(days=1))
        return eligible, max(upper, d)

    def read(self, d: date) -> AsOfRead:
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
