"""The stakeholder prose around the charts: key figures, the forecast, milestones, track record.

Plain words and one number format: people as whole numbers with separators, chances and shares
as whole percentages, dates as "26 February". Model code names stay in the analysts' section.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from forecasting.chances import says_little
from forecasting.report import accuracy, series
from forecasting.report.data import ForecastView, ReportData
from forecasting.report.formats import fmt_int, how_many_of, long_date, pct, short_date
from forecasting.ytd import ordinal

__all__ = [
    "chance_of_passing_last_year",
    "this_year_forecast",
    "key_figures",
    "forecast_context",
    "milestone_rows",
    "track_summary",
]


def this_year_forecast(data: ReportData) -> ForecastView | None:
    """The forecast shown, when it is a forecast of the year the figures are in."""
    fc = data.forecast
    year = int(data.ytd.table["year"].iloc[-1])
    return fc if fc is not None and fc.year == year else None


def chance_of_passing_last_year(data: ReportData, fc: ForecastView) -> float | None:
    """From the milestones table where held, else from the forecast's own probabilities."""
    m = data.milestones
    if not m.empty and {"kind", "label", "probability"} <= set(m.columns):
        row = m[(m["kind"] == "year_total") & (m["label"].astype(str) == str(fc.year - 1))]
        if not row.empty:
            return float(row["probability"].iloc[0])
    return fc.prob_exceeds.get(fc.year - 1)


def key_figures(data: ReportData) -> list[dict[str, str]]:
    """The cards under the headline: so far, last year, our forecast, the chance of passing."""
    table = data.ytd.table
    this = table.iloc[-1]
    year = int(this["year"])
    cards = [
        {
            "label": f"Arrived in {year} to {short_date(data.data_through)}",
            "value": fmt_int(this["migrants_arrived"]),
            "note": f"{ordinal(int(this['rank']))} highest of {len(table)} years",
        }
    ]
    if len(table) > 1:
        prev = table.iloc[-2]
        change = this["change_pct"]
        note = "" if pd.isna(change) else f"{'up' if change >= 0 else 'down'} {abs(change):.0f}%"
        cards.append(
            {
                "label": f"Same period of {int(prev['year'])}",
                "value": fmt_int(prev["migrants_arrived"]),
                "note": f"{note} this year" if note else "",
            }
        )
    fc = this_year_forecast(data)
    if fc is not None:
        cards.append(
            {
                "label": f"Our forecast for the {year} total",
                "value": fmt_int(fc.p50),
                "note": f"80% range {fmt_int(fc.p10)} to {fmt_int(fc.p90)}",
            }
        )
        chance = chance_of_passing_last_year(data, fc)
        if chance is not None:
            cards.append(
                {
                    "label": f"Chance {year} ends above {year - 1}",
                    "value": pct(chance),
                    "note": f"our forecast of {long_date(fc.as_of)}",
                }
            )
    return cards


def _passed_on(cumulative: pd.DataFrame, year: int, threshold: float) -> date | None:
    rows = cumulative[(cumulative["year"] == year) & (cumulative["cumulative"] > threshold)]
    return None if rows.empty else rows["date"].iloc[0]


def _milestone_label(kinds: list[tuple[str, Any]], threshold: float) -> str:
    """One name for a threshold, whatever milestones share it: a year's total is named by its
    year ("2022's total, the record, 45,755"), never listed twice."""
    years = [str(label) for kind, label in kinds if kind == "year_total"]
    record = [str(label).strip() for kind, label in kinds if kind == "record"]
    if years:
        name = f"{years[0]}'s total"
        if record:
            name += ", the record"
        return f"{name}, {fmt_int(threshold)}"
    if record:
        name = f"The record ({record[0]})" if record[0] else "The record"
        return f"{name}, {fmt_int(threshold)}"
    kind, label = kinds[0]
    if kind == "round":
        return f"{fmt_int(threshold)} people"
    return f"{label}, {fmt_int(threshold)}"


def _when(row: Any) -> tuple[str, str]:
    """(likely by, 80% range of dates) in words, from the milestone's date quantiles."""
    p10, p50, p90 = row["date_p10"], row["date_p50"], row["date_p90"]
    if p50 is not None:
        if p90 is None:
            return short_date(p50), f"{short_date(p10)} or later (may not happen this year)"
        return short_date(p50), f"{short_date(p10)} to {short_date(p90)}"
    if p10 is not None:
        return "less likely than not this year", f"{short_date(p10)} at the earliest"
    return "unlikely this year", ""


