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
}
BATCH = ("ingest_a_folder", "batch_with_a_bad_file")
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
