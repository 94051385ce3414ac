"""What the model's own paths said, at past origins, of what was left of those years.

The year end's range (remaining.py) is spread like the misses of forecasts made at the same
point of earlier years, each measured from that forecast's own centre and in units of its own
spread: the median and the spread of the remaining-year total over the paths it would have
drawn, with the data up to that origin. So every such past origin needs its own error model
and paths (the members re-run at every origin before it, calibration.py). A backfill asks for
the same past origins date after date, so the results, and the 10%/90% bounds that each error
model's recalibration scores, are remembered for the life of the process (memo.py); each
origin draws its own paths from a fixed seed, so a remembered value is the value computed
afresh.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from forecasting.models.calibration import error_matrix, error_model
from forecasting.models.memo import Key, Memo, remembered_bounds
from forecasting.models.remaining import OFFSET, own_spread, rest_of_year
from forecasting.models.scale import from_error_scale, to_error_scale

__all__ = ["PAST_PATHS", "PastRemaining", "past_remaining"]

PAST_PATHS = 1000  # paths drawn at each past origin (the same as a forecast's minimum)
_said: Memo[tuple[float, float]] = Memo()  # (centre, spread) by model and past origin


class PastRemaining:
    """For each origin (index), the median remaining-year total of its paths before the
    recalibration of width (`centres`) and the spread of their log after it (`spreads`): NaN
    where not computed."""

    def __init__(self, n: int) -> None:
        self.centres = np.full(n, np.nan)
        self.spreads = np.full(n, np.nan)


def past_remaining(
    y: np.ndarray,
    week_ending: np.ndarray,
    points: np.ndarray,
    origins: np.ndarray,
    model: str,
    keys: Sequence[Key],
) -> PastRemaining:
    """Each origin's own remaining-year centre and spread: remembered, or computed from
    `points` (the model's weekly point forecasts from every origin, (n, H), a function of the
    weeks up to each origin as the memo's `keys` say)."""
    out = PastRemaining(len(y))
    missing = []
    for o in origins:
        key = (model, *keys[o])
        known = _said.get(key)
        if known is not None:
            out.centres[o], out.spreads[o] = known
        else:
            missing.append((int(o), key))
    if not missing:
        return out
    errors, levels = error_matrix(y, points), to_error_scale(points)
    bounds = remembered_bounds(keys, errors, levels, model)
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
        _said.put(key, value)
    return out
