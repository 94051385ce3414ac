"""Every setting the pipeline reads from its environment, read once when a command starts.

Nothing reads `os.environ` at import time: a command (or flow run) calls `Settings.from_env()`
and passes the frozen object, or the values it needs, down. The README lists every variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

__all__ = ["Settings", "ENVIRONMENT", "simulated_today"]

DEFAULT_USER_AGENT = (
    "channel-crossings-pipeline/0.1 (open-source forecasting of published small-boat figures)"
)

# variable -> (field, what it sets); the README's table is written from this.
ENVIRONMENT: dict[str, tuple[str, str]] = {
    "CROSSINGS_DB": ("db", "the DuckDB store (default data/crossings.duckdb)"),
    "CROSSINGS_REPORTS_DIR": ("reports_dir", "where reports are written (default reports/)"),
    "CROSSINGS_RAW_DIR": ("raw_dir", "where downloads are kept (default data/raw)"),
    "CROSSINGS_LOG_DIR": ("log_dir", "where full run logs go (default data/logs)"),
    "CROSSINGS_GOVUK_URL": ("govuk_url", "GOV.UK's base URL (default https://www.gov.uk)"),
    "CROSSINGS_SOURCE": ("source", "a file or URL to ingest instead of asking GOV.UK"),
    "CROSSINGS_USER_AGENT": ("user_agent", "the User-Agent sent to GOV.UK"),
    "CROSSINGS_LOCK_WAIT_SECONDS": (
        "lock_wait_seconds",
        "how long to wait for another process's hold on the store (default 600)",
    ),
    "CROSSINGS_DOWNLOAD_DEADLINE_SECONDS": (
        "download_deadline_seconds",
        "total time allowed for one download (default 120)",
    ),
    "CROSSINGS_NOTIFY": ("notify", "comma-separated Apprise URLs for alerts (default: none)"),
    "CROSSINGS_STALE_AFTER_DAYS": (
        "stale_after_days",
        "figures older than this many days make a run 'stale' (default 8)",
    ),
    "CROSSINGS_QUIET_PAGE_DAYS": (
        "quiet_page_days",
        "alert when the daily page's own 'updated' stamp is older than this many days (default 3)",
    ),
    "CROSSINGS_QUIET_RELEASE_DAYS": (
        "quiet_release_days",
        "alert when the newest weekly release is older than this many days (default 9)",
    ),
    "CROSSINGS_REVISION_ALERT_PCT": (
        "revision_alert_pct",
        "alert when a release changes a past complete year's total by more than this % (default 3)",
    ),
    "CROSSINGS_TODAY": (
        "today",
        "run as if it were this day, YYYY-MM-DD (replays and tests: staleness, alerts, the "
        "'after today' checks; default: today in London)",
    ),
}


@dataclass(frozen=True)
class Settings:
    """The pipeline's settings; `from_env` reads them, explicit arguments win over both."""

    db: Path = Path("data") / "crossings.duckdb"
    reports_dir: Path = Path("reports")
    raw_dir: Path = Path("data") / "raw"
    log_dir: Path = Path("data") / "logs"
    govuk_url: str = "https://www.gov.uk"
    source: str | None = None
    user_agent: str = DEFAULT_USER_AGENT
    lock_wait_seconds: float = 600.0
    download_deadline_seconds: float = 120.0
    notify: tuple[str, ...] = field(default_factory=tuple)
    stale_after_days: int = 8
    quiet_page_days: int = 3
    quiet_release_days: int = 9
    revision_alert_pct: float = 3.0
    today: date | None = None  # CROSSINGS_TODAY; `calendar.london_today` is what honours it

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from the environment (unset or empty variables keep the defaults).

        A malformed number raises ValueError naming the variable, so a command can refuse it
        with one line before doing anything.
        """
        env = os.environ if environ is None else environ
        default = cls()
        values: dict[str, object] = {}
        for variable, (name, _) in ENVIRONMENT.items():
            raw = (env.get(variable) or "").strip()
            if not raw:
                continue
            if name == "today":  # a date: the same reading as `simulated_today`'s
                values[name] = simulated_today({variable: raw})
                continue
            current = getattr(default, name)
            try:
                if isinstance(current, Path):
                    values[name] = Path(raw)
                elif isinstance(current, bool):
                    values[name] = raw.lower() in ("1", "true", "yes")
                elif isinstance(current, int):
                    values[name] = int(raw)
                elif isinstance(current, float):
                    values[name] = float(raw)
                elif isinstance(current, tuple):
                    values[name] = tuple(p.strip() for p in raw.split(",") if p.strip())
                else:
                    values[name] = raw
            except ValueError:
                raise ValueError(
                    f"{variable}={raw!r} is not a valid {type(current).__name__}"
                ) from None
        return cls(**values)  # type: ignore[arg-type]


def simulated_today(environ: Mapping[str, str] | None = None) -> date | None:
    """The day set by CROSSINGS_TODAY (run as if it were that day), or None for the real today.

    Read when asked, not at import, so a replay can step through days in one process; a
    malformed value raises ValueError naming the variable (commands refuse it at start, through
    `Settings.from_env`)."""
    env = os.environ if environ is None else environ
    raw = (env.get("CROSSINGS_TODAY") or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"CROSSINGS_TODAY={raw!r} is not a valid date like 2026-02-26") from None
