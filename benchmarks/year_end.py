"""The year-end protocol: `crossings backtest --target year-end` on every Sunday of validation
(2019-2021) and evaluation (2022-2025), and the chance of "ends above last year" calibrated by
leaving one year out over 2019-2025. Writes Markdown (default: stdout).

    python benchmarks/year_end.py --db bt.duckdb [--out year_end.md]

The store must hold the shared releases (benchmarks/model_scores.md says how). Each year of the
leave-one-year-out is scored with the blend weight and bound chosen on the other six years; the
paths' own chance is recovered from the printed one (forecasting/chances.py is a blend with the
plain rule, inside its bounds, so it inverts exactly).
"""

from __future__ import annotations

import argparse
import itertools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
PERIODS = {"validation": ("2019-01-06", "2021-12-26"), "evaluation": ("2022-01-02", "2025-12-28")}
WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
BOUNDS = (0.0, 0.05, 0.1, 0.15, 0.2)


def run_period(db: Path, start: str, end: str) -> str:
    cmd = [sys.executable, "-m", "flows.cli", "backtest", "--target", "year-end", "--db", str(db),
           "--start", start, "--end", end, "--every", "1W"]  # fmt: skip
    return subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout


def leave_one_year_out(db: Path) -> str:
    from forecasting.chances import MODEL_WEIGHT, RULE_DOWN, RULE_UP
    from forecasting.store import read_year_end_backtest
    from forecasting.year_end import UP_RULE

    rows = read_year_end_backtest(db).dropna(subset=["actual"])
    ours = rows[rows["model"] == "ensemble"].set_index("as_of")
    up = rows[rows["model"] == UP_RULE].set_index("as_of")["p_above"]
    rule = np.where(up.reindex(ours.index) > 0.5, RULE_UP, RULE_DOWN)
    paths = (ours["p_above"] - (1 - MODEL_WEIGHT) * rule) / MODEL_WEIGHT
    df = pd.DataFrame({"p": paths.clip(0, 1), "rule": rule, "year": ours["year"],
                       "y": (ours["actual"] > ours["last_year"]).astype(float)})  # fmt: skip

    def brier(d: pd.DataFrame, w: float, lo: float) -> float:
        p = np.clip(w * d["p"] + (1 - w) * d["rule"], lo, 1 - lo)
        return float(((p - d["y"]) ** 2).mean())

    lines = [
        "| left out | weight chosen | bound chosen | Brier | paths alone | rule 80/20 | origins |",
        "|---|---|---|---|---|---|---|",
    ]
    scored = []
    for year in sorted(df["year"].unique()):
        train, test = df[df["year"] != year], df[df["year"] == year]
        w, lo = min(itertools.product(WEIGHTS, BOUNDS), key=lambda g: brier(train, *g))
        scored.append((brier(test, w, lo), len(test), year))
        lines.append(f"| {year} | {w} | {lo} | {brier(test, w, lo):.3f} | {brier(test, 1, 0):.3f} "
                     f"| {brier(test, 0, 0):.3f} | {len(test)} |")  # fmt: skip
    for name, first in (("2019-2025", 0), ("2022-2025", 2022)):
        part = [(b, n) for b, n, y in scored if y >= first]
        mean = sum(b * n for b, n in part) / sum(n for _, n in part)
        lines.append(f"\nLeft-out Brier, {name}: {mean:.3f}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    text = "".join(run_period(args.db, *span) for span in PERIODS.values())
    text += "\n### Chance above last year, leaving one year out\n\n" + leave_one_year_out(args.db)
    if args.out:
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
