"""Faults around a correct pipeline: GOV.UK misbehaving, processes killed, writers racing.

GOV.UK faults use the real HTTP server of tests/govuk_server.py on 127.0.0.1 (no mocks of
httpx). Processes are the real `crossings` command, killed with SIGKILL at random moments (the
store must then open with either its earlier state or the new one whole) or stopped with SIGTERM
or SIGINT (every process it started must be gone too). A first run on a machine with no route
to GOV.UK must still write a report, from the bundled snapshot. `OUTCOMES` states the
exit status and message each case asserts; RELIABILITY.md is checked against it.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import time
from pathlib import Path

import duckdb
import pytest
from cli_run import (
    assert_one_line_refusal,
    child_env,
    consistency_problems,
    finish_cli,
    run_cli,
    snapshot,
    start_cli,
)

from forecasting.errors import SourceUnavailable
from forecasting.sources.fetch import fetch_latest
from forecasting.sources.http import INGEST_HINT, Retry

FAST = Retry(attempts=3, backoff=0.01, max_delay=0.05)

# Every test here runs the real command in a subprocess or a local HTTP server.
pytestmark = pytest.mark.integration

# case id -> (exit status, fragment of the one stderr line, or of stdout when the status is 0)
OUTCOMES = {
    "govuk_down": (3, "GOV.UK could not be reached"),
    "govuk_slow": (None, "timed out"),  # library level: SourceUnavailable, no exit status
    "govuk_5xx_then_recovers": (0, "stored"),
    "govuk_200_error_page": (3, "sent an HTML page where the ODS spreadsheet should be"),
    "kill_during_ingest": (0, "stored"),
    "kill_during_backfill": (0, "fitted and stored"),
    "concurrent_writers": (0, "stored"),
    "older_after_newer": (0, "kept as history (a newer one is held)"),
    "same_release_twice": (0, "already held"),
    "reports_dir_read_only": (5, "cannot write the report to"),
    "reports_dir_is_a_file": (5, "it is not a folder"),
    "sigterm_during_backfill": (143, "stopped by SIGTERM"),
    "sigint_during_backfill": (130, "stopped by SIGINT"),
    "first_run_offline": (10, "seeded it from the bundled snapshot"),
}


def _free_port() -> int:
    """A loopback port with nothing listening: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*")) if folder.exists() else []


# ------------------------------------------------------------------------------------------
# GOV.UK down, slow, failing, lying


def test_govuk_down_exits_3_and_keeps_the_store(store_copy: Path, tmp_path: Path) -> None:
    """Connection refused on every URL: one line with the manual fallback, store untouched."""
    before = snapshot(store_copy)
    env = child_env(CROSSINGS_GOVUK_URL=f"http://127.0.0.1:{_free_port()}")
    raw = tmp_path / "raw"
    run = run_cli(["ingest", "--db", store_copy, "--raw-dir", raw], env=env, timeout=120)
    status, fragment = OUTCOMES["govuk_down"]
    assert_one_line_refusal(run, status, fragment, INGEST_HINT)
    assert snapshot(store_copy) == before
    assert _files(raw) == []


def test_govuk_slow_times_out_cleanly(govuk_server, tmp_path: Path) -> None:
    """The ODS and the page answer after 2 s, the client waits 0.3 s: SourceUnavailable (only
    when both fail: one slow source alone leaves the other fetched), no partial file."""
    govuk_server.fault("ods", delay=2.0)
    govuk_server.fault("page", delay=2.0)
    started = time.monotonic()
    with pytest.raises(SourceUnavailable) as caught:
        fetch_latest(tmp_path / "raw", base_url=govuk_server.url, retry=FAST, timeout=0.3)
    elapsed = time.monotonic() - started
    text = str(caught.value)
    assert "\n" not in text and INGEST_HINT in text
    assert OUTCOMES["govuk_slow"][1] in text
    assert elapsed < 10, f"{elapsed:.1f} s"
    assert not [n for n in _files(tmp_path / "raw") if n.endswith(".ods") or ".part-" in n]


