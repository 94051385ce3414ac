"""The nightly flow's alerts: a task at its end and a hook for when it fails.

Kept beside pipeline.py so the nightly flow gains one call and one hook: `announce` works out
what the run stored (publications stored since the flow run began) and what failed, sends one
message through `forecasting.notify`, and records it as a markdown artifact; `on_nightly_failure`
announces a failed run. Neither ever fails the run.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

if TYPE_CHECKING:
    import logging

    from forecasting.alerts import RunFacts
    from forecasting.notify import Announcement
    from forecasting.operations.results import NightResult

__all__ = ["announce", "on_nightly_failure", "ARTIFACT_KEY"]

ARTIFACT_KEY = "crossings-alerts"


def _started(flow_run: Any = None) -> datetime | None:
    """When this flow run began, as the store's ingested_at compares with it."""
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    started = context.start_time if context else None
    if started is None and flow_run is not None:
        started = flow_run.start_time or flow_run.expected_start_time
    if started is None:
        return None
    return datetime.fromisoformat(started.isoformat()).astimezone(UTC)


def _facts(store: Path, failure: str | None = None, **kwargs: Any) -> RunFacts:
    from forecasting.alerts import RunFacts
    from forecasting.store.alert_reads import stored_since

    started = _started(kwargs.pop("flow_run", None))
    stored: tuple[str, ...] = ()
    if started is not None and kwargs.get("store_readable", True):
        stored = tuple(stored_since(store, started))
    return RunFacts(stored=stored, failure=failure, **kwargs)


def _report(result: Announcement, logger: logging.Logger | logging.LoggerAdapter[Any]) -> None:
    """Log what happened to the message and keep it as the run's markdown artifact."""
    for delivery in result.deliveries:
        (logger.info if delivery.delivered else logger.warning)("alert %s", delivery.describe())
    for problem in result.problems:
        logger.warning("alerts: %s", problem)
    try:
        from prefect.artifacts import create_markdown_artifact

        create_markdown_artifact(
            result.markdown(), key=ARTIFACT_KEY, description="alerts sent by this run"
        )
    except Exception as exc:  # the artifact is a record, not the delivery
        logger.warning("alerts artifact not written: %s", exc)


@task(name="announce", cache_policy=NO_CACHE)
def announce(store: Path, reports: Path, night: NightResult) -> str | None:
    """Send what the nightly run should announce; returns the message's title, if one went out."""
    from forecasting.notify import announce_run
    from forecasting.settings import Settings

    logger = get_run_logger()
    try:
        from prefect.runtime import flow_run

        settings = Settings.from_env()
        if not settings.notify:
            logger.info("alerts: CROSSINGS_NOTIFY is not set, nothing sent")
            return None
        facts = _facts(
            store,
            source_failures=tuple(night.failures),
            run_id=str(flow_run.id) if flow_run.id else None,
        )
        result = announce_run(store, reports, facts, settings)
    except Exception as exc:  # never fail the run over its alerts (a bad setting included)
        logger.warning("alerts not sent: %s: %s", type(exc).__name__, exc)
        return None
    if result is None:
        logger.info("alerts: nothing new to announce")
        return None
    _report(result, logger)
    return result.title


def on_nightly_failure(flow: Any, flow_run: Any, state: Any) -> None:
    """Prefect hook: announce that the nightly run failed (once per flow run)."""
    import logging

    from forecasting.errors import StoreBusy
    from forecasting.notify import announce_run
    from forecasting.settings import Settings

    logger = logging.getLogger("crossings.notify")
    try:
        params = flow_run.parameters or {}
        settings = Settings.from_env()
        store = Path(params.get("db") or settings.db)
        reports = Path(params.get("reports_dir") or settings.reports_dir)
        error = state.result(raise_on_failure=False)
        why = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else None
        facts = _facts(
            store,
            failure=why or state.message or "unknown error",
            run_id=str(flow_run.id),
            store_readable=not isinstance(error, StoreBusy),
            flow_run=flow_run,
        )
        result = announce_run(store, reports, facts)
        if result is not None:
            _report(result, logger)
    except Exception as exc:
        logger.warning("failure alert not sent: %s: %s", type(exc).__name__, exc)
