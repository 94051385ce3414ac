"""Weekly models of Channel small-boat crossings, each returning simulated sample paths.

Every model works on Monday-Sunday weekly totals (labelled by the Sunday, `week_ending`) of the
complete weeks known at the forecast origin, on the scale log(y + 100): the series has many zero
weeks, bursts of 1,000+ and year-to-year level shifts; logs make level shifts multiplicative, the
offset stops near-zero winter weeks from dominating, and the inverse is floored at 0 so no path
is ever negative.

Uncertainty comes from a block bootstrap of *out-of-sample* errors: the cheap models are re-run
at every weekly origin in the last three years of the history (never reading past that origin),
and each sampled path adds the whole error trajectory (horizons 1..H) of one such origin to the
point forecast. Sampling trajectories, not single errors, keeps the correlation between
horizons, so sums over the rest of the year get honest spread. Errors are centred on their
median per horizon (past bias is not carried into the future). Prophet and the statsmodels
models are too costly to re-fit at hundreds of inner origins, so they borrow the profile model's
error trajectories (their point forecast is their own).

Three years of overlapping trajectories contain one or two year-level surprises at most, so the
year-end spread is then calibrated separately: the cheap model is re-run at the same point of
every earlier year (data known then), and the paths are widened until the spread of their
remaining-year totals matches the robust spread (median absolute deviation across years) of those
inner year-end errors (`year_end_errors`, `year_end_spread`).

The ensemble blends two families on the model scale: the cheap candidates (seasonal naive and
seasonal-profile variants, run as one causal numpy pass) mixed with weights ~ 1/MAE from that
inner rolling-origin backtest, scored only on weeks already known at the origin; and the
statsmodels damped Holt-Winters fitted by maximum likelihood at the origin (`ets_damped`). The
blend's share was chosen on weekly origins of Jul 2019 - Dec 2021, before the 2022-2025
evaluation. Its paths use the cheap ensemble's own error trajectories. See
`benchmarks/model_scores.md` for the measured figures.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

__all__ = [
    "CANDIDATES",
    "Candidate",
    "MODEL_NAMES",
    "OFFSET",
    "from_model_scale",
    "inner_backtest",
    "to_model_scale",
    "DEFAULT_MODELS",
    "WeeklyHistory",
    "weekly_history",
    "simulate_models",
    "SEASON",
    "year_end_errors",
    "year_end_spread",
]

SEASON = 52
MODEL_NAMES: tuple[str, ...] = (
    "seasonal_naive",
    "profile",
    "prophet",
    "nb_glm",
    "ensemble",
    "ets_damped",
)
DEFAULT_MODELS: tuple[str, ...] = MODEL_NAMES

# Inner backtest (ensemble weights) and error pool settings. How each was chosen (see also
# benchmarks/model_scores.md, "How the change was chosen"):
# - OFFSET and WEIGHT_POWER: selected on weekly origins of Jul 2019 - Dec 2021 (before the
#   2022-2025 evaluation) from {30, 100, 300, 1000} x {1, 2, 4}; 100 and 300 tie there.
# - The error pool is used as measured, centred on its median per horizon (a priori: past bias
#   is not carried forward, and no widening factor is applied).
# - INNER_WEEKS, POOL_WEEKS, MIN_HISTORY: kept from the first version (3 years of weekly origins);
#   their values were not varied.
INNER_WEEKS = 156  # inner origins used to weight ensemble candidates (3 years)
INNER_HORIZON = 13  # horizons scored in the inner backtest
POOL_WEEKS = 156  # origins whose error trajectories are bootstrapped
WEIGHT_POWER = 1.0  # ensemble weight ~ MAE ** -WEIGHT_POWER
MIN_HISTORY = SEASON + 8  # weeks needed before a cheap model can run at an inner origin
OFFSET = 100.0  # models work on log(y + OFFSET): tames zero weeks without letting them dominate


def to_model_scale(y: np.ndarray) -> np.ndarray:
    """Weekly totals to the scale the models work on."""
    return np.log(np.asarray(y, dtype="float64") + OFFSET)


def from_model_scale(x: np.ndarray) -> np.ndarray:
    """Back to weekly totals, never negative."""
    return np.maximum(np.exp(x) - OFFSET, 0.0)


@dataclass(frozen=True)
class WeeklyHistory:
    """Complete Monday-Sunday weekly totals known at the origin, oldest first."""

    week_ending: np.ndarray  # datetime64[D], Sundays, contiguous
    y: np.ndarray  # float64 totals

    @property
    def last_week_ending(self) -> date:
        return pd.Timestamp(self.week_ending[-1]).date()


def weekly_history(daily: pd.DataFrame, through: date) -> WeeklyHistory:
    """Weekly totals of the complete weeks whose Sunday is on or before `through`.

    Rows after `through` are dropped first, so nothing known later can leak in.
    """
    days = _day_numbers(daily["date"])
    values = daily["migrants_arrived"].to_numpy(dtype="float64")
    keep = days <= _day_number(through)
    days, values = days[keep], values[keep]
    if len(days) == 0:
        raise ValueError("no daily rows on or before the origin")
    # 1970-01-05 (day 4) was a Monday: week index = (day - 4) // 7, Sunday = Monday + 6.
    week = (days - 4) // 7
    first_week = (days.min() - 4 + 6) // 7  # first week starting on or after the first day
    last_week = (_day_number(through) - 4 - 6) // 7  # last week ending on or before `through`
    if last_week < first_week:
        return WeeklyHistory(np.array([], dtype="datetime64[D]"), np.array([], dtype="float64"))
    keep = (week >= first_week) & (week <= last_week)
    totals = np.bincount(
        week[keep] - first_week, weights=values[keep], minlength=last_week - first_week + 1
    )
    sundays = (np.arange(first_week, last_week + 1) * 7 + 4 + 6).astype("datetime64[D]")
    return WeeklyHistory(week_ending=sundays, y=totals.astype("float64"))


def _day_number(d: date) -> int:
    return (d - date(1970, 1, 1)).days


def _day_numbers(values: object) -> np.ndarray:
    """Dates (date objects, strings or datetimes) as integer days since 1970-01-01."""
    arr = pd.to_datetime(pd.Series(values)).to_numpy().astype("datetime64[D]")
    return arr.astype("int64")


# ---------------------------------------------------------------------------------------------
# Cheap point forecasters on x = to_model_scale(y); `x` holds the history up to the origin only.


@dataclass(frozen=True)
class Candidate:
    """One cheap point forecaster: seasonal naive (years=0) or a seasonal profile."""

    name: str
    years: int = 0  # seasonal years averaged in the profile (0 = seasonal naive)
    window: int = 13  # recent weeks whose level is compared with the same weeks in past years
    shrink: float = 1.0  # fraction of the level shift carried forward
    half: int = 2  # half-width of the smoothing window on the seasonal profile
    by_sum: bool = False  # level shift from ratios of weekly sums (True) or means of logs
    decay: float = 1.0  # per-week decay of the carried level shift with the horizon


SNAIVE = Candidate("seasonal_naive")
PROFILE = Candidate("profile", years=3, window=26, shrink=0.6, half=5, by_sum=True, decay=0.98)
# The ensemble's menu: profile variants differing in years averaged, level window, how much of the
# level shift is carried, and how smooth the seasonal shape is. Inner backtests pick among them.
CANDIDATES: tuple[Candidate, ...] = (
    SNAIVE,
    PROFILE,
    *(
        Candidate(
            f"profile_{y}y_w{w}_s{int(s * 10)}_h{h}",
            years=y,
            window=w,
            shrink=s,
            half=h,
            by_sum=True,
            decay=0.98,
        )
        for y in (2, 3, 4)
        for w in (13, 26)
        for s in (0.4, 0.8)
        for h in (3, 6)
    ),
)


def _point(x: np.ndarray, horizon: int, c: Candidate) -> np.ndarray:
    """Point forecast (model scale) for horizons 1..horizon from history x (origin = x[-1])."""
    return _origin_matrix(x, np.array([len(x) - 1]), horizon, c)[0]


def _origin_matrix(x: np.ndarray, origins: np.ndarray, horizon: int, c: Candidate) -> np.ndarray:
    """Forecasts from each origin index o (using x[:o+1] only) for horizons 1..horizon.

    Vectorised equivalent of calling `_point` on each truncated history; every index read is
    clipped to be <= its origin, so no origin can see a later week.
    """
    if len(origins) == 0:
        return np.zeros((0, horizon))
    o = origins[:, None].astype(int)
    n = o + 1
    h = np.arange(1, horizon + 1)[None, :]
    if c.years == 0:
        lag = SEASON * np.ceil(h / SEASON).astype(int)
        return x[np.clip(o + h - lag, 0, o)]
    cs = np.concatenate(([0.0], np.cumsum(x)))
    ls = np.concatenate(([0.0], np.cumsum(np.exp(x)))) if c.by_sum else cs
    w = np.minimum(c.window, n)
    recent = (ls[n] - ls[n - w]) / w
    if c.by_sum:
        recent = np.log(recent)
    gain = c.shrink * c.decay ** (h - 1)
    total = np.zeros((len(origins), horizon))
    count = np.zeros((len(origins), horizon))
    kmin = np.ceil(h / SEASON).astype(int)
    kmax = c.years + int(np.ceil(horizon / SEASON))
    pasts = {}
    for k in range(1, kmax + 1):
        lo_w = n - w - SEASON * k
        past = (ls[np.maximum(n - SEASON * k, 0)] - ls[np.maximum(lo_w, 0)]) / w
        if c.by_sum:
            past = np.log(np.maximum(past, 1e-9))
        pasts[k] = (past, lo_w >= 0)
    for k in range(1, kmax + 1):
        past, ok = pasts[k]
        t = o + h - SEASON * k
        use = (k >= kmin) & (k < kmin + c.years) & ok & (t - c.half >= 0)
        lo = np.clip(t - c.half, 0, o)
        hi = np.clip(t + c.half, 0, o)
        smooth = (cs[hi + 1] - cs[lo]) / (hi - lo + 1)
        total += np.where(use, smooth + gain * (recent - past), 0.0)
        count += use
    if (count == 0).any():
        snaive = _origin_matrix(x, origins, horizon, SNAIVE)
        return np.where(count > 0, total / np.maximum(count, 1), snaive)
    return total / count


def _errors(x: np.ndarray, origins: np.ndarray, fc: np.ndarray) -> np.ndarray:
    """Log errors actual - forecast, NaN where the target week is not yet known."""
    horizon = fc.shape[1]
    idx = origins[:, None] + np.arange(1, horizon + 1)[None, :]
    known = idx < len(x)
    actual = np.where(known, x[np.minimum(idx, len(x) - 1)], np.nan)
    return actual - fc


@dataclass
class InnerBacktest:
    """Cheap candidates' out-of-sample errors at weekly origins inside the history."""

    origins: np.ndarray
    errors: dict[str, np.ndarray]  # candidate name -> (n_origins, horizon) log errors (NaN unknown)
    forecasts: dict[str, np.ndarray]
    weights: dict[str, float] = field(default_factory=dict)
    extra_origins: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    extra: dict[str, np.ndarray] = field(default_factory=dict)  # forecasts at extra_origins


