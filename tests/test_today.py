"""CROSSINGS_TODAY: run as if it were that day, everywhere "today" matters (one source of it)."""

from __future__ import annotations

from datetime import date

import pytest

from forecasting.calendar import BadArgument, check_as_of, london_now, london_today
from forecasting.errors import ExitStatus
from forecasting.operations.status import run_status
from forecasting.report.page import stale_warning
from forecasting.settings import Settings, simulated_today


def test_london_today_is_the_day_set(monkeypatch: pytest.MonkeyPatch) -> None:
    real = london_today()
    monkeypatch.setenv("CROSSINGS_TODAY", "2026-01-05")
    assert london_today() == date(2026, 1, 5) != real
    assert london_now().date() == date(2026, 1, 5)
    assert Settings.from_env().today == date(2026, 1, 5)
    monkeypatch.setenv("CROSSINGS_TODAY", "")
    assert london_today() == real and Settings.from_env().today is None


def test_checks_staleness_and_the_banner_judge_against_the_day_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CROSSINGS_TODAY", "2026-01-05")
    with pytest.raises(BadArgument, match="after today"):
        check_as_of(date(2026, 1, 6))
    assert check_as_of(date(2026, 1, 5)) == date(2026, 1, 5)
    # figures to 3 January are two days old on 5 January: stale after 1 day, fresh after 8
    assert run_status(date(2026, 1, 3), [], stale_after_days=1)[0] is ExitStatus.STALE
    assert run_status(date(2026, 1, 3), [], stale_after_days=8) == (ExitStatus.OK, [])
    assert stale_warning(date(2026, 1, 3), london_today(), 8) is None
    banner = stale_warning(date(2026, 1, 3), london_today(), 1)
    assert banner is not None and "5 January 2026" in banner


@pytest.mark.parametrize("value", ["tomorrow", "05/01/2026", "2026-02-30"])
def test_a_malformed_day_is_refused_naming_the_variable(
    value: str, monkeypatch: pytest.MonkeyPatch, crossings
) -> None:
    with pytest.raises(ValueError, match="CROSSINGS_TODAY"):
        simulated_today({"CROSSINGS_TODAY": value})
    monkeypatch.setenv("CROSSINGS_TODAY", value)
    run = crossings(["ytd"])
    assert run.status == ExitStatus.BAD_INPUT
    expected = f"crossings: CROSSINGS_TODAY={value!r} is not a valid date like 2026-02-26"
    assert run.lines == [expected]