def test_govuk_5xx_then_recovers(govuk_server, govuk_url: str, db_path: Path, tmp_path: Path):
    """Two 503s on the API and one 500 on the ODS, then normal answers: all stored."""
    govuk_server.fault("api", status=503, times=2)
    govuk_server.fault("ods", status=500, times=1)
    run = run_cli(["ingest", "--db", db_path, "--raw-dir", tmp_path / "raw"], timeout=120)
    status, fragment = OUTCOMES["govuk_5xx_then_recovers"]
    assert run.status == status, run.stderr[-1500:]
    assert fragment in run.stdout
    assert govuk_server.hits("api") >= 3 and govuk_server.hits("ods") >= 2
    held = _publications(db_path)
    assert govuk_server.release.name in {name for name, _ in held}
    assert consistency_problems(db_path) == []


def test_govuk_200_with_an_error_page(
    govuk_server, govuk_url: str, store_copy: Path, tmp_path: Path
) -> None:
    """HTTP 200 carrying an HTML error page where the ODS (and the daily page) should be: exit 3,
    nothing stored. With the daily page fine, it alone is stored (test_ingest_govuk.py)."""
    govuk_server.use_release("20_February_2026")  # one the store does not hold yet
    error_page = b"<!DOCTYPE html><html><body>Sorry, try later</body></html>"
    govuk_server.fault(
        "ods", body=error_page, content_type="application/vnd.oasis.opendocument.spreadsheet"
    )
    govuk_server.fault("page", body=error_page, content_type="text/html")
    before = snapshot(store_copy)
    raw = tmp_path / "raw"
    run = run_cli(["ingest", "--db", store_copy, "--raw-dir", raw], timeout=120)
    status, fragment = OUTCOMES["govuk_200_error_page"]
    assert_one_line_refusal(run, status, fragment, INGEST_HINT)
    assert snapshot(store_copy) == before
    assert not [n for n in _files(raw) if n.endswith(".ods") or ".part-" in n]


# ------------------------------------------------------------------------------------------
# Killed mid-write


