"""Reading one stored forecast back as its JSON-contract dict (the inverse of save_forecasts).

So a command can answer from the store when the forecast it was asked for is already held from
the same publications, instead of fitting it again.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from forecasting.store.connection import open_store, retry_on_lock

__all__ = ["read_forecast_payload"]


def read_forecast_payload(db_path: str | Path, as_of: date, model: str) -> dict[str, Any] | None:
    """The stored forecast of `model` as of `as_of` in the JSON-contract shape; None if not held."""
    if not Path(db_path).exists():
        return None

    def read() -> dict[str, Any] | None:
        with open_store(db_path, read_only=True) as con:
            head = con.execute(
                """
                SELECT year, observed_ytd, year_end_mean, year_end_p10, year_end_p50,
                       year_end_p90, prob_exceeds
                FROM forecasts WHERE as_of = ? AND model = ?
                """,
                [as_of, model],
            ).fetchone()
            if head is None:
                return None
            weeks = con.execute(
                """
                SELECT week_ending, mean, p10, p50, p90 FROM forecast_weeks
                WHERE as_of = ? AND model = ? ORDER BY week_ending
                """,
                [as_of, model],
            ).fetchall()
        year, observed, mean, p10, p50, p90, exceeds = head
        return {
            "as_of": as_of.isoformat(),
            "model": model,
            "weekly": [
                {
                    "week_ending": pd.Timestamp(w).date().isoformat(),
                    "mean": m,
                    "p10": a,
                    "p50": b,
                    "p90": c,
                }
                for w, m, a, b, c in weeks
            ],
            "year_end": {
                "year": int(year),
                "observed_ytd": int(observed),
                "mean": mean,
                "p10": p10,
                "p50": p50,
                "p90": p90,
                "prob_exceeds": json.loads(exceeds) if exceeds else {},
            },
        }

    return retry_on_lock(read)
