"""The ensemble's members and the seasonal naive baseline: cheap, causal, vectorised over origins.

Each function takes x (weekly totals on the model scale, oldest first), the origin indices o
(a forecast from o reads x[:o + 1] only) and a horizon H, and returns an (origins, H) array of
point forecasts on the model scale. Being cheap and vectorised lets every forecast re-run each
member at hundreds of past origins to measure its own out-of-sample errors (calibration.py), and
lets a backfill cost milliseconds per as-of date.

The members are structurally different on purpose, so that their median holds up when one of
them is wrong (a changed level, a changed seasonal shape, a trend):

- `profile`: a smoothed multi-year seasonal profile, moved to this year's level (the last six
  weeks against the same weeks of earlier years). The level's departure fades towards the
  multi-year norm at long horizons.
- `ets`: exponential smoothing of the level on the log scale, relative to last year's smoothed
  weekly shape: it re-estimates this year's level every week, with a fixed smoothing weight so
  that it cannot freeze (the maximum-likelihood Holt-Winters it replaces had fitted smoothing
  weights of exactly 0 from mid-2025 on).
- `trend_fourier`: a piecewise-linear trend plus smooth yearly Fourier terms, fitted by ridge
  regression on the last three years (the structure of Prophet, at a thousandth of the cost);
  its slope is damped when extrapolated.

Every setting below was chosen on the validation origins (every 4th Sunday, Jul 2019 - Dec 2021,
data as known then), taking the smoothest variant within 0.03 of the best weekly MAE there
(benchmarks/model_scores.md lists the variants tried).
"""

from __future__ import annotations

import warnings
from typing import cast

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from forecasting.models.scale import SEASON

__all__ = [
    "seasonal_naive",
    "profile",
    "ets",
    "trend_fourier",
    "smoothed_profile",
]

# Shape smoothing: a Gaussian kernel over +-HALF weeks (sd HALF / 2): no single past week's
# weather is carried forward. Box kernels of the same width left paths 3-6 times rougher.
HALF = 5
PROFILE_YEARS = 3  # earlier years averaged in `profile`'s shape ...
PROFILE_YEAR_WEIGHT = 0.5  # ... weighted 1, 0.5, 0.25 (the latest year counts most)
LEVEL_WEEKS = 6  # recent complete weeks that set `profile`'s level
LEVEL_DECAY = 0.99  # per week: how much of a level departure is still carried h weeks ahead
ETS_ALPHA = 0.2  # `ets`'s smoothing weight on each new week's level
ETS_NORM_YEARS = 1
TREND_YEARS = 3  # `trend_fourier` fits the last three years ...
TREND_ORDER = 3  # ... with three yearly Fourier pairs,
TREND_HINGE_WEEKS = 13  # a possible change of slope every 13 weeks (none in the last 8),
TREND_TAIL_WEEKS = 8
TREND_RIDGE = 100.0  # ridge penalty on the slope changes (a stiff trend),
SEASON_RIDGE = 0.1  # a light one on the Fourier terms,
TREND_DAMPING = 0.97  # and the last slope fades by 3% a week when extrapolated.
_WEEKS_PER_YEAR = 365.2425 / 7


