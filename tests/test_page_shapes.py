"""The daily page read by content: the two shapes that were refused whole, and their variations.

Both shapes are written here in the real page's layout, from the real captures in
../shared/data/govuk/last-7-days (the capture's table replaced): (a) the header row as markdown
text (`| Date | Migrants arrived | ... |` and a `|–|–|` line) in a paragraph above the HTML table;
(b) the whole table as markdown text in a paragraph, each row `|# 28 March 2026 | 0 | 0 | 0 | |`
(a stray `# `, some rows with trailing spaces), the next heading run into the same paragraph
(`###For users of these statistics`). The expected figures are read from the untouched capture
with a regex (tests/test_page.py), independently of the parser.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_page import HEADER, _capture, _figures, _parse, _real_rows, _table_span, _truth

from forecasting.errors import BadInput

HEADING = '<h3 id="for-users-of-these-statistics">For users of these statistics</h3>'
RUN_IN = "###For users of these statistics"
EN_RULE = "|" + "–|" * len(HEADER)


def header_as_markdown_above(html: str, *, keep_thead: bool = False) -> str:
    """Shape (a): the header row and a `|–|–|` line as text in a paragraph above the table."""
    start, end = _table_span(html)
    table = html[start:end]
    if not keep_thead:
        table = re.sub(r"<thead>.*?</thead>", "", table, flags=re.S)
    text = "<p>| " + " | ".join(HEADER) + " |\n" + EN_RULE + "</p>\n\n"
    return html[:start] + text + table + html[end:]


def markdown_row(cells: list[str], trailing: str = "") -> str:
    """A row as shape (b) writes it: `|# 28 March 2026 | 0 | 0 | 0 | |`."""
    return f"|# {cells[0]} | " + " | ".join(cells[1:4]) + f" | {cells[4]}|" + trailing


def table_as_markdown_text(html: str, *, run_in: str = "own_line", joiner: str = "\n") -> str:
    """Shape (b): the whole table as markdown text in one paragraph, the next heading run in."""
    rows = _real_rows(html)
    lines = ["| " + " | ".join(rows[0]) + " |", EN_RULE]
    lines += [markdown_row(r, "  " if i % 2 else "") for i, r in enumerate(rows[1:])]
    if run_in == "own_line":
        lines.append(RUN_IN)
    else:  # written straight after the last row's closing pipe
        lines[-1] = lines[-1].rstrip() + RUN_IN
    start, _ = _table_span(html)
    end = html.index(HEADING, start) + len(HEADING)
    return html[:start] + "<p>" + joiner.join(lines) + "</p>" + html[end:]


# ------------------------------------------------------------------------------------------
# The two shapes


@pytest.mark.parametrize("keep_thead", [False, True], ids=["headless_table", "table_with_thead"])
@pytest.mark.parametrize("day", ["2026-01-23", "2026-02-28"])
def test_header_row_as_markdown_above_a_good_table(page_paths, day, keep_thead):
    html = _capture(page_paths, day)
    page = _parse(header_as_markdown_above(html, keep_thead=keep_thead))
    assert _figures(page) == _truth(html)  # every day, every figure
    assert not any("Left out" in r for r in page.repairs)
    if keep_thead:
        assert page.repairs == []  # the table's own header places its columns
    else:
        assert len(page.repairs) == 1 and "column headings from the text line" in page.repairs[0]


@pytest.mark.parametrize("joiner", ["\n", "<br>\n"], ids=["newlines", "line_breaks"])
@pytest.mark.parametrize("run_in", ["own_line", "after_last_row"])
@pytest.mark.parametrize("day", ["2026-01-23", "2026-02-28"])
def test_whole_table_as_markdown_text_with_the_next_heading_run_in(page_paths, day, run_in, joiner):
    html = _capture(page_paths, day)
    shaped = table_as_markdown_text(html, run_in=run_in, joiner=joiner)
    assert "<table>" not in shaped and "|# " in shaped and RUN_IN in shaped
    page = _parse(shaped)
    assert _figures(page) == _truth(html)
    assert len(page.repairs) == 1 and "markdown" in page.repairs[0]


def test_rows_run_together_on_one_line_are_still_read(page_paths):
    """The paragraph's line breaks lost: every row on one line, split at each date."""
    html = _capture(page_paths, "2026-01-23")
    page = _parse(table_as_markdown_text(html, joiner=" "))
    assert _figures(page) == _truth(html)