def inner_backtest(x: np.ndarray, horizon: int, extra_origins: Sequence[int] = ()) -> InnerBacktest:
    """Run every cheap candidate at each weekly origin of the recent history (data <= origin).

    `extra_origins` (indices into x) are forecast in the same vectorised pass, so callers that
    also need the current origin or year-end inner origins do not re-run every candidate; their
    forecasts go to `extra` (not into the errors or weights).
    """
    n = len(x)
    first = max(MIN_HISTORY, n - 1 - max(INNER_WEEKS, POOL_WEEKS) - horizon)
    origins = np.arange(first, n - 1)
    extra = np.asarray(extra_origins, dtype=int)
    both = np.concatenate((origins, extra))
    forecasts: dict[str, np.ndarray] = {}
    errors: dict[str, np.ndarray] = {}
    extras: dict[str, np.ndarray] = {}
    for c in CANDIDATES:
        fc = _origin_matrix(x, both, horizon, c) if len(both) else np.zeros((0, horizon))
        forecasts[c.name] = fc[: len(origins)]
        extras[c.name] = fc[len(origins) :]
        errors[c.name] = _errors(x, origins, forecasts[c.name])
    inner = InnerBacktest(origins=origins, errors=errors, forecasts=forecasts)
    inner.weights = _ensemble_weights(x, inner)
    # Ensemble forecasts at the same inner origins, with today's weights.
    for target, source in ((forecasts, forecasts), (extras, extras)):
        ens = sum(w * source[name] for name, w in inner.weights.items())
        rows = len(origins) if target is forecasts else len(extra)
        target["ensemble"] = np.asarray(ens) if rows else np.zeros((0, horizon))
    errors["ensemble"] = _errors(x, origins, forecasts["ensemble"])
    inner.extra_origins = extra
    inner.extra = extras
    return inner


