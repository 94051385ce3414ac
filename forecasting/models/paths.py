"""Sample paths of weekly totals after the origin, for every model asked for.

A model's paths are its point forecast plus errors drawn from its own calibrated error model
(calibration.py), so the weekly quantiles, the part-observed first week, the cumulative total
and the year end all come from one set of coherent paths.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecasting.models.calibration import (
    POOL_WEEKS,
    RECAL_HORIZON,
    RECAL_WEEKS,
    TRAJECTORY_WEEKS,
    ErrorModel,
    error_matrix,
    error_model,
    part_week_model,
)
from forecasting.models.registry import ENSEMBLE_MEMBERS, PRODUCTION_MODEL, REGISTRY, check_models
from forecasting.models.scale import (
    WeeklyHistory,
    from_error_scale,
    from_model_scale,
    to_error_scale,
    to_model_scale,
)

__all__ = ["PartWeek", "ModelPaths", "simulate"]

# No simulated week may exceed 10x the largest week seen so far (at least 5,000): a sanity bound.
CAP_FACTOR = 10.0
CAP_FLOOR = 5000.0
QUANTILES = np.array([0.1, 0.5, 0.9])


@dataclass(frozen=True)
class PartWeek:
    """The first model week is part-observed: `share` of its days are still to come, and
    `past_remaining[w]` is what the same days of each complete history week w held."""

    share: float
    past_remaining: np.ndarray


@dataclass(frozen=True)
class ModelPaths:
    """One model's forecast after the origin (model weeks 1..H after the last complete week)."""

    name: str
    point: np.ndarray  # (H,) point forecast, weekly totals
    weekly: np.ndarray  # (n_paths, H) whole-week totals
    weekly_unwidened: np.ndarray  # the same draws before the recalibration of width
    quantiles: np.ndarray  # (H, 3) exact p10/p50/p90 of each whole week (no sampling noise)
    remaining: np.ndarray | None  # (n_paths,) the part-observed week's unobserved days
    remaining_quantiles: np.ndarray | None  # (3,) their exact p10/p50/p90
    calibration: str


def _backcast_origins(n: int, horizon: int) -> np.ndarray:
    """Origins whose forecasts the error model at the last origin reads (and a margin)."""
    need = max(POOL_WEEKS + RECAL_WEEKS + 2 * RECAL_HORIZON, TRAJECTORY_WEEKS + horizon) + 2
    return np.arange(max(0, n - need), n)


def _full(points: np.ndarray, origins: np.ndarray, n: int) -> np.ndarray:
    full = np.full((n, points.shape[1]), np.nan)
    full[origins] = points
    return full


def simulate(
    hist: WeeklyHistory,
    horizon: int,
    n_paths: int,
    seed: int,
    models: list[str] | None = None,
    part_week: PartWeek | None = None,
) -> dict[str, ModelPaths]:
    """Paths of every model asked for; deterministic for a given seed."""
    names = check_models(models)
    if n_paths < 1 or horizon < 1:
        raise ValueError("n_paths and horizon must be positive")
    if len(hist.y) == 0:
        raise ValueError("need at least one complete Monday-Sunday week of data to forecast")
    x = to_model_scale(hist.y)
    n = len(x)
    origins = _backcast_origins(n, horizon)
    cheap = [name for name in names if REGISTRY[name].backcast is not None]
    needs_ensemble = PRODUCTION_MODEL in names or len(cheap) < len(names)
    wanted = set(cheap) | (set(ENSEMBLE_MEMBERS) | {PRODUCTION_MODEL} if needs_ensemble else set())
    backcasts: dict[str, np.ndarray] = {}
    for name in (*ENSEMBLE_MEMBERS, *REGISTRY):
        if name in wanted and name not in backcasts:
            if name == PRODUCTION_MODEL:  # the median of the members already run
                stack = np.stack([backcasts[m] for m in ENSEMBLE_MEMBERS])
                backcasts[name] = np.median(stack, axis=0)
            else:
                backcasts[name] = REGISTRY[name].backcast(x, origins, horizon)  # type: ignore[misc]
    cap = float(max(CAP_FACTOR * float(hist.y.max()), CAP_FLOOR))
    out: dict[str, ModelPaths] = {}
    models_of_errors: dict[str, ErrorModel] = {}
    for name in [*backcasts, *(nm for nm in names if nm not in backcasts)]:
        spec = REGISTRY[name]
        if spec.backcast is not None:
            points = _full(from_model_scale(backcasts[name]), origins, n)
            models_of_errors[name] = error_model(
                error_matrix(hist.y, points), to_error_scale(points), horizon
            )
            point = points[-1]
            errors, own = models_of_errors[name], name
        else:
            point = from_model_scale(spec.fit(hist, horizon))  # type: ignore[misc]
            points = None
            errors, own = models_of_errors[PRODUCTION_MODEL], PRODUCTION_MODEL
        if name not in names:
            continue
        rng = np.random.default_rng(seed)
        u = errors.uniforms(n_paths, rng)
        base = to_error_scale(np.minimum(point, cap))[None, :]
        weekly = np.minimum(from_error_scale(base + errors.quantiles(u)), cap)
        unwidened = np.minimum(from_error_scale(base + errors.quantiles(u, widened=False)), cap)
        exact = errors.quantiles(np.repeat(QUANTILES[:, None], horizon, axis=1))
        quantiles = np.minimum(from_error_scale(base + exact), cap).T
        remaining = remaining_q = None
        if part_week is not None:
            remaining, remaining_q = _remaining(
                hist, part_week, point[0], points, backcasts.get(own), origins, u[:, 0]
            )
        out[name] = ModelPaths(
            name,
            point,
            weekly,
            unwidened,
            quantiles,
            remaining,
            remaining_q,
            "own errors" if own == name else f"the {own}'s errors",
        )
    return {name: out[name] for name in names}


def _remaining(
    hist: WeeklyHistory,
    part: PartWeek,
    week_point: float,
    points: np.ndarray | None,
    own_backcast: np.ndarray | None,
    origins: np.ndarray,
    u: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The unobserved days of the part-observed week: the point forecast's share of the week
    plus the errors the same forecast made for the same days of past weeks."""
    n = len(hist.y)
    if points is None:  # a costly model: the ensemble's past forecasts stand in for its own
        assert own_backcast is not None
        points = _full(from_model_scale(own_backcast), origins, n)
    weeks = np.arange(1, n)  # week w forecast from origin w - 1, horizon 1
    model = part_week_model(
        part.past_remaining[weeks],
        points[weeks - 1, 0] * part.share,
        part.share,
        week_point * part.share,
    )
    values = model.quantile(week_point * part.share, part.share, np.concatenate([u, QUANTILES]))
    return values[: len(u)], values[len(u) :]
