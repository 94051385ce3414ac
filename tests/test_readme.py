"""README.md stays true to the code: every setting, every exit status, the Prefect server line."""

from __future__ import annotations

import re
from pathlib import Path

from forecasting.errors import ExitStatus
from forecasting.settings import ENVIRONMENT

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _table_rows(first_cell: str) -> dict[str, str]:
    """Rows of the README's tables whose first cell matches `first_cell`: first cell -> second."""
    rows = {}
    for line in README.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) >= 2 and re.fullmatch(first_cell, cells[0]):
            rows[cells[0].strip("`")] = cells[1]
    return rows


def test_every_setting_is_documented_as_in_settings() -> None:
    documented = _table_rows(r"`CROSSINGS_[A-Z_]+`")
    assert documented == {name: text for name, (_, text) in ENVIRONMENT.items()}


def test_every_exit_status_is_documented() -> None:
    documented = _table_rows(r"\d+")
    assert set(documented) == {str(int(status)) for status in ExitStatus}


def test_the_server_line_switches_telemetry_off_and_streams_logs() -> None:
    text = README.replace("\\\n", " ")
    line = next(line for line in text.splitlines() if "prefect server start" in line)
    settings = dict(
        w.split("=", 1) for w in line.split("prefect server start")[0].split() if "=" in w
    )
    assert settings["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
    assert settings["DO_NOT_TRACK"] == "1"
    assert settings["PREFECT_SERVER_LOGS_STREAM_OUT_ENABLED"] == "true"


def test_files_the_readme_names_exist() -> None:
    root = Path(__file__).resolve().parents[1]
    for name in re.findall(r"`((?:forecasting|flows|docs|benchmarks)/[\w./-]+)`", README):
        assert (root / name).exists(), name
