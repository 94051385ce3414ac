"""The year-end protocol: `crossings backtest --target year-end` on every Sunday of validation
(2019-2021) and evaluation (2022-2025), and the chance of "ends above last year" calibrated by
leaving one year out over 2019-2025. Writes Markdown (default: stdout).

    python benchmarks/year_end.py --db bt.duckdb [--out year_end.md]

The store must hold the shared releases (benchmarks/model_scores.md says how). Each year of the
leave-one-year-out is scored with the settings chosen on the other six years; the paths' own
chance is the printed one (the simulated years' own share, bounded): the grid below says what
a blend with the reader's rule would have scored (withdrawn: see forecasting/chances.py).
"""

from __future__ import annotations

import argparse
import itertools
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
PERIODS = {"validation": ("2019-01-06", "2021-12-26"), "evaluation": ("2022-01-02", "2025-12-28")}
WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
RULE_UP, RULE_DOWN = 0.8, 0.2  # the reader's rule hedged as 80/20
POWERS = (0.5, 1.0, 2.0, 4.0)


def run_period(db: Path, start: str, end: str) -> str:
    cmd = [sys.executable, "-m", "flows.cli", "backtest", "--target", "year-end", "--db", str(db),
           "--start", start, "--end", end, "--every", "1W"]  # fmt: skip
    return subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout


@dataclass(frozen=True)
class Scored:
    """The ensemble's year-end rows of the latest runs whose year is over, by as-of date, with
    what the reader's rule said ("up to date, so up") and whether the year ended above."""

    ours: pd.DataFrame
    up: pd.Series
    above: pd.Series


def scored_rows(db: Path) -> Scored:
    from forecasting.store import read_year_end_backtest
    from forecasting.year_end import UP_RULE

    rows = read_year_end_backtest(db).dropna(subset=["actual"])
    ours = rows[rows["model"] == "ensemble"].set_index("as_of")
    up = rows[rows["model"] == UP_RULE].set_index("as_of")["p_above"].reindex(ours.index) > 0.5
    return Scored(ours, up, (ours["actual"] > ours["last_year"]).astype(float))


def leave_one_year_out(scored: Scored) -> str:
    """Each year's Brier score with the weights chosen on the other six (forecasting/chances.py:
    the paths' weight MODEL_WEIGHT on 1 January rising as the power WEIGHT_POWER of the share
    of the year gone); the paths' own chance is recovered from the printed one."""
    from forecasting.chances import says_little

    ours, up = scored.ours, scored.up
    gone = np.array([(d - date(d.year, 1, 1)).days / 365 for d in pd.to_datetime(ours.index).date])
    # at a bound the share itself is not printed: the nearest end stands for it
    paths = [(0.0 if p < 0.5 else 1.0) if says_little(p) else p for p in ours["p_above"]]
    df = pd.DataFrame({"p": paths, "rule": np.where(up, RULE_UP, RULE_DOWN), "gone": gone,
                       "year": ours["year"].to_numpy(), "y": scored.above.to_numpy()})  # fmt: skip

    def brier(d: pd.DataFrame, w0: float, power: float) -> float:
        w = w0 + (1 - w0) * d["gone"] ** power
        p = np.clip(w * d["p"] + (1 - w) * d["rule"], 0.05, 0.95)
        return float(((p - d["y"]) ** 2).mean())

    lines = [
        "| left out | weight on 1 January | power | Brier | paths alone | rule 80/20 | origins |",
        "|---|---|---|---|---|---|---|",
    ]
    scored = []
    for year in sorted(df["year"].unique()):
        train, test = df[df["year"] != year], df[df["year"] == year]
        w0, k = min(itertools.product(WEIGHTS, POWERS), key=lambda g: brier(train, *g))
        scored.append((brier(test, w0, k), len(test), year))
        alone, rule = brier(test, 1, 1), brier(test, 0, 1)
        lines.append(f"| {year} | {w0} | {k} | {brier(test, w0, k):.3f} | {alone:.3f} "
                     f"| {rule:.3f} | {len(test)} |")  # fmt: skip
    for name, first in (("2019-2025", 0), ("2022-2025", 2022)):
        part = [(b, n) for b, n, y in scored if y >= first]
        mean = sum(b * n for b, n in part) / sum(n for _, n in part)
        lines.append(f"\nLeft-out Brier, {name}: {mean:.4f}")
    return "\n".join(lines) + "\n"


def reliability(scored: Scored) -> str:
    """The printed chance of "above last year" against how often it happened, by tenth."""
    ours, above = scored.ours, scored.above
    bins = pd.cut(ours["p_above"], np.linspace(0, 1, 11), include_lowest=True)
    lines = [
        "| printed chance | origins | mean printed | share that ended above |",
        "|---|---|---|---|",
    ]
    for interval, g in ours.groupby(bins, observed=True):
        lines.append(f"| {interval} | {len(g)} | {g['p_above'].mean():.2f} "
                     f"| {above[g.index].mean():.2f} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def brier_by_quarter(scored: Scored) -> str:
    """Where the Brier score of "ends above last year" is lost: by quarter of the origin, the
    printed chance against the reader's rule, over both periods."""
    ours, up, above = scored.ours, scored.up, scored.above
    df = pd.DataFrame({"year": ours["year"], "quarter": ours["quarter"], "y": above,
                       "printed": (ours["p_above"] - above) ** 2,
                       "mean printed": ours["p_above"],
                       "certain": (up.astype(float) - above) ** 2,
                       "hedged": (np.where(up, RULE_UP, RULE_DOWN) - above) ** 2})  # fmt: skip
    lines = [
        "| years | quarter of origin | origins | mean printed chance | share above | Brier printed "
        "| rule, certain | rule, 80/20 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, (first, last) in (("2019-2021", (2019, 2021)), ("2022-2025", (2022, 2025))):
        part = df[(df["year"] >= first) & (df["year"] <= last)]
        for quarter, g in part.groupby("quarter"):
            lines.append(f"| {name} | {quarter} | {len(g)} | {g['mean printed'].mean():.2f} "
                         f"| {g['y'].mean():.2f} | {g['printed'].mean():.3f} "
                         f"| {g['certain'].mean():.3f} | {g['hedged'].mean():.3f} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    text = "".join(run_period(args.db, *span) for span in PERIODS.values())
    scored = scored_rows(args.db)
    text += "\n### Chance above last year, leaving one year out\n\n" + leave_one_year_out(scored)
    text += "\n### Its reliability, 2019-2025 (as printed)\n\n" + reliability(scored)
    text += "\n### Where the Brier score is lost\n\n" + brier_by_quarter(scored)
    if args.out:
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
