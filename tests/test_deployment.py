"""prefect.yaml for real: a Prefect server, a process worker, `prefect deploy`, and runs.

Starts `prefect server start` (SQLite in a temporary PREFECT_HOME, on a free 127.0.0.1 port,
offline, its telemetry off) and `prefect worker start` on the work pool, deploys both
deployments from the project root, runs the nightly deployment to completion (its figures are
months old, so it ends "Stale" and says why), then the backfill deployment with parameters;
checks that wrongly typed parameters, dates included, are refused when the run is created, that
a run failing in the worker shows its reason where `--watch` prints it, and that the worker
stops cleanly on SIGTERM. The worker passes its environment to flow runs, which is how the
nightly deployment finds its store, reports folder and source.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
POOL = "crossings-pool"

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _prefect() -> list[str]:
    script = Path(sys.executable).with_name("prefect")
    return [str(script)] if script.exists() else [sys.executable, "-m", "prefect"]


def _start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """A background process in its own session, so teardown can stop it and its children."""
    return subprocess.Popen(
        argv,
        env=env,
        cwd=ROOT,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)  # our own session: the process and its children only
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _wait_for(what: str, check, timeout: float, log: Path) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"{what} not ready after {timeout:.0f} s; log:\n{log.read_text()[-3000:]}")


def readme_server_settings() -> dict[str, str]:
    """The VAR=value settings of the README's `prefect server start` line: the test starts the
    server exactly as the README says (its telemetry off, logs streamed to `--watch`)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8").replace("\\\n", " ")
    line = next(line for line in text.splitlines() if "prefect server start" in line)
    return dict(
        word.split("=", 1) for word in line.split("prefect server start")[0].split() if "=" in word
    )


@pytest.fixture
def prefect_server(tmp_path: Path, latest_release: Path) -> Iterator[tuple[str, dict[str, str]]]:
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_API_URL": api,
        "DO_NOT_TRACK": "1",
        **readme_server_settings(),
        "PREFECT_SERVER_UI_ENABLED": "false",
        "PREFECT_WORKER_QUERY_SECONDS": "1",  # pick runs up at once (default: every 10 s)
        "PREFECT_WORKER_PREFETCH_SECONDS": "1",
        # What the nightly deployment reads, via the worker's environment.
        "CROSSINGS_DB": str(tmp_path / "store" / "crossings.duckdb"),
        "CROSSINGS_REPORTS_DIR": str(tmp_path / "reports"),
        "CROSSINGS_RAW_DIR": str(tmp_path / "raw"),
        "CROSSINGS_SOURCE": str(latest_release),
    }
    log = tmp_path / "server.log"
    server = _start(
        [*_prefect(), "server", "start", "--host", "127.0.0.1", "--port", str(port)], env, log
    )
    try:
        _wait_for(
            "prefect server",
            lambda: httpx.get(f"{api}/health", timeout=2).status_code == 200,
            180,
            log,
        )
        yield api, env
    finally:
        _stop(server)


def _run(argv: list[str], env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*_prefect(), *argv], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def test_deployments_run_on_a_real_server_and_worker(
    prefect_server: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    from forecasting.store import read_frame
    from forecasting.track_record import track_record_dates

    api, env = prefect_server
    timings: dict[str, float] = {}
    started = time.perf_counter()
    worker_log = tmp_path / "worker.log"
    worker = _start(
        [*_prefect(), "worker", "start", "--pool", POOL, "--type", "process"], env, worker_log
    )
    try:
        # The worker creates the process pool; deploy once it exists.
        _wait_for(
            "work pool",
            lambda: httpx.get(f"{api}/work_pools/{POOL}", timeout=2).status_code == 200,
            120,
            worker_log,
        )
        deployed = _run(["--no-prompt", "deploy", "--all"], env)
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        timings["deploy"] = time.perf_counter() - started

        nightly = _run(["deployment", "run", "nightly/nightly", "--watch"], env)
        assert nightly.returncode == 0, nightly.stdout + nightly.stderr + worker_log.read_text()
        # Completed, named "Stale": the figures end in February 2026; the reason is in the watch.
        assert "finished successfully in 'Stale'" in nightly.stdout, nightly.stdout[-3000:]
        assert "the figures end on 26 February 2026" in nightly.stdout, nightly.stdout
        timings["nightly"] = time.perf_counter() - started
        db = Path(env["CROSSINGS_DB"])
        held = read_frame(db, "SELECT as_of, model, production FROM forecasts")
        # the forecast as of the data's last day, and the track record's weekly forecasts
        track = {str(d) for d in track_record_dates(date(2026, 2, 26))}
        assert set(held["as_of"].dt.date.astype(str)) == {"2026-02-26", *track}
        assert held["production"].sum() == 1 + len(track)
        assert (Path(env["CROSSINGS_REPORTS_DIR"]) / "index.html").is_file()

        backfill = _run(
            [
                "deployment",
                "run",
                "backfill/backfill",
                "--watch",
                "--param",
                "start=2025-06-01",
                "--param",
                "end=2025-06-15",
                "--param",
                'models=["seasonal_naive", "ensemble"]',
            ],
            env,
        )
        assert backfill.returncode == 0, backfill.stdout + backfill.stderr
        timings["backfill"] = time.perf_counter() - started
        held = read_frame(
            db,
            "SELECT DISTINCT as_of FROM forecasts "
            "WHERE model = 'seasonal_naive' AND as_of < '2026-01-01' ORDER BY 1",
        )
        assert sorted(held["as_of"].dt.date.astype(str)) == [
            "2025-06-01",
            "2025-06-08",
            "2025-06-15",
        ]

        # enforce_parameter_schema: wrongly typed parameters never become a run, dates included.
        for bad in ("horizon_weeks=thirteen", "every=monthly", "start=01/06/2025"):
            refused = _run(
                [
                    "deployment",
                    "run",
                    "backfill/backfill",
                    "--param",
                    "start=2025-06-01",
                    "--param",
                    "end=2025-06-15",
                    "--param",
                    bad,
                ],
                env,
            )
            assert refused.returncode != 0, refused.stdout
            assert "Validation failed" in refused.stdout + refused.stderr, refused.stdout

        # A run that fails in the worker shows why where `--watch` prints it.
        failed = _run(
            [
                "deployment",
                "run",
                "backfill/backfill",
                "--watch",
                "--param",
                "start=2025-06-01",
                "--param",
                "end=2025-06-15",
                "--param",
                'models=["ensemble", "oracle"]',
            ],
            env,
        )
        assert failed.returncode != 0
        assert "unknown model(s) oracle" in failed.stdout, failed.stdout[-3000:]
        print("seconds since worker start:", {k: round(v, 1) for k, v in timings.items()})

        # SIGTERM to the worker alone (as systemd or a container runtime sends it): it stops
        # within seconds, with no traceback and nothing of its session left running.
        logged = len(worker_log.read_text())
        os.kill(worker.pid, signal.SIGTERM)
        started = time.perf_counter()
        worker.wait(timeout=60)
        print(f"worker stopped {time.perf_counter() - started:.1f} s after SIGTERM")
        time.sleep(1)
        with pytest.raises(ProcessLookupError):
            os.killpg(worker.pid, 0)  # no process left in the worker's group
        on_stop = worker_log.read_text()[logged:]
        print("worker on SIGTERM:", on_stop.strip()[-500:])
        assert "Traceback" not in on_stop and "stopped" in on_stop
    finally:
        _stop(worker)
