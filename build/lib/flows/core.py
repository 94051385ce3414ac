"""SQL waiting for its home in `forecasting.store` (where the store branch adds `held_forecasts`).

Everything else that used to live here moved to the library: calendar rules to
`forecasting.calendar`, the shared steps of commands and flows (fits, the cache, checks, the
as-of read cache) to `forecasting.operations`. Delete this module once the store's own
`held_forecasts` is merged and `forecasting.operations.held_forecasts` calls it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

__all__ = ["held_forecasts"]


def held_forecasts(db: Path, dates: list[date], horizon_weeks: int) -> dict[date, dict[str, str]]:
    """For each date, the models stored with `horizon_weeks` weeks -> the publications they read.

    One query for a whole backfill, instead of one per date.
    """
    from forecasting.store import read_frame

    if not dates or not Path(db).exists():
        return {}
    rows = read_frame(
        db,
        """
        SELECT f.as_of, f.model, f.publications
        FROM forecasts f JOIN forecast_weeks w USING (as_of, model)
        WHERE f.as_of BETWEEN ? AND ?
        GROUP BY f.as_of, f.model, f.publications
        HAVING count(w.week_ending) = ?
        """,
        [min(dates), max(dates), horizon_weeks],
    )
    held: dict[date, dict[str, str]] = {}
    for r in rows.itertuples():
        held.setdefault(pd.Timestamp(r.as_of).date(), {})[r.model] = r.publications
    return held