# ------------------------------------------------------------------------------------------
# A day's row that cannot be read is left out alone; lines that are no rows are ignored


@pytest.mark.parametrize(
    ("broken", "reason"),
    [("|# 24 February 2026 | | 1 | 0 | |", "'' in migrants_arrived"),
     ("|# 24 February 2026 | seventy | 1 | 0 | |", "'seventy' in migrants_arrived"),
     ("|# 24 February 2026 |", "1 cells where the header has 5")],
)  # fmt: skip
def test_an_unreadable_day_is_left_out_and_named_the_others_kept(page_paths, broken, reason):
    html = _capture(page_paths, "2026-02-28")
    shaped = table_as_markdown_text(html)
    good = markdown_row(["24 February 2026", "74", "1", "0", ""])
    assert good in shaped
    page = _parse(shaped.replace(good, broken))
    expected = _truth(html)
    del expected[date(2026, 2, 24)]
    assert _figures(page) == expected
    (left_out,) = [r for r in page.repairs if "Left out" in r]
    assert "24 February 2026" in left_out and reason in left_out
    assert page.repairs[-1].startswith("The page gives no figures for 24 February 2026")


def test_a_day_left_out_is_named_by_ingest_and_kept_in_the_store(page_paths, tmp_path, crossings):
    """`crossings ingest --source PAGE`: the other days stored, the day left out named on the
    command's line and in the page's record (`publications.repairs`)."""
    from forecasting import store

    html = _capture(page_paths, "2026-02-28")
    good = markdown_row(["24 February 2026", "74", "1", "0", ""])
    page = tmp_path / "2026-02-28.html"
    page.write_text(table_as_markdown_text(html).replace(good, "|# 24 February 2026 | |"))
    db = tmp_path / "crossings.duckdb"
    run = crossings(["ingest", "--source", page, "--db", db])
    assert run.status == 0, run.stderr
    (line,) = run.stdout.splitlines()
    assert "stored" in line and "Left out a row that cannot be read" in line
    assert "(24 February 2026)" in line
    held = store.read_frame(db, "SELECT repairs, daily_rows FROM publications")
    assert held["daily_rows"].tolist() == [6]
    assert any("24 February 2026" in r and "Left out" in r for r in held["repairs"][0])


def test_lines_that_are_not_rows_are_ignored(page_paths):
    html = _capture(page_paths, "2026-02-28")
    junk = ["| | | | | |", "|:--|--:|", "| Source: Home Office |", "Figures are provisional.",
            "| 605 | 10 |", "##### Notes", "|"]  # fmt: skip
    shaped = table_as_markdown_text(html).replace(EN_RULE, EN_RULE + "\n" + "\n".join(junk))
    page = _parse(shaped)
    assert _figures(page) == _truth(html)
    assert len(page.repairs) == 1


def test_a_page_with_no_readable_day_is_refused(page_paths):
    html = _capture(page_paths, "2026-02-28")
    shaped = re.sub(r"\| (\d+) \|", "| n/a |", table_as_markdown_text(html))
    with pytest.raises(BadInput, match="has no figures that can be trusted"):
        _parse(shaped, "changed.html")


def test_plausibility_checks_still_refuse_the_whole_page(page_paths):
    html = _capture(page_paths, "2026-02-28")
    shaped = table_as_markdown_text(html).replace(
        markdown_row(["24 February 2026", "74", "1", "0", ""]),
        markdown_row(["24 February 2026", "74", "75", "0", ""]),
    )
    with pytest.raises(BadInput, match="more boats than people"):
        _parse(shaped, "changed.html")


# ------------------------------------------------------------------------------------------
# Generated variations: the same days and figures whatever the markup, order and layout

