"""The "Who is crossing" section: nationalities, children and women, from the official record.

Figures come from `who_data.WhoData` (the quarterly releases known on the page's date) and the
shared breakdown (`forecasting.breakdown`), so `crossings breakdown` prints the same numbers.
Every figure says which release it comes from and how far that record lags the weekly figures.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from forecasting.breakdown import Breakdown, breakdown_of
from forecasting.nationality_estimate import OTHER, TOP
from forecasting.report.formats import csv_data_uri, fmt_int, long_date, script_safe, share
from forecasting.report.style import LIGHT_GREY, OKABE_ITO, layout
from forecasting.report.who_data import WhoData

__all__ = ["who_context", "mix_figure"]

CHILDREN = "17 and under"
WOMEN = "Female"
PALETTE = [*OKABE_ITO.values()][1:] + ["#6f777b"]


def _quarter(y: int, q: int) -> str:
    return f"{y} Q{q}"


def _change(now: int, before: int | None) -> str:
    if before is None or before == 0:
        return "–"
    diff = now - before
    return f"{diff:+,} ({diff / before:+.0%})"


def _latest_four(who: WhoData) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """The latest four quarters' rows, the four before, and their span in words."""
    index = who.official["year"] * 4 + who.official["quarter"] - 1
    last = int(index.max())
    now = who.official[index > last - 4]
    before = who.official[(index <= last - 4) & (index > last - 8)]
    first = divmod(last - 3, 4)
    return now, before, f"{_quarter(first[0], first[1] + 1)} to {_quarter(*who.last_quarter)}"


def _as_rows(result: Breakdown, previous: Breakdown | None, top: int) -> list[dict[str, str]]:
    before = {r.label: r.detections for r in previous.rows} if previous else {}
    return [
        {
            "label": r.label,
            "people": fmt_int(r.detections),
            "share": share(r.share),
            "change": _change(r.detections, before.get(r.label) if previous else None),
        }
        for r in result.rows[:top]
    ]


def _window(frame: pd.DataFrame, by: str) -> Breakdown | None:
    if frame.empty:
        return None
    year = int(frame["year"].max())
    return breakdown_of(frame.assign(year=year), year, by)


def _full_years(who: WhoData) -> list[int]:
    held = who.official.groupby("year")["quarter"].nunique()
    return [int(y) for y, n in held.items() if n == 4]


def _year_rows(who: WhoData, years: list[int]) -> list[dict[str, Any]]:
    out = []
    for year in years[-3:][::-1]:
        result = breakdown_of(who.official, year, "nationality")
        previous = (
            breakdown_of(who.official, year - 1, "nationality") if year - 1 in years else None
        )
        out.append({"year": year, "total": fmt_int(result.total),
                    "rows": _as_rows(result, previous, 5)})  # fmt: skip
    return out


def _people_shares(
    who: WhoData, years: list[int], now: pd.DataFrame, span: str
) -> list[dict[str, Any]]:
    rows = []
    recent = years[-3:][::-1]
    windows = [(span, now)] + [(str(y), who.official[who.official["year"] == y]) for y in recent]
    for label, frame in windows:
        ages, sexes = _window(frame, "age"), _window(frame, "sex")
        if ages is None or sexes is None:
            continue
        rows.append(
            {
                "period": label,
                "total": fmt_int(ages.total),
                "children": share(ages.share_of(CHILDREN)),
                "women": share(sexes.share_of(WOMEN)),
            }
        )
    return rows


def mix_figure(who: WhoData) -> tuple[Any, pd.DataFrame]:
    """Stacked bars: each quarter's small-boat arrivals by nationality (top 8 and the rest)."""
    import plotly.graph_objects as go

    now, _, _ = _latest_four(who)
    top = now.groupby("nationality")["detections"].sum().nlargest(TOP).index.tolist()
    frame = who.official.assign(
        nationality=who.official["nationality"].where(who.official["nationality"].isin(top), OTHER),
        period=[
            _quarter(y, q)
            for y, q in zip(who.official["year"], who.official["quarter"], strict=True)
        ],  # fmt: skip
    )
    table = frame.pivot_table(
        index="period", columns="nationality", values="detections", aggfunc="sum", fill_value=0
    ).reindex(columns=[*top, OTHER], fill_value=0)
    fig = go.Figure()
    for colour, name in zip(PALETTE + [LIGHT_GREY] * 9, table.columns, strict=False):
        fig.add_bar(x=table.index, y=table[name], name=str(name),
                    marker_color=LIGHT_GREY if name == OTHER else colour,
                    hovertemplate="%{x}: %{y:,} " + str(name) + "<extra></extra>")  # fmt: skip
    fig.update_layout(barmode="stack")
    layout(fig, y_title="people a quarter", height=440)
    fig.update_xaxes(tickangle=-45, nticks=12)
    return fig, table.reset_index()


