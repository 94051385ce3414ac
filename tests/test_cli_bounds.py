"""Every argument of the `crossings` command is bounded: refused in one line, exit 2, at once.

Each case runs the real command in a fresh interpreter (tests/cli_run.py) against a store holding
the 27 February 2026 release, and checks that it is refused before any work: one line on stderr,
no traceback, the store unchanged, in seconds and without the memory a runaway run would take
(a horizon of 10^11 weeks once meant an OverflowError or gigabytes). `OUTCOMES` is checked
against RELIABILITY.md ("Arguments").
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cli_run import assert_one_line_refusal, child_env, run_cli, snapshot

from forecasting.calendar import london_today

pytestmark = pytest.mark.integration  # each case runs the command in its own interpreter

# case id -> (exit status, fragment of the one stderr line, or of stdout when the status is 0)
OUTCOMES = {
    "horizon_too_long": (2, "105 is outside 1 to 104"),
    "horizon_huge": (2, "99999999999 is outside 1 to 104"),
    "as_of_in_the_future": (2, "2099-01-01 is after today"),
    "as_of_before_2018": (2, "2017-12-31 is before the figures start (2018-01-01)"),
    "forecast_after_the_figures": (2, "is after the last day with figures (26 February 2026)"),
    "backfill_after_the_figures": (2, "--end: 2026-03-31 is after the last day with figures"),
    "every_unbounded": (2, "'99999999999W' is not a step like 1W, 4W or 7D"),
    "every_over_a_year": (2, "'53W' is outside 1 day to 52 weeks"),
    "every_not_whole_weeks": (2, "'3D': origins are Sundays, so use whole weeks"),
    "unknown_model_backtest": (2, "unknown model(s) oracle; known: ensemble, profile"),
    "unknown_model_backfill": (2, "unknown model(s) oracle; known: ensemble, profile"),
    "malformed_setting": (2, "CROSSINGS_LOCK_WAIT_SECONDS='soon' is not a valid float"),
    "ingest_a_folder": (0, "now the latest"),
    "batch_with_a_bad_file": (2, "damaged or truncated"),
    "run_missing_source": (2, "cannot be read (No such file or directory)"),
    "run_source_off_site": (2, "is not GOV.UK"),
    "run_folder_of_no_publications": (2, "the folder holds no .ods or .html publications"),
    "folder_skips_named": (0, "a .txt file, not a publication"),
}
# Cases with tests of their own (below), not the generic one
BATCH = ("ingest_a_folder", "batch_with_a_bad_file", "run_missing_source", "run_source_off_site",
         "run_folder_of_no_publications", "folder_skips_named")  # fmt: skip
RANGE = ["--start", "2025-06-01", "--end", "2025-06-30"]
ARGS = {
    "horizon_too_long": ["forecast", "--horizon-weeks", "105"],
    "horizon_huge": ["forecast", "--horizon-weeks", "99999999999"],
    "as_of_in_the_future": ["forecast", "--as-of", "2099-01-01"],
    "as_of_before_2018": ["ytd", "--as-of", "2017-12-31"],
    "forecast_after_the_figures": ["forecast", "--as-of", london_today().isoformat()],
    "backfill_after_the_figures": ["backfill", "--start", "2026-02-01", "--end", "2026-03-31"],
    "every_unbounded": ["backfill", *RANGE, "--every", "99999999999W"],
    "every_over_a_year": ["backtest", *RANGE, "--every", "53W"],
    "every_not_whole_weeks": ["backtest", *RANGE, "--every", "3D"],
    "unknown_model_backtest": ["backtest", *RANGE, "--models", "ensemble", "oracle"],
    "unknown_model_backfill": ["backfill", *RANGE, "--models", "ensemble", "oracle"],
    "malformed_setting": ["ytd"],
}
ENV = {"malformed_setting": {"CROSSINGS_LOCK_WAIT_SECONDS": "soon"}}


@pytest.mark.parametrize("case", [case for case in OUTCOMES if case not in BATCH])
def test_argument_out_of_bounds_is_refused(case: str, store_copy: Path) -> None:
    before = snapshot(store_copy)
    run = run_cli([*ARGS[case], "--db", store_copy], env=child_env(**ENV.get(case, {})))
    status, fragment = OUTCOMES[case]
    assert_one_line_refusal(run, status, fragment)
    assert snapshot(store_copy) == before
    # Refused before any work: no Prefect start-up, no fit, no runaway memory.
    assert run.seconds < 15, f"{run.seconds:.1f} s"
    assert run.peak_mb < 400, f"{run.peak_mb:.0f} MB"


def test_a_folder_is_ingested_oldest_publication_first(
    release_paths: list[Path], tmp_path: Path
) -> None:
    """`--source FOLDER` (or several files): stored in release order whatever the listing."""
    folder = tmp_path / "downloads"
    folder.mkdir()
    chosen = [release_paths[-1], release_paths[0], release_paths[-2]]
    for path in chosen:
        shutil.copy(path, folder / path.name)
    db = tmp_path / "crossings.duckdb"
    run = run_cli(["ingest", "--source", folder, "--db", db])
    status, fragment = OUTCOMES["ingest_a_folder"]
    assert run.status == status, run.stderr
    lines = run.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == [p.name for p in release_paths if p in chosen]
    assert all("stored" in line and fragment in line for line in lines), lines


def test_one_bad_file_in_a_batch_changes_nothing(
    release_paths: list[Path], store_copy: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "broken.ods"
    bad.write_bytes(release_paths[0].read_bytes()[:1000])
    before = snapshot(store_copy)
    run = run_cli(["ingest", "--source", release_paths[-2], bad, "--db", store_copy])
    status, fragment = OUTCOMES["batch_with_a_bad_file"]
    assert_one_line_refusal(run, status, "broken.ods", fragment)
    assert snapshot(store_copy) == before


# ------------------------------------------------------------------------------------------
# `run` checks its --source before Prefect starts; a folder names what it skips

# A fresh interpreter that runs `crossings ARGS` and reports, through Python's audit hooks (the
# runtime's own events, nothing replaced), every process it started and whether Prefect was
# ever imported: a temporary Prefect server is a process started after importing Prefect.
WATCHED = """
import json, sys
started = []
SPAWNS = {"subprocess.Popen", "os.posix_spawn", "os.fork", "os.forkpty", "os.exec", "os.system"}
sys.addaudithook(lambda event, args: event in SPAWNS and started.append(event))
from flows.cli import main
status = main(sys.argv[1:])
print(json.dumps({"status": status, "started": started, "prefect": "prefect" in sys.modules}))
"""
RUN_SOURCE = {
    "run_missing_source": lambda tmp: str(tmp / "no_such_release.ods"),
    "run_source_off_site": lambda tmp: "https://example.org/release.ods",
    "run_folder_of_no_publications": lambda tmp: str(_folder_of_other_files(tmp)),
}
OTHER_FILES = {"notes.txt": "a .txt file", "figures.csv": "a .csv file", "README": "no extension"}


def _folder_of_other_files(tmp: Path) -> Path:
    folder = tmp / "downloads"
    (folder / "older").mkdir(parents=True)
    for name in OTHER_FILES:
        (folder / name).write_text("not a publication\n")
    return folder


@pytest.mark.parametrize("case", list(RUN_SOURCE))
def test_run_refuses_a_bad_source_before_prefect_starts(
    case: str, store_copy: Path, tmp_path: Path
) -> None:
    import json
    import subprocess
    import sys

    before = snapshot(store_copy)
    args = ["run", "--source", RUN_SOURCE[case](tmp_path), "--db", str(store_copy),
            "--reports-dir", str(tmp_path / "reports")]  # fmt: skip
    env = child_env(CROSSINGS_LOG_DIR=str(tmp_path / "logs"))
    done = subprocess.run([sys.executable, "-c", WATCHED, *args], env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    report = json.loads(done.stdout.splitlines()[-1])
    status, fragment = OUTCOMES[case]
    errors = [line for line in done.stderr.splitlines() if line.strip()]
    assert report["status"] == status and len(errors) == 1, done.stderr
    assert errors[0].startswith("crossings: ") and fragment in errors[0]
    assert report["prefect"] is False  # Prefect never imported, so no server started
    assert report["started"] == []  # and no process of any kind
    assert not (tmp_path / "logs").exists() and not (tmp_path / "reports").exists()
    assert snapshot(store_copy) == before


def test_a_folder_ingest_names_every_file_it_skips(latest_release: Path, tmp_path: Path) -> None:
    folder = _folder_of_other_files(tmp_path)
    shutil.copy(latest_release, folder / latest_release.name)
    run = run_cli(["ingest", "--source", folder, "--db", tmp_path / "crossings.duckdb"])
    status, fragment = OUTCOMES["folder_skips_named"]
    assert run.status == status, run.stderr
    skipped = [line for line in run.stdout.splitlines() if line.startswith("skipped ")]
    assert len(skipped) == len(OTHER_FILES) + 1, run.stdout  # the files and the subfolder
    for name, why in OTHER_FILES.items():
        (line,) = [s for s in skipped if s.startswith(f"skipped {folder / name}: ")]
        assert why in line and "not a publication" in line
    assert any(fragment in line for line in skipped)
    assert any(s.startswith(f"skipped {folder / 'older'}: a folder") for s in skipped)
    assert any(latest_release.name in line and "stored" in line for line in run.stdout.splitlines())
