"""This year so far, by nationality (estimated): the weekly total split by official shares.

The official record lags the weekly figures by months, so nobody can say who crossed this year.
The estimate takes the weekly year-to-date total and splits it by each nationality's share of
the latest four official quarters; its 80% range comes from how far a nationality's share in the
next quarter moved from its four-quarter share in the past. Its error is measured by replaying it
on the stored releases (each release's shares against the later official figures), never assumed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "TOP",
    "OTHER",
    "NationalityShare",
    "NationalityEstimate",
    "EstimateBacktest",
    "estimate_by_nationality",
    "backtest_estimate",
]

TOP = 8  # nationalities named; the rest are "Other"
OTHER = "Other nationalities"
HORIZONS = (1, 2, 3)  # quarters after a release's last that the backtest estimates


@dataclass(frozen=True)
class NationalityShare:
    label: str
    share: float  # of the latest four official quarters
    estimate: float  # people this year so far
    low: float  # 80% range
    high: float


@dataclass(frozen=True)
class NationalityEstimate:
    total: int  # the weekly year-to-date total that is split
    first_quarter: tuple[int, int]  # the four official quarters the shares come from
    last_quarter: tuple[int, int]
    rows: list[NationalityShare]


@dataclass(frozen=True)
class EstimateBacktest:
    """The estimate replayed on the stored releases against the later official figures."""

    tests: int
    misallocated: float  # mean share of people put under the wrong nationality (0-1)
    worst: float  # the largest of those
    coverage: float  # share of (test, nationality) pairs whose official figure fell in the range
    table: pd.DataFrame  # release, quarters, weekly_total, misallocated, inside


def _index(year: int, quarter: int) -> int:
    return int(year) * 4 + int(quarter) - 1


def _quarterly(rows: pd.DataFrame) -> pd.DataFrame:
    """nationality x quarter index -> detections (rows: year, quarter, nationality, detections)."""
    frame = rows.assign(
        q=[_index(y, q) for y, q in zip(rows["year"], rows["quarter"], strict=True)]
    )
    return frame.pivot_table(
        index="q", columns="nationality", values="detections", aggfunc="sum", fill_value=0
    ).sort_index()


def _grouped(table: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    """The same table with every nationality outside `labels` summed into OTHER."""
    named = table.reindex(columns=labels, fill_value=0)
    rest = table.drop(columns=[c for c in labels if c in table.columns]).sum(axis=1)
    return named.assign(**{OTHER: rest})


def _share_moves(table: pd.DataFrame) -> pd.DataFrame:
    """Per origin quarter: the next quarter's shares minus the four quarters' shares to it."""
    moves = []
    for at in range(4, len(table)):
        window = table.iloc[at - 4 : at].sum()
        following = table.iloc[at]
        if window.sum() <= 0 or following.sum() <= 0:
            continue
        moves.append(following / following.sum() - window / window.sum())
    return pd.DataFrame(moves)


def estimate_by_nationality(
    rows: pd.DataFrame, total: int, top: int = TOP
) -> NationalityEstimate | None:
    """Split `total` by the shares of the latest four quarters in `rows` (small-boat detections
    of one release or of the official record); None with fewer than five quarters held."""
    table = _quarterly(rows)
    if len(table) < 5 or table.iloc[-4:].to_numpy().sum() <= 0:
        return None
    window = table.iloc[-4:].sum()
    labels = [str(n) for n in window.sort_values(ascending=False).index[:top] if window[n] > 0]
    grouped = _grouped(table, labels)
    shares = grouped.iloc[-4:].sum() / grouped.iloc[-4:].to_numpy().sum()
    moves = _share_moves(grouped)
    low = moves.quantile(0.1) if not moves.empty else pd.Series(0.0, index=shares.index)
    high = moves.quantile(0.9) if not moves.empty else pd.Series(0.0, index=shares.index)
    out = [
        NationalityShare(
            label=str(label),
            share=float(shares[label]),
            estimate=float(total * shares[label]),
            low=float(total * np.clip(shares[label] + min(low[label], 0.0), 0, 1)),
            high=float(total * np.clip(shares[label] + max(high[label], 0.0), 0, 1)),
        )
        for label in [*labels, OTHER]
    ]
    first, last = int(table.index[-4]), int(table.index[-1])
    return NationalityEstimate(int(total), divmod_q(first), divmod_q(last), out)


def divmod_q(index: int) -> tuple[int, int]:
    """A quarter index back to (year, quarter)."""
    year, q = divmod(index, 4)
    return year, q + 1


def backtest_estimate(
    vintages: pd.DataFrame, official: pd.DataFrame, weekly: dict[tuple[int, int], int]
) -> EstimateBacktest | None:
    """Replay the estimate from each stored release (`vintages`: publication, sequence, year,
    quarter, nationality, detections) for the 1-3 quarters after its last, with the weekly
    total of those quarters (`weekly`), against the latest official figures (`official`)."""
    truth = _quarterly(official)
    results = []
    for _, release in vintages.groupby("sequence", sort=True):
        last = max(_index(y, q) for y, q in zip(release["year"], release["quarter"], strict=True))
        for h in HORIZONS:
            targets = list(range(last + 1, last + h + 1))
            quarters = [divmod_q(t) for t in targets]
            if not all(t in truth.index for t in targets) or not all(q in weekly for q in quarters):
                continue
            total = sum(weekly[q] for q in quarters)
            guess = estimate_by_nationality(release, total)
            if guess is None:
                continue
            labels = [r.label for r in guess.rows if r.label != OTHER]
            actual = _grouped(truth.loc[targets], labels).sum()
            scaled = actual / actual.sum() * total
            results.append(
                {
                    "release": str(release["publication"].iloc[0]),
                    "quarters": _span(quarters),
                    "weekly_total": total,
                    "misallocated": sum(abs(r.estimate - scaled[r.label]) for r in guess.rows)
                    / 2
                    / total,
                    "inside": float(
                        np.mean([r.low <= scaled[r.label] <= r.high for r in guess.rows])
                    ),
                }
            )
    if not results:
        return None
    table = pd.DataFrame(results)
    return EstimateBacktest(
        tests=len(table),
        misallocated=float(table["misallocated"].mean()),
        worst=float(table["misallocated"].max()),
        coverage=float(table["inside"].mean()),
        table=table,
    )


def _span(quarters: list[tuple[int, int]]) -> str:
    (y0, q0), (y1, q1) = quarters[0], quarters[-1]
    return f"{y0} Q{q0}" if (y0, q0) == (y1, q1) else f"{y0} Q{q0} to {y1} Q{q1}"
