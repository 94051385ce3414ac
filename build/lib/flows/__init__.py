"""Orchestration: Prefect flows over the `forecasting` library, and the `crossings` CLI.

Importing this package sets Prefect's settings so that nothing calls out to the internet, before
any module imports prefect: the pipeline runs on machines with no route out, and publishes
nothing about its users. Each value is only a default: an explicit environment variable wins.
"""

from __future__ import annotations

import os

__all__ = ["OFFLINE_DEFAULTS"]

OFFLINE_DEFAULTS: dict[str, str] = {
    # SDK usage analytics (Amplitude) are off when DO_NOT_TRACK is set.
    "DO_NOT_TRACK": "1",
    # The server's own telemetry service (sens-o-matic.prefect.io) when a server is started.
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    # Orchestration telemetry only applies to Prefect Cloud; off in case a profile points there.
    "PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY": "false",
    # The temporary (ephemeral) server needs no web UI; the UI would also fetch the integrations
    # registry from GitHub when a browser opens it.
    "PREFECT_SERVER_UI_ENABLED": "false",
    "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
    # On two shared cores the temporary server takes 10-20 s to start (more while other runs
    # overlap); Prefect's default of 20 s fails runs that would have worked.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    # Library loggers (cmdstanpy, httpx) log outside any run; don't warn about each line.
    "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
}

for _name, _value in OFFLINE_DEFAULTS.items():
    os.environ.setdefault(_name, _value)