def _estimate_context(who: WhoData) -> dict[str, Any] | None:
    est = who.estimate
    if est is None:
        return None
    bt = who.backtest
    return {
        "year": who.ytd_year,
        "total": fmt_int(est.total),
        "basis": f"{_quarter(*est.first_quarter)} to {_quarter(*est.last_quarter)}",
        "rows": [
            {
                "label": r.label,
                "estimate": fmt_int(r.estimate),
                "share": share(r.share),
                "low": fmt_int(r.low),
                "high": fmt_int(r.high),
            }  # fmt: skip
            for r in est.rows
        ],
        "backtest": None
        if bt is None
        else {
            "tests": bt.tests,
            "misallocated": share(bt.misallocated),
            "worst": share(bt.worst),
            "coverage": share(bt.coverage),
        },
    }


def _year_notes(who: WhoData, years: list[int]) -> list[str]:
    """Complete years whose official total differs from the weekly series' (said once)."""
    notes = []
    totals = who.official.groupby("year")["detections"].sum()
    for year in years:
        weekly = who.weekly_years.get(year)
        official = int(totals[year])
        if weekly is not None and weekly != official:
            notes.append(f"{year}: {weekly:,} in the weekly series, {official:,} in the official "
                         "quarterly figures")  # fmt: skip
    return notes


def who_context(who: WhoData | None) -> dict[str, Any]:
    """Everything the section, the totals note and the analysts' reconciliation table show."""
    if who is None:
        return {"who": None}
    import plotly.io
    from markupsafe import Markup

    now, before, span = _latest_four(who)
    years = _full_years(who)
    latest, previous = _window(now, "nationality"), _window(before, "nationality")
    assert latest is not None  # the official record holds at least one quarter
    end = pd.Timestamp(year=who.last_quarter[0], month=3 * who.last_quarter[1], day=1)
    ends_on = (end + pd.offsets.MonthEnd(0)).date()
    published = f", published {long_date(who.published_on)}" if who.published_on else ""
    fig, table = mix_figure(who)
    rec = who.reconciliation
    flagged = rec[rec["flagged"]]
    return {
        "who": {
            "dated": f"official figures to {long_date(ends_on)}{published}",
            "publication": who.publication,
            "lag_days": (who.weekly_through - ends_on).days,
            "ends_on": ends_on,
            "weekly_through": who.weekly_through,
            "span": span,
            "latest_total": fmt_int(latest.total),
            "latest_rows": _as_rows(latest, previous if len(before) else None, TOP),
            "years": _year_rows(who, years),
            "people": _people_shares(who, years, now, span),
            "chart_json": Markup(script_safe(plotly.io.to_json(fig, validate=False))),
            "chart_csv": csv_data_uri(table),
            "estimate": _estimate_context(who),
            "year_notes": _year_notes(who, years),
            "flagged": [
                f"{int(r.year)} Q{int(r.quarter)} ({r.difference_pct:+.1f}%)"
                for r in flagged.itertuples()
            ],  # fmt: skip
            "reconciliation": [
                {
                    "quarter": _quarter(int(r.year), int(r.quarter)),
                    "official": fmt_int(r.quarterly_small_boats),
                    "weekly": fmt_int(r.weekly_small_boats),
                    "difference": "–" if pd.isna(r.difference) else f"{int(r.difference):+,}",
                    "flagged": "yes" if r.flagged else "",
                }  # fmt: skip
                for r in rec.itertuples()
                if not pd.isna(r.weekly_small_boats)
            ][::-1],
        }
    }