def _ensemble_weights(x: np.ndarray, inner: InnerBacktest) -> dict[str, float]:
    """Inverse-MAE weights (raw scale) over inner origins whose targets are already known."""
    n = len(x)
    recent = inner.origins >= n - 1 - INNER_WEEKS
    maes = {}
    for c in CANDIDATES:
        fc = inner.forecasts[c.name][recent, :INNER_HORIZON]
        err = inner.errors[c.name][recent, :INNER_HORIZON]
        actual = fc + err
        ok = ~np.isnan(actual)
        if ok.sum() < 26:
            continue
        diff = from_model_scale(actual[ok]) - from_model_scale(fc[ok])
        maes[c.name] = float(np.mean(np.abs(diff)))
    if not maes:
        return {PROFILE.name: 1.0}
    raw = {k: max(v, 1e-9) ** -WEIGHT_POWER for k, v in maes.items()}
    total = sum(raw.values())
    return {k: v / total for k, v in raw.items()}


def _error_pool(inner: InnerBacktest, name: str, horizon: int) -> np.ndarray:
    """Whole error trajectories (horizons 1..horizon) of the most recent complete origins."""
    err = inner.errors[name][:, :horizon]
    complete = ~np.isnan(err).any(axis=1)
    pool = err[complete][-POOL_WEEKS:]
    if len(pool) < 20:  # too little history for an empirical pool: wide normal errors instead
        return np.zeros((0, horizon))
    return pool - np.median(pool, axis=0)[None, :]


