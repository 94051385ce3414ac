"""The `crossings` commands that need no Prefect: forecast, backtest, report, and argument errors.

`run` and `backfill` go through Prefect and are tested in test_flows.py and test_overlap.py; the
bounds on every argument, through the real command, in test_cli_bounds.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from flows.cli import main
from forecasting.models import DEFAULT_MODELS

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("prefect", "prophet", "plotly", "statsmodels")


@pytest.fixture
def store(store_copy: Path) -> Path:
    """A private store holding the 27 February 2026 release."""
    return store_copy


def _imports_after(argv: list[str]) -> tuple[int, list[str]]:
    """Run `crossings <argv>` in a fresh interpreter; its exit status and heavy modules loaded."""
    code = (
        "import sys\n"
        "from flows.cli import main\n"
        f"status = main({argv!r})\n"
        f"print('HEAVY', [m for m in {HEAVY!r} if m in sys.modules])\n"
        "sys.exit(status)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    line = [x for x in done.stdout.splitlines() if x.startswith("HEAVY")][-1]
    return done.returncode, eval(line.removeprefix("HEAVY "))  # a list literal we printed


@pytest.mark.integration
def test_library_commands_do_not_start_prefect(
    store: Path, tmp_path: Path, latest_release: Path
) -> None:
    status, heavy = _imports_after(["ingest", "--source", str(latest_release), "--db", str(store)])
    assert (status, heavy) == (0, [])
    status, heavy = _imports_after(["ytd", "--db", str(store)])
    assert (status, heavy) == (0, [])
    status, heavy = _imports_after(
        [
            "forecast",
            "--as-of",
            "2026-02-26",
            "--db",
            str(store),
            "--horizon-weeks",
            "2",
            "--output",
            str(tmp_path / "f.json"),
        ]
    )
    assert status == 0 and "prefect" not in heavy  # (prophet itself imports plotly)
    # Argument mistakes are caught before anything heavy is imported.
    status, heavy = _imports_after(
        ["backfill", "--start", "2025-06-01", "--end", "2025-06-30", "--every", "1M"]
    )
    assert (status, heavy) == (2, [])


def test_forecast_writes_exactly_the_json_contract(store: Path, tmp_path: Path) -> None:
    from forecasting.forecast import PRODUCTION_MODEL
    from forecasting.store import read_frame

    out = tmp_path / "forecast.json"
    argv = ["forecast", "--as-of", "2026-02-26", "--db", str(store), "--output", str(out)]
    assert main(argv) == 0
    payload = json.loads(out.read_text())
    # the contract's fields, in their order; later additions come after them
    assert list(payload)[:4] == ["as_of", "model", "weekly", "year_end"]
    assert payload["data_through"] == "2026-02-26"
    assert payload["as_of"] == "2026-02-26" and payload["model"] == PRODUCTION_MODEL
    assert len(payload["weekly"]) == 13
    assert payload["weekly"][0]["week_ending"] == "2026-03-01"
    for week in payload["weekly"]:
        assert list(week)[:5] == ["week_ending", "mean", "p10", "p50", "p90"]
        assert week["p10"] <= week["p50"] <= week["p90"]
    year_end = payload["year_end"]
    assert list(year_end) == ["year", "observed_ytd", "mean", "p10", "p50", "p90", "prob_exceeds"]
    assert (year_end["year"], year_end["observed_ytd"]) == (2026, 2209)
    assert {"2025", "2024"} <= set(year_end["prob_exceeds"])
    assert all(0 <= p <= 1 for p in year_end["prob_exceeds"].values())

    held = read_frame(str(store), "SELECT model, production, year_end_p50 FROM forecasts")
    assert len(held) == len(DEFAULT_MODELS) and held["production"].sum() == 1
    production = held[held["production"]].iloc[0]
    assert production["model"] == PRODUCTION_MODEL
    assert production["year_end_p50"] == pytest.approx(year_end["p50"])


def test_forecast_to_stdout_is_only_json(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from forecasting.store import read_frame

    argv = ["forecast", "--as-of", "2026-01-31", "--db", str(store), "--horizon-weeks", "4"]
    assert main(argv) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["as_of"] == "2026-01-31" and len(payload["weekly"]) == 4
    # Seeded: the same forecast twice is the same JSON; the second is read back from the store
    # (held from the same publications), as the flows do, not fitted again.
    created = read_frame(str(store), "SELECT created_at FROM forecasts")["created_at"].tolist()
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out) == payload
    assert read_frame(str(store), "SELECT created_at FROM forecasts")["created_at"].tolist() == (
        created
    )
    # --force refits (same figures, new rows).
    assert main([*argv, "--force"]) == 0
    assert json.loads(capsys.readouterr().out) == payload
    refitted = read_frame(str(store), "SELECT created_at FROM forecasts")["created_at"].tolist()
    assert refitted != created


@pytest.mark.parametrize(
    "argv",
    [
        ["forecast", "--as-of", "26/02/2026"],
        ["forecast", "--as-of", "2026-02-26", "--horizon-weeks", "0"],
        ["backfill", "--start", "2025-06-01"],
        ["backfill", "--start", "2025-08-01", "--end", "2025-06-01"],
        ["backfill", "--start", "2025-06-01", "--end", "2025-06-30", "--models", "oracle"],
        ["backfill", "--start", "2025-06-01", "--end", "2025-06-30", "--dask-address", "tcp://x:1"],
        ["backtest", "--start", "2025-06-01", "--end", "2025-06-30", "--every", "2M"],
        ["backtest", "--start", "2025-06-01", "--end", "2025-06-30", "--year-end-years", "2025-21"],
        ["backtest", "--start", "2025-06-01", "--end", "2025-06-30", "--models", "oracle"],
        ["backtest", "--start", "2025-06-01", "--end", "2025-06-30", "--every", "3D"],
        ["forecast", "--as-of", "2026-02-27"],
        ["forecast", "--horizon-weeks", "105"],
        ["ytd", "--as-of", "2026-03-01"],
    ],
)
def test_bad_arguments_are_one_line_exit_2(
    argv: list[str], store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        status = main([*argv, "--db", str(store)])
        raise SystemExit(status)
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2
    assert len(err) == 1 and err[0].startswith("crossings"), err


def test_forecast_with_no_data_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["forecast", "--as-of", "2026-02-26", "--db", str(tmp_path / "empty.duckdb")]) == 1
    assert "no figures" in capsys.readouterr().err


def test_backtest_stores_three_tables_and_prints_scores(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from forecasting.store import read_frame

    argv = [
        "backtest",
        "--start",
        "2025-09-01",
        "--end",
        "2025-10-31",
        "--every",
        "4W",
        "--models",
        "seasonal_naive",
        "ensemble",
        "--db",
        str(store),
    ]
    assert main([*argv, "--thursdays"]) == 0
    out = capsys.readouterr().out
    assert "| seasonal_naive |" in out and "| ensemble |" in out
    scores = read_frame(str(store), "SELECT * FROM backtest_scores")
    assert set(scores["model"]) == {"seasonal_naive", "ensemble"}
    forecasts = read_frame(
        str(store), "SELECT DISTINCT as_of, origin_kind FROM backtest_forecasts ORDER BY 1"
    )
    assert [(d.date(), k) for d, k in forecasts.itertuples(index=False)] == [
        (date(2025, 9, 4), "thursday"),
        (date(2025, 9, 7), "sunday"),
        (date(2025, 10, 2), "thursday"),
        (date(2025, 10, 5), "sunday"),
    ]
    year_end = read_frame(str(store), "SELECT DISTINCT as_of FROM backtest_year_end")
    assert list(year_end["as_of"].dt.date) == [date(2025, 9, 30)]
    assert "year-end MAPE" in out and "/1 |" in out  # MAPE and hits out of one case
    runs = read_frame(str(store), "SELECT run_id FROM backtest_runs")
    assert runs["run_id"].tolist() == [1] and "backtest run 1" in out
    # Running it again replaces the same rows rather than adding to them.
    assert main([*argv, "--thursdays"]) == 0
    again = read_frame(str(store), "SELECT count(*) AS n FROM backtest_scores")
    assert again["n"].iloc[0] == 2
    # Year-end origins can come from years outside the weekly range.
    assert main([*argv, "--year-end-years", "2024-2024"]) == 0
    year_end = read_frame(str(store), "SELECT DISTINCT as_of FROM backtest_year_end ORDER BY 1")
    assert [d.date() for d in year_end["as_of"]] == [
        date(2024, 3, 31),
        date(2024, 6, 30),
        date(2024, 9, 30),
        date(2025, 9, 30),
    ]


def test_as_of_reads_for_backtest_match_the_store(store: Path) -> None:
    """Backtests read once per span of publications; each origin still sees only its past."""
    from forecasting.operations.as_of_reader import AsOfReader
    from forecasting.store import read_as_of

    reader = AsOfReader(store, date(2025, 12, 31))
    for d in (date(2025, 3, 2), date(2025, 9, 30), date(2025, 12, 31)):
        assert reader.daily(d).equals(read_as_of(store, d).daily)
        assert reader.daily(d)["date"].max() == d
    assert reader.reads == 1


def test_report_command_writes_index(store: Path, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    env_db = os.environ.get("CROSSINGS_DB")
    assert main(["report", "--db", str(store), "--reports-dir", str(reports)]) == 0
    assert (reports / "index.html").is_file()
    assert (reports / "2026-02-26" / "index.html").is_file()
    assert os.environ.get("CROSSINGS_DB") == env_db


def test_backtest_takes_the_same_every_as_backfill(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One --every grammar: 7D is one week for a backtest as for a backfill."""
    from forecasting.store import read_frame

    argv = [
        "backtest",
        "--start",
        "2025-09-01",
        "--end",
        "2025-09-30",
        "--every",
        "7D",
        "--models",
        "seasonal_naive",
        "--db",
        str(store),
    ]
    assert main(argv) == 0
    assert "every 7D" in capsys.readouterr().out
    origins = read_frame(str(store), "SELECT DISTINCT as_of FROM backtest_forecasts ORDER BY 1")
    assert [d.date() for d in origins["as_of"]] == [
        date(2025, 9, 7),
        date(2025, 9, 14),
        date(2025, 9, 21),
        date(2025, 9, 28),
    ]


def test_help_lists_the_library_models(capsys: pytest.CaptureFixture[str]) -> None:
    from forecasting.models import MODEL_NAMES

    for command in ("backtest", "backfill"):
        assert main([command, "--help"]) == 0
        text = " ".join(capsys.readouterr().out.split())
        assert ", ".join(MODEL_NAMES) in text, text
