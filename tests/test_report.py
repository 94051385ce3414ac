"""The stakeholder report: figure builders, escaping, self-containment, index and safe writes.

The store here is built from small ODS files in the Home Office layout (tests/ods_factory.py), so
these tests need no real data and run in seconds; the browser test uses the real release.
"""

from __future__ import annotations

import io
import os
import re
import shutil
from contextlib import redirect_stdout
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from report_store import (
    HOSTILE_NOTE,
    MAX_BYTES,
    THROUGH,
    build_store,
    forecast_payload,
    payload_frames,
)

from forecasting import report, store
from forecasting.report import figures, forecast_figures, formats, series
from forecasting.report import page as report_page
from forecasting.ytd import headline, year_to_date


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, report_store: Path) -> dict[str, Any]:
    """One store with forecasts (this one and an earlier one) and one written report."""
    folder = tmp_path_factory.mktemp("report")
    db = report_store
    reports = folder / "reports"
    path = report.write_report(db, reports, today=date(2026, 2, 28))
    return {"db": db, "reports": reports, "path": path, "html": path.read_text("utf-8")}


@pytest.fixture(scope="module")
def daily(built: dict[str, Any]) -> pd.DataFrame:
    return store.latest_daily(built["db"]).daily


# ---------------------------------------------------------------------------------------------
# Figure builders: data in, traces out
# ---------------------------------------------------------------------------------------------


def test_cumulative_curves_one_trace_per_year_ending_on_the_ytd_figure(daily: pd.DataFrame) -> None:
    cumulative = series.cumulative_by_year(daily)
    fig = figures.cumulative_figure(cumulative)
    years = sorted(cumulative["year"].unique())
    assert [int(t.customdata[0][-4:]) for t in fig.data] == years
    assert len(fig.data) == len(years) == 2026 - 2018 + 1
    ytd = year_to_date(daily)
    assert fig.data[-1].y[-1] == ytd.table["migrants_arrived"].iloc[-1]  # to the person
    assert fig.data[-1].x[-1] == "2000-02-26"  # shared 1 Jan - 31 Dec axis
    # earlier complete years end on 31 December with their year total
    full = series.complete_year_totals(daily).set_index("year")["migrants_arrived"]
    assert fig.data[0].y[-1] == full[2018]
    assert fig.data[0].x[-1] == "2000-12-31"


def test_cumulative_projection_from_the_year_end_interval_alone(daily: pd.DataFrame) -> None:
    view = _view(THROUGH)
    projection = series.cumulative_projection(daily, view, THROUGH)
    ytd = int(year_to_date(daily).table["migrants_arrived"].iloc[-1])
    assert projection["date"].iloc[0] == THROUGH
    assert projection["date"].iloc[-1] == date(2026, 12, 31)
    assert projection.iloc[0][["p10", "p50", "p90"]].tolist() == [ytd, ytd, ytd]
    assert projection.iloc[-1][["p10", "p50", "p90"]].tolist() == [8000.0, 9400.0, 11200.0]
    assert (projection["p10"] <= projection["p50"]).all()
    assert (projection["p50"] <= projection["p90"]).all()
    assert projection["p50"].is_monotonic_increasing
    fig = figures.cumulative_figure(series.cumulative_by_year(daily), projection)
    upper, lower, median = fig.data[-3:]
    assert lower.fill == "tonexty" and "80%" in lower.name
    assert median.y[-1] == 9400 and median.x[-1] == "2000-12-31"


def test_cumulative_projection_uses_stored_weekly_running_totals(daily: pd.DataFrame) -> None:
    ends = [date(2026, 3, 1) + timedelta(weeks=k) for k in range(44)]
    cumulative = pd.DataFrame(
        {
            "week_ending": ends,
            "mean": range(44),
            "p10": range(44),
            "p50": range(44),
            "p90": range(44),
        }
    )
    view = _view(THROUGH, cumulative=cumulative)
    projection = series.cumulative_projection(daily, view, THROUGH)
    assert projection["date"].iloc[1] == date(2026, 3, 1)
    assert projection["date"].max() <= date(2026, 12, 31)  # the week past 31 Dec is dropped