def _horizons(origins: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(origins, dtype=int)[:, None], np.arange(1, horizon + 1)[None, :]


def seasonal_naive(x: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    """The same week a year earlier (52 weeks; 104 for horizons past a year)."""
    o, h = _horizons(origins, horizon)
    lag = SEASON * np.ceil(h / SEASON).astype(int)
    return cast(np.ndarray, x[np.clip(o + h - lag, 0, o)])


def _kernel_mean(x: np.ndarray, centre: np.ndarray, upto: np.ndarray, half: int) -> np.ndarray:
    """Gaussian-weighted mean of x around each index in `centre`, reading only x[:upto + 1]."""
    offsets = np.arange(-half, half + 1)
    weights = np.exp(-0.5 * (offsets / max(half / 2, 0.5)) ** 2)
    num = np.zeros(centre.shape)
    den = np.zeros(centre.shape)
    for offset, weight in zip(offsets, weights, strict=True):
        t = centre + offset
        ok = (t >= 0) & (t <= upto)
        num += np.where(ok, weight * x[np.clip(t, 0, len(x) - 1)], 0.0)
        den += np.where(ok, weight, 0.0)
    with np.errstate(invalid="ignore"):
        return num / np.where(den > 0, den, np.nan)


def smoothed_profile(
    x: np.ndarray,
    origins: np.ndarray,
    targets: np.ndarray,
    years: int,
    year_weight: float = 1.0,
    half: int = HALF,
) -> np.ndarray:
    """The smoothed value of the same week in earlier years, for each target week index.

    For a target t seen from origin o (arrays broadcast together), years k = k0 .. k0 + years - 1
    back are averaged, k0 being the first whole year back at or before the origin, each year's
    value the kernel mean around t - 52k over weeks known at o; year j (0 = latest) weighs
    `year_weight ** j`. NaN where no year has a full window of history.
    """
    upto = np.broadcast_to(origins, np.broadcast_shapes(origins.shape, targets.shape))
    ahead = np.maximum(targets - upto, 0)
    k0 = np.maximum(np.ceil(ahead / SEASON).astype(int), 1)
    total = np.zeros(upto.shape)
    weight = np.zeros(upto.shape)
    for j in range(years):
        past = targets - SEASON * (k0 + j)
        ok = past - half >= 0
        value = _kernel_mean(x, past, upto, half)
        total += np.where(ok, year_weight**j * value, 0.0)
        weight += np.where(ok, year_weight**j, 0.0)
    with np.errstate(invalid="ignore"):
        return total / np.where(weight > 0, weight, np.nan)


def _or_naive(fc: np.ndarray, x: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    """Where a member has too little history (the first year of data), the seasonal naive."""
    bad = ~np.isfinite(fc)
    return np.where(bad, seasonal_naive(x, origins, horizon), fc) if bad.any() else fc


def profile(x: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    """Multi-year smoothed profile, moved to this year's level, the move fading with horizon."""
    o, h = _horizons(origins, horizon)
    shape = smoothed_profile(x, o, o + h, PROFILE_YEARS, PROFILE_YEAR_WEIGHT)
    recent = o - np.arange(LEVEL_WEEKS)[None, :]
    base = smoothed_profile(x, o, recent, PROFILE_YEARS, PROFILE_YEAR_WEIGHT)
    departure = np.where(np.isfinite(base), x[np.clip(recent, 0, None)] - base, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN row: no level yet
        level = np.nanmean(departure, axis=1)[:, None]
    level = np.where(np.isfinite(level), level, 0.0)
    return _or_naive(shape + LEVEL_DECAY ** (h - 1) * level, x, origins, horizon)


def ets(x: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    """Exponentially smoothed level relative to last year's smoothed shape, fading with horizon."""
    weeks = np.arange(len(x))
    last_year = smoothed_profile(x, weeks, weeks, years=1)
    departure = pd.Series(x - last_year)
    # One causal pass gives the smoothed level at every origin: each value reads weeks <= it.
    level = departure.ewm(alpha=ETS_ALPHA, adjust=False, ignore_na=True).mean().to_numpy()
    o, h = _horizons(origins, horizon)
    shape = smoothed_profile(x, o, o + h, years=1)
    now = np.nan_to_num(level[np.asarray(origins, dtype=int)])[:, None]
    if ETS_NORM_YEARS > 1:  # fade towards the multi-year norm rather than last year's level
        norm = smoothed_profile(x, o, o + h, ETS_NORM_YEARS, PROFILE_YEAR_WEIGHT)
        gap = np.where(np.isfinite(norm), norm - shape, 0.0)
        return _or_naive(shape + gap + LEVEL_DECAY ** (h - 1) * (now - gap), x, origins, horizon)
    return _or_naive(shape + LEVEL_DECAY ** (h - 1) * now, x, origins, horizon)


def _fourier(weeks: np.ndarray) -> np.ndarray:
    """Yearly sine and cosine terms of absolute week indices (any shape, a last axis added)."""
    angle = 2 * np.pi * weeks[..., None] * np.arange(1, TREND_ORDER + 1) / _WEEKS_PER_YEAR
    return np.concatenate([np.sin(angle), np.cos(angle)], axis=-1)


def _trend_design(n: int) -> np.ndarray:
    """Intercept, slope and a hinge every TREND_HINGE_WEEKS (none in the last weeks)."""
    t = np.arange(n, dtype=float)
    hinges = np.arange(TREND_HINGE_WEEKS, n - TREND_TAIL_WEEKS, TREND_HINGE_WEEKS, dtype=float)
    return np.column_stack(
        [np.ones(n), t / SEASON, np.maximum(t[:, None] - hinges[None, :], 0.0) / SEASON]
    )


def _trend_fourier_fit(x: np.ndarray, origins: np.ndarray, n: int, horizon: int) -> np.ndarray:
    """The fits from origins with the same window length n, solved together (one batched
    solve: the trend columns are the same for all, the Fourier columns shift with the origin)."""
    trend = _trend_design(n)
    k = trend.shape[1]
    design = np.concatenate(
        [np.broadcast_to(trend, (len(origins), *trend.shape)),
         _fourier(np.arange(n)[None, :] + (origins + 1 - n)[:, None])],
        axis=2,
    )  # fmt: skip
    penalty = np.concatenate(
        [[0.0, 0.0], np.full(k - 2, TREND_RIDGE), np.full(2 * TREND_ORDER, SEASON_RIDGE)]
    )
    y = sliding_window_view(x, n)[origins + 1 - n]  # each origin's last n weeks
    across = design.transpose(0, 2, 1)
    coef = np.linalg.solve(across @ design + np.diag(penalty), across @ y[..., None])[..., 0]
    h = np.arange(1, horizon + 1)
    level = coef[:, :k] @ trend[-1]
    slope = coef[:, 1:k].sum(axis=1) / SEASON
    seasonal = np.einsum("ohj,oj->oh", _fourier(origins[:, None] + h[None, :]), coef[:, k:])
    return cast(
        np.ndarray,
        level[:, None] + slope[:, None] * np.cumsum(TREND_DAMPING**h)[None, :] + seasonal,
    )


def trend_fourier(x: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    """Ridge fit of a piecewise-linear trend and yearly Fourier terms on the last three years."""
    origins = np.asarray(origins, dtype=int)
    out = np.full((len(origins), horizon), np.nan)
    windows = np.minimum(origins + 1, TREND_YEARS * SEASON)
    for n in np.unique(windows):  # one window length for all but the first three years' origins
        if n < 2 * TREND_HINGE_WEEKS:
            continue
        pick = windows == n
        out[pick] = _trend_fourier_fit(x, origins[pick], int(n), horizon)
    return _or_naive(out, x, origins, horizon)
