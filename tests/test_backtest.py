"""Rolling-origin backtests the way production runs: Sunday and Thursday cuts, data as known."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from forecasting import backtest as bt
from forecasting.sources.release import read_release


def test_origins() -> None:
    sundays = bt.weekday_origins(date(2022, 1, 1), date(2022, 3, 31), bt.SUNDAY, 4)
    assert sundays == [date(2022, 1, 2), date(2022, 1, 30), date(2022, 2, 27), date(2022, 3, 27)]
    thursdays = bt.weekday_origins(date(2022, 1, 1), date(2022, 2, 28), bt.THURSDAY, 4)
    assert thursdays == [date(2022, 1, 6), date(2022, 2, 3)]
    with pytest.raises(ValueError):
        bt.weekday_origins(date(2022, 1, 1), date(2022, 3, 31), bt.SUNDAY, 0)
    assert bt.year_end_origins(date(2022, 4, 1), date(2023, 6, 30)) == [
        date(2022, 6, 30),
        date(2022, 9, 30),
        date(2023, 3, 31),
        date(2023, 6, 30),
    ]


def test_protocol_periods_do_not_overlap_in_weekly_origins() -> None:
    val, ev = bt.VALIDATION.origins(), bt.EVALUATION.origins()
    assert max(val["sunday"]) < min(ev["sunday"])
    assert len(ev["sunday"]) == 53 and len(ev["year_end"]) == 15
    assert min(val["sunday"]) >= date(2019, 7, 1) and max(val["sunday"]) <= date(2021, 12, 31)


@pytest.mark.slow
def test_small_backtest_on_real_data(latest_release: Path) -> None:
    daily = read_release(latest_release).daily
    calls: list[date] = []

    def daily_as_of(d: date) -> pd.DataFrame:
        calls.append(d)
        return daily[daily["date"] <= d]

    seen: list[tuple[int, int]] = []
    models = ["seasonal_naive", "profile", "ensemble"]
    origins = {
        "sunday": bt.weekday_origins(date(2024, 1, 1), date(2024, 4, 30), bt.SUNDAY, 4),
        "thursday": [date(2024, 2, 8)],
        "year_end": [date(2024, 3, 31)],
    }
    res = bt.run_backtest(
        daily_as_of, origins, daily, horizon_weeks=4, models=models,
        progress=lambda i, n: seen.append((i, n)),
    )  # fmt: skip
    assert seen[-1] == (6, 6)  # 31 March 2024 is a Sunday origin and a year-end origin
    assert date(2024, 3, 31) in calls
    wk = res.weekly
    assert set(wk["origin_kind"]) == {"sunday", "thursday"}
    assert (wk["week_ending"] > wk["as_of"]).all() and wk["actual"].notna().all()
    assert (wk["p10"] <= wk["p90"]).all()
    thursday_first = wk[(wk["origin_kind"] == "thursday") & (wk["horizon"] == 1)]
    assert (thursday_first["days_observed"] == 4).all()
    assert (res.year_end["actual"] == 36816).all() and list(res.year_end["model"]) == models
    table = bt.summarise(res).set_index("model")
    assert list(table.index) == models
    assert table.loc["seasonal_naive", "mae_vs_naive"] == pytest.approx(1.0)
    assert table["coverage_80"].between(0, 1).all()
    assert table["coverage part week"].between(0, 1).all()
    assert (table["n"] == 1).all()
    text = bt.format_protocol({"check": res})
    assert "| ensemble |" in text and "Thursday origins" in text