_PREFIX = ["", "", "# ", "#", "## ", "**", "*", "`", "> "]
_SUFFIX = ["", "", "**", "*", "`", " #"]
_SPACE = ["", " ", "  ", "\t", "\xa0"]


@dataclass(frozen=True)
class Variation:
    day: str  # the capture whose days are re-laid
    layout: str  # html, markdown, header_as_text, split
    header_at: int | None  # the header row's place among the rows; None: no header at all
    rule: str | None  # the separator line under a markdown header
    joiner: str  # between markdown lines
    seed: int  # row order, stray markup and spacing


VARIATIONS = st.builds(
    Variation,
    day=st.sampled_from(["2026-01-23", "2026-02-28", "2026-02-20"]),
    layout=st.sampled_from(["html", "markdown", "header_as_text", "split"]),
    header_at=st.one_of(st.none(), st.integers(0, 9)),
    rule=st.sampled_from([None, EN_RULE, "|---|---|---|---|---|", "|:-|:-:|-:|-|-|"]),
    joiner=st.sampled_from(["\n", "<br>\n", "</p>\n<p>"]),
    seed=st.integers(0, 2**32 - 1),
)


def _dress(cell: str, rng: random.Random) -> str:
    return (rng.choice(_SPACE) + rng.choice(_PREFIX) + cell + rng.choice(_SUFFIX)
            + rng.choice(_SPACE))  # fmt: skip


def _relaid(html: str, v: Variation) -> str:
    layout, header_at, rule, joiner = v.layout, v.header_at, v.rule, v.joiner
    rng = random.Random(v.seed)
    rows = _real_rows(html)
    header, days = rows[0], rows[1:]
    rng.shuffle(days)
    md = ["|" + "|".join(_dress(c, rng) for c in r) + "|" + rng.choice(_SPACE) for r in days]
    cells = [
        f"<tr><th scope=\"row\">{_dress(r[0], rng)}</th>"
        + "".join(f"<td>{_dress(c, rng)}</td>" for c in r[1:]) + "</tr>"
        for r in days
    ]  # fmt: skip
    md_header = "| " + " | ".join(_dress(h, rng) for h in header) + " |"
    html_header = "<tr>" + "".join(f'<th scope="col">{_dress(h, rng)}</th>' for h in header)
    html_header += "</tr>"
    if layout == "markdown":
        lines = md if header_at is None else _insert(md, header_at, md_header, rule)
        body = "<p>" + joiner.join(lines + [RUN_IN]) + "</p>"
    elif layout == "html":
        rows_html = cells if header_at is None else _insert(cells, header_at, html_header, None)
        body = "<table><tbody>" + "\n".join(rows_html) + "</tbody></table>"
    elif layout == "header_as_text":
        body = "<p>" + joiner.join([md_header] + ([rule] if rule else [])) + "</p>"
        body += "<table><tbody>" + "\n".join(cells) + "</tbody></table>"
    else:  # some days as markdown text, the rest in a table below it
        cut = rng.randint(1, len(days) - 1)
        lines = _insert(md[:cut], 0, md_header, rule)
        body = "<p>" + joiner.join(lines) + "</p><table><tbody>" + "\n".join(cells[cut:])
        body += "</tbody></table>"
    start, _ = _table_span(html)
    end = html.index(HEADING, start) + len(HEADING)
    return html[:start] + body + html[end:]


def _insert(lines: list[str], at: int, header: str, rule: str | None) -> list[str]:
    at = min(at, len(lines))
    return lines[:at] + [header] + ([rule] if rule else []) + lines[at:]


@given(VARIATIONS)
@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_variations_parse_to_the_same_days_and_figures(page_paths, variation):
    html = _capture(page_paths, variation.day)
    page = _parse(_relaid(html, variation), "variation.html")
    assert _figures(page) == _truth(html), variation
    assert not any("Left out" in r for r in page.repairs), (variation, page.repairs)
    assert page.daily["note"].isna().all()  # no markup kept as a note
