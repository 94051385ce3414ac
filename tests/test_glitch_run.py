"""The daily page's published glitches, in sequence with good pages and releases, through the
real `crossings run`: every real figure stored, every repair recorded, each run a report.

The glitched pages are made here from the real captures in ../shared/data (the same transforms
as tests/test_page.py: the table as markdown text, the header row as text above the table, a row
with the wrong year, a day missing, eight rows); nothing is copied into the repository.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from test_page import HEADER, _capture, _markdown_lines, _real_rows, _replace_table, _table_span

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _markdown(html: str) -> str:
    return _replace_table(html, "<p>" + "\n".join(_markdown_lines(_real_rows(html))) + "</p>")


def _header_as_text(html: str) -> str:
    start, end = _table_span(html)
    headless = re.sub(r"<thead>.*?</thead>", "", html[start:end], flags=re.S)
    return html[:start] + "<p>| " + " | ".join(HEADER) + " |</p>\n" + headless + html[end:]


def _day_missing(html: str, day: str) -> str:
    row = re.search(rf"<tr>\s*<th scope=\"row\">{day}</th>.*?</tr>", html, re.S)
    assert row is not None
    return html.replace(row.group(0), "")


def _eight_rows(html: str, earlier: str, day: str) -> str:
    (extra,) = [r for r in _real_rows(earlier)[1:] if r[0] == day]
    cells = f'<th scope="row">{extra[0]}</th>' + "".join(f"<td>{c}</td>" for c in extra[1:])
    return html.replace("<tbody>", f"<tbody><tr>{cells}</tr>", 1)


def _real_figures(pages: list[str]) -> dict[date, int]:
    """date -> migrants arrived, read from the untouched captures with a regex."""
    out = {}
    for html in pages:
        for row in _real_rows(html)[1:]:
            out[datetime.strptime(row[0], "%d %B %Y").date()] = int(row[1])
    return out


def test_glitched_pages_in_sequence_are_stored_with_their_repairs(
    tmp_path: Path, prefect_api: str, release_paths: list[Path], page_paths: list[Path]
) -> None:
    release = {p.name[:16]: p for p in release_paths}
    capture = {d: _capture(page_paths, d) for d in ("2026-02-22", "2026-02-24", "2026-02-25",
                                                     "2026-02-26", "2026-02-28")}  # fmt: skip
    glitched = {
        "2026-02-22-markdown.html": _markdown(capture["2026-02-22"]),
        "2026-02-24-header-as-text.html": _header_as_text(capture["2026-02-24"]),
        "2026-02-25-wrong-year.html": capture["2026-02-25"].replace(
            ">22 February 2026<", ">22 February 2025<"
        ),
        "2026-02-26-day-missing.html": _day_missing(capture["2026-02-26"], "21 February 2026"),
        "2026-02-28-eight-rows.html": _eight_rows(
            capture["2026-02-28"], capture["2026-02-26"], "20 February 2026"
        ),
    }
    folder = tmp_path / "incoming"
    folder.mkdir()
    for name, html in glitched.items():
        (folder / name).write_text(html, encoding="utf-8")
    sequence = [
        release["20_February_2026"],  # the reissue (_v2): the real folder holds only that
        folder / "2026-02-22-markdown.html",
        folder / "2026-02-24-header-as-text.html",
        folder / "2026-02-25-wrong-year.html",
        folder / "2026-02-26-day-missing.html",
        release["27_February_2026"],
        folder / "2026-02-28-eight-rows.html",
    ]
    db, reports = tmp_path / "crossings.duckdb", tmp_path / "reports"
    env = {
        **os.environ,
        "PREFECT_API_URL": prefect_api,
        "CROSSINGS_STALE_AFTER_DAYS": "100000",  # the shared figures are months old
        "CROSSINGS_LOG_DIR": str(tmp_path / "logs"),
    }
    for source in sequence:
        command = [sys.executable, "-m", "flows.cli", "run", "--source", str(source)]
        command += ["--db", str(db), "--reports-dir", str(reports)]
        done = subprocess.run(
            command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, f"{source.name}: {done.stderr[-2000:]}"
        assert "report written" in done.stdout + done.stderr
        assert "Traceback" not in done.stdout + done.stderr
        assert (reports / "index.html").is_file()

    con = duckdb.connect(str(db), read_only=True)
    try:
        held = dict(con.execute("SELECT file_name, repairs FROM publications").fetchall())
        values = con.execute(
            "SELECT p.file_name, v.date, v.migrants_arrived FROM daily_values v "
            "JOIN publications p USING (publication_id) WHERE p.kind = 'last_7_days'"
        ).fetchall()
    finally:
        con.close()
    assert set(held) == {p.name for p in sequence}
    # every repair is recorded in the publication's provenance, and only where one was made
    assert any("markdown" in r for r in held["2026-02-22-markdown.html"])
    assert any("column headings" in r for r in held["2026-02-24-header-as-text.html"])
    assert any("as 22 February 2026" in r for r in held["2026-02-25-wrong-year.html"])
    assert any("no figures for 21 February 2026" in r for r in held["2026-02-26-day-missing.html"])
    assert list(held["2026-02-28-eight-rows.html"]) == []
    # every real figure each page gave is stored as published, and nothing was invented
    truth = _real_figures([*capture.values()])
    for name in glitched:
        stored = {day: n for file, day, n in values if file == name}
        assert stored and all(truth[day] == n for day, n in stored.items()), name
    missing = {day for file, day, _ in values if file == "2026-02-26-day-missing.html"}
    assert date(2026, 2, 21) not in missing and len(missing) == 6
