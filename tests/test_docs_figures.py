"""The figures README.md quotes as the product's output are the product's output.

README.md keeps them in one delimited block (`<!-- product-figures:begin -->`); this test seeds a
store from the bundled snapshot, forecasts as `crossings run` does, and compares every row. A
model or data change that moves them fails here, printing the rows to paste into the README.
The year totals and year-to-date figures of the "Measured" table are checked the same way.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from forecasting import store
from forecasting.bundled import seed
from forecasting.operations.forecast import forecast_and_store
from forecasting.report.formats import fmt_int, pct
from forecasting.ytd import year_to_date

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BEGIN, END = "<!-- product-figures:begin -->", "<!-- product-figures:end -->"


def _block() -> dict[str, str]:
    assert README.count(BEGIN) == 1 and README.count(END) == 1, "one block of product figures"
    block = README.split(BEGIN)[1].split(END)[0]
    rows = {}
    for line in block.strip().splitlines()[2:]:  # after the header and its rule
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows[cells[0]] = cells[1]
    return rows


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store seeded from the bundled snapshot, forecast as the first `crossings run` does."""
    db = tmp_path_factory.mktemp("bundled") / "crossings.duckdb"
    seed(db)
    forecast_and_store(db)
    return db


def _product_rows(db: Path) -> dict[str, str]:
    through = store.last_official_day(db)
    assert through is not None
    table = year_to_date(store.latest_daily(db).daily, through).table
    this, last = table.iloc[-1], table.iloc[-2]
    year = int(this["year"])
    frames = store.read_forecast_frames(db, through, production_only=True)
    year_end = frames.year_end.iloc[0]
    m = frames.milestones
    totals = m[m["kind"] == "year_total"].set_index("label")
    rounds = m[m["kind"] == "round"].set_index("threshold")
    last_total = int(totals.at[str(year - 1), "threshold"])
    day = f"{through.day} {through:%B}"
    return {
        f"Arrived in {year} to {day}": fmt_int(this["migrants_arrived"]),
        f"Same period of {year - 1}": fmt_int(last["migrants_arrived"]),
        f"Projected {year} total (median)": fmt_int(year_end["p50"]),
        f"Projected {year} total, 80% range": (
            f"{fmt_int(year_end['p10'])} to {fmt_int(year_end['p90'])}"
        ),
        f"Chance {year} ends above {year - 1} ({last_total:,})": pct(
            totals.at[str(year - 1), "probability"]
        ),
        f"Chance {year} passes 20,000": pct(rounds.at[20_000.0, "probability"]),
        "Last 13 weeks against the same weeks a year earlier": pct(
            frames.runs["level_trailing"].iloc[0]
        ),
    }


def test_readme_quotes_the_products_figures_on_the_bundled_snapshot(snapshot: Path) -> None:
    product = _product_rows(snapshot)
    paste = "\n".join(f"| {k} | {v} |" for k, v in product.items())
    assert _block() == product, f"README.md's product figures are out of date; paste:\n{paste}"


def test_the_year_end_figures_are_quoted_in_the_block_only(snapshot: Path) -> None:
    outside = README.split(BEGIN)[0] + README.split(END)[1]
    docs = [outside] + [p.read_text("utf-8") for p in (ROOT / "docs").glob("*.md")]
    year_end = store.read_forecast_frames(snapshot, production_only=True).year_end.iloc[0]
    for q in ("p10", "p50", "p90"):
        figure = fmt_int(year_end[q])
        assert not any(figure in text for text in docs), f"{figure} quoted outside the block"


def test_the_measured_year_totals_and_year_to_date_are_the_snapshots(snapshot: Path) -> None:
    daily = store.latest_daily(snapshot).daily
    row = next(line for line in README.splitlines() if line.startswith("| Year totals 2018-2025"))
    quoted = [int(v.replace(",", "")) for v in re.findall(r"[\d,]+", row.split("|")[2])]
    years = year_to_date(daily, date(2025, 12, 31)).table.set_index("year")["migrants_arrived"]
    assert quoted == [int(years[y]) for y in range(2018, 2026)]
    row = next(line for line in README.splitlines() if line.startswith("| Year to date on 31"))
    quoted = [int(v.replace(",", "")) for v in re.findall(r"\d{1,3}(?:,\d{3})+", row)]
    on = {
        d: year_to_date(daily, d).table.set_index("year")["migrants_arrived"]
        for d in (date(2025, 3, 31), date(2023, 3, 31))
    }
    assert quoted[:2] == [int(on[date(2025, 3, 31)][2025]), int(on[date(2023, 3, 31)][2023])]
