"""A store held by another process: the command says so at once, then waits its turn.

Another real process holds DuckDB's lock on the store file for a few seconds; the command (the
real `main`, in this interpreter) prints one line naming the wait, the holder's pid and the
limit, then finishes normally once the lock is free.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration  # a second process holds the store's lock

HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("held", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


@pytest.fixture
def held_store(store_copy: Path) -> Iterator[tuple[Path, int]]:
    """The store, its lock held by another process for 4 s; (path, that process's pid)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(store_copy), "4"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield store_copy, holder.pid
    finally:
        holder.wait(timeout=60)


def test_waiting_for_a_held_store_is_said_at_once(
    held_store: tuple[Path, int], crossings, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, pid = held_store
    monkeypatch.setenv("CROSSINGS_LOCK_WAIT_SECONDS", "120")
    run = crossings(["ytd", "--as-of", "2026-02-26", "--db", db])
    assert run.status == 0, run.stderr
    assert run.lines == [
        f"waiting for the store, held by another process (pid {pid}); up to 120 s, "
        "CROSSINGS_LOCK_WAIT_SECONDS"
    ]
    assert "2026" in run.stdout  # then the command did its work
