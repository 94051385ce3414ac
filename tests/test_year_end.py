"""The year-end statement at every origin: plain rules, calibrated chances, the remaining-year
spread, and the year-end backtest agreeing with what a backfill stored for the same Sundays."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting.chances import BOUND, bounded, printed_chances, says_little
from forecasting.year_end import UP_RULE, UP_RULE_HEDGED, plain_rules, year_end_scores


def _daily(per_day: dict[int, float]) -> pd.DataFrame:
    days = pd.date_range("2023-01-01", "2025-06-30", freq="D")
    return pd.DataFrame({"date": days.date, "migrants_arrived": [per_day[d.year] for d in days]})


def test_plain_rules_from_the_figures_known_then() -> None:
    daily = _daily({2023: 10.0, 2024: 20.0, 2025: 30.0})
    rules = plain_rules(daily, date(2025, 3, 31))
    assert rules is not None
    assert rules.observed_ytd == 90 * 30.0 and rules.last_year == 366 * 20.0
    assert rules.last_year_to_date == 91 * 20.0  # 2024 is a leap year
    assert rules.up and rules.ratio_median == pytest.approx(90 * 30.0 * 366 / 91)
    assert plain_rules(daily, date(2023, 6, 1)) is None  # 2022 not in the figures


def test_printed_chances_are_the_paths_own_bounded_and_in_order() -> None:
    shares = [0.99, 0.9, 0.6, 0.3, 0.1, 0.01, 0.0]  # thresholds rising
    out = printed_chances(shares)
    assert all(a >= b for a, b in zip(out, out[1:], strict=False))
    assert out[2:5] == [0.6, 0.3, 0.1]  # inside the bounds: the simulated years' own share
    assert out[0] == 1 - BOUND and out[-1] == BOUND and out[-2] == BOUND
    assert bounded(0.02) == BOUND and says_little(bounded(0.02)) and not says_little(0.3)


def test_scores_by_quarter_and_brier() -> None:
    rows = pd.DataFrame(
        {
            "model": ["m"] * 4,
            "quarter": [1, 1, 4, 4],
            "p10": [90.0, 90.0, 90.0, 90.0],
            "p50": [100.0, 100.0, 100.0, 100.0],
            "p90": [110.0, 110.0, 110.0, 110.0],
            "p_above": [1.0, 0.0, 0.5, 0.5],
            "last_year": [100.0] * 4,
            "actual": [105.0, 120.0, 100.0, 95.0],
        }
    )
    s = year_end_scores(rows).iloc[0]
    assert s["coverage q1"] == 0.5 and s["coverage q4"] == 1.0 and s["coverage_80"] == 0.75
    assert s["brier"] == pytest.approx((0 + 1 + 0.25 + 0.25) / 4)
    assert s["median_ape"] == pytest.approx(np.median([5 / 105, 20 / 120, 0, 5 / 95]))


@pytest.mark.slow
@pytest.mark.integration  # runs the backfill flow on a Prefect server
def test_year_end_backtest_agrees_with_the_backfill(prefect_api: None, store_copy: Path) -> None:
    from flows.backfill import backfill
    from forecasting.year_end import year_end_scores as scores_of
    from forecasting.year_end_run import stored_year_end_rows, year_end_and_store

    start, end = date(2024, 10, 6), date(2024, 12, 29)
    sundays = [start + timedelta(weeks=k) for k in range((end - start).days // 7 + 1)]
    outcome = year_end_and_store(store_copy, start, end, every="1W", models=["ensemble"])
    assert outcome.run_id >= 1
    from forecasting.store import read_year_end_backtest

    held = read_year_end_backtest(store_copy)
    assert held["as_of"].nunique() == len(sundays)
    backfill(start=start, end=end, every="1W", models=["ensemble"], db=str(store_copy))
    stored = stored_year_end_rows(store_copy, sundays)
    assert stored["as_of"].nunique() == len(sundays)
    ours = held.drop(columns=["run_start", "run_end", "run_every", "run_id"])
    a = scores_of(ours).set_index("model").sort_index()
    b = scores_of(stored).set_index("model").sort_index()
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9)
    # The report's record of the printed chance reads the same stored forecasts: same scores
    # (the report shows the last Sunday's forecast, so it scores the earlier ones).
    from forecasting.report.accuracy import chance_record
    from forecasting.report.data import load_report_data

    data = load_report_data(store_copy)
    earlier = data.earlier_year_end[data.earlier_year_end["as_of"].isin(sundays)]
    totals = {2024: float(stored["actual"].iloc[0]), 2023: float(stored["last_year"].iloc[0])}
    record = chance_record(earlier, data.read.daily, totals)
    assert record is not None and record.forecasts == len(sundays) - 1
    same = scores_of(stored[stored["as_of"] < sundays[-1]]).set_index("model")
    assert record.brier == pytest.approx(same.loc["ensemble", "brier"])
    assert record.rule_brier == pytest.approx(same.loc[UP_RULE, "brier"])
    assert record.hedged_rule_brier == pytest.approx(same.loc[UP_RULE_HEDGED, "brier"])


def test_year_end_record_by_quarter_of_the_forecast() -> None:
    from forecasting.report.accuracy import year_end_record

    earlier = pd.DataFrame(
        {
            "as_of": [date(2024, 2, 4), date(2024, 3, 3), date(2024, 11, 3), date(2025, 2, 2)],
            "production": [True, True, True, True],
            "year": [2024, 2024, 2024, 2025],
            "year_end_p10": [800.0, 900.0, 1000.0, 1.0],
            "year_end_p50": [1000.0, 1100.0, 1050.0, 2.0],
            "year_end_p90": [1200.0, 1300.0, 1100.0, 3.0],
        }
    )
    record = year_end_record(earlier, {2024: 1250.0})  # 2025 not over: not scored
    assert [q.quarter for q in record] == ["January to March", "October to December"]
    first, last = record
    assert (first.forecasts, first.held) == (2, 1) and last.held == 0
    assert first.typical_error == pytest.approx(np.median([250 / 1250, 150 / 1250]))
    assert year_end_record(earlier.head(0), {}) == []


def test_chance_record_scores_the_printed_chance_beside_the_rule() -> None:
    from forecasting.report.accuracy import chance_record

    daily = _daily({2023: 10.0, 2024: 20.0, 2025: 30.0})
    earlier = pd.DataFrame(
        {
            "as_of": [date(2024, 3, 3), date(2024, 9, 1), date(2024, 9, 1), date(2025, 3, 2)],
            "production": [True, True, False, True],
            "year": [2024, 2024, 2024, 2025],
            # 2024 ahead of 2023 to date at both dates; the second said so with 0.9 and the
            # first printed 0.2 (a miss); the other model's row and 2025 (not over) not scored
            "observed_ytd": [63 * 20.0, 245 * 20.0, 245 * 20.0, 61 * 30.0],
            "prob_exceeds": ['{"2023": 0.2}', '{"2023": 0.9}', '{"2023": 0.0}', '{"2024": 0.5}'],
        }
    )
    record = chance_record(earlier, daily, {2023: 3650.0, 2024: 7320.0})
    assert record is not None and record.forecasts == 2 and record.years == [2024]
    assert record.brier == pytest.approx((0.8**2 + 0.1**2) / 2)
    assert record.rule_brier == 0.0 and record.hedged_rule_brier == pytest.approx(0.2**2)
    assert not record.beats_rule
    assert [(b.band, b.forecasts, b.ended_above) for b in record.bands] == [
        ("below 30%", 1, 1),
        ("70% or more", 1, 1),
    ]
    behind = earlier.assign(observed_ytd=[1.0, 1.0, 1.0, 1.0])  # behind 2023 to date
    assert chance_record(behind, daily, {2023: 3650.0, 2024: 7320.0}).rule_brier == 1.0  # type: ignore[union-attr]
    assert chance_record(earlier, daily, {2024: 7320.0}) is None  # 2023's total unknown


def test_the_report_words_a_chance_the_data_say_little_about() -> None:
    from forecasting.report.sections import _chance

    assert _chance(BOUND) == "very unlikely" and _chance(1 - BOUND) == "almost certain"
    assert "%" in _chance(0.4)
