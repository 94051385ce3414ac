"""What a forecast remembers of past origins (models/memo.py): keyed by the weeks up to each
origin, so a remembered value is the value computed afresh and a revision is a new key."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from forecasting.models import memo
from forecasting.models.calibration import error_matrix, issued_bounds
from forecasting.models.memo import (
    Memo,
    forget,
    origin_keys,
    remembered_bounds,
    remembered_rows,
)
from forecasting.models.scale import to_error_scale

SUNDAYS = np.arange(np.datetime64("2019-01-06"), np.datetime64("2022-01-02"), 7)


def _weeks() -> np.ndarray:
    rng = np.random.default_rng(3)
    week = np.arange(len(SUNDAYS))
    return rng.gamma(2.0, 1.0, len(week)) * (300 + 200 * np.sin(2 * np.pi * week / 52))


def test_an_origins_key_is_its_week_and_a_digest_of_the_weeks_up_to_it() -> None:
    y = _weeks()
    keys = origin_keys(y, SUNDAYS)
    for o in (0, 1, 77, len(y) - 1):
        digest = hashlib.blake2b(y[: o + 1].tobytes(), digest_size=16).digest()
        assert keys[o] == (str(SUNDAYS[o]), digest)
    revised = y.copy()
    revised[40] += 1.0
    moved = origin_keys(revised, SUNDAYS)
    assert moved[:40] == keys[:40]
    assert all(a != b for a, b in zip(moved[40:], keys[40:], strict=True))


def test_only_the_rows_not_remembered_are_computed() -> None:
    rows: Memo[np.ndarray] = Memo()
    asked: list[list[int]] = []

    def compute(index: np.ndarray) -> np.ndarray:
        asked.append(index.tolist())
        return np.stack([np.full(3, 10.0 * i) for i in index])

    keys = [("k", i) for i in range(5)]
    first = remembered_rows(rows, keys[:3], compute)
    both = remembered_rows(rows, [keys[4], keys[1], keys[3]], compute)
    assert asked == [[0, 1, 2], [0, 2]]  # the second call's positions 0 and 2 were new
    assert np.array_equal(first[:, 0], [0.0, 10.0, 20.0])
    assert np.array_equal(both[:, 0], [0.0, 10.0, 20.0])  # each row as computed in its call
    assert len(rows) == 5


def test_a_full_memo_starts_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memo, "MOST", 3)
    values: Memo[int] = Memo()
    for i in range(3):
        values.put(("k", i), i)
    values.put(("k", 3), 3)
    assert len(values) == 1 and values.get(("k", 3)) == 3 and values.get(("k", 0)) is None


def test_remembered_bounds_are_the_bounds_issued_afresh() -> None:
    """The same pairs from the memo and from issued_bounds; a matrix too narrow to hold the
    columns a pool reads past the last scored horizon is keyed apart from a wider one."""
    y = _weeks()
    keys = origin_keys(y, SUNDAYS)
    target = np.arange(len(y))[:, None] + np.arange(1, 17)[None, :]
    points = y[np.clip(target - 52, 0, None)]  # the same week a year earlier
    forget()
    o, h = np.repeat(np.arange(120, 150), 13), np.tile(np.arange(1, 14), 30)
    for width in (16, 13):
        errors = error_matrix(y, points[:, :width])
        levels = to_error_scale(points[:, :width])
        expected = issued_bounds(errors, levels, o, h)
        for _ in range(2):  # computed, then remembered
            got = remembered_bounds(keys, errors, levels, "m")(o, h)
            assert np.array_equal(got[0], expected[0], equal_nan=True)
            assert np.array_equal(got[1], expected[1], equal_nan=True)
    wide = issued_bounds(error_matrix(y, points), to_error_scale(points), o, h)
    assert not np.array_equal(wide[1], expected[1], equal_nan=True)  # the keys had to differ
    forget()
