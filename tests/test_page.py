"""The daily "last 7 days" page: every real capture, and the glitches seen on the live page.

The glitch fixtures are made here FROM THE REAL CAPTURES in ../shared/data/govuk/last-7-days: a
real page is transformed into each shape GOV.UK has sent (the table as markdown text, the header
row as text above the table, a row with the wrong year, a day missing, eight rows), and the
expected figures are read from the untouched capture with a plain regex, independently of the
parser under test. Nothing is copied into the repository.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecasting.errors import BadInput
from forecasting.sources.page import parse_last_7_days

TODAY = date(2026, 3, 1)
HEADER = ["Date", "Migrants arrived", "Boats arrived", "Boats involved in uncontrolled landings",
          "Notes"]  # fmt: skip


# ------------------------------------------------------------------------------------------
# Real captures, read independently of the parser


def _capture(page_paths: list[Path], day: str) -> str:
    (path,) = [p for p in page_paths if p.stem == day]
    return path.read_text(encoding="utf-8")


def _table_span(html: str) -> tuple[int, int]:
    start = html.index("<table>")
    return start, html.index("</table>", start) + len("</table>")


def _real_rows(html: str) -> list[list[str]]:
    """The capture's table as cell texts (header first), by regex: not the parser under test."""
    start, end = _table_span(html)
    rows = re.findall(r"<tr>(.*?)</tr>", html[start:end], re.S)
    return [
        [re.sub(r"<[^>]+>", "", c).replace("\xa0", " ").strip()
         for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in rows
    ]  # fmt: skip


def _truth(html: str) -> dict[date, tuple[int, int, int]]:
    """date -> (migrants, boats, boats in uncontrolled landings), as the capture shows them."""
    return {
        datetime.strptime(r[0], "%d %B %Y").date(): (int(r[1]), int(r[2]), int(r[3]))
        for r in _real_rows(html)[1:]
    }


def _figures(release) -> dict[date, tuple[int, int, int]]:
    return {
        r.date: (r.migrants_arrived, r.boats_arrived, int(r.boats_uncontrolled))
        for r in release.daily.itertuples(index=False)
    }


def _replace_table(html: str, replacement: str) -> str:
    start, end = _table_span(html)
    return html[:start] + replacement + html[end:]


def _markdown_lines(rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    return lines + ["| " + " | ".join(r) + " |" for r in rows[1:]]


def _parse(html: str, name: str = "glitch.html", today: date = TODAY):
    return parse_last_7_days(html.encode("utf-8"), name, today=today)


# ------------------------------------------------------------------------------------------
# Every real capture


@pytest.fixture(scope="module")
def parsed_pages(page_paths):
    return [(p, parse_last_7_days(p.read_bytes(), p.name)) for p in page_paths]


def test_every_real_capture_parses_as_it_is(parsed_pages):
    assert len(parsed_pages) == 76
    for path, page in parsed_pages:
        assert page.kind == "last_7_days" and page.weekly is None
        assert 7 <= len(page.daily) <= 8, path.name  # 2026-01-23 has 8 days
        assert page.repairs == [], path.name  # the real captures need no repair
        assert _figures(page) == _truth(path.read_text(encoding="utf-8")), path.name
        assert page.published_at.tzinfo is not None
        assert page.published_at.astimezone(UTC).date() <= date.fromisoformat(path.stem)
        assert page.data_through < date.fromisoformat(path.stem)
        assert list(page.daily.columns) == [
            "date", "migrants_arrived", "boats_arrived", "boats_uncontrolled", "revised", "note",
        ]  # fmt: skip
    # Captures of an unchanged page (same updated-at) get the same content hash.
    assert len({page.sha256 for _, page in parsed_pages}) == len(
        {page.published_at for _, page in parsed_pages}
    )


def test_captures_agree_with_the_following_ods_release(parsed_pages, real_releases):
    """Measured: all 526 overlapping day-rows agree; none was revised by the next release."""
    releases = sorted(real_releases, key=lambda r: (r.released_on, r.file_name))
    compared, disagreements = 0, []
    for path, page in parsed_pages:
        published = page.published_at.date()
        following = next(
            (r for r in releases
             if r.released_on >= published and r.data_through >= page.data_through),
            None,
        )  # fmt: skip
        if following is None:
            continue  # the newest capture has no later release
        ods = following.daily.set_index("date")
        for row in page.daily.itertuples(index=False):
            compared += 1
            for column in ("migrants_arrived", "boats_arrived", "boats_uncontrolled"):
                if getattr(row, column) != ods.loc[row.date, column]:
                    disagreements.append((path.name, row.date, column, following.file_name))
    assert compared == 526
    assert disagreements == []


# ------------------------------------------------------------------------------------------
# The table as it really came: markdown, header above, wrong year, a day missing, eight rows


@pytest.mark.parametrize("rendering", ["one_paragraph", "paragraph_per_line", "line_breaks"])
def test_table_sent_as_markdown_text(page_paths, rendering):
    html = _capture(page_paths, "2026-02-28")
    lines = _markdown_lines(_real_rows(html))
    text = {
        "one_paragraph": "<p>" + "\n".join(lines) + "</p>",
        "paragraph_per_line": "\n".join(f"<p>{line}</p>" for line in lines),
        "line_breaks": "<p>" + "<br>\n".join(lines) + "</p>",
    }[rendering]
    page = _parse(_replace_table(html, text))
    assert _figures(page) == _truth(html)
    assert len(page.repairs) == 1 and "markdown" in page.repairs[0]


@pytest.mark.parametrize("heading", ["pipes", "pipes_and_rule", "plain_text"])
def test_header_row_shown_as_text_above_the_table(page_paths, heading):
    html = _capture(page_paths, "2026-02-20")
    start, end = _table_span(html)
    headless = re.sub(r"<thead>.*?</thead>", "", html[start:end], flags=re.S)
    assert "Migrants arrived" not in headless
    line = {
        "pipes": "<p>| " + " | ".join(HEADER) + " |</p>",
        "pipes_and_rule": "<p>| " + " | ".join(HEADER) + " |\n|---|---|---|---|---|</p>",
        "plain_text": "<p>" + " ".join(HEADER) + "</p>",
    }[heading]
    page = _parse(html[:start] + line + "\n" + headless + html[end:])
    assert _figures(page) == _truth(html)
    assert len(page.repairs) == 1 and "column headings from the text line above" in page.repairs[0]


@pytest.mark.parametrize("day", ["2026-02-27", "2026-02-28"])
def test_one_row_with_the_wrong_year_on_two_consecutive_days(page_paths, day):
    """As on the live page: the same row a year off in two days' captures; both repaired."""
    html = _capture(page_paths, day)
    assert ">24 February 2026<" in html
    page = _parse(html.replace(">24 February 2026<", ">24 February 2025<"))
    assert _figures(page) == _truth(html)  # the row's figures kept, under the right date
    (repair,) = page.repairs
    assert "24 February 2025" in repair and "as 24 February 2026" in repair
    assert "off by one" in repair


@pytest.mark.parametrize(
    ("day", "wrong", "right"),
    [
        ("2026-01-03", "1 January 2025", "1 January 2026"),  # across the new year
        ("2026-01-03", "31 December 2026", "31 December 2025"),  # a year ahead
        ("2026-02-28", "21 February 2025", "21 February 2026"),  # the first row
        ("2026-02-28", "27 February 2027", "27 February 2026"),  # the last row
    ],
)
def test_wrong_year_repaired_wherever_it_sits(page_paths, day, wrong, right):
    html = _capture(page_paths, day)
    assert f">{right}<" in html
    page = _parse(html.replace(f">{right}<", f">{wrong}<"))
    assert _figures(page) == _truth(html)
    (repair,) = page.repairs
    assert f"Read {wrong}" in repair and f"as {right}" in repair


def test_a_day_missing_stores_the_days_present(page_paths):
    html = _capture(page_paths, "2026-02-28")
    rows = _real_rows(html)
    gone = rows.pop(4)  # 24 February 2026
    text = "\n".join(f"<p>{line}</p>" for line in _markdown_lines(rows))
    page = _parse(_replace_table(html, text))
    expected = _truth(html)
    missing = datetime.strptime(gone[0], "%d %B %Y").date()
    del expected[missing]
    assert _figures(page) == expected  # six days, and nothing invented for the seventh
    assert page.repairs[-1].startswith("The page gives no figures for 24 February 2026")


def test_a_day_missing_from_the_html_table(page_paths):
    html = _capture(page_paths, "2026-02-26")
    row = re.search(r"<tr>\s*<th scope=\"row\">21 February 2026</th>.*?</tr>", html, re.S)
    page = _parse(html.replace(row.group(0), ""))
    expected = _truth(html)
    del expected[date(2026, 2, 21)]
    assert _figures(page) == expected
    assert page.repairs == [
        "The page gives no figures for 21 February 2026; stored the 6 days it gives."
    ]


def test_eight_rows_instead_of_seven(page_paths):
    """An eighth row (the day before, its figures from the previous day's real capture)."""
    html = _capture(page_paths, "2026-02-28")
    earlier = _capture(page_paths, "2026-02-27")
    (extra,) = [r for r in _real_rows(earlier)[1:] if r[0] == "20 February 2026"]
    cells = f'<th scope="row">{extra[0]}</th>' + "".join(f"<td>{c}</td>" for c in extra[1:])
    page = _parse(html.replace("<tbody>", f"<tbody><tr>{cells}</tr>", 1))
    expected = {**_truth(html), date(2026, 2, 20): _truth(earlier)[date(2026, 2, 20)]}
    assert _figures(page) == expected and len(page.daily) == 8
    assert page.repairs == []


def test_a_row_listed_twice_with_the_same_figures_counts_once(page_paths):
    html = _capture(page_paths, "2026-02-28")
    row = re.search(r"<tr>\s*<th scope=\"row\">25 February 2026</th>.*?</tr>", html, re.S)
    page = _parse(html.replace(row.group(0), row.group(0) * 2))
    assert _figures(page) == _truth(html)
    assert page.repairs == ["The row for 25 February 2026 appears 2 times with the same "
                            "figures; counted once."]  # fmt: skip


def test_markdown_with_a_wrong_year_and_a_day_missing(page_paths):
    html = _capture(page_paths, "2026-02-28")
    rows = _real_rows(html)
    del rows[2]  # 22 February 2026
    rows[5][0] = "26 February 2025"
    page = _parse(_replace_table(html, "<p>" + "\n".join(_markdown_lines(rows)) + "</p>"))
    expected = _truth(html)
    del expected[date(2026, 2, 22)]
    assert _figures(page) == expected
    assert [r.split(" ")[0] for r in page.repairs] == ["Read", "Read", "The"]
    assert "26 February 2025 (table row 5) as 26 February 2026" in page.repairs[1]


# ------------------------------------------------------------------------------------------
# Rows that cannot be trusted are left out, said so, and never guessed


@pytest.mark.parametrize(
    ("change", "left_out", "reason"),
    [
        (("<td>605</td>", ""), date(2026, 2, 25), "4 cells where the header has 5"),
        (("<td>605</td>", "<td>six hundred</td>"), date(2026, 2, 25), "'six hundred'"),
        ((">25 February 2026<", ">25 Febtember 2026<"), date(2026, 2, 25), "a date should be"),
        ((">24 February 2026<", ">24 February 2024<"), date(2026, 2, 24), "no one-year"),
    ],
)
def test_a_row_that_cannot_be_read_is_left_out(page_paths, change, left_out, reason):
    html = _capture(page_paths, "2026-02-28")
    assert change[0] in html
    page = _parse(html.replace(change[0], change[1], 1))
    expected = _truth(html)
    del expected[left_out]
    assert _figures(page) == expected
    assert "Left out" in page.repairs[0] and reason in page.repairs[0]
    assert page.repairs[-1].startswith(f"The page gives no figures for {left_out.day} February")


def test_two_rows_for_one_day_with_different_figures_both_left_out(page_paths):
    html = _capture(page_paths, "2026-02-28")
    page = _parse(html.replace(">26 February 2026<", ">25 February 2026<", 1))
    expected = _truth(html)
    del expected[date(2026, 2, 25)], expected[date(2026, 2, 26)]
    assert _figures(page) == expected
    assert page.repairs[0] == (
        "Left out the 2 rows dated 25 February 2026: they give different figures (605 and 0 "
        "migrants arrived), so none can be trusted."
    )


# ------------------------------------------------------------------------------------------
# Refused: no figure can be trusted, or the figures cannot be true


def _refusal(html: str, today: date = TODAY) -> str:
    with pytest.raises(BadInput) as caught:
        _parse(html, "changed.html", today=today)
    text = str(caught.value)
    assert text.startswith("changed.html: ") and "\n" not in text
    return text


@pytest.mark.parametrize(
    ("change", "expect"),
    [
        (("Migrants arrived</th>", "People arrived</th>"), "no table with"),
        (('<th scope="col">Boats arrived</th>', '<th scope="col">Vessels</th>'), "missing"),
        (("<table>", "<div>"), "no table with"),
        (('name="govuk:updated-at"', 'name="x"'), "updated-at"),
        (('content="2026-02-28T09:20:27+00:00"', 'content="2099-02-28T09:20:27+00:00"'),
         "says it was updated on 28 February 2099, a date still to come"),
    ],
)  # fmt: skip
def test_changed_page_is_refused(page_paths, change, expect):
    html = _capture(page_paths, "2026-02-28")
    assert change[0] in html
    assert expect in _refusal(html.replace(change[0], change[1], 1))


def test_no_row_that_can_be_read_is_refused(page_paths):
    html = _capture(page_paths, "2026-02-28")
    unreadable = re.sub(r">(\d+) February 2026<", r">\1 Feb. 2026<", html)
    assert "has no figures that can be trusted" in _refusal(unreadable)


def test_dates_that_form_no_run_are_refused(page_paths):
    html = _capture(page_paths, "2026-02-28")
    for day, year in ((21, 2019), (22, 2020), (23, 2021), (24, 2022)):
        html = html.replace(f">{day} February 2026<", f">{day} February {year}<")
    assert "dates do not form a run of days" in _refusal(html)


def test_a_day_after_the_publication_date_is_refused(page_paths):
    html = _capture(page_paths, "2026-02-28")  # updated 28 February, 09:20
    text = _refusal(html.replace(">27 February 2026<", ">1 March 2026<"))
    assert "has figures for 2026-03-01, after its publication date (2026-02-28)" in text


def test_a_day_after_today_is_refused(page_paths):
    html = _capture(page_paths, "2026-02-28").replace(
        'content="2026-02-28T09:20:27+00:00"', 'content="2026-02-26T09:20:27+00:00"'
    )
    assert "after today (2026-02-26)" in _refusal(html, today=date(2026, 2, 26))


def test_more_boats_than_people_is_refused(page_paths):
    html = _capture(page_paths, "2026-02-28")
    row = re.search(r"(<th scope=\"row\">24 February 2026</th>\s*<td>74</td>\s*<td>)1<", html)
    changed = html.replace(row.group(0), row.group(1) + "75<")
    assert "75 boats arrived but 74 migrants on 2026-02-24 (more boats than people)" in _refusal(
        changed
    )


# ------------------------------------------------------------------------------------------
# Cells: by name, as text


def test_columns_are_found_by_name_not_position(page_paths):
    html = _capture(page_paths, "2026-02-28").replace(
        '<th scope="col">Migrants arrived</th>', '<th scope="col">  MIGRANTS ARRIVED </th>'
    )
    assert _parse(html).daily["migrants_arrived"].sum() == 679


def test_script_in_a_notes_cell_is_plain_text(page_paths):
    html = _capture(page_paths, "2026-02-28")
    empty = "<td>\xa0</td>"  # GOV.UK writes an empty note as a no-break space
    assert empty in html
    raw_tag = html.replace(empty, "<td><script>alert(1)</script> Revised</td>", 1)
    escaped = html.replace(empty, "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>", 1)
    first = _parse(raw_tag).daily.iloc[0]
    assert first["note"] == "alert(1) Revised"  # the text, never the markup
    assert bool(first["revised"]) is True
    second = _parse(escaped).daily.iloc[0]
    assert second["note"] == "<script>alert(1)</script>"  # kept literally, as text
    assert bool(second["revised"]) is False


@given(st.binary(max_size=4000))
@settings(max_examples=300, deadline=None)
def test_arbitrary_bytes_give_a_release_or_bad_input(content):
    try:
        parse_last_7_days(content, "fuzz.html")
    except BadInput as exc:
        assert "\n" not in str(exc)


@given(data=st.data())
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_mutated_real_page_gives_a_release_or_bad_input(page_paths, data):
    html = page_paths[-1].read_text(encoding="utf-8")
    start, end = _table_span(html)
    table = html[start:end]
    cut = data.draw(st.integers(0, len(table)))
    insert = data.draw(
        st.text(alphabet=st.sampled_from(list("<>/td th tr 0123456789,-&;|")), max_size=30)
    )
    mutated = html[:start] + table[:cut] + insert + table[cut + data.draw(st.integers(0, 40)) :]
    try:
        release = parse_last_7_days(mutated + html[end:], "mutated.html")
    except BadInput:
        return
    assert len(release.daily) >= 1
