"""How far ahead the pipeline forecasts: one place for the default and the limit."""

from __future__ import annotations

__all__ = ["HORIZON_WEEKS", "MAX_HORIZON_WEEKS"]

HORIZON_WEEKS = 13  # a quarter ahead: the forecast, backtests, backfills and the track record
MAX_HORIZON_WEEKS = 104  # two years: past that the intervals say nothing, and memory grows
