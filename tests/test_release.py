"""The weekly ODS release as read (forecasting.sources.release): its dates, sheets and number.

What a release may not say is in test_checks.py; hostile containers in test_properties.py and
test_bad_input.py. Releases are written in the Home Office layout by tests/ods_factory.py; the real
ones are read in place.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from ods_factory import daily_rows, weekly_rows, write_release

from forecasting.sources.release import read_release, released_on_from_name

TODAY = date(2026, 3, 1)
RELEASED = date(2026, 2, 25)  # a Wednesday


def _release(tmp_path: Path, released: date = RELEASED, **changes) -> Path:
    daily = daily_rows(released - timedelta(days=1))
    return write_release(tmp_path, released, daily=daily, weekly=weekly_rows(daily), **changes)


def test_the_made_up_release_passes(tmp_path):
    release = read_release(_release(tmp_path), today=TODAY)
    assert release.data_through == RELEASED - timedelta(days=1)
    assert release.weekly["week_ending"].iloc[-1] == date(2026, 2, 22)


@pytest.mark.parametrize(
    ("name", "version"),
    [
        ("20_February_2026_Small_boats_-_time_series_v2.ods", 2),
        ("20_February_2026_Small_boats_-_time_series_V3.ods", 3),
        ("20_February_2026_Small_boats_-_time_series.ods", 1),
        ("20_February_2026_Small_boats_-_time_series_v2.0123456789ab.ods", 2),  # renamed on clash
    ],
)
def test_the_reissue_number_is_read_from_the_name(tmp_path, name, version):
    released = date(2026, 2, 20)
    path = _release(tmp_path, released, name=name)
    release = read_release(path, today=TODAY)
    assert (release.version, release.released_on) == (version, released)


def test_real_reissue_carries_its_number(real_releases):
    versions = {r.file_name: r.version for r in real_releases}
    assert versions.pop("20_February_2026_Small_boats_-_time_series_v2.ods") == 2
    assert set(versions.values()) == {1}


def test_the_release_date_comes_from_the_name() -> None:
    assert released_on_from_name("31_December_2025_Small_boats_-_time_series.ods") == date(
        2025, 12, 31
    )
    assert released_on_from_name("5_March_2026_Small_boats_-_time_series.ods") == date(2026, 3, 5)
    assert released_on_from_name("Small_boats_-_time_series.ods") is None