def test_weekly_fan_has_p10_below_p90_and_complete_weeks_only(daily: pd.DataFrame) -> None:
    weeks = series.weekly_totals(daily)
    assert weeks["week_ending"].iloc[-1] == date(2026, 2, 22)  # 23-26 Feb is a part week
    assert all(d.weekday() == 6 for d in weeks["week_ending"])
    # 1 January 2018 is a Monday, so complete weeks cover every day to 22 February 2026
    assert weeks["migrants_arrived"].sum() == sum(
        v
        for d, v in zip(daily["date"], daily["migrants_arrived"], strict=True)
        if d <= date(2026, 2, 22)
    )
    view = _view(THROUGH)
    fig = forecast_figures.weekly_fan_figure(weeks, view.weeks)
    actual, prior, upper, lower, median = fig.data
    assert len(actual.x) == forecast_figures.WEEKS_SHOWN
    assert all(lo <= hi for lo, hi in zip(lower.y, upper.y, strict=True))
    assert all(lo <= mid <= hi for lo, mid, hi in zip(lower.y, median.y, upper.y, strict=True))
    assert lower.fill == "tonexty"
    assert median.x[0] == "2026-03-01" and len(median.x) == 13


def test_preventions_start_in_may_2024_and_skip_missing_weeks() -> None:
    weekly = pd.DataFrame(
        {
            "week_ending": [
                date(2024, 4, 28),
                date(2024, 5, 5),
                date(2024, 5, 12),
                date(2024, 5, 19),
            ],
            "migrants_arrived": [10, 20, 30, 40],
            "migrants_prevented": pd.array([5, 849, None, 514], dtype="Int32"),
            "events_prevented": pd.array([1, 30, None, 18], dtype="Int32"),
        }
    )
    frame = series.preventions(weekly)
    assert frame["week_ending"].tolist() == [date(2024, 5, 5), date(2024, 5, 19)]
    fig = figures.preventions_figure(frame)
    assert fig.data[0].x[0] == "2024-05-05" and list(fig.data[0].y) == [849, 514]


def test_recent_daily_and_people_per_boat(daily: pd.DataFrame) -> None:
    recent = series.recent_daily(daily)
    assert len(recent) == 90 and recent["date"].iloc[-1] == THROUGH
    fig = figures.recent_daily_figure(recent)
    assert [t.name for t in fig.data] == ["People", "Boats"]
    assert "&lt;script&gt;" in "".join(fig.data[0].customdata)  # hover text escaped
    monthly = series.monthly_people_per_boat(daily)
    assert monthly["month"].iloc[0] == date(2018, 1, 1)
    no_boats = monthly[monthly["boats_arrived"] == 0]
    assert no_boats["people_per_boat"].isna().all()  # never infinite
    # February 2026 has figures to the 26th only: a part month, not drawn as a full one
    last = monthly.iloc[-1]
    assert last["month"] == date(2026, 2, 1) and last["days"] == 26 and not last["complete"]
    assert monthly.iloc[:-1]["complete"].all()
    whole, part = figures.people_per_boat_figure(monthly).data
    assert whole.x[-1] == "2026-01-01" and part.x == ("2026-02-01",)
    assert part.y[0] == pytest.approx(last["people_per_boat"])
    assert part.marker.color == "white" and "Part month" in part.name


def test_part_week_is_marked_not_drawn_as_a_week(daily: pd.DataFrame) -> None:
    part = series.part_week(daily)
    assert part is not None  # 26 February 2026 is a Thursday: Monday to Thursday known
    assert (part["week_ending"], part["days"], part["first"]) == (
        date(2026, 3, 1),
        4,
        date(2026, 2, 23),
    )
    assert part["migrants_arrived"] == sum(
        v
        for d, v in zip(daily["date"], daily["migrants_arrived"], strict=True)
        if d >= date(2026, 2, 23)
    )
    fig = forecast_figures.weekly_fan_figure(series.weekly_totals(daily), part_week=part)
    marker = fig.data[-1]
    assert marker.name == "This week so far (4 of 7 days)" and marker.x == ("2026-03-01",)
    assert series.part_week(daily[[d <= date(2026, 2, 22) for d in daily["date"]]]) is None


