"""What a run ends with: its exit status and the reasons it is stale."""

from __future__ import annotations

from datetime import date

from forecasting.calendar import london_today, long_date
from forecasting.errors import CrossingsError, ExitStatus
from forecasting.freshness import freshness

__all__ = ["run_status", "exit_status_of"]


def run_status(
    data_through: date,
    failures: list[str],
    *,
    stale_after_days: int,
    today: date | None = None,
) -> tuple[ExitStatus, list[str]]:
    """OK, or STALE with the reasons: a source failed, or the figures are older than allowed."""
    reasons = list(failures)
    judged = freshness(data_through, today or london_today(), stale_after_days)
    if judged.stale:
        reasons.append(
            f"the figures end on {long_date(data_through)}, {judged.age_days} days ago "
            f"(stale after {stale_after_days})"
        )
    return (ExitStatus.STALE if reasons else ExitStatus.OK), reasons


def exit_status_of(exc: BaseException) -> ExitStatus | None:
    """An expected failure's exit status; None for anything else (a bug)."""
    return exc.exit_status if isinstance(exc, CrossingsError) else None