def _chance(p: float) -> str:
    """A chance as printed; at its bound (the data say little there) in words, not "2%"."""
    if says_little(p):
        return "very unlikely" if p < 0.5 else "almost certain"
    return pct(p)


def milestone_rows(data: ReportData, fc: ForecastView) -> list[dict[str, str]]:
    """The milestones table of the year forecast, lowest threshold first (empty when the store
    holds none for this forecast): the chance of passing each, and by when."""
    m = data.milestones
    if m.empty or "threshold" not in m:
        return []
    if "year" in m:
        m = m[m["year"] == fc.year]
    observed = int(data.ytd.table["migrants_arrived"].iloc[-1])
    cumulative = series.cumulative_by_year(data.read.daily)
    rows = []
    records = m.sort_values("threshold").to_dict("records")
    kinds: dict[float, list[tuple[str, Any]]] = {}
    for row in records:
        kinds.setdefault(float(row["threshold"]), []).append((str(row["kind"]), row["label"]))
    seen: set[float] = set()
    for row in records:
        threshold = float(row["threshold"])
        if threshold in seen:
            continue
        seen.add(threshold)
        label = _milestone_label(kinds[threshold], threshold)
        if observed > threshold:
            on = _passed_on(cumulative, fc.year, threshold)
            passed = f"passed on {short_date(on)}" if on else "passed"
            rows.append(
                {
                    "label": label,
                    "people": fmt_int(threshold),
                    "chance": "passed",
                    "when": passed,
                    "range": "",
                }
            )
            continue
        when, span = _when(row)
        rows.append(
            {
                "label": label,
                "people": fmt_int(threshold),
                "chance": _chance(float(row["probability"])),
                "when": when,
                "range": span,
            }
        )
    return rows


def forecast_context(data: ReportData) -> dict[str, Any]:
    """The forecast paragraph, its milestones and, without them, the chance of passing each
    earlier year's total."""
    fc = this_year_forecast(data)
    totals = series.complete_year_totals(data.read.daily)
    total_by_year = dict(zip(totals["year"], totals["migrants_arrived"], strict=True))
    milestones = milestone_rows(data, fc) if fc is not None else []
    probabilities = []
    if fc is not None and not milestones:
        probabilities = [
            {"year": y, "total": fmt_int(total_by_year.get(y)), "p": pct(p)}
            for y, p in list(fc.prob_exceeds.items())[:5]
        ]
    return {
        "forecast": fc,
        "milestones": milestones,
        "probabilities": probabilities,
        "track": track_summary(data),
    }


def track_summary(data: ReportData) -> dict[str, Any] | None:
    """The track-record sentence's figures, or None when no earlier forecast can be checked."""
    weeks = series.weekly_totals(data.read.daily)
    t = series.complete_year_totals(data.read.daily)
    totals = dict(zip(t["year"], t["migrants_arrived"], strict=True))
    summary = accuracy.summarise(accuracy.week_ahead_record(data.earlier_forecasts, weeks))
    if summary is None:
        return None
    return {
        "weeks": summary.weeks,
        "held": summary.held,
        "held_words": how_many_of(summary.held, summary.weeks),
        "typical_error": fmt_int(summary.typical_error),
        "naive_error": None if pd.isna(summary.naive_error) else fmt_int(summary.naive_error),
        "beats_naive": summary.beats_naive,
        "first_week": summary.first_week,
        "last_week": summary.last_week,
        "year_end": accuracy.year_end_record(data.earlier_year_end, totals),
        "chance": _chance_words(
            accuracy.chance_record(data.earlier_year_end, data.read.daily, totals)
        ),
    }


def _chance_words(record: accuracy.ChanceRecord | None) -> dict[str, Any] | None:
    """The chance record's figures as printed."""
    if record is None:
        return None
    return {
        "forecasts": record.forecasts,
        "first": long_date(record.first),
        "last": long_date(record.last),
        "years": (
            f"{record.years[0]} to {record.years[-1]}"
            if len(record.years) > 1
            else str(record.years[0])
        ),
        "brier": f"{record.brier:.3f}",
        "rule_brier": f"{record.rule_brier:.3f}",
        "hedged_rule_brier": f"{record.hedged_rule_brier:.3f}",
        "beats_rule": record.beats_rule,
        "bands": [
            {
                "band": b.band,
                "forecasts": b.forecasts,
                "said": pct(b.mean_chance),
                "ended_above": b.ended_above,
            }
            for b in record.bands
        ],
    }