def test_stale_warning_logic() -> None:
    assert report.stale_warning(THROUGH, THROUGH + timedelta(days=8), 8) is None
    warning = report.stale_warning(THROUGH, THROUGH + timedelta(days=9), 8)
    assert warning and "Stale data" in warning and "9 days" in warning
    assert report.stale_warning(THROUGH, THROUGH + timedelta(days=2), 1) is not None
    # a historical page is judged against its own date, not today
    today = date(2026, 11, 30)
    assert report.stale_warning(THROUGH, today, 8, as_of=THROUGH + timedelta(days=3)) is None
    then = report.stale_warning(THROUGH, today, 8, as_of=date(2026, 5, 3))
    assert then and "3 May 2026" in then and "66 days" in then and "30 November" not in then


def test_safe_url_only_links_plain_http() -> None:
    assert formats.safe_url("https://www.gov.uk/x.ods") == "https://www.gov.uk/x.ods"
    for bad in (
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "data:text/html,x",
        "//evil",
        "https://",
        None,
        3,
        "https://a.b/\nx",
    ):
        assert formats.safe_url(bad) is None


# ---------------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(page)
    return parser.tags


def _without_plotly_js(page: str) -> str:
    import plotly.offline

    js = plotly.offline.get_plotlyjs()
    assert page.count(js) == 1, "plotly.js must be embedded exactly once"
    return page.replace(js, "")


def test_content_in_order_and_agrees_with_crossings_ytd(built: dict[str, Any]) -> None:
    from flows.cli import main

    page = built["html"]
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["ytd", "--db", str(built["db"])]) == 0
    cli_headline = out.getvalue().strip().splitlines()[-1]
    assert cli_headline == headline(year_to_date(store.latest_daily(built["db"]).daily))
    assert cli_headline + "." in page
    order = [
        'id="headline"',
        'id="cumulative"',
        'id="weekly"',
        'id="track-summary"',
        'id="year-end"',
        'id="track-record"',
        'id="daily"',
        'id="people-per-boat"',
        'id="for-analysts"',
        'id="provenance"',
    ]
    positions = [page.index(marker) for marker in order]
    assert positions == sorted(positions)
    assert report_page.OGL in page
    assert 'id="milestones"' in page and "35%" in page  # the engine always stores milestones
    assert store.held_publications(built["db"])["sha256"].iloc[0] in page


def test_every_chart_has_a_caption_and_a_csv_download(built: dict[str, Any]) -> None:
    tags = _tags(built["html"])
    charts = [a for t, a in tags if t == "div" and "plotly-graph-div" in (a.get("class") or "")]
    downloads = [
        a for t, a in tags if t == "a" and (a.get("href") or "").startswith("data:text/csv")
    ]
    captions = built["html"].count("<figcaption>")
    assert len(charts) == captions >= 6
    assert len(downloads) >= len(charts)
    first = downloads[0]["href"] or ""
    from urllib.parse import unquote

    csv = pd.read_csv(io.StringIO(unquote(first.split(",", 1)[1])))
    assert {"year", "date", "cumulative"} <= set(csv.columns)


def test_untrusted_text_is_escaped(built: dict[str, Any]) -> None:
    page = built["html"]
    assert "&lt;script&gt;alert(&#34;note&#34;)&lt;/script&gt;" in page  # shown as text
    assert HOSTILE_NOTE not in page
    scripts = [a for t, a in _tags(_without_plotly_js(page)) if t == "script"]
    charts = page.count('class="plotly-graph-div"')
    data = [a for a in scripts if a.get("type") == "application/json"]
    code = [a for a in scripts if a.get("type") is None]
    assert len(data) == charts and len(code) == 2  # plotly.js and the chart loader: nothing else
    assert len(scripts) == len(data) + len(code)


def test_hostile_publication_url_is_not_a_link(tmp_path: Path) -> None:
    db = build_store(tmp_path, note=None)
    with duckdb.connect(str(db)) as con:
        con.execute(
            "UPDATE publications SET url = 'javascript:alert(1)', "
            "file_name = '<img src=x onerror=alert(1)>.ods'"
        )
    page = report.write_report(db, tmp_path / "reports", today=THROUGH).read_text("utf-8")
    assert 'href="javascript' not in page.lower()
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;.ods" in page
    assert "No forecast" in page  # no forecasts stored: the page still builds


