"""Storing forecasts: every model's figures for an as_of, with what they were fitted on."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from forecasting.store.reads import AsOfRead
from forecasting.store.tables import save_frames

__all__ = ["ForecastRecord", "save_forecasts", "save_forecast_records"]


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
                    "publications": ",".join(read.publications) if read else None,
                    "as_of_rule": read.rule if read else None,
                    "year": int(year_end["year"]),
                    "observed_ytd": int(year_end["observed_ytd"]),
                    "year_end_mean": float(year_end["mean"]),
                    "year_end_p10": float(year_end["p10"]),
                    "year_end_p50": float(year_end["p50"]),
                    "year_end_p90": float(year_end["p90"]),
                    "prob_exceeds": json.dumps(year_end["prob_exceeds"]),
                    "created_at": created_at,
                }
            )
            weeks.extend(
                {
                    "as_of": as_of,
                    "model": model,
                    "week_ending": date.fromisoformat(week["week_ending"]),
                    **{k: float(week[k]) for k in ("mean", "p10", "p50", "p90")},
                }
                for week in payload["weekly"]
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
