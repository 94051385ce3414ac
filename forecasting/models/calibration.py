"""Intervals from a model's own out-of-sample errors, by horizon, recalibrated from recent coverage.

At the origin T, a model has been run at every earlier weekly origin o with the data as known at
T cut at o (members are cheap: see members.py), so its error at horizon h is known for every o
with o + h <= T. From those errors, on the error scale (scale.py):

1. Each horizon's distribution comes from the last POOL_WEEKS origins' errors at that horizon,
   centred on their median (the median forecast stays the model's point forecast, so the median
   path stays as smooth as the members made it).
2. Its width is then rescaled, separately below and above the median and for each band of
   horizons (weeks 1-4, 5-8, 9-13), by how the intervals issued at the last RECAL_WEEKS origins
   actually did in that band: if 14% of weeks 9-13 fell below the 10% bound, their lower tail
   widens until 10% would have. This is adaptive recalibration from
   realised coverage rather than a fixed widening factor: after a change of regime (the growth of
   2019-2021, a year running below the last) the width follows within a year.
3. Sample paths keep these marginals exactly and take their dependence across horizons from whole
   error trajectories of past origins (a rank copula): a path that runs high in week 2 tends to
   run high in week 10 too, so sums over the rest of the year get honest spread.
4. The part-observed first week (data cut on a Thursday, say) gets its own distribution: the
   errors of the point forecast for the same unobserved days of past weeks. In 10-20% of weeks
   the weather stops crossings for days, so its lower bound can be "no more crossings this week".

Every constant here was chosen on the validation origins (Jul 2019 - Dec 2021), never on the
2022-2025 evaluation; benchmarks/model_scores.md lists the variants tried.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from math import erf, sqrt
from statistics import NormalDist
from typing import cast

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from forecasting.models.scale import from_error_scale, to_error_scale

__all__ = [
    "POOL_WEEKS",
    "RECAL_WEEKS",
    "Bounds",
    "ErrorModel",
    "error_matrix",
    "error_model",
    "issued_bounds",
    "recalibration_pairs",
    "PartWeekModel",
    "part_week_model",
]

POOL_WEEKS = 104  # origins whose errors at a horizon give its distribution
RECAL_WEEKS = 52  # origins whose realised coverage rescales the width
RECAL_BANDS = ((1, 4), (5, 8), (9, 13))  # horizons scored for the recalibration, by band
RECAL_HORIZON = RECAL_BANDS[-1][1]  # ... up to this one; horizons past it take its band's
TRAJECTORY_WEEKS = 156  # origins whose whole error trajectories give the paths' dependence
MIN_ERRORS = 20  # fewer errors than this (the first year of data): a wide normal instead
FALLBACK_SD = 0.8  # its standard deviation on the error scale
MIN_FACTOR = 0.5  # recalibration never narrows a tail to less than half ...
MAX_FACTOR = 4.0  # ... nor widens it more than fourfold (in the first year of data, pools of
MIN_HALF_WIDTH = 0.05  # near-identical errors gave factors in the thousands; a priori bounds)
TAIL = 0.1  # 80% intervals: 10% below, 10% above
NEAR_HORIZONS = 2  # a horizon's pool also takes the errors of horizons up to 2 weeks either side
NEAREST = 100  # ... and keeps the 100 whose forecast level was nearest (0: keep all)
PART_WEEK_POOL = 156  # past weeks whose same unobserved days set the part-observed week's spread
PART_WEEK_NEAREST = 80  # ... keeping the 80 forecast at the nearest level (0: keep all)


def error_matrix(y: np.ndarray, points: np.ndarray) -> np.ndarray:
    """E[o, h-1] = actual - point on the error scale; NaN where the week is not known yet."""
    n, horizon = points.shape
    target = np.arange(n)[:, None] + np.arange(1, horizon + 1)[None, :]
    known = target < len(y)
    actual = np.where(known, to_error_scale(y[np.minimum(target, len(y) - 1)]), np.nan)
    return cast(np.ndarray, actual - to_error_scale(points))


_NORMAL = NormalDist()
_SQRT2 = sqrt(2.0)


def _cdf(x: float) -> float:
    """NormalDist().cdf, as the standard library computes it, at a fraction of its cost."""
    return 0.5 * (1.0 + erf(x / _SQRT2))


_normal_cdf = np.vectorize(_cdf, otypes=[float])
_inv_cdf = np.vectorize(_NORMAL.inv_cdf, otypes=[float])


def _normal_ppf(p: np.ndarray | float) -> np.ndarray:
    """Standard normal quantiles (the fallback for the first year of data, so rarely used that
    the standard library's NormalDist serves)."""
    return cast(np.ndarray, _inv_cdf(np.clip(p, 1e-6, 1 - 1e-6)))


def _tail_factor(z: np.ndarray, n: int) -> float:
    """The smallest factor s with at most TAIL * n of the exceedances z above s."""
    allowed = int(np.floor(TAIL * n))
    if len(z) <= allowed:
        return MIN_FACTOR
    return min(max(float(np.sort(z)[len(z) - allowed - 1]), MIN_FACTOR), MAX_FACTOR)


@dataclass(frozen=True)
class ErrorModel:
    """What one model's past errors say about its forecast from the origin, horizon by horizon."""

    pools: np.ndarray  # (horizon, NEAREST) centred errors (error scale), sorted, NaN-padded
    low: np.ndarray  # (horizon,) width factors below and above the median, from recent
    high: np.ndarray  # realised coverage in each horizon's band
    trajectories: np.ndarray  # (rows, horizon) centred error trajectories for the copula

    @property
    def horizon(self) -> int:
        return len(self.pools)

    def quantiles(self, p: np.ndarray, widened: bool = True) -> np.ndarray:
        """Error-scale quantiles: p is (m, horizon), one probability per path and horizon;
        after recalibration unless not `widened` (forecast.py takes the year-end median before
        it)."""
        p = np.asarray(p, dtype="float64")
        n = np.isfinite(self.pools).sum(axis=1)
        pos = np.clip(p, 0.0, 1.0) * np.maximum(n - 1, 0)[None, :]
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, np.maximum(n - 1, 0)[None, :])
        cols = np.arange(self.horizon)[None, :]
        frac = pos - lo
        base: np.ndarray = self.pools[cols, lo] * (1 - frac) + self.pools[cols, hi] * frac
        thin = n < MIN_ERRORS  # the first year of data: a wide normal instead
        if thin.any():
            normal = FALLBACK_SD * _normal_ppf(p)
            base = np.where(thin[None, :], normal, base)
        return base if not widened else self.widen(base)

    def widen(self, base: np.ndarray) -> np.ndarray:
        """Quantiles before the recalibration of width (`quantiles(p, widened=False)`) after it."""
        return cast(np.ndarray, np.where(base < 0, self.low * base, self.high * base))

    def uniforms(self, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        """(n_paths, horizon) probabilities whose dependence across horizons is the past's."""
        rows = self.trajectories
        if len(rows) < MIN_ERRORS:  # too little history: an AR(1) Gaussian copula
            z = np.empty((n_paths, self.horizon))
            z[:, 0] = rng.standard_normal(n_paths)
            for h in range(1, self.horizon):
                z[:, h] = 0.9 * z[:, h - 1] + np.sqrt(1 - 0.81) * rng.standard_normal(n_paths)
            return cast(np.ndarray, _normal_cdf(z))
        pick = rng.integers(0, len(rows), size=n_paths)
        # each sampled value's rank among the trajectories, jittered within its step
        ranks = np.argsort(np.argsort(rows, axis=0, kind="stable"), axis=0, kind="stable")
        return (ranks[pick] + rng.random((n_paths, self.horizon))) / len(rows)


# The 10% and 90% bounds issued at (origin, horizon) pairs: `issued_bounds`, or a memo of it.
Bounds = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def error_model(
    errors: np.ndarray,
    levels: np.ndarray,
    horizon: int,
    origin: int | None = None,
    bounds: Bounds | None = None,
) -> ErrorModel:
    """The ErrorModel at `origin` (default: the last row) from an error_matrix and the point
    forecasts' levels (on the error scale) at every origin.

    Only errors whose target week is on or before the origin are read, so a model's intervals
    never use what happened after it. `bounds` may stand in for `issued_bounds` on these errors
    (a memo: models/past_paths.py builds error models at many past origins).
    """
    T = errors.shape[0] - 1 if origin is None else origin
    horizon = min(horizon, errors.shape[1])
    hs = np.arange(1, horizon + 1)
    pools = np.sort(_pools(errors, levels, np.full(horizon, T), hs), axis=1)
    if bounds is None:

        def bounds(o: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return issued_bounds(errors, levels, o, h)

    low, high = _recalibration(errors, T, horizon, bounds)
    first = max(0, T - horizon - TRAJECTORY_WEEKS + 1)
    rows = errors[first : max(first, T - horizon + 1), :horizon]
    rows = rows[np.isfinite(rows).all(axis=1)]
    return ErrorModel(pools, low, high, rows - np.median(rows, axis=0) if len(rows) else rows)


def _pools(
    errors: np.ndarray, levels: np.ndarray, origins: np.ndarray, horizons: np.ndarray | int
) -> np.ndarray:
    """(pairs, NEAREST) centred errors as issued at each (origin, horizon) pair (NaN: none).

    Each pool holds the errors of the last POOL_WEEKS origins at horizons within NEAR_HORIZONS
    whose targets the origin already knew, keeping the NEAREST whose forecast level was closest
    to its own forecast's. Why by level: a week forecast at 100 can end at 1,000 after one calm
    day, a week forecast at 2,000 cannot end at 20,000; pooling them lends low weeks' upside to
    high weeks, and high weeks' narrowness to low ones. Chosen on validation: by level and
    nearby horizons, 81% coverage and year-end hits 6 of 9; one horizon, all levels, 84% and 5.
    """
    n, most = errors.shape
    h = np.broadcast_to(np.asarray(horizons), origins.shape)
    # windows[r, c] = the POOL_WEEKS values of column c in rows r - POOL_WEEKS + 1 .. r (views);
    # an unknown error's level is infinitely far, so it is never among the nearest
    unknown, far = np.full((POOL_WEEKS - 1, most), np.nan), np.full((POOL_WEEKS - 1, most), np.inf)
    known = np.where(np.isfinite(errors), levels, np.inf)
    error_windows = sliding_window_view(np.vstack([unknown, errors]), POOL_WEEKS, axis=0)
    level_windows = sliding_window_view(np.vstack([far, known]), POOL_WEEKS, axis=0)
    shifts = range(-NEAR_HORIZONS, NEAR_HORIZONS + 1)
    e = np.full((len(origins), len(shifts) * POOL_WEEKS), np.nan)
    distance = np.full(e.shape, np.inf)
    own = levels[origins, h - 1]
    for i, shift in enumerate(shifts):
        near = h + shift
        ok = np.flatnonzero((near >= 1) & (near <= most) & (origins - near >= 0))
        r, c = origins[ok] - near[ok], near[ok] - 1
        columns = slice(i * POOL_WEEKS, (i + 1) * POOL_WEEKS)
        e[ok, columns] = error_windows[r, c]
        distance[ok, columns] = np.abs(level_windows[r, c] - own[ok, None])
    if e.shape[1] > NEAREST:
        keep = np.argpartition(distance, NEAREST - 1, axis=1)[:, :NEAREST]
        e = np.take_along_axis(e, keep, axis=1)
    e[~np.isfinite(own)] = np.nan  # a pair never forecast has no level to be near: no pool
    enough = np.isfinite(e).sum(axis=1) >= MIN_ERRORS
    centred = e - _row_quantiles(e, (0.5,))[0][:, None]
    return np.where(enough[:, None], centred, np.nan)


def _row_quantiles(a: np.ndarray, qs: tuple[float, ...]) -> list[np.ndarray]:
    """Linear-interpolated quantiles of each row's finite values (NaN for an empty row): what
    np.nanquantile gives, without its per-row Python loop."""
    ordered = np.sort(a, axis=1)  # NaN sort last
    n = np.isfinite(a).sum(axis=1)
    rows = np.arange(len(a))
    out = []
    for q in qs:
        pos = q * np.maximum(n - 1, 0)
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, np.maximum(n - 1, 0))
        frac = pos - lo
        value = ordered[rows, lo] * (1 - frac) + ordered[rows, hi] * frac
        out.append(np.where(n > 0, value, np.nan))
    return out


def issued_bounds(
    errors: np.ndarray, levels: np.ndarray, origins: np.ndarray, horizons: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The 10% and 90% error bounds (centred) issued at each (origin, horizon) pair: what the
    recalibration scores. Each depends only on the weeks up to its origin."""
    lo, hi = _row_quantiles(_pools(errors, levels, origins, horizons), (TAIL, 1 - TAIL))
    return lo, hi


def recalibration_pairs(T: int, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """The (origin, horizon) pairs whose outcomes rescale the width at origin T: the last
    RECAL_WEEKS origins' horizons up to RECAL_HORIZON whose targets T knows."""
    origins = np.arange(max(0, T - RECAL_WEEKS - RECAL_HORIZON), T)
    o, h = (a.ravel() for a in np.meshgrid(origins, np.arange(1, RECAL_HORIZON + 1)))
    keep = (o + h <= T) & (h <= columns)
    return o[keep], h[keep]


def _recalibration(
    errors: np.ndarray, T: int, horizon: int, bounds: Bounds
) -> tuple[np.ndarray, np.ndarray]:
    """Width factors (below, above) per horizon that would have given 80% coverage at recent
    origins, each band of RECAL_BANDS from its own horizons' outcomes (horizons past the last
    band take its factors): the far weeks of a year that turned miss where the near ones do
    not, and one factor for all horizons let the near weeks' good record hide that."""
    o, h = recalibration_pairs(T, errors.shape[1])
    e = errors[o, h - 1]
    lo, hi = bounds(o, h)  # issued at o
    ok = np.isfinite(e) & np.isfinite(lo) & np.isfinite(hi)
    e, lo, hi, h = e[ok], lo[ok], hi[ok], h[ok]
    low, high = np.ones(horizon), np.ones(horizon)
    for first, last in RECAL_BANDS:
        band = (h >= first) & (h <= last)
        if band.sum() < 30:
            continue
        eb, lb, hb = e[band], lo[band], hi[band]
        below = -eb[eb < 0] / np.maximum(-lb[eb < 0], MIN_HALF_WIDTH)
        above = eb[eb >= 0] / np.maximum(hb[eb >= 0], MIN_HALF_WIDTH)
        cols = slice(first - 1, last if last < RECAL_HORIZON else None)
        low[cols], high[cols] = _tail_factor(below, len(eb)), _tail_factor(above, len(eb))
    return low, high


@dataclass(frozen=True)
class PartWeekModel:
    """The unobserved days of a part-observed week: often none at all, else spread like the
    point forecast's past errors for the same days of a week."""

    p_zero: float  # share of past weeks whose same days had no crossings
    errors: np.ndarray  # sorted error-scale errors of the weeks that had some

    def quantile(self, point: float, share: float, p: np.ndarray) -> np.ndarray:
        """Totals of the unobserved days at probabilities p, given the point forecast's share."""
        p = np.asarray(p, dtype="float64")
        above = np.clip((p - self.p_zero) / max(1.0 - self.p_zero, 1e-9), 0.0, 1.0)
        if len(self.errors) < MIN_ERRORS:
            e = FALLBACK_SD * _normal_ppf(above)
        else:
            e = np.quantile(self.errors, above)
        values = from_error_scale(to_error_scale(point, share) + e, share)
        return np.where(p < self.p_zero, 0.0, values)


def part_week_model(
    remaining_actual: np.ndarray, remaining_point: np.ndarray, share: float, point_now: float
) -> PartWeekModel:
    """From the last POOL_WEEKS weeks: how often the same days held no crossings, and the errors
    of the point forecast's share of the week when they held some.

    A point mass at zero, not a log-scale error: a few days' crossings are zero in about half
    of past weeks (48% of the validation weeks for Friday-Sunday), at any level, and a log error
    cannot reach zero from a high forecast (on validation, 52-58% of part weeks were covered
    that way).
    """
    ok = np.isfinite(remaining_actual) & np.isfinite(remaining_point)
    actual = remaining_actual[ok][-PART_WEEK_POOL:]
    point = remaining_point[ok][-PART_WEEK_POOL:]
    if len(actual) == 0:
        return PartWeekModel(0.0, np.zeros(0))
    if PART_WEEK_NEAREST and len(actual) > PART_WEEK_NEAREST:  # weeks forecast at a like level
        distance = np.abs(to_error_scale(point, share) - to_error_scale(point_now, share))
        keep = np.argsort(distance, kind="stable")[:PART_WEEK_NEAREST]
        actual, point = actual[keep], point[keep]
    zero = actual <= 0
    e = to_error_scale(actual[~zero], share) - to_error_scale(point[~zero], share)
    return PartWeekModel(float(zero.mean()), np.sort(e))
