"""Paths and names: the command writes only where --db, --reports-dir and --raw-dir point.

Each test runs the real command in an empty working folder inside a sandbox and then lists the
whole sandbox, so a stray write (a default data/ folder, a file name taken from the web with
`..` in it, an as-of date used as a path) shows up. `OUTCOMES` is checked against
RELIABILITY.md.
"""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from cli_run import (
    child_env,
    run_cli,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasting.sources.fetch import safe_file_name

OUTCOMES = {
    "as_of_not_a_date": (2, "'../../etc' is not a date like 2026-02-26"),
    "db_is_a_folder": (1, "Is a directory"),
    "db_writes_only_there": (0, "stored"),
    "reports_dir_writes_only_there": (0, "report written"),
    "web_name_with_dotdot": (0, "stored"),
}


def _listing(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    """An empty folder for the command's working directory, inside a listed sandbox."""
    (tmp_path / "cwd").mkdir()
    return tmp_path


@pytest.mark.integration
@pytest.mark.parametrize("command", ["ytd", "report", "forecast"])
def test_as_of_that_is_a_path_is_refused_by_date_parsing(
    command: str, sandbox: Path, store_copy: Path
) -> None:
    """`--as-of ../../etc` never reaches a path: date parsing refuses it in one line."""
    before = _listing(sandbox)
    run = run_cli([command, "--as-of", "../../etc", "--db", store_copy], cwd=sandbox / "cwd")
    status, fragment = OUTCOMES["as_of_not_a_date"]
    assert run.status == status
    assert "Traceback" not in run.stderr
    assert len(run.lines) == 1 and fragment in run.lines[0], run.stderr
    assert _listing(sandbox) == before


@pytest.mark.integration
def test_db_writes_only_where_it_points(sandbox: Path, latest_release: Path) -> None:
    """A new store in a new folder: that file is all that appears (no data/ under cwd)."""
    db = sandbox / "elsewhere" / "deep" / "store.duckdb"
    run = run_cli(["ingest", "--source", latest_release, "--db", db], cwd=sandbox / "cwd")
    status, fragment = OUTCOMES["db_writes_only_there"]
    assert run.status == status, run.stderr
    assert fragment in run.stdout
    extra = _listing(sandbox) - {"cwd", "elsewhere", "elsewhere/deep"}
    assert extra <= {"elsewhere/deep/store.duckdb", "elsewhere/deep/store.duckdb.wal"}, extra


@pytest.mark.integration
def test_db_that_is_a_folder_fails_in_one_line(sandbox: Path, latest_release: Path) -> None:
    folder = sandbox / "a_folder"
    folder.mkdir()
    run = run_cli(["ingest", "--source", latest_release, "--db", folder], cwd=sandbox / "cwd")
    status, fragment = OUTCOMES["db_is_a_folder"]
    assert run.status == status
    assert "Traceback" not in run.stderr
    assert len(run.lines) == 1 and fragment in run.lines[0], run.stderr
    assert _listing(folder) == set()


@pytest.mark.integration
def test_reports_dir_writes_only_inside_itself(sandbox: Path, store_copy: Path) -> None:
    """A relative --reports-dir with `..` lands exactly where it points, nowhere else."""
    before = _listing(sandbox)
    run = run_cli(
        ["report", "--db", store_copy, "--reports-dir", "../out/reports"], cwd=sandbox / "cwd"
    )
    status, fragment = OUTCOMES["reports_dir_writes_only_there"]
    assert run.status == status, run.stderr[-1500:]
    assert fragment in run.stdout
    new = _listing(sandbox) - before
    assert new and all(n == "out" or n.startswith("out/reports") for n in new), new
    assert any(n.endswith("/index.html") for n in new)


@pytest.mark.integration
def test_web_file_name_with_dotdot_stays_in_raw_dir(
    govuk_server, govuk_url: str, sandbox: Path
) -> None:
    """GOV.UK names the ODS `..%2F..%2Fevil.ods`: it is saved inside --raw-dir, nowhere else."""
    govuk_server.ods_name = "..%2F..%2F..%2Fevil.ods"
    raw = sandbox / "raw"
    db = sandbox / "db" / "store.duckdb"
    run = run_cli(
        ["ingest", "--db", db, "--raw-dir", raw],
        cwd=sandbox / "cwd",
        env=child_env(CROSSINGS_GOVUK_URL=govuk_url),
    )
    status, fragment = OUTCOMES["web_name_with_dotdot"]
    assert run.status == status, run.stderr[-1500:]
    assert fragment in run.stdout
    outside = {
        n
        for n in _listing(sandbox)
        if not (n in {"cwd", "raw", "db"} or n.startswith(("raw/", "db/")))
    }
    assert outside == set()
    assert any(n.endswith(".ods") and ".." not in n for n in _listing(raw))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(string.printable + "\u2215\uff0e\u00a0é%"), max_size=80))
def test_safe_file_name_never_escapes(name: str) -> None:
    """Whatever the web sends, the saved name is one plain component inside raw_dir."""
    safe = safe_file_name(name)
    assert safe.endswith(".ods")
    assert "/" not in safe and "\\" not in safe and not safe.startswith(".")
    assert ".." not in safe
    raw = Path("/srv/raw")
    assert (raw / safe).resolve().parent == raw
    url = safe_file_name("https://www.gov.uk/media/abc/" + name)
    assert "/" not in url and ".." not in url
