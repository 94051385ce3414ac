"""Figures that cannot be true (forecasting.sources.checks), at parser level.

The same cases through the real `crossings ingest` are in test_bad_input.py (CASES). Releases are
written in the Home Office layout by tests/ods_factory.py; the real ones are read in place.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from ods_factory import daily_rows, weekly_rows, write_release

from forecasting.errors import BadInput
from forecasting.sources.checks import check_daily, check_publication_date
from forecasting.sources.release import read_release

TODAY = date(2026, 3, 1)
RELEASED = date(2026, 2, 25)  # a Wednesday


def _refused(path: Path, today: date = TODAY) -> str:
    with pytest.raises(BadInput) as caught:
        read_release(path, today=today)
    text = str(caught.value)
    assert text.startswith(path.name + ": ") and "\n" not in text
    return text


def _release(tmp_path: Path, released: date = RELEASED, **changes) -> Path:
    daily = changes.pop("daily", None) or daily_rows(released - timedelta(days=1))
    weekly = changes.pop("weekly", None) or weekly_rows(daily)
    return write_release(tmp_path, released, daily=daily, weekly=weekly, **changes)


def test_every_real_release_passes_and_sb02_matches_sb01(release_paths, real_releases):
    """Measured on the 14 real releases: SB_02's migrants and boats arrived always equal the
    sums of SB_01's days; its boats in uncontrolled landings once do not (so it is not checked).
    """
    mismatched_uncontrolled = []
    for path, release in zip(release_paths, real_releases, strict=True):  # all checks passed
        daily = release.daily.assign(
            week_ending=[d + timedelta(days=6 - d.weekday()) for d in release.daily["date"]]
        )
        sums = daily.groupby("week_ending")[["boats_uncontrolled"]].sum(min_count=1)
        sums.columns = ["boats_uncontrolled_days"]
        weekly = release.weekly.set_index("week_ending").join(sums)
        known = weekly.dropna(subset=["boats_uncontrolled", "boats_uncontrolled_days"])
        bad = known[known["boats_uncontrolled"] != known["boats_uncontrolled_days"]]
        mismatched_uncontrolled += [(path.name, str(d)) for d in bad.index]
    assert len(release_paths) == 14
    assert mismatched_uncontrolled == [
        ("20_February_2026_Small_boats_-_time_series_v2.ods", "2026-02-15")
    ]


def test_sb02_contradicting_sb01_is_refused(tmp_path):
    daily = daily_rows(RELEASED - timedelta(days=1))
    weekly = weekly_rows(daily)
    weekly[-3][1] += 10  # migrants arrived in one week
    text = _refused(_release(tmp_path, daily=daily, weekly=weekly))
    assert "sheet SB_02 gives" in text and "the sheets contradict each other" in text
    assert f"for the week ending {weekly[-3][0]:%Y-%m-%d}" in text


def test_a_week_outside_sb01_is_refused(tmp_path):
    daily = daily_rows(RELEASED - timedelta(days=1))
    weekly = weekly_rows(daily)
    weekly.insert(1, [date(2017, 12, 31), 0, 0, 0, "-", "-", ""])
    assert "week ending 2017-12-31, outside SB_01's days" in _refused(
        _release(tmp_path, daily=daily, weekly=weekly)
    )


def test_a_day_with_more_boats_than_people_is_refused(tmp_path):
    daily = daily_rows(RELEASED - timedelta(days=1))
    daily[200][1], daily[200][2] = 3, 4
    text = _refused(_release(tmp_path, daily=daily))
    assert f"has 4 boats arrived but 3 migrants on {daily[200][0]:%Y-%m-%d}" in text
    assert "(more boats than people)" in text


def test_a_week_with_more_boats_than_people_is_refused(tmp_path):
    daily = daily_rows(RELEASED - timedelta(days=1))
    weekly = weekly_rows(daily)
    weekly[5][2] = weekly[5][1] + 1
    assert "in the week ending" in _refused(_release(tmp_path, daily=daily, weekly=weekly))


def test_a_day_after_the_publication_date_is_refused(tmp_path):
    path = _release(tmp_path, daily=daily_rows(RELEASED + timedelta(days=2)))
    assert "has figures for 2026-02-27, after its publication date (2026-02-25)" in _refused(path)


def test_a_week_after_the_publication_date_is_refused(tmp_path):
    daily = daily_rows(RELEASED - timedelta(days=1))
    weekly = weekly_rows(daily) + [[date(2026, 3, 1), 0, 0, 0, "-", "-", ""]]
    text = _refused(_release(tmp_path, daily=daily, weekly=weekly))
    assert "sheet SB_02 has the week ending 2026-03-01, after its publication date" in text


def test_a_week_after_today_is_refused(tmp_path):
    daily = daily_rows(RELEASED - timedelta(days=1))
    weekly = weekly_rows(daily) + [[date(2026, 3, 1), 0, 0, 0, "-", "-", ""]]
    path = _release(tmp_path, daily=daily, weekly=weekly)
    assert "week ending 2026-03-01, after today (2026-02-28)" in _refused(path, date(2026, 2, 28))


def test_a_release_named_for_a_date_to_come_is_refused(tmp_path):
    path = _release(tmp_path, daily=daily_rows(TODAY - timedelta(days=1)),
                    name="1_January_2099_Small_boats_-_time_series.ods")  # fmt: skip
    assert "is named for 1 January 2099, a date still to come (today is 1 March 2026" in (
        _refused(path)
    )


def test_a_release_named_for_tomorrow_is_allowed(tmp_path):
    """A day's slack: the Home Office names files in London time, and clocks drift."""
    tomorrow = TODAY + timedelta(days=1)
    path = _release(tmp_path, tomorrow, daily=daily_rows(TODAY - timedelta(days=1)))
    assert read_release(path, today=TODAY).released_on == tomorrow
    check_publication_date(tomorrow, "x", what="is named for", today=TODAY)
    with pytest.raises(BadInput, match="still to come"):
        check_publication_date(tomorrow + timedelta(days=1), "x", what="is named for", today=TODAY)


def test_gaps_are_allowed_only_when_asked():
    days = [date(2026, 2, 20), date(2026, 2, 21), date(2026, 2, 23)]
    frame = pd.DataFrame({"date": days, "migrants_arrived": 1, "boats_arrived": 0,
                          "boats_uncontrolled": 0, "note": None})  # fmt: skip
    with pytest.raises(BadInput, match="is missing 1 day"):
        check_daily(frame.copy(), "x", today=TODAY)
    assert list(check_daily(frame.copy(), "x", today=TODAY, allow_gaps=True)["date"]) == days
