"""Backtest runs get ids; their three tables are written together."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from forecasting import store


@dataclass
class Result:
    """The shape of forecasting.backtest.BacktestResult."""

    scores: pd.DataFrame
    year_end: pd.DataFrame
    weekly: pd.DataFrame


def result(mase: float, origins: list[date]) -> Result:
    return Result(
        scores=pd.DataFrame({"model": ["naive", "ensemble"], "mase": [mase, mase / 2]}),
        year_end=pd.DataFrame({"as_of": origins, "model": "ensemble", "p50": mase}),
        weekly=pd.DataFrame(
            {"as_of": origins, "model": "ensemble", "origin_kind": "sunday", "mean": mase}
        ),
    )


RUN = {"run_start": date(2025, 1, 5), "run_end": date(2025, 6, 29), "run_every": "4W",
       "horizon_weeks": 13}  # fmt: skip


def test_each_run_gets_an_id(db_path: Path) -> None:
    first = store.save_backtest(db_path, result(1.0, [date(2025, 3, 31)]), RUN)
    second = store.save_backtest(
        db_path, result(2.0, [date(2025, 6, 30)]), {**RUN, "models": ["naive", "ensemble"]}
    )
    assert (first, second) == (1, 2)
    runs = store.read_frame(db_path, "SELECT * FROM backtest_runs ORDER BY run_id")
    assert runs["run_every"].tolist() == ["4W", "4W"]
    assert '"models": ["naive", "ensemble"]' in runs["settings"][1]
    # The same range again: its scores replace the first run's; other origins stay.
    scores = store.read_frame(db_path, "SELECT model, mase, run_id FROM backtest_scores ORDER BY 1")
    assert scores.values.tolist() == [["ensemble", 1.0, 2], ["naive", 2.0, 2]]
    year_end = store.read_frame(db_path, "SELECT as_of, run_id FROM backtest_year_end ORDER BY 1")
    assert year_end["run_id"].tolist() == [1, 2]


def test_a_failed_run_writes_nothing(db_path: Path) -> None:
    store.save_backtest(db_path, result(1.0, [date(2025, 3, 31)]), RUN)
    bad = result(3.0, [date(2025, 3, 31)])
    bad.weekly["mean"] = "not a number"  # the third table's insert fails
    with pytest.raises(duckdb.Error):
        store.save_backtest(db_path, bad, RUN)
    assert store.read_frame(db_path, "SELECT count(*) AS n FROM backtest_runs")["n"][0] == 1
    scores = store.read_frame(db_path, "SELECT DISTINCT run_id, mase FROM backtest_scores "
                              "WHERE model = 'naive'")  # fmt: skip
    assert scores.values.tolist() == [[1, 1.0]]
