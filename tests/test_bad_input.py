"""Bad input through the real `crossings ingest` command: refused in one line, store untouched.

Every case runs the command's `main` against a copy of a store that already holds a real
release, and checks: exit status 2, one line on stderr naming the file and the problem, no
traceback, the store's tables identical before and after. The cases where memory or the
terminal are at stake (bombs, endless and oversized files, hostile names) run again in the
integration tier as the console command in a fresh interpreter, where the child's peak RSS
(measured with os.wait4) must stay under MEMORY_CEILING_MB. `CASES` is the single source of
truth for the expected outcomes; `test_reliability_md_matches_the_tests` fails when
RELIABILITY.md disagrees.
"""

from __future__ import annotations

import ast
import os
import random
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from cli_run import (
    MEMORY_CEILING_MB,
    Run,
    assert_one_line_refusal,
    run_cli,
    snapshot,
)
from ods_factory import (
    SB01_HEADER,
    content_xml,
    daily_rows,
    release_name,
    set_member_header,
    weekly_rows,
    write_ods,
    write_release,
    write_zip_bomb,
)

from forecasting.sources.archive import MAX_SHEET_CELLS
from forecasting.sources.checks import london_today

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
BOMB_BYTES = 512 << 20  # what the zip bombs' content.xml expands to


# ------------------------------------------------------------------------------------------
# Hostile files


def _release_with(folder: Path, change: Callable[[list[list[Any]]], None], **kw: Any) -> Path:
    """A made-up release through yesterday, with `change` applied to its SB_01 rows."""
    released = london_today()
    daily = daily_rows(released - timedelta(days=1))
    weekly = weekly_rows(daily)
    change(daily)
    return write_release(folder, released, daily=daily, weekly=weekly, **kw)


def _set(row: int, column: int, value: Any) -> Callable[[list[list[Any]]], None]:
    def change(rows: list[list[Any]]) -> None:
        rows[row][column] = value

    return change


def _zip_with_content(path: Path, head: bytes, pad: int, *, member: str = "content.xml") -> None:
    """An ODS whose `member` is `head` then `pad` spaces, deflated while streaming (~1000:1)."""
    write_zip_bomb(path, head, pad, member=member, rest=content_xml({"SB_01": [SB01_HEADER]}))


def _tiny_content() -> bytes:
    return content_xml({"SB_01": daily_rows(date(2018, 1, 3))}).encode()


