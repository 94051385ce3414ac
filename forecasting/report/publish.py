"""Writing the report to disk: one folder per as-of date and an index, each file replaced whole.

Layout on disk::

    reports/index.html               every run folder present, newest first
    reports/2026-02-26/index.html    the report as known on 26 February 2026
    reports/2026-02-26/summary.json  its headline figures, for the index

Each file is written to a temporary file beside it and moved into place with `os.replace`, so a
failed run leaves the previous report untouched.
"""

from __future__ import annotations

import json
import tempfile
from datetime import date
from pathlib import Path

from forecasting.calendar import london_today
from forecasting.errors import ReportError
from forecasting.files import atomic_write
from forecasting.operations.checks import check_held_through
from forecasting.report.data import load_report_data, validated_date
from forecasting.report.overview import SUMMARY_FILE, index_rows, run_summary, runs_chart_svg
from forecasting.report.page import OGL, environment, generated_on, render_report, stale_warning

__all__ = ["write_report", "write_index"]


def _atomic_write(path: Path, text: str) -> None:
    """Write beside the target then rename over it: readers never see half a page."""
    atomic_write(path, text)


def _run_folders(reports_dir: Path) -> list[date]:
    runs = []
    for child in reports_dir.iterdir():
        try:
            day = date.fromisoformat(child.name)
        except ValueError:
            continue
        if child.name == day.isoformat() and (child / "index.html").is_file():
            runs.append(day)
    return sorted(runs, reverse=True)


def write_index(
    reports_dir: Path,
    *,
    figures_through: date | None = None,
    stale_after_days: int = 8,
    today: date | None = None,
) -> Path:
    """Rewrite reports_dir/index.html: every run folder present, newest first, with its
    headline figures and a chart of how they moved from run to run.

    The index tells the same truth as the pages: the figures' last day (`figures_through`, the
    store's last official day; else the newest run's), the stale warning when they are old,
    and when it was generated."""
    reports_dir = Path(reports_dir)
    runs = _run_folders(reports_dir)
    rows = index_rows(reports_dir, runs)
    if figures_through is None:
        known = [r["summary"]["data_through"] for r in rows if r["summary"]]
        figures_through = max(known) if known else None
    page = (
        environment()
        .get_template("index.html")
        .render(
            title="Small boat crossings of the English Channel: reports",
            runs=rows,
            chart=runs_chart_svg(rows),
            figures_through=figures_through,
            stale=None
            if figures_through is None
            else stale_warning(figures_through, today or london_today(), stale_after_days),
            generated_at=generated_on(),
            ogl=OGL,
        )
    )
    target = reports_dir / "index.html"
    _write_or_fail(target, page, reports_dir)
    return target


def _write_or_fail(target: Path, text: str, reports_dir: Path) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(target, text)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ReportError(
            f"cannot write the report to {reports_dir}: {reason}; the previous report is unchanged"
        ) from exc


def _check_writable(reports_dir: Path) -> None:
    try:
        reports_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=reports_dir):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ReportError(f"cannot write the report to {reports_dir}: {reason}") from exc


def write_report(
    db_path: Path,
    reports_dir: Path,
    as_of: date | None = None,
    *,
    stale_after_days: int = 8,
    today: date | None = None,
) -> Path:
    """Write reports_dir/<as_of>/index.html and the root index; return the report's path.

    as_of defaults to the last day with data. Nothing is replaced until the new page is complete.
    """
    if as_of is not None:
        as_of = validated_date(as_of, "as_of")
        # a page dated after the figures would pass for a current one: refused, as `forecast` does
        check_held_through(Path(db_path), as_of, forecast=False)
    if today is not None:
        today = validated_date(today, "today")
    reports_dir = Path(reports_dir)
    if reports_dir.exists() and not reports_dir.is_dir():
        raise ReportError(f"cannot write the report to {reports_dir}: it is not a folder")
    _check_writable(reports_dir)  # fail in a moment, not after the work
    data = load_report_data(Path(db_path), as_of)
    page = render_report(data, stale_after_days=stale_after_days, today=today)
    folder = reports_dir / data.as_of.isoformat()  # from a validated date: no path tricks
    target = folder / "index.html"
    _write_or_fail(target, page, reports_dir)
    summary = json.dumps(run_summary(data), indent=1)
    _write_or_fail(folder / SUMMARY_FILE, summary, reports_dir)
    write_index(
        reports_dir,
        figures_through=data.newest_data_through,
        stale_after_days=stale_after_days,
        today=today,
    )
    return target
