"""The calendar rules: London days, Monday-Sunday weeks, years, and the one `--every` grammar."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from forecasting import calendar as cal
from forecasting.errors import BadInput


@pytest.mark.parametrize(
    ("day", "sunday"),
    [
        (date(2026, 2, 23), date(2026, 3, 1)),  # Monday
        (date(2026, 2, 26), date(2026, 3, 1)),  # Thursday
        (date(2026, 3, 1), date(2026, 3, 1)),  # Sunday ends its own week
        (date(2025, 12, 31), date(2026, 1, 4)),  # a week across the new year
    ],
)
def test_weeks_run_monday_to_sunday_labelled_by_the_sunday(day: date, sunday: date) -> None:
    assert cal.week_ending(day) == sunday
    assert cal.week_ending(day).weekday() == 6
    complete = cal.last_complete_week_ending(day)
    assert complete.weekday() == 6 and complete <= day < complete + timedelta(days=7)


def test_last_complete_year() -> None:
    assert cal.last_complete_year(date(2026, 2, 26)) == 2025
    assert cal.last_complete_year(date(2025, 12, 31)) == 2025
    assert cal.last_complete_year(date(2026, 1, 1)) == 2025


@pytest.mark.parametrize(
    ("text", "days"), [("1W", 7), ("4w", 28), ("7D", 7), ("W", 7), (" 2 D ", 2), ("52W", 364)]
)
def test_every_accepts_days_or_weeks(text: str, days: int) -> None:
    assert cal.parse_every(text).days == days


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "not a step"),
        ("1M", "not a step"),
        ("weekly", "not a step"),
        ("-1W", "not a step"),
        ("0W", "outside 1 day to 52 weeks"),
        ("53W", "outside 1 day to 52 weeks"),
        ("365D", "outside 1 day to 52 weeks"),
        ("99999999999W", "not a step"),
        ("9" * 5000 + "W", "not a step"),  # no int() of 5,000 digits (ValueError in 3.11)
    ],
)
def test_every_refuses_in_one_line(text: str, problem: str) -> None:
    with pytest.raises(BadInput, match=problem) as caught:
        cal.parse_every(text)
    assert isinstance(caught.value, ValueError)  # Python callers may catch ValueError
    assert "\n" not in str(caught.value) and str(caught.value).startswith("--every: ")


def test_as_of_dates_include_both_ends() -> None:
    dates = cal.as_of_dates(date(2025, 6, 1), date(2025, 8, 31), "1W")
    assert len(dates) == 14
    assert dates[0] == date(2025, 6, 1) and dates[-1] == date(2025, 8, 31)
    assert cal.as_of_dates(date(2025, 6, 1), date(2025, 6, 1), "4W") == [date(2025, 6, 1)]
    assert cal.as_of_dates(date(2025, 6, 1), date(2025, 6, 30), "7D") == cal.as_of_dates(
        date(2025, 6, 1), date(2025, 6, 30), "1W"
    )
    assert len(cal.as_of_dates(date(2025, 6, 1), date(2025, 6, 30), "1D")) == 30
    with pytest.raises(BadInput, match="before --start"):
        cal.as_of_dates(date(2025, 6, 2), date(2025, 6, 1), "1W")


def test_sundays_every_takes_whole_weeks_only() -> None:
    sundays = cal.sundays_every(date(2025, 9, 1), date(2025, 10, 31), "14D")
    assert sundays == [date(2025, 9, 7), date(2025, 9, 21), date(2025, 10, 5), date(2025, 10, 19)]
    assert cal.sundays_every(date(2025, 9, 1), date(2025, 10, 31), "2W") == sundays
    assert cal.sundays_every(date(2025, 9, 1), date(2025, 9, 6), "1W") == []
    with pytest.raises(BadInput, match="whole weeks"):
        cal.sundays_every(date(2025, 9, 1), date(2025, 10, 31), "3D")


def test_as_of_within_2018_and_today() -> None:
    today = date(2026, 3, 1)
    assert cal.check_as_of(date(2018, 1, 1), today=today) == date(2018, 1, 1)
    assert cal.check_as_of(today, today=today) == today
    with pytest.raises(BadInput, match="before the figures start"):
        cal.check_as_of(date(2017, 12, 31), today=today)
    with pytest.raises(BadInput, match="after today"):
        cal.check_as_of(date(2026, 3, 2), today=today)
    with pytest.raises(BadInput, match=r"^--end: .* before --start"):
        cal.check_range(date(2025, 6, 2), date(2025, 6, 1), today=today)


def test_london_today_is_a_date_in_london() -> None:
    from datetime import datetime

    assert cal.london_today() == datetime.now(cal.LONDON).date()
