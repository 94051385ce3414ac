"""Whether the figures are stale: the one rule behind the run's exit status and the page banner."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

__all__ = ["Freshness", "freshness"]


@dataclass(frozen=True)
class Freshness:
    """How old the figures' last day is on the day they are judged, against the allowance."""

    data_through: date
    judged_on: date
    stale_after_days: int

    @property
    def age_days(self) -> int:
        return (self.judged_on - self.data_through).days

    @property
    def stale(self) -> bool:
        """More than `stale_after_days` old: a newer release is probably out but not held."""
        return self.age_days > self.stale_after_days


def freshness(data_through: date, judged_on: date, stale_after_days: int) -> Freshness:
    """The figures' age on `judged_on` (today for a current page or run, the page's own date for
    a historical page)."""
    return Freshness(data_through, judged_on, stale_after_days)
