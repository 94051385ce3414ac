"""The store on a full disk: the real cause in one line, and the last complete state kept.

A real filesystem fills up: a small tmpfs mounted for the test (it needs root, as the
project's machines and CI run; elsewhere the test skips and says why), topped up with a filler
file so the next write cannot fit. `OUTCOMES` states what each case asserts; RELIABILITY.md is
checked against it (tests/test_bad_input.py).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_run import assert_one_line_refusal, consistency_problems, run_cli, snapshot

from forecasting.ingest import ingest_source

pytestmark = pytest.mark.integration

OUTCOMES = {
    "disk_full_ingest": (1, "No space left on device"),
    "disk_full_export": (1, "No space left on device"),
}
LEFT_FREE = 64 << 10  # bytes left after the filler: far less than a release needs


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MB tmpfs of our own, unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)],
        capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(mount: Path) -> Path:
    """Take all but LEFT_FREE bytes of the filesystem."""
    stat = os.statvfs(mount)
    free = stat.f_bavail * stat.f_frsize
    filler = mount / "filler"
    with filler.open("wb") as handle:
        handle.write(b"\0" * max(free - LEFT_FREE, 0))
    return filler


def grow(mount: Path) -> None:
    subprocess.run(["mount", "-o", "remount,size=256m", str(mount)], check=True)


def test_disk_full_during_ingest_says_so_and_keeps_the_store(
    small_disk: Path, release_paths: list[Path]
) -> None:
    db = small_disk / "crossings.duckdb"
    ingest_source(db, release_paths[0])
    before = snapshot(db)
    fill(small_disk)

    run = run_cli(["ingest", "--source", release_paths[-1], "--db", db])
    status, fragment = OUTCOMES["disk_full_ingest"]
    assert_one_line_refusal(run, status, fragment, "crossings.duckdb")
    assert "cannot rollback" not in run.stderr

    grow(small_disk)  # room again: the store opens with its last complete state
    assert consistency_problems(db) == []
    assert snapshot(db) == before
    rerun = run_cli(["ingest", "--source", release_paths[-1], "--db", db])
    assert rerun.status == 0 and "stored" in rerun.stdout, rerun.stderr


def test_disk_full_during_export_says_so_and_keeps_the_last_export(
    small_disk: Path, latest_store: Path, tmp_path: Path
) -> None:
    out = small_disk / "export"
    first = run_cli(["export", "--db", latest_store, out])
    assert first.status == 0, first.stderr
    kept = {p.name: p.read_bytes() for p in out.iterdir()}
    fill(small_disk)

    run = run_cli(["export", "--db", latest_store, out])
    status, fragment = OUTCOMES["disk_full_export"]
    assert_one_line_refusal(run, status, fragment)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == kept
    assert sorted(p.name for p in small_disk.iterdir()) == ["export", "filler"]  # no leftovers
