"""Property tests of the parsers and validators: a Release or BadInput, never anything else.

Random bytes only reach the first checks, so structured strategies go deeper: a valid zip with
random content.xml, valid XML with random repeat attributes, and the real layout with random
cell values. Examples are bounded so the suite stays fast.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, timedelta

import pandas as pd
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from ods_factory import MANIFEST, content_xml, daily_rows, weekly_rows

from forecasting.errors import BadInput
from forecasting.sources.cells import MAX_COUNT
from forecasting.sources.checks import check_daily
from forecasting.sources.page import parse_last_7_days
from forecasting.sources.release import FIRST_DAY, Release, parse_release_bytes

TODAY = date(2026, 3, 1)
NAME = "27_February_2026_Small_boats_-_time_series.ods"
ODS_TYPE = b"application/vnd.oasis.opendocument.spreadsheet"
FAST = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _ods(content: bytes | str, *, mimetype: bytes = ODS_TYPE) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", mimetype)
        archive.writestr("META-INF/manifest.xml", MANIFEST, zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _release_or_bad_input(content: bytes) -> Release | None:
    try:
        release = parse_release_bytes(content, NAME, today=TODAY)
    except BadInput as exc:
        assert "\n" not in str(exc) and str(exc).startswith(NAME + ": ")
        return None
    _check_invariants(release)
    return release


def _check_invariants(release: Release) -> None:
    """What a Release promises the store: contiguous days from 2018-01-01, sane counts."""
    days = list(release.daily["date"])
    assert days[0] == FIRST_DAY and days[-1] <= TODAY
    assert days == [FIRST_DAY + timedelta(days=i) for i in range(len(days))]
    for column in ("migrants_arrived", "boats_arrived"):
        values = release.daily[column]
        assert values.notna().all() and ((values >= 0) & (values <= MAX_COUNT)).all()


@FAST
@given(st.binary(max_size=4096))
def test_any_bytes(content: bytes) -> None:
    _release_or_bad_input(content)


@FAST
@given(st.binary(max_size=2048))
def test_any_bytes_after_a_zip_header(tail: bytes) -> None:
    _release_or_bad_input(b"PK\x03\x04" + tail)


@FAST
@given(st.one_of(st.binary(max_size=2048), st.text(max_size=2048)))
def test_valid_zip_with_random_content_xml(content: bytes | str) -> None:
    _release_or_bad_input(_ods(content))


_attrs = st.dictionaries(
    st.sampled_from(
        [
            "table:number-rows-repeated",
            "table:number-columns-repeated",
            "office:value-type",
            "office:value",
            "office:date-value",
            "table:name",
        ]
    ),
    st.one_of(
        st.integers(-5, 10**12).map(str),
        st.sampled_from(["float", "string", "date", "SB_01", "SB_02", "", "x", "1e9"]),
    ),
    max_size=3,
)
_tags = st.sampled_from(
    [
        "table:table",
        "table:table-row",
        "table:table-cell",
        "table:covered-table-cell",
        "text:p",
        "table:table-row-group",
        "table:table-header-rows",
    ]
)


@st.composite
def _xml_tree(draw, depth: int = 0) -> str:
    tag = draw(_tags)
    attrs = "".join(f' {k}="{v}"' for k, v in draw(_attrs).items())
    if depth > 3 or draw(st.booleans()):
        text = draw(st.sampled_from(["", "1", "Date", "Migrants arrived", "2018-01-01", "-"]))
        return f"<{tag}{attrs}>{text}</{tag}>"
    children = draw(st.lists(_xml_tree(depth + 1), max_size=4))
    return f"<{tag}{attrs}>{''.join(children)}</{tag}>"


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(_xml_tree(), max_size=4))
def test_valid_xml_with_random_tables_and_repeats(trees: list[str]) -> None:
    """Random sheets, rows, cells and repeat counts (up to 10**12): refused or parsed, within
    the cell bound, never a memory blow-up or a non-BadInput error."""
    _release_or_bad_input(
        _ods(
            content_xml({}).replace(
                "</office:spreadsheet>", "".join(trees) + "</office:spreadsheet>"
            )
        )
    )


_cell = st.one_of(
    st.none(),
    st.integers(-10, 5_000_000_000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.dates(date(2017, 12, 1), date(2026, 4, 1)),
    st.sampled_from(["-", "–", "..", " 12 ", "1,234", "<script>x</script>"]),
)


@st.composite
def _edited_layout(draw) -> tuple[bytes, int]:
    through = draw(st.dates(date(2018, 1, 8), date(2018, 2, 20)))  # a whole week
    daily = daily_rows(through)
    weekly = weekly_rows(daily)
    edits = draw(
        st.lists(st.tuples(st.integers(0, len(daily) - 1), st.integers(0, 5), _cell), max_size=3)
    )
    for row, column, value in edits:
        while len(daily[row]) <= column:
            daily[row].append("")
        daily[row][column] = value
    return _ods(content_xml({"SB_01": daily, "SB_02": weekly})), len(edits)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(_edited_layout())
def test_real_layout_with_random_cells(case: tuple[bytes, int]) -> None:
    content, edits = case
    release = _release_or_bad_input(content)
    if edits == 0:
        assert release is not None  # the unedited layout is a valid release


@FAST
@given(st.lists(st.dates(date(2017, 12, 25), date(2026, 3, 5)), min_size=1, max_size=40))
def test_check_daily_accepts_only_contiguous_unique_days(days: list[date]) -> None:
    frame = pd.DataFrame(
        {
            "date": days,
            "migrants_arrived": 1,
            "boats_arrived": 0,
            "boats_uncontrolled": 0,
            "note": None,
        }
    )
    try:
        checked = check_daily(frame, "x.ods", today=TODAY)
    except BadInput as exc:
        assert "\n" not in str(exc)
        return
    got = list(checked["date"])
    assert got == [got[0] + timedelta(days=i) for i in range(len(got))]
    assert sorted(days) == got and got[-1] <= TODAY


@FAST
@given(st.binary(max_size=4096))
def test_last_7_days_any_bytes(content: bytes) -> None:
    try:
        parse_last_7_days(content, "page.html", today=TODAY)
    except BadInput as exc:
        assert "\n" not in str(exc)


@st.composite
def _page(draw) -> str:
    header = draw(
        st.permutations(
            [
                "Date",
                "Migrants arrived",
                "Boats arrived",
                "Boats involved in uncontrolled landings",
                "Notes",
            ]
        )
    )
    start = draw(st.dates(date(2026, 2, 1), date(2026, 2, 20)))
    rows = []
    for i in range(draw(st.integers(0, 8))):
        cells = {"Date": f"{start + timedelta(days=i):%-d %B %Y}", "Notes": ""}
        for name in header[:]:
            cells.setdefault(
                name,
                draw(
                    st.one_of(
                        st.integers(0, 900).map(str),
                        st.text(max_size=5),
                        st.sampled_from(["-", "1,024", "<b>3</b>"]),
                    )
                ),
            )
        rows.append("<tr>" + "".join(f"<td>{cells[h]}</td>" for h in header) + "</tr>")
    updated = draw(st.sampled_from(["2026-02-28T09:30:00+00:00", "not a time", ""]))
    return (
        f'<html><head><meta name="govuk:updated-at" content="{updated}"></head><body><table>'
        "<tr>"
        + "".join(f"<th>{h}</th>" for h in header)
        + "</tr>"
        + "".join(rows)
        + "</table></body></html>"
    )


@FAST
@given(_page())
def test_last_7_days_structured(page: str) -> None:
    try:
        release = parse_last_7_days(page, "page.html", today=TODAY)
    except BadInput as exc:
        assert "\n" not in str(exc)
        return
    assert release.daily["migrants_arrived"].ge(0).all()


@FAST
@given(st.text(max_size=60), st.text(max_size=200))
def test_bad_input_is_always_one_line(source: str, problem: str) -> None:
    assume(source.strip("/"))
    text = str(BadInput(source, problem))
    assert "\n" not in text and "\r" not in text and text.isprintable()


def test_real_releases_pass_the_container_checks(release_paths, real_releases) -> None:
    """The hardening (cell bound, own inflate, expat) accepts every real release (read once
    per session by conftest's `real_releases`, through `read_release` and these checks)."""
    assert len(real_releases) == len(release_paths) == 14
    for release in real_releases:
        assert release.daily["date"].iloc[0] == FIRST_DAY
        assert isinstance(release.daily["date"].iloc[-1], date)
        assert not isinstance(release.daily["date"].iloc[-1], datetime)