def test_self_contained_and_under_6_mb(built: dict[str, Any]) -> None:
    path: Path = built["path"]
    assert path.stat().st_size <= MAX_BYTES
    page = built["html"]
    rest = _without_plotly_js(page)
    assert "cdn.plot.ly" not in rest and "mathjax" not in rest.lower()
    for tag, attrs in _tags(page):
        for name in ("src", "href", "data", "poster", "srcset"):
            value = (attrs.get(name) or "").strip().lower()
            if tag == "a" and name == "href":
                continue  # plain links a reader may follow are fine; they load nothing
            assert not value.startswith(("http:", "https:", "//")), (tag, attrs)
        assert not (tag == "script" and attrs.get("src")), attrs
        assert not (tag == "link" and "stylesheet" in (attrs.get("rel") or "")), attrs
    assert "@import" not in rest and "url(http" not in rest.replace(" ", "")
    assert '"displaylogo": false' in rest
    assert '"responsive": true' in rest


def test_index_lists_runs_newest_first(tmp_path: Path) -> None:
    db = build_store(tmp_path, note=None)
    reports = tmp_path / "reports"
    (reports / "notes").mkdir(parents=True)
    (reports / "2026-13-01").mkdir()
    (reports / "2025-01-01").mkdir()  # no index.html inside: not a run
    latest = report.write_report(db, reports, today=THROUGH)
    older = report.write_report(db, reports, date(2026, 1, 31), today=THROUGH)  # written last
    assert older == reports / "2026-01-31" / "index.html"
    assert latest == reports / "2026-02-26" / "index.html"
    index = (reports / "index.html").read_text("utf-8")
    hrefs = [a["href"] for t, a in _tags(index) if t == "a"]
    assert hrefs == ["2026-02-26/index.html", "2026-02-26/index.html", "2026-01-31/index.html"]
    assert re.search(r'id="latest" href="2026-02-26/index.html"', index)
    assert "as they were known on 31 January 2026" in older.read_text("utf-8")


def test_as_of_must_be_a_real_date(tmp_path: Path) -> None:
    db = build_store(tmp_path, note=None)
    for bad in ("../../etc", "2026-02-26", datetime(2026, 2, 26)):
        with pytest.raises(TypeError):
            report.write_report(db, tmp_path / "reports", bad)  # type: ignore[arg-type]
    assert not (tmp_path / "reports").exists()