def _publications(db: Path) -> list[tuple[str, int]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT file_name, daily_rows FROM publications").fetchall()
    finally:
        con.close()


def test_sigkill_during_ingest_leaves_old_or_new_state_whole(
    release_paths: list[Path], tmp_path: Path
) -> None:
    """Kill `crossings ingest` at random moments: the store opens, every publication is whole,
    and the same ingest then completes."""
    db = tmp_path / "crossings.duckdb"
    timing = run_cli(["ingest", "--source", release_paths[0], "--db", db])
    assert timing.status == 0, timing.stderr
    rng = random.Random(20260227)
    outcomes = []
    for source in release_paths[1:6]:
        held = len(_publications(db))
        started = start_cli(["ingest", "--source", source, "--db", db])
        time.sleep(rng.uniform(0.4, 1.1) * timing.seconds)
        os.killpg(started[0].pid, signal.SIGKILL)
        run = finish_cli(started)
        assert consistency_problems(db) == [], f"after killing the ingest of {source.name}"
        now = len(_publications(db))
        assert now in (held, held + 1)
        outcomes.append((round(run.seconds, 2), run.status, now - held))
        again = run_cli(["ingest", "--source", source, "--db", db])
        assert again.status == 0, again.stderr
        assert OUTCOMES["kill_during_ingest"][1] in again.stdout or "already held" in again.stdout
        assert len(_publications(db)) == held + 1
    print("kills (seconds, exit, publications added):", outcomes)
    assert consistency_problems(db) == []


@pytest.mark.slow
def test_sigkill_during_backfill_leaves_whole_forecasts(store_copy: Path, tmp_path: Path) -> None:
    """Kill a backfill once it has stored some forecasts: each stored forecast has all its
    weeks, and a rerun completes what is missing."""
    args = [
        "backfill",
        "--start",
        "2025-06-01",
        "--end",
        "2025-12-28",
        "--every",
        "2W",
        "--models",
        "seasonal_naive",
        "profile",
        "--horizon-weeks",
        "4",
        "--db",
        store_copy,
    ]
    started = start_cli(args)
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline and _forecasts_held(store_copy) < 3:
        if started[0].poll() is not None:
            break
        time.sleep(0.3)
    time.sleep(random.Random(7).uniform(0.0, 0.5))
    assert started[0].poll() is None, "the backfill ended before it could be killed"
    held = _forecasts_held(store_copy)
    os.killpg(started[0].pid, signal.SIGKILL)
    finish_cli(started)
    print(f"killed the backfill with {held}+ forecasts stored")
    assert _forecast_problems(store_copy, horizon=4) == []
    assert consistency_problems(store_copy) == []
    rerun = run_cli(args, timeout=240)
    assert rerun.status == 0, rerun.stderr[-1500:]
    assert OUTCOMES["kill_during_backfill"][1] in rerun.stdout
    assert _forecast_problems(store_copy, horizon=4) == []


def _forecasts_held(db: Path) -> int:
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error:  # held by the writer right now
        return 0
    try:
        return con.execute("SELECT count(*) FROM forecasts").fetchone()[0]
    except duckdb.Error:
        return 0
    finally:
        con.close()


def _forecast_problems(db: Path, *, horizon: int) -> list[str]:
    con = duckdb.connect(str(db))
    try:
        tables = {
            t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }
        if "forecasts" not in tables:
            return []
        return [
            f"{as_of} {model}: {weeks} weeks"
            for as_of, model, weeks in con.execute(
                """
                SELECT f.as_of, f.model, count(w.week_ending)
                FROM forecasts f LEFT JOIN forecast_weeks w USING (as_of, model)
                GROUP BY ALL
                UNION ALL
                SELECT w.as_of, w.model, -count(*)
                FROM forecast_weeks w ANTI JOIN forecasts f USING (as_of, model)
                GROUP BY ALL
                """
            ).fetchall()
            if weeks != horizon
        ]
    finally:
        con.close()


# ------------------------------------------------------------------------------------------
# Writers at once, and releases out of order


@pytest.mark.parametrize("writers", [2, 3])
def test_concurrent_writers_all_succeed(
    writers: int, release_paths: list[Path], tmp_path: Path
) -> None:
    """Two or three `crossings ingest` at once into one new store: all exit 0, all stored."""
    db = tmp_path / "crossings.duckdb"
    sources = release_paths[-writers:]
    started = [start_cli(["ingest", "--source", s, "--db", db]) for s in sources]
    runs = [finish_cli(s) for s in started]
    for run in runs:
        assert run.status == 0, run.stderr[-1500:]
        assert OUTCOMES["concurrent_writers"][1] in run.stdout
    assert sorted(name for name, _ in _publications(db)) == sorted(s.name for s in sources)
    assert consistency_problems(db) == []


def test_older_release_after_newer_is_kept_as_history(
    release_paths: list[Path], db_path: Path
) -> None:
    """The latest figures still come from the newer release; the older one is history."""
    newer, older = release_paths[-1], release_paths[-2]
    assert run_cli(["ingest", "--source", newer, "--db", db_path]).status == 0
    run = run_cli(["ingest", "--source", older, "--db", db_path])
    assert run.status == 0, run.stderr
    assert OUTCOMES["older_after_newer"][1] in run.stdout
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        sources = {
            p for (p,) in con.execute("SELECT DISTINCT publication FROM daily_arrivals").fetchall()
        }
    finally:
        con.close()
    assert sources == {newer.name}


def test_same_release_twice_is_a_no_op(latest_release: Path, store_copy: Path) -> None:
    before = snapshot(store_copy)
    run = run_cli(["ingest", "--source", latest_release, "--db", store_copy])
    assert run.status == 0, run.stderr
    assert OUTCOMES["same_release_twice"][1] in run.stdout
    assert snapshot(store_copy) == before


# ------------------------------------------------------------------------------------------
# A report folder that cannot be written


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_read_only_reports_dir_fails_clearly_and_keeps_the_report(
    store_copy: Path, release_paths: list[Path], tmp_path: Path
) -> None:
    """chmod 555 alone does not stop root, so the child also drops CAP_DAC_OVERRIDE/FOWNER
    from its capability bounding set: then the permission bits really refuse the write."""
    reports = tmp_path / "reports"
    first = run_cli(
        ["report", "--db", store_copy, "--reports-dir", reports, "--as-of", "2026-02-20"]
    )
    assert first.status == 0, first.stderr[-1500:]
    kept = _tree(reports)
    assert kept
    for folder in [reports, *[p for p in reports.rglob("*") if p.is_dir()]]:
        folder.chmod(0o555)
    try:
        probe = run_cli(["ytd", "--db", store_copy], drop_dac=True)  # the child itself works
        assert probe.status == 0, probe.stderr
        run = run_cli(["report", "--db", store_copy, "--reports-dir", reports], drop_dac=True)
    finally:
        for folder in [reports, *[p for p in reports.rglob("*") if p.is_dir()]]:
            folder.chmod(0o755)
    status, fragment = OUTCOMES["reports_dir_read_only"]
    assert_one_line_refusal(run, status, fragment, "Permission denied")
    assert _tree(reports) == kept


def test_reports_dir_that_is_a_file_fails_clearly(store_copy: Path, tmp_path: Path) -> None:
    """Another way to refuse even root: --reports-dir names an existing file."""
    target = tmp_path / "reports"
    target.write_bytes(b"not a folder")
    run = run_cli(["report", "--db", store_copy, "--reports-dir", target])
    status, fragment = OUTCOMES["reports_dir_is_a_file"]
    assert_one_line_refusal(run, status, fragment)
    assert target.read_bytes() == b"not a folder"


# ------------------------------------------------------------------------------------------
# Stopped by a signal: nothing the command started outlives it


def _descendants(pid: int) -> dict[int, str]:
    import psutil

    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return {}
    names = {}
    for child in children:
        with contextlib.suppress(psutil.Error):
            names[child.pid] = " ".join(child.cmdline())[:120]
    return names


def _alive(pids: dict[int, str]) -> dict[int, str]:
    import psutil

    alive = {}
    for pid, cmd in pids.items():
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive[pid] = cmd
        except psutil.NoSuchProcess:
            pass
    return alive


def _session_members(sid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid and fields[0] != "Z":  # session id; not a zombie
                members.append(int(entry.name))
    return members


def _stop_backfill(
    store: Path, tmp_path: Path, signum: signal.Signals, moment: str, runner: str
) -> tuple[object, dict[int, str], int]:
    """Start a backfill, send `signum` to its main process only (as a scheduler does) at
    `moment`; its run, every process it had started by then, and its pid (its session id)."""
    env = child_env(PREFECT_HOME=str(tmp_path / "prefect-home"))
    env.pop("PREFECT_API_URL", None)
    args = [
        "backfill",
        "--start",
        "2025-01-05",
        "--end",
        "2025-12-28",
        "--every",
        "1W",
        "--models",
        "seasonal_naive",
        "profile",
        "--horizon-weeks",
        "4",
        "--task-runner",
        runner,
        "--db",
        store,
    ]
    started = start_cli(args, env=env)
    pid, deadline = started[0].pid, time.monotonic() + 240
    seen: dict[int, str] = {}
    while time.monotonic() < deadline and started[0].poll() is None:
        seen |= _descendants(pid)
        server_up = any("uvicorn" in cmd for cmd in seen.values())
        if (moment == "starting" and server_up) or (
            moment == "fitting" and _forecasts_held(store) >= 1
        ):
            break
        time.sleep(0.2)
    assert started[0].poll() is None, "the backfill ended before the signal"
    seen |= _descendants(pid)
    os.kill(pid, signum)
    return finish_cli(started, timeout=120), seen, pid


def _assert_stopped_cleanly(run, seen: dict[int, str], pid: int, case: str) -> None:  # noqa: ANN001
    status, fragment = OUTCOMES[case]
    assert run.status == status, run.stderr[-2000:]
    assert "Traceback" not in run.stderr
    problems = [line for line in run.lines if line.startswith("crossings:")]
    assert len(problems) == 1 and fragment in problems[0], run.stderr[-1500:]
    deadline = time.monotonic() + 5  # children reparented a moment ago may still be exiting
    while _alive(seen) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _alive(seen) == {}, f"left running: {_alive(seen)}\n{run.stderr[-1500:]}"
    assert _session_members(pid) == []
    assert any("uvicorn" in cmd for cmd in seen.values()), seen  # the server had started


@pytest.mark.parametrize(("moment", "runner"), [("starting", "threads"), ("fitting", "processes")])
def test_sigterm_during_backfill_leaves_no_process(
    moment: str, runner: str, store_copy: Path, tmp_path: Path
) -> None:
    """SIGTERM while Prefect's server starts, or while process-pool workers fit: the command
    stops them all, exits 143 with one line, and every stored forecast is whole."""
    run, seen, pid = _stop_backfill(store_copy, tmp_path, signal.SIGTERM, moment, runner)
    print(f"SIGTERM while {moment}: {len(seen)} processes, stopped after {run.seconds:.1f} s")
    _assert_stopped_cleanly(run, seen, pid, "sigterm_during_backfill")
    assert _forecast_problems(store_copy, horizon=4) == []


def test_sigint_during_backfill_leaves_no_process(store_copy: Path, tmp_path: Path) -> None:
    """SIGINT (Ctrl-C) while fitting in threads: the same clean stop, exit 130."""
    run, seen, pid = _stop_backfill(store_copy, tmp_path, signal.SIGINT, "fitting", "threads")
    _assert_stopped_cleanly(run, seen, pid, "sigint_during_backfill")
    assert _forecast_problems(store_copy, horizon=4) == []


# ------------------------------------------------------------------------------------------
# The first run on a machine with no route to GOV.UK


def test_first_run_offline_writes_the_report_from_the_bundled_snapshot(tmp_path: Path) -> None:
    """`crossings run` as the README's first command, in an empty folder, with GOV.UK refusing
    connections and a fresh Prefect home: the report is written from the bundled snapshot, the
    run exits 10 (stale) in a few lines, with no traceback."""
    from forecasting.bundled import SNAPSHOT_NAME

    cwd = tmp_path / "fresh-clone"
    cwd.mkdir()
    env = child_env(
        CROSSINGS_GOVUK_URL=f"http://127.0.0.1:{_free_port()}",
        PREFECT_HOME=str(tmp_path / "prefect-home"),
    )
    for name in list(env):
        if (
            name.startswith("CROSSINGS_")
            and name != "CROSSINGS_GOVUK_URL"
            or (name == "PREFECT_API_URL")
        ):
            env.pop(name)
    run = run_cli(["run"], cwd=cwd, env=env, timeout=240)
    printed = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
    print(f"first run offline: {run.seconds:.1f} s, {len(printed)} lines, exit {run.status}")
    status, fragment = OUTCOMES["first_run_offline"]
    assert run.status == status, run.stderr[-2000:]
    assert "Traceback" not in run.stdout + run.stderr
    assert len(printed) <= 6, printed
    assert any(fragment in line and SNAPSHOT_NAME in line for line in printed), printed
    # the snapshot it seeded is a new publication for this store: the report line agrees
    assert "new publication: yes (the bundled snapshot)" in run.stdout, run.stdout
    assert "new publication: no" not in run.stdout
    assert any("GOV.UK could not be reached" in line and INGEST_HINT in line for line in printed)
    assert (cwd / "reports" / "index.html").is_file()
    page = (cwd / "reports" / "2026-02-26" / "index.html").read_text(encoding="utf-8")
    assert "Stale data" in page
    logs = list((cwd / "data" / "logs").glob("run-*.log"))
    assert len(logs) == 1 and f"full log: {logs[0].relative_to(cwd)}" in printed[-1]
    con = duckdb.connect(str(cwd / "data" / "crossings.duckdb"), read_only=True)
    try:
        held = con.execute("SELECT file_name, discovered_via FROM publications").fetchall()
    finally:
        con.close()
    assert held == [(SNAPSHOT_NAME, "bundled_snapshot")]
    assert run.seconds < 120, f"{run.seconds:.0f} s"
