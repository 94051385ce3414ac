"""What a forecast computes at each past origin, remembered for the life of the process.

A forecast re-runs the members at every earlier weekly origin (for their out-of-sample errors),
scores the 10%/90% bounds its recalibration reads at the recent ones, and replays the paths at
past years' origins for the year end (past_paths.py). A backfill asks for nearly all of that
again at each of its dates, from data that agree up to the newest weeks. So each value is
remembered under the origin's week and a digest of the weeks up to it (with whatever else it
depends on): a revision of an earlier week is a new key, and a remembered value is the value
computed afresh, up to the last bits of a batched solve.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

import numpy as np

from forecasting.models.calibration import NEAR_HORIZONS, RECAL_HORIZON, Bounds, issued_bounds

__all__ = ["Key", "Memo", "forget", "origin_keys", "remembered_bounds", "remembered_rows"]

V = TypeVar("V")
Key = tuple[object, ...]
MOST = 50_000  # values a memo keeps before it starts afresh (some 30 MB of members' forecasts)
_memos: list[Memo[object]] = []


class Memo(Generic[V]):
    """A dictionary shared by the threads of a process, emptied when it reaches MOST values."""

    def __init__(self) -> None:
        self._values: dict[Key, V] = {}
        self._lock = threading.Lock()
        _memos.append(self)  # type: ignore[arg-type]

    def __len__(self) -> int:
        return len(self._values)

    def get(self, key: Key) -> V | None:
        return self._values.get(key)

    def put(self, key: Key, value: V) -> None:
        with self._lock:
            if len(self._values) >= MOST:
                self._values.clear()
            self._values[key] = value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


def forget() -> None:
    """Drop everything remembered (tests; a process that wants its memory back)."""
    for memo in _memos:
        memo.clear()


def origin_keys(y: np.ndarray, week_ending: np.ndarray) -> list[Key]:
    """One key per origin: its week and a digest of the weekly totals up to it (one pass)."""
    values = np.ascontiguousarray(y, dtype="float64")
    running = hashlib.blake2b(digest_size=16)
    keys: list[Key] = []
    for o in range(len(values)):
        running.update(values[o : o + 1].tobytes())
        keys.append((str(week_ending[o]), running.copy().digest()))
    return keys


def remembered_rows(
    memo: Memo[np.ndarray], keys: Sequence[Key], compute: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """Each key's row: remembered, or computed for all the missing ones in one call of
    `compute(indices)` (rows in the order given) and remembered."""
    rows: list[np.ndarray | None] = [memo.get(key) for key in keys]
    missing = [i for i, row in enumerate(rows) if row is None]
    if missing:
        fresh = compute(np.asarray(missing))
        for i, row in zip(missing, fresh, strict=True):
            rows[i] = kept = row.copy()
            memo.put(keys[i], kept)
    return np.stack(rows)  # type: ignore[arg-type]


_bounds: Memo[np.ndarray] = Memo()


def remembered_bounds(
    keys: Sequence[Key], errors: np.ndarray, levels: np.ndarray, model: str
) -> Bounds:
    """`issued_bounds` on this model's errors, remembered per origin for every horizon the
    recalibration scores: the recalibrations of consecutive origins, and of consecutive dates
    of a backfill, score nearly the same pairs. A pair's pool reads the columns up to two
    horizons past it, so the key holds how many of those the errors have."""
    read = min(errors.shape[1], RECAL_HORIZON + NEAR_HORIZONS)
    scored = min(RECAL_HORIZON, read)
    every = np.arange(1, scored + 1)

    def bounds(o: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        unique = np.unique(o)

        def compute(index: np.ndarray) -> np.ndarray:
            origins = np.repeat(unique[index], scored)
            lo, hi = issued_bounds(errors, levels, origins, np.tile(every, len(index)))
            return np.stack([lo.reshape(-1, scored), hi.reshape(-1, scored)], axis=1)

        table = remembered_rows(
            _bounds, [(model, *keys[u], "bounds", read) for u in unique], compute
        )  # (origins, 2, scored)
        row = np.searchsorted(unique, o)
        return table[row, 0, h - 1], table[row, 1, h - 1]

    return bounds
