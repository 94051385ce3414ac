"""Every model by name: how it forecasts and where its intervals come from.

Adding a model is one entry here. A `members`-style model (`backcast`) is vectorised over
origins, so it is re-run at every recent origin and calibrated on its own errors; a costly model
(`fit`) is fitted once at the origin and borrows the ensemble's calibrated errors.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import numpy as np

from forecasting.models import comparison, members
from forecasting.models.scale import WeeklyHistory

__all__ = [
    "ModelSpec",
    "REGISTRY",
    "MODEL_NAMES",
    "DEFAULT_MODELS",
    "ENSEMBLE_MEMBERS",
    "PRODUCTION_MODEL",
    "check_models",
    "combine_members",
]

Backcast = Callable[[np.ndarray, np.ndarray, int], np.ndarray]
Fit = Callable[[WeeklyHistory, int], np.ndarray]


@dataclass(frozen=True)
class ModelSpec:
    """One model: exactly one of `backcast` (cheap, all origins) or `fit` (costly, the origin)."""

    name: str
    description: str
    backcast: Backcast | None = None
    fit: Fit | None = None
    needs: str | None = None  # an optional package it imports (an extra of the project)

    @property
    def calibration(self) -> str:
        return "own errors" if self.backcast is not None else "the ensemble's errors"


ENSEMBLE_MEMBERS: tuple[str, ...] = ("profile", "ets", "trend_fourier")
PRODUCTION_MODEL = "ensemble"


def combine_members(backcasts: dict[str, np.ndarray]) -> np.ndarray:
    """The ensemble from its members' forecasts: their median, week by week, on the model
    scale. No weights fitted to the past, so no member's good years can make it the forecast."""
    return cast(
        np.ndarray, np.median(np.stack([backcasts[name] for name in ENSEMBLE_MEMBERS]), axis=0)
    )


def _ensemble(x: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    """The ensemble run on its own (simulate reuses the members it has already run)."""
    return combine_members(
        {name: REGISTRY[name].backcast(x, origins, horizon) for name in ENSEMBLE_MEMBERS}  # type: ignore[misc]
    )


REGISTRY: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "ensemble",
            "the published forecast: the median of profile, ets and trend_fourier",
            backcast=_ensemble,
        ),
        ModelSpec(
            "profile",
            "smoothed multi-year seasonal profile at this year's level",
            backcast=members.profile,
        ),
        ModelSpec(
            "ets",
            "exponentially smoothed level on last year's smoothed shape",
            backcast=members.ets,
        ),
        ModelSpec(
            "trend_fourier",
            "piecewise-linear trend and yearly Fourier terms (Prophet's structure, ridge fit)",
            backcast=members.trend_fourier,
        ),
        ModelSpec(
            "seasonal_naive",
            "the same week last year (the baseline every score is relative to)",
            backcast=members.seasonal_naive,
        ),
        ModelSpec(
            "prophet",
            "Prophet on log counts (comparison)",
            fit=comparison.prophet_log,
            needs="prophet",
        ),
        ModelSpec(
            "prophet_default",
            "Prophet with its defaults on weekly totals (the benchmark)",
            fit=comparison.prophet_default,
            needs="prophet",
        ),
        ModelSpec(
            "ets_damped",
            "statsmodels damped Holt-Winters by maximum likelihood (the previous production core)",
            fit=comparison.ets_damped,
        ),
    )
}
MODEL_NAMES: tuple[str, ...] = tuple(REGISTRY)
# What a forecast fits unless told otherwise: everything cheap (a few tens of milliseconds).
DEFAULT_MODELS: tuple[str, ...] = tuple(n for n, s in REGISTRY.items() if s.backcast is not None)


def check_models(models: list[str] | tuple[str, ...] | None) -> list[str]:
    """The models asked for (None: the defaults), each checked against the registry."""
    names = list(models) if models else list(DEFAULT_MODELS)
    unknown = sorted(set(names) - set(REGISTRY))
    if unknown:
        raise ValueError(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(MODEL_NAMES)}")
    if not names:
        raise ValueError("name at least one model")
    for name in names:
        needs = REGISTRY[name].needs
        if needs and importlib.util.find_spec(needs) is None:
            raise ValueError(
                f"model {name} needs {needs}, which is not installed: "
                "pip install 'channel-crossings[compare]'"
            )
    return list(dict.fromkeys(names))
