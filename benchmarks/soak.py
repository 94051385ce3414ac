"""The soak: the nightly run sixty nights in a row against the local GOV.UK, one day each.

    python benchmarks/soak.py [--nights 60] [--first 2025-12-29] [--json soak.json]

Each night runs `crossings run` in this process as if it were its day (CROSSINGS_TODAY), against
one temporary Prefect server started once for all the nights, while the local GOV.UK
(tests/govuk_calendar.py) publishes what the real site would have that day, with one of each
event (a revision, a reissue, the two glitch page shapes, GOV.UK out of reach, the store held by
a reader). The nights and their checks are tests/soak_nights.py's, shared with the CI soak
(tests/test_soak.py). Prints one line a night, then the figures across the nights against the
limits (the last ten nights' median time within 1.25x of the first ten's, peak memory within
15%, the store growing linearly); exits 1 when a night or a limit fails. Needs ../shared/data.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from govuk_calendar import plan  # noqa: E402 - after the tests folder is on the path
from soak_nights import Limits, NightResult, Soak  # noqa: E402


def _line(result: NightResult) -> str:
    events = ",".join(sorted(result.night.events)) or "-"
    verdict = "ok" if not result.problems else "; ".join(result.problems)
    return (
        f"{result.night.day} {result.night.day:%a} {events:<16} exit {result.status} "
        f"(expected {result.expected.status})  {result.seconds:5.1f} s  "
        f"{result.peak_mb:5.0f} MB peak  store {result.store_mb:5.1f} MB, {result.rows} rows  "
        f"{verdict}"
    )


def summary(limits: Limits, sizes: list[float], rows: list[float]) -> str:
    """The figures across the nights, as RELIABILITY.md shows them."""
    return "\n".join(
        [
            f"time a night, median: first ten {limits.first_seconds:.1f} s, last ten "
            f"{limits.last_seconds:.1f} s (x{limits.last_seconds / limits.first_seconds:.2f}, "
            "limit 1.25)",
            f"peak memory a night, median: first ten {limits.first_peak_mb:.0f} MB, last ten "
            f"{limits.last_peak_mb:.0f} MB ({limits.last_peak_mb / limits.first_peak_mb - 1:+.1%}"
            ", limit +15%)",
            f"store file: {sizes[0]:.1f} MB after the first night, {sizes[-1]:.1f} MB after the "
            f"last; growing {limits.first_growth_mb:.3f} MB a night in the first half, "
            f"{limits.last_growth_mb:.3f} in the second (limit 1.25x); rows held {rows[0]:.0f} "
            f"-> {rows[-1]:.0f}, a straight line's R² {limits.rows_r2:.3f} (limit 0.95)",
        ]
    )


def _from_json(path: Path) -> int:
    """Print the figures of a run saved with --json."""
    nights = json.loads(path.read_text())["nights"]
    figures = {k: [float(n[k]) for n in nights] for k in ("seconds", "peak_mb", "store_mb", "rows")}
    limits = Limits.of_figures(
        figures["seconds"], figures["peak_mb"], figures["store_mb"], figures["rows"]
    )
    print(summary(limits, figures["store_mb"], figures["rows"]))
    for failure in limits.failures():
        print(f"LIMIT NOT MET: {failure}")
    return 1 if limits.failures() else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nights", type=int, default=60)
    parser.add_argument("--first", type=date.fromisoformat, default=date(2025, 12, 29))
    parser.add_argument("--folder", type=Path, help="keep the store and reports here")
    parser.add_argument("--json", type=Path, help="write every night's figures here")
    parser.add_argument("--figures-of", type=Path, help="only print the figures of a --json run")
    args = parser.parse_args(argv)
    if args.figures_of:
        return _from_json(args.figures_of)

    from flows.prefect_server import shared_api

    folder = args.folder or Path(tempfile.mkdtemp(prefix="soak-"))
    folder.mkdir(parents=True, exist_ok=True)
    soak = Soak(folder, plan(args.first, args.nights))
    print(f"soak in {folder}: {args.nights} nights from {args.first}", flush=True)
    started = time.perf_counter()
    with shared_api(folder / "prefect-server.log"):  # one server for every night
        results = soak.run(lambda r: print(_line(r), flush=True))
    limits = Limits.of(results)
    failed = [r for r in results if r.problems]
    print(
        f"nights: {len(results)} ({results[0].night.day} to {results[-1].night.day}), "
        f"{len(results) - len(failed)} as documented; {sum(r.seconds for r in results) / 60:.1f}"
        f" min of nights, {(time.perf_counter() - started) / 60:.1f} min with the server's start"
    )
    print(summary(limits, [r.store_mb for r in results], [float(r.rows) for r in results]))
    for failure in limits.failures():
        print(f"LIMIT NOT MET: {failure}")
    if args.json:
        nights = [
            {
                **{k: v for k, v in asdict(r).items() if k != "output"},
                "night": {"day": str(r.night.day), "events": sorted(r.night.events)},
            }
            for r in results
        ]
        args.json.write_text(
            json.dumps({"limits": asdict(limits), "nights": nights}, indent=1, default=str)
        )
    return 1 if limits.failures() or any(r.problems for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
