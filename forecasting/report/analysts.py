"""The collapsed "For analysts" section: every model scored, year-end checks and the backtests.

Headers are plain words with the store's column name kept as a tooltip (the CSV downloads keep
the column names, for joining with the store); numbers follow the page's one format: people
whole, shares as whole percentages, error ratios to two decimals.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from forecasting import metrics
from forecasting.report import accuracy, series
from forecasting.report.data import ReportData
from forecasting.report.formats import (
    csv_data_uri,
    fmt_int,
    fmt_num,
    long_date,
    model_label,
    ratio,
    share,
)

__all__ = ["COLUMN_LABELS", "analysts_context"]

COLUMN_LABELS = {
    "model": "Model",
    "production": "Published",
    "mae": "Typical error (people a week)",
    "bias": "Bias (people a week)",
    "mae_vs_naive": "Typical error relative to the same week last year",
    "rmsse": "Scaled error (RMSSE)",
    "pinball": "Quantile loss (people a week)",
    "coverage_80": "How often the 80% range held",
    "n_origins": "Forecast dates",
    "origins": "Forecast dates",
    "n_weeks": "Weeks scored",
    "horizon_weeks": "Weeks ahead",
    "run_start": "From",
    "run_end": "To",
    "run_every": "Every",
    "mean_abs_pct_error": "Typical error (share of the year's total)",
    "share_inside_80pct": "How often the 80% range held",
}
SHARE_COLUMNS = {"coverage_80", "share_inside_80pct", "mean_abs_pct_error", "coverage"}
RATIO_COLUMNS = {"mae_vs_naive", "rmsse"}
PEOPLE_COLUMNS = {"mae", "bias", "pinball", "mean", "p10", "p50", "p90", "actual"}


def _cell(column: str, value: Any) -> dict[str, str]:
    if column == "model" and isinstance(value, str):
        return {"text": model_label(value), "code": value}
    if column in SHARE_COLUMNS:
        text = share(value)
    elif column in RATIO_COLUMNS:
        text = ratio(value)
    elif column in PEOPLE_COLUMNS:
        text = fmt_int(value)
    elif column == "run_every" and isinstance(value, str):
        text = _every(value)
    else:
        text = fmt_num(value, 2)
    return {"text": text, "code": ""}


def _every(step: str) -> str:
    """ "4W" -> "4 weeks", "1W" -> "1 week", "7D" -> "7 days"; anything else as it is."""
    match = re.fullmatch(r"\s*(\d*)\s*([WwDd])\s*", step)
    if not match:
        return step
    n = int(match.group(1) or 1)
    unit = "week" if match.group(2).upper() == "W" else "day"
    return f"{n} {unit}{'s' if n != 1 else ''}"


def _numeric(frame: pd.DataFrame, column: str) -> bool:
    return column != "model" and pd.api.types.is_numeric_dtype(frame[column])


def labelled_table(frame: pd.DataFrame | None, limit: int = 30) -> dict[str, Any] | None:
    """A table whose columns belong to other code: plain headers, raw names as tooltips."""
    if frame is None or frame.empty:
        return None
    shown = frame.head(limit)
    columns = [str(c) for c in shown.columns]
    return {
        "columns": [
            {
                "name": c,
                "label": COLUMN_LABELS.get(c, c.replace("_", " ").capitalize()),
                "num": _numeric(shown, c),
            }
            for c in columns
        ],
        "rows": [
            [_cell(c, v) for c, v in zip(columns, row, strict=True)]
            for row in shown.itertuples(index=False)
        ],
        "more": max(len(frame) - limit, 0),
        "csv": csv_data_uri(frame),
    }


def _score_rows(record: pd.DataFrame) -> list[dict[str, str]]:
    """Every stored model's forecasts, over every week ahead, against the weeks as they were."""
    rows = []
    for model, group in record.groupby("model"):
        rows.append(
            {
                "model": model_label(str(model)),
                "code": str(model),
                "production": "yes" if group["production"].astype(bool).any() else "",
                "forecasts": f"{group['as_of'].nunique():,}",
                "weeks": f"{len(group):,}",
                "mae": fmt_int(metrics.mae(group["p50"], group["actual"])),
                "bias": f"{group['error'].mean():+,.0f}",
                "coverage": share(metrics.coverage(group["p10"], group["p90"], group["actual"])),
            }
        )
    return rows


def _year_end_checks(data: ReportData) -> list[dict[str, str]]:
    """Earlier forecasts of a year now complete, against that year's total."""
    frame = data.earlier_year_end
    if frame.empty:
        return []
    totals_frame = series.complete_year_totals(data.read.daily)
    totals = dict(zip(totals_frame["year"], totals_frame["migrants_arrived"], strict=True))
    keep = [
        int(y) in totals and bool(p)
        for y, p in zip(frame["year"], frame["production"], strict=True)
    ]
    rows = []
    for r in frame[keep].tail(12).itertuples():
        actual = totals[int(r.year)]
        rows.append(
            {
                "as_of": long_date(r.as_of),
                "model": model_label(str(r.model)),
                "code": str(r.model),
                "year": str(r.year),
                "forecast": f"{fmt_int(r.year_end_p50)} ({fmt_int(r.year_end_p10)} to "
                f"{fmt_int(r.year_end_p90)})",
                "actual": fmt_int(actual),
                "inside": "yes" if r.year_end_p10 <= actual <= r.year_end_p90 else "no",
            }
        )
    return rows


def _backtest_year_end_summary(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    if frame is None or frame.empty or "model" not in frame:
        return None
    parts: dict[str, Any] = {"origins": ("model", "size")}
    if "ape" in frame:
        parts["mean_abs_pct_error"] = ("ape", "mean")
    if "covered" in frame:
        frame = frame.assign(covered=frame["covered"].astype(float))
        parts["share_inside_80pct"] = ("covered", "mean")
    return frame.groupby("model").agg(**parts).reset_index()


def analysts_context(data: ReportData) -> dict[str, Any]:
    """Everything the collapsed analysts' section shows."""
    record = accuracy.track_record(data.earlier_forecasts, series.weekly_totals(data.read.daily))
    bt_year_end = data.backtest_year_end
    fc = data.forecast
    return {
        "shown_model": None
        if fc is None
        else {"label": model_label(fc.model), "code": fc.model, "mean": fmt_int(fc.mean)},
        "scores": _score_rows(record),
        "scores_csv": csv_data_uri(record) if not record.empty else None,
        "year_end_checks": _year_end_checks(data),
        "backtest_scores": labelled_table(data.backtest_scores),
        "backtest_year_end": labelled_table(_backtest_year_end_summary(bt_year_end)),
        "backtest_year_end_csv": (
            csv_data_uri(bt_year_end) if bt_year_end is not None and not bt_year_end.empty else None
        ),
        "has_anything": bool(
            fc is not None or not record.empty or data.backtest_scores is not None
        ),
    }