def _paths_from_pool(
    point: np.ndarray,
    pool: np.ndarray,
    pick: np.ndarray,
    rng: np.random.Generator,
    cap: float = np.inf,
) -> np.ndarray:
    """Point forecast plus sampled error trajectories, back on the count scale (>= 0).

    `cap` (model scale) guards against a runaway trend extrapolation on a short history.
    """
    point = np.minimum(point, cap)
    if len(pool) == 0:
        noise = rng.normal(0.0, 1.0, size=(len(pick), len(point)))
        logs = point[None, :] + noise
    else:
        logs = point[None, :] + pool[pick % len(pool)]
    return from_model_scale(np.minimum(logs, cap))


# ---------------------------------------------------------------------------------------------
# Costly models: one fit per origin, point forecast on the model scale, profile errors.


def _quiet_prophet() -> None:
    """Silence cmdstanpy/prophet chatter (cmdstanpy installs its own INFO handler on first use)."""
    try:
        from cmdstanpy.utils import get_logger

        stan = get_logger()
    except ImportError:  # pragma: no cover - prophet always brings cmdstanpy
        stan = logging.getLogger("cmdstanpy")
    stan.setLevel(logging.ERROR)
    for handler in stan.handlers:
        handler.setLevel(logging.ERROR)
    for name in ("prophet", "prophet.plot"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _prophet_point(hist: WeeklyHistory, horizon: int) -> np.ndarray:
    """Prophet (MAP fit, yearly seasonality, no sampling) on the model scale: point forecast."""
    if len(hist.y) < 8:  # Prophet needs a few points; this only happens in early 2018
        return _point(to_model_scale(hist.y), horizon, PROFILE)
    from prophet import Prophet

    _quiet_prophet()

    df = pd.DataFrame({"ds": pd.to_datetime(hist.week_ending), "y": to_model_scale(hist.y)})
    model = Prophet(
        yearly_seasonality=True,
        weekly_seasonality=False,
        daily_seasonality=False,
        uncertainty_samples=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(df)
        steps = pd.to_timedelta(7 * np.arange(1, horizon + 1), "D")
        future = pd.DataFrame({"ds": pd.to_datetime(hist.week_ending[-1]) + steps})
        return model.predict(future)["yhat"].to_numpy(dtype="float64")


GLM_YEARS = 4
GLM_FOURIER = 3


def _glm_point(hist: WeeklyHistory, horizon: int) -> np.ndarray:
    """Negative-binomial GLM: Fourier yearly terms + one level per 52-week block back from origin.

    The forecast uses the most recent block's level, i.e. this year's seasonal shape at the
    current level. Returns the fitted mean on the model scale, like the other models.
    """
    import statsmodels.api as sm

    n = min(len(hist.y), GLM_YEARS * SEASON)
    y = hist.y[-n:]
    days = hist.week_ending[-n:].astype("datetime64[D]").astype("int64")
    fut_days = days[-1] + 7 * np.arange(1, horizon + 1)
    block = (n - 1 - np.arange(n)) // SEASON

    def fourier(d: np.ndarray) -> np.ndarray:
        ang = 2 * np.pi * (d.astype("float64") / 365.25)
        cols = []
        for k in range(1, GLM_FOURIER + 1):
            cols += [np.sin(k * ang), np.cos(k * ang)]
        return np.column_stack(cols)

    nblocks = int(block.max()) + 1
    levels = np.zeros((n, nblocks))
    levels[np.arange(n), block] = 1.0
    design = np.column_stack([levels, fourier(days)])
    fut = np.column_stack([np.tile(np.eye(nblocks)[0], (horizon, 1)), fourier(fut_days)])
    if n < 13 or y.sum() == 0:  # nothing to fit yet (only early 2018): use the profile
        return _point(to_model_scale(hist.y), horizon, PROFILE)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            fit = sm.GLM(y, design, family=sm.families.NegativeBinomial(alpha=1.0)).fit()
            mu = np.asarray(fit.predict(fut), dtype="float64")
        except (ValueError, np.linalg.LinAlgError):
            mu = np.full(horizon, np.nan)
    if not np.isfinite(mu).all():  # degenerate fit on a tiny history: use the profile instead
        return _point(to_model_scale(hist.y), horizon, PROFILE)
    return to_model_scale(np.minimum(mu, 1e6))


ETS_YEARS = 5
# The ensemble's point forecast is (1 - share) x the cheap inner-weighted mix + share x ets_damped
# on the model scale. Chosen as the minimum of the weekly MAE on the validation origins (every 4th
# Sunday, Jul 2019 - Dec 2021) over {0, 1/3, 1/2, 2/3, 0.8, 1}: 0.986, 0.953, 0.941, 0.934,
# 0.9335, 0.947 x seasonal naive (a tie between 2/3 and 0.8). See benchmarks/model_scores.md.
ENSEMBLE_ETS_SHARE = 0.8


def _ets_point(hist: WeeklyHistory, horizon: int) -> np.ndarray:
    """Damped additive Holt-Winters (52-week season) on the model scale, last 5 years.

    Maximum likelihood with estimated initial states; the optimiser starts from statsmodels'
    defaults rather than its brute-force grid (`use_brute=False`): about half the time. Fitting
    by least squares instead was a third of the time again, but scored worse on the validation
    origins (0.965 x seasonal naive against 0.934 for the ensemble), so it is not used.
    """
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    x = to_model_scale(hist.y)[-ETS_YEARS * SEASON :]
    if len(x) < 2 * SEASON + 4:  # too short for a seasonal fit: fall back to the profile
        return _point(to_model_scale(hist.y), horizon, PROFILE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = ExponentialSmoothing(
            x,
            trend="add",
            damped_trend=True,
            seasonal="add",
            seasonal_periods=SEASON,
            initialization_method="estimated",
        ).fit(use_brute=False)
    return np.asarray(fit.forecast(horizon), dtype="float64")


# ---------------------------------------------------------------------------------------------


def simulate_models(
    hist: WeeklyHistory,
    horizon: int,
    n_paths: int,
    seed: int,
    models: Sequence[str] | None = None,
    *,
    year: int | None = None,
    year_weights: np.ndarray | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Sample paths (n_paths x horizon weekly totals after the last complete week) per model.

    Returns the paths per model and the ensemble weights used. Deterministic for a given seed.
    With `year` and `year_weights` (share of each model week's days still to come inside `year`)
    each model's paths are widened so that their year-end spread matches the model's own
    inner year-end errors (`year_end_errors`, `year_end_spread`).
    """
    names = list(models) if models is not None else list(DEFAULT_MODELS)
    unknown = sorted(set(names) - set(MODEL_NAMES))
    if unknown:
        raise ValueError(f"unknown model(s) {unknown}; known: {list(MODEL_NAMES)}")
    if n_paths < 1 or horizon < 1:
        raise ValueError("n_paths and horizon must be positive")
    if len(hist.y) == 0:
        raise ValueError("need at least one complete Monday-Sunday week of data to forecast")
    x = to_model_scale(hist.y)
    calibrate = year is not None and year_weights is not None and CALIBRATE_YEAR_END
    cases = _year_end_cases(len(x)) if calibrate else []
    inner = inner_backtest(x, horizon, [o for _, o in cases] + [len(x) - 1])
    now = {name: fc[-1] for name, fc in inner.extra.items()}  # forecasts from the origin itself
    at_cases = {name: fc[:-1] for name, fc in inner.extra.items()}
    rng = np.random.default_rng(seed)
    out: dict[str, np.ndarray] = {}
    ref_pool = _error_pool(inner, PROFILE.name, horizon)
    pick = rng.integers(0, 1 << 30, size=n_paths)
    # No week may exceed 10x the largest week seen so far (at least 5,000): a sanity bound.
    cap = float(to_model_scale(np.array([max(10.0 * hist.y.max(), 5000.0)]))[0])
    spreads: dict[str, float | None] = {}  # one calibration per cheap model whose errors are used
    # The statsmodels fit is shared by ets_damped and the ensemble: fitted once, only if wanted.
    wants_ets = "ets_damped" in names or ("ensemble" in names and ENSEMBLE_ETS_SHARE > 0)
    ets = _ets_point(hist, horizon) if wants_ets else None
    for name in names:
        if name == "seasonal_naive":
            point = now[SNAIVE.name]
            pool = _error_pool(inner, SNAIVE.name, horizon)
        elif name == "profile":
            point = now[PROFILE.name]
            pool = ref_pool
        elif name == "ensemble":
            point = now["ensemble"]
            if ets is not None:
                point = (1 - ENSEMBLE_ETS_SHARE) * point + ENSEMBLE_ETS_SHARE * ets
            pool = _error_pool(inner, "ensemble", horizon)
        elif name == "prophet":
            point = _prophet_point(hist, horizon)
            pool = ref_pool
        elif name == "nb_glm":
            point = _glm_point(hist, horizon)
            pool = ref_pool
        else:  # ets_damped
            assert ets is not None
            point = ets
            pool = ref_pool
        out[name] = _paths_from_pool(np.asarray(point), pool, pick, rng, cap)
        if calibrate:
            own = name if name in ("seasonal_naive", "ensemble") else PROFILE.name
            if own not in spreads:
                errs = year_end_errors(hist, x, own, int(year), cases, at_cases[own])
                spreads[own] = year_end_spread(errs)
            out[name] = _widen_year_end(out[name], np.asarray(year_weights), spreads[own])
    return out, dict(inner.weights)


# ---------------------------------------------------------------------------------------------
# Year-end calibration: the weekly error pool spans only ~3 years of overlapping trajectories, so
# it sees one or two year-level surprises at most. Re-running the cheap model at the same point of
# each earlier year (data known then, actual remaining-year total known now) measures how wrong
# remaining-year totals have really been, and the paths are widened to match (never narrowed).

CALIBRATE_YEAR_END = True
YE_NEIGHBOURS = 2  # inner origins at the same week of each earlier year +- this many weeks
YE_MIN_YEARS = 2  # fewer earlier years than this: no calibration (too little evidence)


def _year_share(sunday: np.datetime64, horizon: int, year: int) -> np.ndarray:
    """Share of each of the `horizon` weeks after `sunday` whose days fall inside `year`."""
    start = np.datetime64(f"{year}-01-01", "D").astype("int64")
    end = np.datetime64(f"{year}-12-31", "D").astype("int64")
    s = np.datetime64(sunday, "D").astype("int64")
    days = s + 7 * np.arange(horizon)[:, None] + np.arange(1, 8)[None, :]
    return ((days >= start) & (days <= end)).sum(axis=1) / 7.0


def _log_total(total: np.ndarray | float, weeks: float) -> np.ndarray:
    """Remaining-year totals on the models' log(y + OFFSET) scale, OFFSET per remaining week."""
    return np.log(np.maximum(np.asarray(total, dtype="float64"), 0.0) + OFFSET * weeks)


def _year_end_cases(n: int) -> list[tuple[int, int]]:
    """(years back k, inner origin index) at the same week of each earlier year, +- neighbours.

    The week `round(k * 365.2425 / 7)` weeks before the origin, for k = 1, 2, ... while the
    cheap models have MIN_HISTORY weeks to run on.
    """
    cases: list[tuple[int, int]] = []
    k = 1
    while True:
        centre = n - 1 - int(round(k * 365.2425 / 7))
        if centre - YE_NEIGHBOURS < MIN_HISTORY - 1:
            return cases
        cases += [(k, o) for o in range(centre - YE_NEIGHBOURS, centre + YE_NEIGHBOURS + 1)]
        k += 1


def year_end_errors(
    hist: WeeklyHistory,
    x: np.ndarray,
    name: str,
    year: int,
    cases: Sequence[tuple[int, int]],
    forecasts: np.ndarray,
) -> dict[int, np.ndarray]:
    """Log errors (actual / forecast) of remaining-year totals at the same point of earlier years.

    `forecasts[i]` is the cheap model's forecast (model scale) from inner origin `cases[i]`,
    made from x[:origin + 1] only; only years whose remaining weeks are all inside the history
    are scored, so nothing after the current origin is read. Returns {year: errors}.
    """
    n = len(x)
    counts = from_model_scale(np.asarray(forecasts))
    horizon = counts.shape[1] if counts.ndim == 2 else 0
    errs: dict[int, list[float]] = {}
    for row, (k, o) in enumerate(cases):
        share = _year_share(hist.week_ending[o], horizon, year - k)
        used = np.nonzero(share > 0)[0]
        if len(used) == 0 or o + used[-1] + 1 >= n:
            continue  # that year's remaining weeks are not all known yet
        actual = float((share[used] * hist.y[o + 1 + used]).sum())
        point = float((share * counts[row]).sum())
        weeks = float(share.sum())
        errs.setdefault(year - k, []).append(
            float(_log_total(actual, weeks) - _log_total(point, weeks))
        )
    return {yr: np.array(e) for yr, e in errs.items()}


def year_end_spread(errors: dict[int, np.ndarray]) -> float | None:
    """Robust spread of the inner year-end log errors (each earlier year counted once), or None.

    Each earlier year contributes its mean log error; the spread is 1.4826 x the median absolute
    deviation of those yearly errors from their median (a normal-consistent standard deviation).
    None when fewer than YE_MIN_YEARS earlier years can be scored: no calibration then.

    Why not the RMS about zero (the first version): the errors are measured against the point
    forecast's remaining-year sum, a sum of weekly log-scale (median-like) forecasts that sits
    below the paths' own median total; the shared offset of the yearly errors is therefore mostly
    a gap the paths already carry, and the widening keeps the paths' median, so only the
    dispersion of the errors should set the width. And the earlier years include 2019-2021, when
    crossings grew 3-5x from tiny bases: under the RMS one or two such years set the width of
    every later forecast; the median absolute deviation ignores them unless they are typical.
    """
    if len(errors) < YE_MIN_YEARS:
        return None
    per_year = np.array([np.mean(e) for e in errors.values()])
    return float(1.4826 * np.median(np.abs(per_year - np.median(per_year))))


def _widen_year_end(paths: np.ndarray, share: np.ndarray, spread: float | None) -> np.ndarray:
    """Scale each path so the spread of log remaining-year totals is at least `spread`.

    The 10-90% range of the paths' log totals is read as 2.563 standard deviations (normal
    approximation); if that is below the inner errors' spread, deviations from the median log total
    are stretched by the ratio, and each path is scaled by its own factor (weekly shape, path-wise
    sums and the median are kept).
    """
    weeks = float(share[: paths.shape[1]].sum())
    if spread is None or weeks <= 0:
        return paths
    totals = paths @ share[: paths.shape[1]]
    logs = _log_total(totals, weeks)
    q10, med, q90 = np.quantile(logs, [0.1, 0.5, 0.9])
    current = (q90 - q10) / 2.563
    if current <= 0 or spread <= current:
        return paths
    target = np.exp(med + (spread / current) * (logs - med)) - OFFSET * weeks
    factor = np.where(totals > 0, np.maximum(target, 0.0) / np.where(totals > 0, totals, 1.0), 1.0)
    return paths * factor[:, None]
