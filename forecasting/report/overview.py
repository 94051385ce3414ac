"""The reports index: every run newest first, with its headline figures and one small chart.

Each run folder keeps a `summary.json` beside its page (written with it), so the index can list
each run's figures without reading the store or the pages. The chart is inline SVG built from
numbers only: the index stays self-contained, light and safe whatever a summary file holds.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from markupsafe import Markup

from forecasting.report.data import ReportData
from forecasting.report.formats import fmt_int, long_date
from forecasting.report.sections import this_year_forecast
from forecasting.ytd import headline

__all__ = ["SUMMARY_FILE", "run_summary", "read_summary", "index_rows", "runs_chart_svg"]

SUMMARY_FILE = "summary.json"
MAX_SUMMARY_BYTES = 64 * 1024


def run_summary(data: ReportData) -> dict[str, Any]:
    """The figures the index shows for one run, as JSON-ready values."""
    table = data.ytd.table
    this = table.iloc[-1]
    previous = table.iloc[-2] if len(table) > 1 else None
    fc = this_year_forecast(data)
    change = None if previous is None else this["change_pct"]
    return {
        "as_of": data.as_of.isoformat(),
        "data_through": data.data_through.isoformat(),
        "year": int(this["year"]),
        "ytd": int(this["migrants_arrived"]),
        "previous_year": None if previous is None else int(previous["year"]),
        "previous_ytd": None if previous is None else int(previous["migrants_arrived"]),
        "change_pct": None if change is None or change != change else round(float(change), 1),
        "projection": None
        if fc is None
        else {
            "as_of": fc.as_of.isoformat(),
            "p10": round(fc.p10),
            "p50": round(fc.p50),
            "p90": round(fc.p90),
        },
        "headline": headline(data.ytd),
    }


def read_summary(folder: Path) -> dict[str, Any] | None:
    """A run's summary, checked field by field (None when missing or not what we wrote)."""
    path = folder / SUMMARY_FILE
    try:
        if path.stat().st_size > MAX_SUMMARY_BYTES:
            return None
        raw = json.loads(path.read_text("utf-8"))
        previous = raw.get("previous_year")
        summary = {
            "data_through": date.fromisoformat(raw["data_through"]),
            "year": int(raw["year"]),
            "ytd": int(raw["ytd"]),
            "previous_year": None if previous is None else int(previous),
            "change_pct": None if raw.get("change_pct") is None else float(raw["change_pct"]),
            "projection": None,
        }
        projection = raw.get("projection")
        if projection is not None:
            summary["projection"] = {k: float(projection[k]) for k in ("p10", "p50", "p90")}
        return summary
    except (OSError, ValueError, TypeError, KeyError):
        return None


def index_rows(reports_dir: Path, runs: list[date]) -> list[dict[str, Any]]:
    """One row per run, newest first: link, date and (where its summary is readable) figures."""
    rows = []
    for day in runs:
        summary = read_summary(reports_dir / day.isoformat())
        row: dict[str, Any] = {
            "href": f"{day.isoformat()}/index.html",
            "label": long_date(day),
            "iso": day.isoformat(),
            "summary": summary,
        }
        if summary is not None:
            pct = summary["change_pct"]
            row["ytd"] = f"{fmt_int(summary['ytd'])} in {summary['year']}"
            row["change"] = (
                ""
                if pct is None or summary["previous_year"] is None
                else f"{'up' if pct >= 0 else 'down'} {abs(pct):.0f}% on {summary['previous_year']}"
            )
            proj = summary["projection"]
            row["projection"] = (
                ""
                if proj is None
                else f"{fmt_int(proj['p50'])} ({fmt_int(proj['p10'])} to {fmt_int(proj['p90'])})"
            )
        rows.append(row)
    return rows


def _scale(
    values: list[float], low: float, high: float, out_low: float, out_high: float
) -> list[float]:
    span = (high - low) or 1.0
    return [out_low + (v - low) / span * (out_high - out_low) for v in values]


def runs_chart_svg(rows: list[dict[str, Any]]) -> Markup | None:
    """Year to date (black) and the projected year end (blue, with its 80% band) at each run of
    the newest run's year; None with fewer than two such runs."""
    newest = next((r["summary"] for r in rows if r["summary"]), None)
    if newest is None:
        return None
    points = sorted(
        (r["summary"] for r in rows if r["summary"] and r["summary"]["year"] == newest["year"]),
        key=lambda s: s["data_through"],
    )
    if len(points) < 2:
        return None
    days = [s["data_through"].toordinal() for s in points]
    projected = [s for s in points if s["projection"]]
    top = max([s["ytd"] for s in points] + [s["projection"]["p90"] for s in projected] + [1])
    x = _scale(days, min(days), max(days), 48, 590)
    y = _scale([s["ytd"] for s in points], 0, top, 170, 12)
    xy = dict(zip(days, x, strict=True))
    parts = [_line(x, y, "#000000", "")]
    if len(projected) >= 1:
        px = [xy[s["data_through"].toordinal()] for s in projected]
        lo, mid, hi = (
            _scale([s["projection"][k] for s in projected], 0, top, 170, 12)
            for k in ("p10", "p50", "p90")
        )
        band = " ".join(
            f"{a:.1f},{b:.1f}" for a, b in zip(px + px[::-1], hi + lo[::-1], strict=True)
        )
        parts.insert(0, f'<polygon points="{band}" fill="rgba(0,114,178,0.22)" stroke="none"/>')
        parts.append(_line(px, mid, "#0072B2", ' stroke-dasharray="6 4"'))
    label = (
        f"{newest['year']} year to date (black) and projected year end (blue, 80% range shaded) "
        f"at each report from {long_date(points[0]['data_through'])} to "
        f"{long_date(points[-1]['data_through'])}"
    )
    axis = (
        f'<text x="44" y="16" text-anchor="end" font-size="11">{fmt_int(top)}</text>'
        '<text x="44" y="172" text-anchor="end" font-size="11">0</text>'
        f'<text x="48" y="190" font-size="11">{long_date(points[0]["data_through"])}</text>'
        f'<text x="590" y="190" text-anchor="end" font-size="11">'
        f"{long_date(points[-1]['data_through'])}</text>"
        '<line x1="48" y1="170" x2="590" y2="170" stroke="#b1b4b6"/>'
    )
    return Markup(
        f'<svg id="runs-chart" viewBox="0 0 600 200" role="img" aria-label="{label}" '
        f'preserveAspectRatio="xMidYMid meet">'
        f"<title>{label}</title>{axis}{''.join(parts)}</svg>"
    )


def _line(x: list[float], y: list[float], colour: str, extra: str) -> str:
    points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(x, y, strict=True))
    return f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2.5"{extra}/>'
