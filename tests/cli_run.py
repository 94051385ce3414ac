"""Running the real `crossings` command in tests: exit status, output, peak memory, wall time.

Shared by the reliability tests (bad input, faults, paths). `run_cli` runs the console command in
a fresh interpreter, as a user or the scheduler would, and measures what it cost (integration
tier); `call_cli` runs the same `main` in this interpreter (unit tier): the same parser,
commands and one-line refusals, without an interpreter's start-up.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[1]
CROSSINGS = [sys.executable, "-m", "flows.cli"]
MEMORY_CEILING_MB = 1536  # the brief: peak RSS of the process well under 1.5 GB
ADDRESS_SPACE_LIMIT = 4 << 30  # a runaway child fails instead of taking the machine down
# ------------------------------------------------------------------------------------------
# Running the real command, measured


@dataclass
class Run:
    """One finished child process: exit status, output, peak RSS and wall time."""

    status: int
    stdout: str
    stderr: str
    peak_mb: float  # NaN for a run in this interpreter (`call_cli`): not its own process
    seconds: float

    @property
    def lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def _limit_child(drop_dac: bool) -> Callable[[], None]:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT))
        os.setsid()  # its own process group, so a kill reaches any grandchildren too
        if drop_dac:
            _drop_dac_override()

    return limit


def _drop_dac_override() -> None:
    """Drop CAP_DAC_OVERRIDE and CAP_FOWNER from the bounding set: root then obeys chmod."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    pr_capbset_drop = 24
    for cap in (1, 3):  # CAP_DAC_OVERRIDE, CAP_FOWNER
        if libc.prctl(pr_capbset_drop, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def child_env(**extra: str) -> dict[str, str]:
    """The child's environment: never the real GOV.UK, never Prefect's servers."""
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(ROOT),
        DO_NOT_TRACK="1",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        CROSSINGS_GOVUK_URL=env.get("CROSSINGS_GOVUK_URL", "http://127.0.0.1:9"),
        # Flow commands write their full log there: never into the repository's data/.
        CROSSINGS_LOG_DIR=env.get(
            "CROSSINGS_LOG_DIR", str(Path(tempfile.gettempdir()) / "crossings-test-logs")
        ),
    )
    env.update(extra)
    return env


def start_cli(
    args: list[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    drop_dac: bool = False,
) -> tuple[subprocess.Popen, Any, Any, float]:
    """Start `crossings ARGS` (via `python -m flows.cli`) with output to temporary files."""
    out = tempfile.TemporaryFile()  # noqa: SIM115 - closed by finish_cli
    err = tempfile.TemporaryFile()  # noqa: SIM115
    proc = subprocess.Popen(
        [*CROSSINGS, *map(str, args)],
        cwd=cwd or ROOT,
        env=env or child_env(),
        stdout=out,
        stderr=err,
        preexec_fn=_limit_child(drop_dac),
    )
    return proc, out, err, time.monotonic()


def finish_cli(started: tuple[subprocess.Popen, Any, Any, float], timeout: float = 120) -> Run:
    """Wait for the child with os.wait4, which gives that one child's own peak RSS."""
    proc, out, err, t0 = started
    deadline = t0 + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            os.killpg(proc.pid, 9)
            os.wait4(proc.pid, 0)
            pytest.fail(f"crossings {proc.args[3:]} still running after {timeout} s")
        time.sleep(0.02)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - t0
    texts = []
    for handle in (out, err):
        handle.seek(0)
        texts.append(handle.read().decode("utf-8", errors="replace"))
        handle.close()
    return Run(proc.returncode, texts[0], texts[1], usage.ru_maxrss / 1024, seconds)


def run_cli(args: list[str], *, timeout: float = 120, **kwargs: Any) -> Run:
    """Run `crossings ARGS` to the end in a fresh interpreter."""
    return finish_cli(start_cli(args, **kwargs), timeout=timeout)


def call_cli(args: list[Any], capsys: pytest.CaptureFixture[str]) -> Run:
    """Run `crossings ARGS` through `flows.cli.main` in this interpreter, output captured.

    The environment is the child's (`child_env`: never the real GOV.UK); set it with
    monkeypatch before calling (the `crossings` fixture in conftest.py does)."""
    from flows.cli import main

    capsys.readouterr()
    t0 = time.monotonic()
    status = main([str(a) for a in args])
    seconds = time.monotonic() - t0
    out, err = capsys.readouterr()
    return Run(status, out, err, float("nan"), seconds)


def assert_one_line_refusal(run: Run, status: int, *fragments: str) -> None:
    """Exit `status`, exactly one line on stderr holding every fragment, and no traceback."""
    assert "Traceback" not in run.stderr, run.stderr[-2000:]
    assert run.status == status, (run.status, run.stderr[-1000:])
    assert len(run.lines) == 1, run.stderr[-1000:]
    for fragment in fragments:
        assert fragment in run.lines[0], (fragment, run.lines[0])


# ------------------------------------------------------------------------------------------
# The store, before and after


def snapshot(db: Path) -> dict[str, list[tuple]]:
    """Every row of every base table, in a stable order: the store's whole content."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [
            name
            for (name,) in con.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_type = 'BASE TABLE' ORDER BY table_name"
            ).fetchall()
        ]
        return {t: con.execute(f'SELECT * FROM "{t}" ORDER BY ALL').fetchall() for t in tables}
    finally:
        con.close()


def consistency_problems(db: Path) -> list[str]:
    """Whole publications only: each has exactly its own daily and weekly rows, no orphans."""
    con = duckdb.connect(str(db))  # read-write, as the pipeline would open it after a crash
    try:
        return [
            f"publication {pid} ({name}): {kind} rows {held} != {declared}"
            for pid, name, kind, held, declared in con.execute(
                """
                SELECT p.publication_id, p.file_name, 'daily',
                       (SELECT count(*) FROM daily_values v
                        WHERE v.publication_id = p.publication_id), p.daily_rows
                FROM publications p
                UNION ALL
                SELECT p.publication_id, p.file_name, 'weekly',
                       (SELECT count(*) FROM weekly_values v
                        WHERE v.publication_id = p.publication_id), p.weekly_rows
                FROM publications p
                """
            ).fetchall()
            if held != declared
        ] + [
            f"{n} orphan rows in {table}"
            for table in ("daily_values", "weekly_values")
            for (n,) in [
                con.execute(
                    f"SELECT count(*) FROM {table} WHERE publication_id NOT IN "
                    "(SELECT publication_id FROM publications)"
                ).fetchone()
            ]
            if n
        ]
    finally:
        con.close()
