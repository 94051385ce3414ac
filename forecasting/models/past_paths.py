"""What the model's own paths said, at past origins, of what was left of those years.

The year end's range (remaining.py) is spread like the misses of forecasts made at the same
point of earlier years, each measured from that forecast's own centre and in units of its own
spread: the median and the spread of the remaining-year total over the paths it would have
drawn, with the data up to that origin. So every such past origin needs its own error model
and paths (the members re-run at every origin before it, calibration.py). A backfill asks for
the same past origins date after date, so the results, and the 10%/90% bounds that each error
model's recalibration scores, are remembered for the life of the process, keyed by the model
and the weeks up to the origin: a revision of those weeks is a new key, and a remembered value
is the value computed afresh (each origin draws its own paths from a fixed seed).
"""

from __future__ import annotations

import hashlib
import threading
from typing import TypeVar

import numpy as np

from forecasting.models.calibration import (
    RECAL_HORIZON,
    Bounds,
    error_matrix,
    error_model,
    issued_bounds,
)
from forecasting.models.remaining import OFFSET, own_spread, rest_of_year
from forecasting.models.scale import from_error_scale, to_error_scale

__all__ = [
    "PAST_PATHS",
    "NotRemembered",
    "PastRemaining",
    "forget",
    "past_remaining",
    "remembered",
]

PAST_PATHS = 1000  # paths drawn at each past origin (the same as a forecast's minimum)
_MOST = 50_000  # values each memo keeps before it starts afresh (some 15 MB of bounds)
V = TypeVar("V")
Key = tuple[object, ...]
_said: dict[Key, tuple[float, float]] = {}  # (centre, spread) by past origin
_bounds: dict[Key, np.ndarray] = {}  # (2, RECAL_HORIZON) bounds issued by past origin
_lock = threading.Lock()


class NotRemembered(LookupError):
    """A past origin is neither remembered nor computable from the forecasts given (the memo
    was emptied after `remembered` said yes): run every origin and ask again."""


class PastRemaining:
    """For each origin (index), the median remaining-year total of its paths before the
    recalibration of width (`centres`) and the spread of their log after it (`spreads`): NaN
    where not computed."""

    def __init__(self, n: int) -> None:
        self.centres = np.full(n, np.nan)
        self.spreads = np.full(n, np.nan)


def _keys(y: np.ndarray, week_ending: np.ndarray, origins: np.ndarray, model: str) -> list[Key]:
    """One key per origin: the model, the origin's week and a digest of the weeks up to it."""
    return [
        (model, str(week_ending[o]), hashlib.blake2b(y[: o + 1].tobytes(), digest_size=16).digest())
        for o in origins
    ]


def remembered(y: np.ndarray, week_ending: np.ndarray, origins: np.ndarray, model: str) -> bool:
    """Whether every origin's result is remembered (then no past origin needs re-running)."""
    return all(k in _said for k in _keys(y, week_ending, origins, model))


def forget() -> None:
    """Drop everything remembered (tests; a process that wants its memory back)."""
    with _lock:
        _said.clear()
        _bounds.clear()


def _remember(memo: dict[Key, V], key: Key, value: V) -> None:
    with _lock:
        if len(memo) >= _MOST:
            memo.clear()
        memo[key] = value


def past_remaining(
    y: np.ndarray,
    week_ending: np.ndarray,
    points: np.ndarray | None,
    origins: np.ndarray,
    model: str,
) -> PastRemaining:
    """Each origin's own remaining-year centre and spread, from the remembered values or, for
    the rest, from `points` (the model's weekly point forecasts from every origin, (n, H))."""
    out = PastRemaining(len(y))
    keys = _keys(y, week_ending, origins, model)
    missing = []
    for o, key in zip(origins, keys, strict=True):
        known = _said.get(key)
        if known is not None:
            out.centres[o], out.spreads[o] = known
        else:
            missing.append((int(o), key))
    if not missing:
        return out
    if points is None or not np.isfinite(points[: max(o for o, _ in missing) + 1]).all():
        raise NotRemembered("past origins not remembered need the forecasts from every origin")
    errors, levels = error_matrix(y, points), to_error_scale(points)
    bounds = _bounds_memo(y, week_ending, errors, levels, model)
    ends = np.asarray(week_ending).astype("datetime64[D]")
    for o, key in missing:
        k, share = rest_of_year(ends[o])
        if k < 1 or k > points.shape[1]:
            continue
        model_at = error_model(errors, levels, k, origin=o, bounds=bounds)
        u = model_at.uniforms(PAST_PATHS, np.random.default_rng(0))
        base = to_error_scale(points[o, :k])[None, :]
        before = model_at.quantiles(u, widened=False)
        plain = from_error_scale(base + before) @ share
        wide = from_error_scale(base + model_at.widen(before)) @ share
        value = (float(np.median(plain)), own_spread(np.log(wide + OFFSET)))
        out.centres[o], out.spreads[o] = value
        _remember(_said, key, value)
    return out


def _bounds_memo(
    y: np.ndarray, week_ending: np.ndarray, errors: np.ndarray, levels: np.ndarray, model: str
) -> Bounds:
    """`issued_bounds` on these errors, remembered per origin for every horizon the
    recalibration scores: consecutive origins' recalibrations score nearly the same pairs."""
    scored = min(RECAL_HORIZON, errors.shape[1])  # a short forecast scores fewer horizons
    every = np.arange(1, scored + 1)

    def bounds(o: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        unique = np.unique(o)
        keys = [(*key, "bounds", scored) for key in _keys(y, week_ending, unique, model)]
        table = np.empty((2, len(unique), scored))
        todo = []
        for i, key in enumerate(keys):
            known = _bounds.get(key)
            if known is None:
                todo.append(i)
            else:
                table[:, i] = known
        if todo:
            new = np.repeat(unique[todo], scored)
            lo, hi = issued_bounds(errors, levels, new, np.tile(every, len(todo)))
            table[0, todo] = lo.reshape(len(todo), scored)
            table[1, todo] = hi.reshape(len(todo), scored)
            for i in todo:
                _remember(_bounds, keys[i], table[:, i].copy())
        row = np.searchsorted(unique, o)
        return table[0, row, h - 1], table[1, row, h - 1]

    return bounds
