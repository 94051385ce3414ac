"""Sample paths of weekly totals after the origin, for every model asked for.

A model's paths are its point forecast plus errors drawn from its own calibrated error model
(calibration.py), so the weekly quantiles, the part-observed first week, the cumulative total
and the year end all come from one set of coherent paths.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from forecasting.models.calibration import (
    ErrorModel,
    error_matrix,
    error_model,
    part_week_model,
)
from forecasting.models.memo import Key, Memo, origin_keys, remembered_bounds, remembered_rows
from forecasting.models.past_paths import past_remaining
from forecasting.models.registry import (
    ENSEMBLE_MEMBERS,
    PRODUCTION_MODEL,
    REGISTRY,
    check_models,
    combine_members,
)
from forecasting.models.remaining import (
    SEASON_WEEKS,
    RemainingErrors,
    remaining_errors,
    season_origins,
)
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
    weekly_u1: np.ndarray | None = field(default=None, repr=False)  # first week's draws
    remaining_year: RemainingErrors | None = None  # past remaining-year totals' errors


# The members' forecasts are remembered this many weeks long: as long as a forecast to the year
# end asks for (53 weeks and the season window past it); a longer forecast keys its own.
BACKCAST_WEEKS = 53 + SEASON_WEEKS + 1
_backcast_memo: Memo[np.ndarray] = Memo()


def _backcasts(
    x: np.ndarray, keys: list[Key], horizon: int, names: list[str]
) -> dict[str, np.ndarray]:
    """Model-scale forecasts from every origin, of the cheap models asked for and, when the
    ensemble or a costly model (which borrows the ensemble's errors) is asked for, of the
    ensemble and its members (each member run once). Each origin's forecast is remembered
    (memo.py): a backfill's next date runs only its newest origins."""
    cheap = [name for name in names if REGISTRY[name].backcast is not None]
    wanted = set(cheap)
    if PRODUCTION_MODEL in names or len(cheap) < len(names):
        wanted |= {*ENSEMBLE_MEMBERS, PRODUCTION_MODEL}
    weeks = max(horizon, BACKCAST_WEEKS)
    out: dict[str, np.ndarray] = {}
    for name in (*ENSEMBLE_MEMBERS, *REGISTRY):
        if name not in wanted or name in out:
            continue
        if name == PRODUCTION_MODEL:  # the median of the members already run
            out[name] = combine_members(out)
            continue
        backcast = REGISTRY[name].backcast
        assert backcast is not None  # only cheap models are wanted here
        rows = remembered_rows(
            _backcast_memo,
            [(name, *key, weeks) for key in keys],
            lambda origins, run=backcast: run(x, origins, weeks),  # type: ignore[misc]
        )
        out[name] = rows[:, :horizon]
    return out


def _year_end_judge(names: list[str]) -> str:
    """The model whose past misses of the rest of the year set every model's year-end width:
    the production model when it runs (each model's range is its own paths' spread times how
    far the production model's misses ran beyond its paths' spread), else the first model's
    own errors' owner. One model's past paths, not one per model: they cost most of a
    backfill's time."""
    if PRODUCTION_MODEL in names:
        return PRODUCTION_MODEL
    first = names[0]
    return first if REGISTRY[first].fit is None else PRODUCTION_MODEL


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
    # The weekly errors read recent origins; the year end what the paths said at past years'
    # origins at the same point of the year (past_paths.py). Both are remembered by origin.
    keys = origin_keys(hist.y, hist.week_ending)
    judge = _year_end_judge(names)
    long = horizon + SEASON_WEEKS + 1
    backcasts = _backcasts(to_model_scale(hist.y), keys, long, names)
    longer = {name: from_model_scale(b) for name, b in backcasts.items()}
    season = season_origins(hist.week_ending)
    said = past_remaining(hist.y, hist.week_ending, longer[judge], season, judge, keys)
    year = remaining_errors(hist.y, hist.week_ending, said.centres, said.spreads)
    points = {name: p[:, :horizon] for name, p in longer.items()}
    errors: dict[str, ErrorModel] = {}

    def errors_of(name: str) -> ErrorModel:
        if name not in errors:
            own, levels = points[name], to_error_scale(points[name])
            matrix = error_matrix(hist.y, own)
            bounds = remembered_bounds(keys, matrix, levels, name)
            errors[name] = error_model(matrix, levels, horizon, bounds=bounds)
        return errors[name]

    out = {}
    for name in names:
        fit = REGISTRY[name].fit
        own = name if fit is None else PRODUCTION_MODEL  # costly models borrow the ensemble's
        point = points[name][-1] if fit is None else from_model_scale(fit(hist, horizon))
        out[name] = _paths(hist, name, point, errors_of(own), n_paths, seed)
        out[name] = replace(out[name], remaining_year=year)
        if part_week is not None:
            u1 = out[name].weekly_u1
            assert u1 is not None  # _paths always draws it
            remaining = _remaining(hist, part_week, point[0], points[own], u1)
            out[name] = replace(out[name], remaining=remaining[0], remaining_quantiles=remaining[1])
        if own != name:
            out[name] = replace(out[name], calibration=f"the {own}'s errors")
    return out


def _paths(
    hist: WeeklyHistory,
    name: str,
    point: np.ndarray,
    errors: ErrorModel,
    n_paths: int,
    seed: int,
) -> ModelPaths:
    """The point forecast plus errors drawn from the error model (the same draws twice: after
    and before the recalibration of width), and the exact weekly quantiles."""
    cap = float(max(CAP_FACTOR * float(hist.y.max()), CAP_FLOOR))
    u = errors.uniforms(n_paths, np.random.default_rng(seed))
    base = to_error_scale(np.minimum(point, cap))[None, :]
    weekly = np.minimum(from_error_scale(base + errors.quantiles(u)), cap)
    unwidened = np.minimum(from_error_scale(base + errors.quantiles(u, widened=False)), cap)
    exact = errors.quantiles(np.repeat(QUANTILES[:, None], len(point), axis=1))
    quantiles = np.minimum(from_error_scale(base + exact), cap).T
    return ModelPaths(
        name, point, weekly, unwidened, quantiles, None, None, "own errors", weekly_u1=u[:, 0]
    )


def _remaining(
    hist: WeeklyHistory,
    part: PartWeek,
    week_point: float,
    points: np.ndarray,
    u: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The unobserved days of the part-observed week: the point forecast's share of the week
    plus what the same forecast got wrong for the same days of past weeks (`points`: the
    model's own past forecasts, the ensemble's for a costly model); drawn with the paths' first
    week's probabilities `u`, so a path high in the week stays high in its remainder."""
    weeks = np.arange(1, len(hist.y))  # week w forecast from origin w - 1, horizon 1
    model = part_week_model(
        part.past_remaining[weeks],
        points[weeks - 1, 0] * part.share,
        part.share,
        week_point * part.share,
    )
    values = model.quantile(week_point * part.share, part.share, np.concatenate([u, QUANTILES]))
    return values[: len(u)], values[len(u) :]
