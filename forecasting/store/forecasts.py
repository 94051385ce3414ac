"""Forecasts held: what is stored for which as_of (the cache of fits), and the legacy writer.

`save_forecasts` / `save_forecast_records` take the JSON-contract payloads the flows make today;
`forecast_frames.save_forecast_frames` takes the long `ForecastFrames` that replace them. Both
write the same tables, so `held_forecasts` and the report read either.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from forecasting.store.reads import AsOfRead
from forecasting.store.tables import read_frame, save_frames

__all__ = [
    "ForecastRecord",
    "save_forecasts",
    "save_forecast_records",
    "held_forecasts",
    "forecast_covers",
    "already_forecast",
    "production_year_end",
]


@dataclass(frozen=True)
class ForecastRecord:
    """One as_of's forecasts as they are stored: every model's JSON-contract dict and more."""

    payloads: dict[str, dict[str, Any]]  # model -> JSON contract
    production_model: str
    read: AsOfRead | None = None  # what it was fitted on (data_through, publications, rule)
    cumulative: pd.DataFrame | None = None  # production model's YTD quantiles to 31 December


def save_forecasts(
    db_path: str | Path,
    payloads: dict[str, dict[str, Any]],
    *,
    production_model: str,
    read: AsOfRead | None = None,
    cumulative: pd.DataFrame | None = None,
) -> None:
    """Store one as_of's forecasts (JSON-contract dicts, one per model), replacing any earlier.

    `cumulative` is the production model's cumulative year-to-date quantiles to 31 December
    (week_ending, mean, p10, p50, p90). Everything goes in one transaction.
    """
    save_forecast_records(db_path, [ForecastRecord(payloads, production_model, read, cumulative)])


def save_forecast_records(db_path: str | Path, records: list[ForecastRecord]) -> None:
    """Store several as_of dates' forecasts in ONE transaction (a backfill's batch of fits)."""
    created_at = datetime.now(UTC)
    headers, weeks, cumulative = [], [], []
    for record in records:
        read = record.read
        for model, payload in record.payloads.items():
            year_end = payload["year_end"]
            as_of = date.fromisoformat(payload["as_of"])
            headers.append(
                {
                    "as_of": as_of,
                    "model": model,
                    "production": model == record.production_model,
                    "data_through": read.data_through if read else None,
                    "publications": list(read.publications) if read else None,
                    "as_of_rule": read.rule if read else None,
                    "year": int(year_end["year"]),
                    "observed_ytd": int(year_end["observed_ytd"]),
                    "year_end_mean": float(year_end["mean"]),
                    "year_end_p10": float(year_end["p10"]),
                    "year_end_p50": float(year_end["p50"]),
                    "year_end_p90": float(year_end["p90"]),
                    "prob_exceeds": json.dumps(year_end["prob_exceeds"]),
                    "horizon_weeks": len(payload["weekly"]),
                    "created_at": created_at,
                }
            )
            weeks.extend(
                {
                    "as_of": as_of,
                    "model": model,
                    "week_ending": date.fromisoformat(week["week_ending"]),
                    "horizon": horizon,
                    **{k: float(week[k]) for k in ("mean", "p10", "p50", "p90")},
                }
                for horizon, week in enumerate(payload["weekly"], start=1)
            )
            if model == record.production_model and record.cumulative is not None:
                cumulative.append(record.cumulative.assign(as_of=as_of, model=model))
    writes = [
        ("forecasts", pd.DataFrame(headers), ["as_of", "model"]),
        ("forecast_weeks", pd.DataFrame(weeks), ["as_of", "model"]),
    ]
    if cumulative:
        writes.append(
            ("forecast_cumulative", pd.concat(cumulative, ignore_index=True), ["as_of", "model"])
        )
    save_frames(db_path, writes)


def held_forecasts(
    db_path: str | Path, dates: list[date], horizon_weeks: int
) -> dict[date, dict[str, tuple[str, ...]]]:
    """For each date, the models stored with `horizon_weeks` weeks -> the publications (sha256)
    they were fitted on. One query for a whole backfill, instead of one per date."""
    if not dates:
        return {}
    rows = read_frame(
        db_path,
        """
        SELECT f.as_of, f.model, any_value(f.publications) AS publications
        FROM forecasts f JOIN forecast_weeks w USING (as_of, model)
        WHERE f.as_of BETWEEN ? AND ?
        GROUP BY f.as_of, f.model
        HAVING coalesce(any_value(f.horizon_weeks), count(w.week_ending)) = ?
        """,
        [min(dates), max(dates), horizon_weeks],
    )
    held: dict[date, dict[str, tuple[str, ...]]] = {}
    for r in rows.itertuples():
        publications = tuple(r.publications) if r.publications is not None else ()
        held.setdefault(pd.Timestamp(r.as_of).date(), {})[r.model] = publications
    return held


def forecast_covers(
    held: dict[str, tuple[str, ...]], publications: list[str], models: list[str]
) -> bool:
    """Whether one date's held forecasts (from `held_forecasts`) cover `models`, fitted on
    exactly these publications."""
    wanted = tuple(publications)
    return all(model in held and tuple(held[model]) == wanted for model in models)


def already_forecast(
    db_path: str | Path,
    as_of: date,
    publications: list[str],
    models: list[str],
    horizon_weeks: int,
) -> bool:
    """True when the store holds these models' forecasts as of `as_of` from the same
    publications: a forecast is a pure function of those, so it need not be fitted again."""
    held = held_forecasts(db_path, [as_of], horizon_weeks)
    return forecast_covers(held.get(as_of, {}), publications, models)


def production_year_end(db_path: str | Path, as_of: date) -> dict[str, Any] | None:
    """The production model's year-end figures stored for `as_of` (None when none is)."""
    held = read_frame(
        db_path,
        "SELECT year, observed_ytd, year_end_p10 AS p10, year_end_p50 AS p50, "
        "year_end_p90 AS p90 FROM forecasts WHERE as_of = ? AND production",
        [as_of],
    )
    return held.iloc[0].to_dict() if not held.empty else None
