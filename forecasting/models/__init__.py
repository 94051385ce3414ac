"""Weekly models of Channel small-boat crossings: members, the production ensemble, comparison
models, and intervals calibrated on each model's own past errors.

`simulate` gives every model's sample paths; `registry` says which models exist.
"""

from forecasting.models.paths import ModelPaths, PartWeek, simulate
from forecasting.models.registry import (
    DEFAULT_MODELS,
    ENSEMBLE_MEMBERS,
    MODEL_NAMES,
    PRODUCTION_MODEL,
    REGISTRY,
    check_models,
)
from forecasting.models.scale import WeeklyHistory, weekly_history

__all__ = [
    "DEFAULT_MODELS",
    "ENSEMBLE_MEMBERS",
    "MODEL_NAMES",
    "PRODUCTION_MODEL",
    "REGISTRY",
    "ModelPaths",
    "PartWeek",
    "WeeklyHistory",
    "check_models",
    "simulate",
    "weekly_history",
]
