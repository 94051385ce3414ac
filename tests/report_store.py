"""A small made-up store for the report's tests: one release in the Home Office layout
(tests/ods_factory.py) and hand-made forecasts in the engine's JSON shape, so the report's tests
need neither real data nor the forecasting engine."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from ods_factory import daily_rows, write_release

from forecasting.ingest import ingest_source

RELEASED = date(2026, 2, 27)
THROUGH = date(2026, 2, 26)
HOSTILE_NOTE = '<script>alert("note")</script>'
MAX_BYTES = 6 * 1024 * 1024
SUNDAYS = [date(2026, 1, 4) + timedelta(weeks=k) for k in range(7)]  # 4 Jan to 15 Feb


def forecast_payload(
    as_of: date,
    *,
    observed_ytd: int = 1000,
    weeks: int = 13,
    level: float = 300.0,
    p50: float = 9400.0,
) -> dict[str, Any]:
    """A hand-made forecast in the engine's JSON shape (the report must not need the engine)."""
    first = as_of + timedelta(days=6 - as_of.weekday()) if as_of.weekday() != 6 else as_of
    first += timedelta(days=7) if first == as_of else timedelta(0)
    rows = []
    for k in range(weeks):
        mean = level + 40 * k
        rows.append(
            {
                "week_ending": (first + timedelta(weeks=k)).isoformat(),
                "mean": mean,
                "p10": mean * 0.5,
                "p50": mean * 0.95,
                "p90": mean * 1.7,
            }
        )
    return {
        "as_of": as_of.isoformat(),
        "model": "ensemble",
        "weekly": rows,
        "year_end": {
            "year": as_of.year,
            "observed_ytd": observed_ytd,
            "mean": p50 + 100,
            "p10": p50 - 1400,
            "p50": p50,
            "p90": p50 + 1800,
            "prob_exceeds": {"2025": 0.35, "2024": 0.5, "2023": 0.9},
        },
    }


def payload_frames(
    payload: dict[str, Any],
    *,
    data_through: date | None = None,
    totals: dict[int, int] | None = None,
    cumulative: Any = None,
) -> Any:
    """A hand-made forecast's JSON shape as the engine's long frames: its `prob_exceeds` as
    milestones of the earlier years' `totals` (none when `totals` is None)."""
    import pandas as pd

    from forecasting.frames import CUMULATIVE_COLUMNS, MILESTONE_COLUMNS, ForecastFrames

    as_of = date.fromisoformat(payload["as_of"])
    key = {"as_of": as_of, "model": payload["model"]}
    ye = payload["year_end"]
    weeks = [
        {**key, "week_ending": date.fromisoformat(w["week_ending"]), "horizon": k + 1,
         "days_observed": 0, "observed": 0.0, **{q: w[q] for q in ("mean", "p10", "p50", "p90")}}
        for k, w in enumerate(payload["weekly"])
    ]  # fmt: skip
    milestones = [
        {**key, "year": ye["year"], "kind": "year_total", "label": year,
         "threshold": int(totals.get(int(year), 0)), "probability": p, "date_p10": None,
         "date_p50": None, "date_p90": None}
        for year, p in ye["prob_exceeds"].items()
        if totals is not None
    ]  # fmt: skip
    run = {**key, "production": True, "data_through": data_through or as_of,
           "horizon_weeks": len(weeks), "level_implied": None, "level_trailing": None,
           "calibration": "made up",
           "remaining_year_errors": ye.get("remaining_year_errors")}  # fmt: skip
    running = pd.DataFrame(columns=CUMULATIVE_COLUMNS)
    if cumulative is not None:
        running = cumulative.assign(**key)[CUMULATIVE_COLUMNS]
    return ForecastFrames(
        runs=pd.DataFrame([run]),
        weekly=pd.DataFrame(weeks),
        year_end=pd.DataFrame(
            [{**key, **{k: ye[k] for k in ("year", "observed_ytd", "mean", "p10", "p50", "p90")}}]
        ),
        cumulative=running,
        milestones=pd.DataFrame(milestones, columns=MILESTONE_COLUMNS),
    )


def save_payload(
    db: Path, payload: dict[str, Any], read: Any = None, *, milestones: bool = True
) -> None:
    """Store a hand-made forecast as the engine would, as the long frames (its `prob_exceeds` as
    milestones of the store's earlier years' totals, unless not `milestones`)."""
    from forecasting import store

    totals = store.read_frame(
        db,
        "SELECT year(date) AS year, sum(migrants_arrived) AS total FROM daily_arrivals GROUP BY 1",
    ).set_index("year")["total"]
    frames = payload_frames(
        payload,
        data_through=read.data_through if read is not None else None,
        totals={int(y): int(t) for y, t in totals.items()} if milestones else None,
    )
    as_of = date.fromisoformat(payload["as_of"])
    store.save_forecast_frames(db, frames, {as_of: read} if read is not None else None)


def build_store(folder: Path, *, note: str | None = HOSTILE_NOTE) -> Path:
    """A store holding one made-up release through 26 Feb 2026 (a note on a recent day)."""
    rows = daily_rows(THROUGH)
    if note is not None:
        rows[-10][4] = note
    db = folder / "crossings.duckdb"
    ingest_source(db, write_release(folder / "raw", RELEASED, daily=rows))
    return db


def store_with_forecasts(folder: Path) -> Path:
    """`build_store` plus forecasts: this one (26 Feb), one of 8 Jan, and one each Sunday from
    4 January to 15 February (the track record's), alternately too low and too high."""
    from forecasting import store
    from forecasting.ytd import year_to_date

    db = build_store(folder)
    ytd = int(year_to_date(store.latest_daily(db).daily).table["migrants_arrived"].iloc[-1])
    payloads = [forecast_payload(THROUGH, observed_ytd=ytd), forecast_payload(date(2026, 1, 8))]
    payloads += [forecast_payload(d, level=(150.0, 420.0)[k % 2]) for k, d in enumerate(SUNDAYS)]
    for payload in payloads:
        # milestones only for the newest: a page showing an older forecast has none
        save_payload(db, payload, milestones=payload is payloads[0])
    return db