@pytest.fixture(scope="session")
def bomb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Zip bombs, built once per session (each ~0.5 MB on disk, 512 MB unpacked)."""
    folder = tmp_path_factory.mktemp("bombs")
    honest = folder / "zip_bomb.ods"
    _zip_with_content(honest, _tiny_content(), BOMB_BYTES)
    _lie_about_size(honest, folder / "zip_bomb_lying_sizes.ods")
    _zip_with_content(folder / "mimetype_bomb.ods", b"", BOMB_BYTES, member="mimetype")
    return folder


def _lie_about_size(source: Path, target: Path) -> None:
    """Copy a bomb, its headers claiming content.xml is only the small valid document it opens
    with (CRC made to match), so a reader trusting the headers checks a harmless file."""
    head = _tiny_content()
    target.write_bytes(source.read_bytes())
    set_member_header(target, "content.xml", crc=zlib.crc32(head), size=len(head))


BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
        for i in range(1, 10)
    )
    + "]>\n"
)


def _billion_laughs(folder: Path) -> Path:
    body = content_xml({"SB_01": [SB01_HEADER, [date(2018, 1, 1), "&lol9;", 1, 0, ""]]})
    body = body.split("?>", 1)[1].replace("&amp;lol9;", "&lol9;")
    return write_ods(folder / "billion_laughs.ods", {}, content=BILLION_LAUGHS + body)


def _repeat_bomb(folder: Path) -> Path:
    """Under 1 kB: one filled cell repeated over 9,000 rows x 10,000 columns (90M cells)."""
    cells = "".join(
        f'<table:table-cell office:value-type="string"><text:p>{h}</text:p></table:table-cell>'
        for h in SB01_HEADER
    )
    body = (
        f'<table:table table:name="SB_01"><table:table-row>{cells}</table:table-row>'
        '<table:table-row table:number-rows-repeated="9000">'
        '<table:table-cell table:number-columns-repeated="10000" office:value-type="float" '
        'office:value="1"><text:p>1</text:p></table:table-cell></table:table-row></table:table>'
    )
    content = content_xml({}).replace("</office:spreadsheet>", body + "</office:spreadsheet>")
    return write_ods(folder / "repeat_bomb.ods", {}, content=content)


def _duplicate_member(folder: Path) -> Path:
    """Two content.xml members: a clean one and one with a DTD; readers may pick either."""
    path = folder / "duplicate_member.ods"
    write_release(folder, london_today(), name=path.name)
    with (
        pytest.warns(UserWarning, match="Duplicate name"),
        zipfile.ZipFile(path, "a") as archive,
    ):
        archive.writestr("content.xml", BILLION_LAUGHS + "<a/>")
    return path


def _with_weekly(folder: Path, change: Callable[[list[list[Any]]], None], **kw: Any) -> Path:
    """A made-up release through yesterday, with `change` applied to its SB_02 rows."""
    released = kw.pop("released", london_today())
    daily = daily_rows(released - timedelta(days=1))
    weekly = weekly_rows(daily)
    change(weekly)
    return write_release(folder, released, daily=daily, weekly=weekly, **kw)


def _weeks_past_today(rows: list[list[Any]]) -> None:
    """Add SB_02 weeks (all zeros) until one ends after today."""
    while rows[-1][0] <= london_today():
        rows.append([rows[-1][0] + timedelta(days=7), 0, 0, 0, "-", "-", ""])


def _named_for(folder: Path, released: date) -> Path:
    """A release with data through yesterday, named for `released`."""
    return write_release(folder, released, daily=daily_rows(london_today() - timedelta(days=1)))


def _page_updated(folder: Path, page: Path, stamp: str) -> Path:
    text = page.read_text(encoding="utf-8")
    changed = re.sub(r'(name="govuk:updated-at" content=")[^"]+"', rf'\g<1>{stamp}"', text)
    assert changed != text
    target = folder / page.name
    target.write_text(changed, encoding="utf-8")
    return target


CONTROL_NAME = "evil\x1b[2J\x1b]0;pwned\x07\n.ods"  # clears the screen, retitles the terminal
NOT_UTF8_NAME = os.fsdecode(b"27_February_2026_Small_boats_-_time_series\xff.ods")


def _copy(source: Path, target: Path) -> Path:
    target.write_bytes(source.read_bytes())
    return target


def _changed_page(folder: Path, page: Path) -> Path:
    text = page.read_text(encoding="utf-8")
    assert "Migrants arrived" in text or "migrants arrived" in text.lower()
    changed = re.sub("(?i)migrants arrived", "People detected", text)
    target = folder / page.name
    target.write_text(changed, encoding="utf-8")
    return target


def _oversized_page(folder: Path) -> Path:
    """A 5 GB sparse file named .html: must be refused by size, never read into memory."""
    path = folder / "2026-02-28.html"
    with path.open("wb") as handle:
        handle.truncate(5 << 30)
    return path


def _truncated(folder: Path, latest: Path) -> Path:
    data = latest.read_bytes()
    return _write(folder / latest.name, data[: len(data) // 2])


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


ERROR_PAGE = (
    b"<!DOCTYPE html>\n<html lang='en'><head><title>Sorry, we're experiencing technical "
    b"difficulties - GOV.UK</title></head><body><h1>Sorry, we're experiencing technical "
    b"difficulties</h1><p>Please try again in a few moments.</p></body></html>\n"
)


@dataclass(frozen=True)
class Case:
    """One bad input: how it is made, and the outcome RELIABILITY.md states for it."""

    id: str
    input: str  # what the file is, for RELIABILITY.md
    status: int
    fragment: str  # appears in the one stderr line (or in stdout when accepted)
    make: Callable[[Path, dict[str, Path]], Path]
    shown: str | None = None  # how the file name is shown, when it must be escaped
    also: tuple[str, ...] = ()  # more fragments the line must hold (not in RELIABILITY.md)


CASES: list[Case] = [
    Case(
        "empty_file",
        "0-byte .ods",
        2,
        "is empty (0 bytes)",
        lambda d, r: _write(d / release_name(london_today()), b""),
    ),
    Case(
        "random_bytes",
        "4 kB of random bytes as .ods",
        2,
        "not a zip archive",
        lambda d, r: _write(d / "random.ods", random.Random(7).randbytes(4096)),
    ),
    Case(
        "truncated_ods",
        "a real release cut in half",
        2,
        "damaged or truncated",
        lambda d, r: _truncated(d, r["latest"]),
    ),
    Case(
        "html_error_page",
        "GOV.UK error page saved as .ods",
        2,
        "is an HTML page",
        lambda d, r: _write(d / "27_February_2026_Small_boats_-_time_series.ods", ERROR_PAGE),
    ),
    Case(
        "missing_sb01",
        "no SB_01 sheet",
        2,
        "has no sheet SB_01",
        lambda d, r: _write_without_sb01(d),
    ),
    Case(
        "renamed_column",
        "'Migrants arrived' renamed",
        2,
        "sheet SB_01 is missing the column(s) 'migrants arrived'",
        lambda d, r: _release_with(d, _set(0, 1, "Migrants landed")),
    ),
    Case(
        "negative_count",
        "-3 migrants on a day",
        2,
        "negative count (-3) in migrants_arrived",
        lambda d, r: _release_with(d, _set(100, 1, -3)),
    ),
    Case(
        "fractional_count",
        "2.5 migrants on a day",
        2,
        "fractional count (2.5)",
        lambda d, r: _release_with(d, _set(100, 1, 2.5)),
    ),
    Case(
        "implausible_count",
        "3,000,000,000 migrants (over INTEGER)",
        2,
        "over the plausible",
        lambda d, r: _release_with(d, _set(100, 1, 3_000_000_000)),
    ),
    Case(
        "duplicate_dates",
        "a day listed twice",
        2,
        "more than once",
        lambda d, r: _release_with(d, lambda rows: rows.insert(50, list(rows[50]))),
    ),
    Case(
        "missing_dates",
        "a day missing (gap)",
        2,
        "is missing 1 day(s) inside its range",
        lambda d, r: _release_with(d, lambda rows: rows.pop(50)),
    ),
    Case(
        "future_date",
        "figures for 3 days after today",
        2,
        "after today",
        lambda d, r: write_release(
            d, london_today(), daily=daily_rows(london_today() + timedelta(days=3))
        ),
    ),
    Case(
        "not_from_2018",
        "daily figures start 2018-01-02",
        2,
        "not on 2018-01-01",
        lambda d, r: _release_with(d, lambda rows: rows.pop(1)),
    ),
    Case(
        "billion_laughs",
        "nested XML entities in content.xml",
        2,
        "declares XML entities or a DTD",
        lambda d, r: _billion_laughs(d),
    ),
    Case(
        "zip_bomb",
        "content.xml deflates 0.5 MB -> 512 MB of spaces",
        2,
        "a zip bomb?); refused before parsing",
        lambda d, r: r["bombs"] / "zip_bomb.ods",
    ),
    Case(
        "zip_bomb_lying_sizes",
        "same bomb, headers claim 2 kB (CRC forged to match)",
        2,
        "more than the 2,300 bytes its zip header declares",
        lambda d, r: r["bombs"] / "zip_bomb_lying_sizes.ods",
    ),
    Case(
        "mimetype_bomb",
        "the mimetype member is the 512 MB bomb",
        2,
        "a zip bomb?); refused before parsing",
        lambda d, r: r["bombs"] / "mimetype_bomb.ods",
    ),
    Case(
        "repeat_bomb",
        "1 kB content.xml asking for 90 million cells (calamine's cap: 100M)",
        2,
        f"over {MAX_SHEET_CELLS:,} cells",
        lambda d, r: _repeat_bomb(d),
    ),
    Case(
        "duplicate_member",
        "two content.xml members in the zip",
        2,
        "appears twice",
        lambda d, r: _duplicate_member(d),
    ),
    Case(
        "not_a_file",
        "--source is a folder with no publications in it",
        2,
        "holds no .ods or .html publications",
        lambda d, r: d,
    ),
    Case(
        "device_file",
        "--source /dev/zero (endless)",
        2,
        "is not a regular file",
        lambda d, r: Path("/dev/zero"),
    ),
    Case(
        "missing_file",
        "--source names no file",
        2,
        "cannot be read (No such file",
        lambda d, r: d / "no_such_release.ods",
    ),
    Case(
        "page_changed_shape",
        "last-7-days page with the column renamed",
        2,
        "has no table with 'Date' and 'Migrants arrived' columns",
        lambda d, r: _changed_page(d, r["page"]),
    ),
    Case(
        "page_oversized",
        "a 5 GB .html (sparse) as the last-7-days page",
        2,
        "over the 2,097,152-byte limit",
        lambda d, r: _oversized_page(d),
    ),
    # Figures that cannot be true
    Case(
        "named_for_the_future",
        "a release named 1_January_2099_...",
        2,
        "is named for 1 January 2099, a date still to come",
        lambda d, r: _named_for(d, date(2099, 1, 1)),
    ),
    Case(
        "page_updated_in_the_future",
        "a real page whose govuk:updated-at says 2099",
        2,
        "says it was updated on 28 February 2099, a date still to come",
        lambda d, r: _page_updated(d, r["page"], "2099-02-28T09:20:27+00:00"),
    ),
    Case(
        "day_after_publication",
        "named for 10 days ago, figures through yesterday",
        2,
        "after its publication date",
        lambda d, r: _named_for(d, london_today() - timedelta(10)),
        also=("has figures for",),
    ),
    Case(
        "week_after_publication",
        "named for Wed 25 Feb 2026, SB_02 to Sun 1 Mar",
        2,
        "sheet SB_02 has the week ending 2026-03-01, after its publication date (2026-02-25)",
        lambda d, r: _with_weekly(
            d,
            lambda rows: rows.append([date(2026, 3, 1), 0, 0, 0, "-", "-", ""]),
            released=date(2026, 2, 25),
        ),
    ),
    Case(
        "week_after_today",
        "SB_02 with a week ending after today",
        2,
        "after today",
        lambda d, r: _with_weekly(d, _weeks_past_today),
        also=("sheet SB_02 has the week",),
    ),
    Case(
        "more_boats_than_people",
        "999 boats on a day with under 50 people",
        2,
        "(more boats than people)",
        lambda d, r: _release_with(d, _set(100, 2, 999)),
    ),
    Case(
        "weekly_contradicts_daily",
        "an SB_02 week of 10,000 people, its SB_01 days far fewer",
        2,
        "the sheets contradict each other",
        lambda d, r: _with_weekly(d, _set(20, 1, 10_000)),
    ),
    # File names
    Case(
        "control_chars_in_name",
        "a file named with ESC, BEL and a newline",
        2,
        "evil\\x1b[2J\\x1b]0;pwned\\x07\\n.ods: is not an ODS spreadsheet",
        lambda d, r: _write(d / CONTROL_NAME, b"junk"),
        shown="evil\\x1b[2J\\x1b]0;pwned\\x07\\n.ods",
    ),
    Case(
        "name_not_utf8",
        "a real release renamed with the byte 0xFF",
        2,
        "is not valid UTF-8",
        lambda d, r: _copy(r["latest"], d / NOT_UTF8_NAME),
        shown="27_February_2026_Small_boats_-_time_series\\xff.ods",
    ),
]


def _write_without_sb01(folder: Path) -> Path:
    daily = daily_rows(london_today() - timedelta(days=1))
    sheets = {"Cover_sheet": [["Small boats"]], "SB_02": weekly_rows(daily)}
    return write_ods(folder / release_name(london_today()), sheets)


@pytest.fixture
def inputs(tmp_path: Path, latest_release: Path, page_paths: list[Path], bomb_dir: Path):
    folder = tmp_path / "incoming"
    folder.mkdir()
    return folder, {"latest": latest_release, "page": page_paths[-1], "bombs": bomb_dir}


def _assert_refused(case: Case, source: Path, run: Run) -> None:
    shown = case.shown or source.name
    assert_one_line_refusal(run, case.status, case.fragment, shown, *case.also)
    assert run.lines[0].startswith(f"crossings: {shown}: ")
    assert run.lines[0].isprintable()  # no escape sequence reaches the terminal


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_bad_input_refused(case: Case, inputs, store_copy: Path, crossings) -> None:
    """Refused in one line naming the file, exit 2, store unchanged."""
    folder, refs = inputs
    source = case.make(folder, refs)
    before = snapshot(store_copy)
    run = crossings(["ingest", "--source", source, "--db", store_copy])
    _assert_refused(case, source, run)
    assert snapshot(store_copy) == before


# Memory (bombs, endless or huge files) and the terminal (names that are not plain text): what
# only a process of its own shows.
IN_A_FRESH_INTERPRETER = (
    "billion_laughs",
    "zip_bomb",
    "zip_bomb_lying_sizes",
    "mimetype_bomb",
    "repeat_bomb",
    "device_file",
    "page_oversized",
    "control_chars_in_name",
    "name_not_utf8",
)


@pytest.mark.integration
@pytest.mark.parametrize(
    "case", [pytest.param(c, id=c.id) for c in CASES if c.id in IN_A_FRESH_INTERPRETER]
)
def test_bad_input_refused_by_the_console_command(case: Case, inputs, store_copy: Path) -> None:
    """The same refusal from `crossings` in its own interpreter, its peak memory bounded."""
    folder, refs = inputs
    source = case.make(folder, refs)
    before = snapshot(store_copy)
    run = run_cli(["ingest", "--source", source, "--db", store_copy], timeout=90)
    print(f"{case.id}: exit {run.status}, peak {run.peak_mb:.0f} MB, {run.seconds:.2f} s")
    assert run.peak_mb < MEMORY_CEILING_MB, f"peak RSS {run.peak_mb:.0f} MB"
    _assert_refused(case, source, run)
    assert snapshot(store_copy) == before


def test_script_in_a_note_is_stored_as_text_and_escaped_in_the_report(
    tmp_path: Path, crossings
) -> None:
    """A Notes cell holding <script> is data: stored verbatim, shown escaped, never run."""
    # A store of its own: this made-up release over the real ones would rewrite every past
    # year's total and be held back for review, out of the report (forecasting/store/review.py).
    store_copy = tmp_path / "store" / "crossings.duckdb"
    payload = '<script>alert("pwned")</script><img src=x onerror=alert(1)>'
    released = london_today()
    daily = daily_rows(released - timedelta(days=1))
    daily[-1][4] = payload
    source = write_release(tmp_path / "incoming", released, daily=daily)
    run = crossings(["ingest", "--source", source, "--db", store_copy])
    assert run.status == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert "stored" in run.stdout
    con = duckdb.connect(str(store_copy), read_only=True)
    try:
        notes = [n for (n,) in con.execute("SELECT note FROM daily_values").fetchall()]
    finally:
        con.close()
    assert payload in notes

    report = pytest.importorskip("forecasting.report", reason="forecasting/report.py not landed")
    page = report.write_report(store_copy, tmp_path / "reports").read_text(encoding="utf-8")
    assert "alert(&#34;pwned&#34;)" in page or "alert(&quot;pwned&quot;)" in page
    assert "&lt;script&gt;" in page
    assert payload not in page
    assert "<img src=x" not in page


def test_a_good_release_with_control_characters_in_its_name_is_stored_and_shown_escaped(
    tmp_path: Path, db_path: Path, crossings
) -> None:
    """The name is data: stored as it is, but never sent raw to the terminal. (A fresh store:
    on top of the real releases, this made-up one would be held back as a rewrite of history.)"""
    store_copy = db_path
    released = london_today()
    name = f"{released:%d_%B_%Y}_Small_boats_-_time_series\x1b[2J.ods"
    source = write_release(tmp_path / "incoming", released, name=name)
    run = crossings(["ingest", "--source", source, "--db", store_copy])
    assert run.status == 0, run.stderr
    assert "\x1b" not in run.stdout
    assert f"{released:%d_%B_%Y}_Small_boats_-_time_series\\x1b[2J.ods: stored" in run.stdout
    con = duckdb.connect(str(store_copy), read_only=True)
    try:
        names = [n for (n,) in con.execute("SELECT file_name FROM publications").fetchall()]
    finally:
        con.close()
    assert name in names


# ------------------------------------------------------------------------------------------
# RELIABILITY.md stays true


RELIABILITY = ROOT / "RELIABILITY.md"
# The reliability suite: every test in these files has a row. Rows may also name tests elsewhere.
OWN_TESTS = [
    "test_bad_input.py",
    "test_faults.py",
    "test_properties.py",
    "test_paths.py",
    "test_ingest_govuk.py",
    "test_store_faults.py",
    "test_cli_bounds.py",
]
OUTCOME_FILES = (
    "test_faults.py",
    "test_paths.py",
    "test_ingest_govuk.py",
    "test_store_faults.py",
    "test_cli_bounds.py",
)


def _md_rows() -> list[list[str]]:
    rows = []
    for line in RELIABILITY.read_text(encoding="utf-8").splitlines():
        if line.startswith("| `"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def _ticked(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def test_reliability_md_matches_the_tests() -> None:
    """Every bad-input case is in RELIABILITY.md with the exit status and fragment asserted
    here; every test it names exists; every test in this suite is named there."""
    rows = _md_rows()
    by_case = {_ticked(r[0])[0]: r for r in rows}
    for case in CASES:
        assert case.id in by_case, f"RELIABILITY.md has no row for `{case.id}`"
        row = by_case[case.id]
        assert row[3] == str(case.status), (case.id, row[3], case.status)
        assert case.fragment in _ticked(row[4]), (case.id, row[4], case.fragment)
        assert f"test_bad_input_refused[{case.id}]" in row[2], (case.id, row[2])
        console = f"test_bad_input_refused_by_the_console_command[{case.id}]" in row[2]
        assert console == (case.id in IN_A_FRESH_INTERPRETER), (case.id, row[2])
    for extra, (status, fragment) in _other_outcomes().items():
        assert extra in by_case, f"RELIABILITY.md has no row for `{extra}`"
        row = by_case[extra]
        assert row[3] == ("—" if status is None else str(status)), (extra, row[3], status)
        assert fragment in _ticked(row[4]), (extra, row[4], fragment)

    named: set[tuple[str, str]] = set()
    for row in rows:
        for ref in _ticked(row[2]):
            path, _, test = ref.partition("::")
            named.add((Path(path).name, test.split("[")[0]))
    files = {f for f, _ in named} | set(OWN_TESTS)
    defined = {(f, t) for f in files for t in _test_functions(TESTS / f)}
    assert named - defined == set(), f"RELIABILITY.md names missing tests: {named - defined}"
    unlisted = {
        t for t in defined - named
        if t[0] in OWN_TESTS and t[1] != "test_reliability_md_matches_the_tests"
    }  # fmt: skip
    assert unlisted == set(), f"tests not in RELIABILITY.md: {sorted(unlisted)}"


def _other_outcomes() -> dict[str, tuple[int | None, str]]:
    """OUTCOMES declared by the files in OUTCOME_FILES (case id -> status, fragment)."""
    outcomes: dict[str, tuple[int | None, str]] = {}
    for name in OUTCOME_FILES:
        tree = ast.parse((TESTS / name).read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.AnnAssign | ast.Assign):
                target = node.target if isinstance(node, ast.AnnAssign) else node.targets[0]
                if isinstance(target, ast.Name) and target.id == "OUTCOMES":
                    outcomes.update(ast.literal_eval(node.value))
    return outcomes


def _test_functions(path: Path) -> list[str]:
    if not path.exists():
        return []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name[:5] == "test_"]
