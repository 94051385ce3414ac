"""How the report writes dates, numbers, links and downloads: one home for each format.

Stakeholders read one number format throughout (thousands separators, whole people, whole
percentages); every helper that turns a value into page text lives here so the page and its
captions cannot drift apart.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any, cast
from urllib.parse import quote, urlsplit

import numpy as np
import pandas as pd

from forecasting import calendar

__all__ = [
    "long_date",
    "short_date",
    "fmt_int",
    "fmt_num",
    "pct",
    "share",
    "ratio",
    "how_many_of",
    "model_label",
    "neutralise_cell",
    "as_date",
    "as_mapping",
    "safe_url",
    "csv_data_uri",
    "script_safe",
]


def as_date(value: Any) -> date | None:
    """A `date` from whatever DuckDB or pandas handed back (None for missing)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return cast("date | None", pd.Timestamp(value).date())


def as_mapping(value: Any) -> dict[str, Any]:
    """A stored JSON object (DuckDB hands JSON back as text) as a dict ({} for missing)."""
    if value is None or (not isinstance(value, (str, dict)) and pd.isna(value)):
        return {}
    return dict(json.loads(value)) if isinstance(value, str) else value


long_date = calendar.long_date  # 26 February 2026: one format for the report and the commands


def short_date(d: date) -> str:
    """26 February."""
    return f"{d.day} {d:%B}"


def fmt_int(value: Any) -> str:
    """A count of people: whole, with thousands separators; a dash when missing."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "–"
    return f"{round(float(value)):,}"


def fmt_num(value: Any, digits: int = 2) -> str:
    """Any table cell as text: numbers with separators, booleans as yes/no, dates as ISO."""
    if value is None or isinstance(value, str):
        return "" if value is None else value
    if pd.isna(value):
        return "–"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        return f"{float(value):,.{digits}f}"
    if isinstance(value, pd.Timestamp | datetime | date):
        return str(as_date(value))
    return str(value)


def pct(p: float) -> str:
    """A probability or share as a whole percentage; never a bare 0% or 100%."""
    if p < 0.01:
        return "under 1%"
    if p > 0.99:
        return "over 99%"
    return f"{round(p * 100):d}%"


def share(p: float) -> str:
    """An observed share (how often a range held) as a whole percentage, 0% and 100% included."""
    return "–" if p is None or pd.isna(p) else f"{round(float(p) * 100):d}%"


def ratio(x: float) -> str:
    """A ratio of errors to two decimals (below 1 beats the baseline)."""
    return "–" if x is None or pd.isna(x) else f"{float(x):.2f}"


# Simple fractions a reader says ("3 in 4"), checked in this order (the plainest first).
_FRACTIONS: tuple[tuple[int, int], ...] = ((1, 2), (3, 4), (9, 10), (2, 3), (4, 5), (1, 3), (1, 4))
_FRACTIONS += tuple((k, 10) for k in range(1, 10))


def how_many_of(k: int, n: int, *, slack: float = 0.02) -> str:
    """k of n as people say it: a simple fraction exactly or conservatively true ("3 in 4" for
    39 of 52; never above k/n, and at most `slack` below it), else "k of n".

    A rate is never rounded up into a claim: 38 of 52 (73%) is not "3 in 4" but "7 in 10".
    """
    if n <= 0:
        return "none"
    if k == n:
        return f"all {n}"
    if k == 0:
        return f"none of {n}"
    rate = k / n
    for a, b in _FRACTIONS:
        if 0 <= rate - a / b <= slack:
            return f"{a} in {b}"
    return f"{k} of {n}"


MODEL_LABELS = {
    "ensemble": "Median of three models",
    "seasonal_naive": "Same week last year",
    "profile": "Seasonal profile",
    "prophet": "Prophet",
    "nb_glm": "Negative binomial regression",
    "ets_damped": "Damped Holt-Winters",
}


def model_label(model: str) -> str:
    """A model's plain name (its code name stays beside it for analysts, and in the CSVs)."""
    return MODEL_LABELS.get(model, model.replace("_", " "))


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def neutralise_cell(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula, made inert with a leading apostrophe.

    Only text is touched, and text that is just a number ("-3") is left alone: numbers, negative
    ones included, stay numbers.
    """
    text = isinstance(value, str) and value.startswith(_FORMULA_START)
    return "'" + value if text and not _PLAIN_NUMBER.match(value) else value


def safe_url(url: Any) -> str | None:
    """The URL when it is a plain http(s) address, else None (never a javascript: link)."""
    if not isinstance(url, str):
        return None
    text = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if (
        parts.scheme.lower() in {"http", "https"}
        and parts.netloc
        and not any(c.isspace() or ord(c) < 32 for c in text)
    ):
        return text
    return None


def csv_data_uri(frame: pd.DataFrame) -> str:
    """The frame as a `data:text/csv` URI, so each chart's data downloads without a server.

    Text cells that a spreadsheet would run as formulas (a Home Office note, a file name) are
    neutralised (`neutralise_cell`); numeric columns are written as they are.
    """
    frame = frame.copy()
    for column in frame.columns:
        if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]):
            frame[column] = frame[column].map(neutralise_cell)
    frame.columns = [neutralise_cell(str(c)) for c in frame.columns]
    # CRLF as RFC 4180 has it: a field holding a lone \r or \n is then quoted, not split
    text = frame.to_csv(index=False, lineterminator="\r\n")
    return "data:text/csv;charset=utf-8," + quote(text, safe=",-._:;/ ").replace(" ", "%20")


def script_safe(text: str) -> str:
    """JSON that cannot end or confuse the <script> element holding it."""
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