def test_failed_write_keeps_previous_report(
    built: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reports = _copy_reports(built, tmp_path)
    first = reports / "2026-02-26" / "index.html"
    before = first.read_bytes()
    index_before = (reports / "index.html").read_bytes()

    def refuse(*_: Any) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(report.ReportError) as caught:
        report.write_report(built["db"], reports, today=THROUGH + timedelta(days=30))
    message = str(caught.value)
    assert "\n" not in message and "Permission denied" in message and str(reports) in message
    monkeypatch.undo()
    assert first.read_bytes() == before
    assert (reports / "index.html").read_bytes() == index_before
    assert not [p for p in reports.rglob("*") if p.name.endswith(".tmp")]


def test_failed_render_keeps_previous_report(
    built: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reports = _copy_reports(built, tmp_path)
    first = reports / "2026-02-26" / "index.html"
    before = first.read_bytes()

    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(figures, "people_per_boat_figure", broken)
    with pytest.raises(RuntimeError, match="boom"):
        report.write_report(built["db"], reports, today=THROUGH)
    assert first.read_bytes() == before


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores folder permissions"
)
def test_read_only_reports_dir_is_a_clear_error(built: dict[str, Any], tmp_path: Path) -> None:
    reports = _copy_reports(built, tmp_path)
    first = reports / "2026-02-26" / "index.html"
    before = first.read_bytes()
    for folder in (reports, first.parent):
        folder.chmod(0o555)
    try:
        with pytest.raises(report.ReportError, match="cannot write the report"):
            report.write_report(built["db"], reports, today=THROUGH)
    finally:
        for folder in (reports, first.parent):
            folder.chmod(0o755)
    assert first.read_bytes() == before


def test_reports_dir_that_is_a_file_is_a_clear_error(built: dict[str, Any], tmp_path: Path) -> None:
    target = tmp_path / "reports"
    target.write_text("not a folder")
    with pytest.raises(report.ReportError, match="not a folder"):
        report.write_report(built["db"], target, today=THROUGH)
    blocked = tmp_path / "file" / "reports"
    (tmp_path / "file").write_text("x")
    with pytest.raises(report.ReportError) as caught:
        report.write_report(built["db"], blocked, today=THROUGH)
    assert "\n" not in str(caught.value)


def test_stale_banner_on_the_page(built: dict[str, Any], tmp_path: Path) -> None:
    assert 'id="stale-warning"' not in built["html"]  # written on 28 Feb: 2 days old
    stale = report.write_report(built["db"], tmp_path / "r", today=date(2026, 3, 20))
    page = stale.read_text("utf-8")
    assert 'id="stale-warning"' in page and "22 days" in page


def test_backtest_tables_when_present(built: dict[str, Any], tmp_path: Path) -> None:
    db = tmp_path / "copy.duckdb"
    db.write_bytes(Path(built["db"]).read_bytes())
    store.save_frame(
        db,
        "backtest_scores",
        pd.DataFrame(
            {
                "model": ["ensemble", "seasonal_naive"],
                "mae_vs_naive": [0.81, 1.0],
                "rmsse": [0.9, 1.1],
                "pinball": [55.5, 70.1],
                "coverage_80": [0.78, 0.6],
                "n_origins": [40, 40],
                "n_weeks": [520, 520],
                "run_every": ["4W", "4W"],
            }
        ),
        key=["model"],
    )
    store.save_frame(
        db,
        "backtest_year_end",
        pd.DataFrame(
            {
                "model": ["ensemble"] * 2,
                "origin": [date(2024, 6, 30), date(2025, 6, 29)],
                "year": [2024, 2025],
                "mean": [30000.0, 40000.0],
                "p10": [25000.0, 35000.0],
                "p90": [36000.0, 46000.0],
                "actual": [36816, 41472],
                "ape": [0.18, 0.04],
                "covered": [False, True],
            }
        ),
        key=["model", "origin"],
    )
    page = report.write_report(db, tmp_path / "r", today=THROUGH).read_text("utf-8")
    analysts = page[page.index('<details id="for-analysts"') : page.index("</details>")]
    assert 'id="backtest-scores"' in analysts and 'id="backtest-year-end"' in analysts
    # plain headers, the store's column names only as tooltips; one format for each kind
    for raw, plain in (
        ("mae_vs_naive", "Typical error relative to the same week last year"),
        ("coverage_80", "How often the 80% range held"),
        ("run_every", "Every"),
    ):
        assert f'title="{raw}">{plain}</th>' in analysts
        assert f">{raw}<" not in page
    assert ">0.81</td>" in analysts and ">78%</td>" in analysts and ">60%</td>" in analysts
    assert ">4 weeks</td>" in analysts and ">56</td>" in analysts  # pinball in whole people
    assert ">0.78<" not in analysts and ">0.810<" not in analysts  # (the CSV keeps raw values)
    assert "Same week last year (<code>seasonal_naive</code>)" in analysts
    assert ">11%</td>" in analysts and ">50%</td>" in analysts  # year-end: mean APE, inside
    assert "repeating last week" not in page
    assert 'id="backtest-scores"' not in built["html"]  # absent tables: section left out


def test_model_names_plain_for_stakeholders_and_kept_whole(built: dict[str, Any]) -> None:
    page = built["html"]
    stakeholders = page[: page.index('<details id="for-analysts"')]
    assert "<code>" not in stakeholders  # no code names above the analysts' section
    assert "Our forecast of 26 February 2026 puts the 2026 total at about" in _words(stakeholders)
    assert (
        "code { white-space: nowrap; }" in page
        and "word-break: break-all" not in (page[page.index("code, .hash") : page.index(".hash {")])
    )
    for table in re.findall(r"<table[^>]*>", page):  # every table scrolls inside its own box
        before = page[: page.index(table)]
        assert before.rstrip().endswith('<div class="scroll">'), table


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def _words(page: str) -> str:
    """The page with every run of whitespace as one space (templates wrap their lines)."""
    return " ".join(page.split())


def _copy_reports(built: dict[str, Any], tmp_path: Path) -> Path:
    """A copy of the module's written reports folder, to break without rewriting it."""
    return Path(shutil.copytree(built["reports"], tmp_path / "reports"))


def _view(as_of: date, cumulative: pd.DataFrame | None = None) -> report.ForecastView:
    totals = {2025: 41472, 2024: 36816, 2023: 29437}
    return report.ForecastView(
        payload_frames(forecast_payload(as_of), totals=totals, cumulative=cumulative)
    )
