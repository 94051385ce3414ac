"""Side-by-side benchmarks against what a user would otherwise do; writes BENCHMARKS.md.

Timings on a shared machine are noisy, so each comparison runs its two sides in alternation
several times and reports medians and their ratio. Every measured command runs as a fresh
process, as a user would run it, and its peak memory (max RSS) is read from the kernel.

    python benchmarks/run.py [--repeats 5] [--release PATH] [--out BENCHMARKS.md]

Needs the bench extra (`pip install -e '.[bench]'`: odfpy for pandas' default ODS reader) and,
for the page load time, Debian's chromium with playwright. Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RELEASES = ROOT.parent / "shared" / "data" / "govuk" / "small-boats-time-series"
DEFAULT_RELEASE = RELEASES / "27_February_2026_Small_boats_-_time_series.ods"
CROSSINGS = [sys.executable, "-m", "flows.cli"]
# BENCHMARKS.md's section written by report_compare.py, which a full run keeps as it is
BEGIN, END = "<!-- report-compare:begin -->", "<!-- report-compare:end -->"


@dataclass
class Timing:
    """Wall seconds and peak memory of repeated runs of one command."""

    label: str
    seconds: list[float] = field(default_factory=list)
    peak_mb: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def peak(self) -> float:
        return max(self.peak_mb) if self.peak_mb else float("nan")


def run_measured(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Run one command in a fresh process; wall seconds and its peak RSS in MB."""
    wrapper = textwrap.dedent(
        """
        import resource, subprocess, sys, time, json
        start = time.perf_counter()
        code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
        wall = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(json.dumps({"code": code, "wall": wall, "peak": peak}))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", wrapper, *cmd],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if result["code"] != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {result['code']}: {out.stderr[-2000:]}")
    return result["wall"], result["peak"]


def alternate(sides: dict[str, object], repeats: int, prepare=None) -> dict[str, Timing]:
    """Run each side's command in turn, `repeats` rounds; `prepare(label)` runs untimed first."""
    timings = {label: Timing(label) for label in sides}
    for round_ in range(repeats):
        for label, make_cmd in sides.items():
            cmd = make_cmd(round_) if callable(make_cmd) else make_cmd
            wall, peak = run_measured(cmd)
            timings[label].seconds.append(wall)
            timings[label].peak_mb.append(peak)
            print(f"  {label}: {wall:.2f} s, {peak:.0f} MB", flush=True)
    return timings


def bench_ingest(release: Path, work: Path, repeats: int) -> dict[str, Timing]:
    """The whole `crossings ingest` command against pandas' odf engine just parsing."""
    pandas_cmd = [
        sys.executable,
        "-c",
        "import sys, pandas; pandas.read_excel(sys.argv[1], engine='odf', sheet_name=None)",
        str(release),
    ]

    def ingest_cmd(round_: int) -> list[str]:
        return [
            *CROSSINGS,
            "ingest",
            "--source",
            str(release),
            "--db",
            str(work / f"ingest-{round_}.duckdb"),
        ]

    return alternate(
        {"crossings ingest (new store)": ingest_cmd, "pandas.read_excel(engine='odf')": pandas_cmd},
        repeats,
    )


BASELINE_LOOP = textwrap.dedent(
    """
    # What an analyst would otherwise write: default Prophet on weekly totals, per as-of date.
    import logging, sys
    from datetime import date, timedelta
    import pandas as pd
    from prophet import Prophet
    logging.getLogger("cmdstanpy").setLevel(logging.WARNING)
    logging.getLogger("prophet").setLevel(logging.WARNING)
    from forecasting.sources.release import read_release
    daily = read_release(sys.argv[1]).daily
    series = pd.Series(daily["migrants_arrived"].to_numpy(), pd.to_datetime(daily["date"]))
    start, weeks = date.fromisoformat(sys.argv[2]), int(sys.argv[3])
    for k in range(weeks):
        as_of = start + timedelta(weeks=k)
        weekly = series[: pd.Timestamp(as_of)].resample("W-SUN").sum()
        frame = pd.DataFrame({"ds": weekly.index, "y": weekly.to_numpy()})
        model = Prophet().fit(frame)
        model.predict(model.make_future_dataframe(periods=13, freq="W-SUN"))
    """
)


def bench_backfill(release: Path, work: Path, repeats: int) -> dict[str, Timing]:
    """Cost per extra as-of date: (52-week run - 4-week run) / 48, ours against the plain loop."""
    db = work / "backfill-source.duckdb"
    subprocess.run(
        [*CROSSINGS, "ingest", "--source", str(release), "--db", str(db)],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    start = "2025-01-05"

    def ours(weeks: int):
        end = (date.fromisoformat(start) + timedelta(weeks=weeks - 1)).isoformat()

        def cmd(round_: int) -> list[str]:
            target = work / f"backfill-{weeks}-{round_}.duckdb"
            target.write_bytes(db.read_bytes())
            return [
                *CROSSINGS,
                "backfill",
                "--start",
                start,
                "--end",
                end,
                "--every",
                "1W",
                "--db",
                str(target),
            ]

        return cmd

    def baseline(weeks: int) -> list[str]:
        return [sys.executable, "-c", BASELINE_LOOP, str(release), start, str(weeks)]

    return alternate(
        {
            "crossings backfill, 4 weeks": ours(4),
            "crossings backfill, 52 weeks": ours(52),
            "default Prophet loop, 4 weeks": baseline(4),
            "default Prophet loop, 52 weeks": baseline(52),
        },
        repeats,
    )


def bench_commands(release: Path, work: Path, repeats: int) -> dict[str, Timing]:
    """Latency of `crossings forecast` and `crossings run`, and `crossings ytd` start-up."""
    db = work / "commands.duckdb"
    subprocess.run(
        [*CROSSINGS, "ingest", "--source", str(release), "--db", str(db)],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )

    def run_cmd(round_: int) -> list[str]:
        return [
            *CROSSINGS,
            "run",
            "--source",
            str(release),
            "--db",
            str(work / f"run-{round_}.duckdb"),
            "--reports-dir",
            str(work / f"reports-{round_}"),
        ]

    return alternate(
        {
            "crossings ytd": [*CROSSINGS, "ytd", "--db", str(db)],
            "crossings forecast": [
                *CROSSINGS,
                "forecast",
                "--as-of",
                "2026-02-26",
                "--db",
                str(db),
                "--output",
                str(work / "f.json"),
            ],
            "crossings run (new store)": run_cmd,
        },
        repeats,
    )


def bench_page(work: Path) -> dict[str, float]:
    """Size of the report page from the last `crossings run`, and its load time in Chromium."""
    pages = sorted(work.glob("reports-*/*/index.html"))
    if not pages:
        return {}
    page = pages[-1]
    figures = {"page_mb": page.stat().st_size / 1e6}
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return figures
    loads = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        for _ in range(5):
            context = browser.new_context()
            tab = context.new_page()
            started = time.perf_counter()
            tab.goto(page.as_uri(), wait_until="load")
            tab.wait_for_function(
                "[...document.querySelectorAll('.plotly-graph-div')]"
                ".every(d => d.querySelector('svg.main-svg'))"
            )
            loads.append(time.perf_counter() - started)
            context.close()
        browser.close()
    figures["load_s_median"] = statistics.median(loads)
    return figures


def write_markdown(out: Path, results: dict, repeats: int) -> None:
    """BENCHMARKS.md: machine, date, every figure, the ratios against their targets."""
    ingest, backfill, commands = (results[k] for k in ("ingest", "backfill", "commands"))
    page = results["page"]
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `python benchmarks/run.py --repeats {repeats}` on "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.platform()}.",
        "Each comparison alternates its sides; figures are medians of the repeats; every "
        "command is a fresh process (start-up included); peak memory is the process's max RSS.",
        "",
        "| command | median s | runs (s) | peak MB |",
        "|---|---:|---|---:|",
    ]
    for group in (ingest, backfill, commands):
        for t in group.values():
            runs = ", ".join(f"{s:.2f}" for s in t.seconds)
            lines.append(f"| {t.label} | {t.median:.2f} | {runs} | {t.peak:.0f} |")
    ours = ingest["crossings ingest (new store)"].median
    theirs = ingest["pandas.read_excel(engine='odf')"].median
    b4, b52 = (backfill[f"crossings backfill, {n} weeks"].median for n in (4, 52))
    p4, p52 = (backfill[f"default Prophet loop, {n} weeks"].median for n in (4, 52))
    per_ours, per_base = (b52 - b4) / 48, (p52 - p4) / 48
    fixed_ours, fixed_base = b4 - 4 * per_ours, p4 - 4 * per_base
    ratio_ingest = ours / theirs
    ratio_backfill = per_ours / per_base
    lines += [
        "",
        "## Against the targets",
        "",
        "| comparison | ours | plain alternative | ratio | target | met |",
        "|---|---:|---:|---:|---:|---|",
        f"| whole `crossings ingest` vs pandas odf parse only | {ours:.2f} s | {theirs:.2f} s "
        f"| {ratio_ingest:.2f} | <= 1.0 | {'yes' if ratio_ingest <= 1.0 else 'no'} |",
        f"| backfill cost per extra as-of date | {per_ours:.3f} s | {per_base:.3f} s "
        f"| {ratio_backfill:.2f} | <= 1.5 (aim 1.0) | {'yes' if ratio_backfill <= 1.5 else 'no'} |",
        "",
        f"Fixed start-up of a backfill (4-week run less 4 x the per-date cost): ours "
        f"{fixed_ours:.2f} s, the plain loop {fixed_base:.2f} s. Ours fits every model "
        "(the ensemble, its three members and the seasonal naive, each calibrated on its own "
        "errors at every past origin, remembered from one date to the next), simulates 1,000 "
        "paths per model and stores every forecast, through Prefect; the plain loop fits "
        "default Prophet only and stores nothing.",
        "",
        "## Report page",
        "",
    ]
    if page:
        lines.append(f"- Page size: {page['page_mb']:.2f} MB (limit 6 MB).")
        if "load_s_median" in page:
            lines.append(
                f"- Load time in headless Chromium until every chart is drawn: median "
                f"{page['load_s_median']:.2f} s over 5 loads from disk."
            )
    text = "\n".join(lines) + "\n"
    previous = out.read_text("utf-8") if out.exists() else ""
    if BEGIN in previous and END in previous:  # keep the report's side-by-side section
        text += "\n" + BEGIN + previous.split(BEGIN, 1)[1].split(END, 1)[0] + END + "\n"
    out.write_text(text)


def main() -> None:
    # The shared releases end in February 2026: `crossings run` would exit 10 ("stale").
    # Staleness is not what is measured here.
    os.environ.setdefault("CROSSINGS_STALE_AFTER_DAYS", "100000")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--release", type=Path, default=DEFAULT_RELEASE)
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument(
        "--only", choices=["ingest", "backfill", "commands", "report"], action="append"
    )
    args = parser.parse_args()
    if not args.release.exists():
        sys.exit(f"benchmarks: no release at {args.release}; pass --release PATH")
    results: dict = {}
    if args.only == ["report"]:  # `crossings report` against main: benchmarks/report_compare.py
        from report_compare import bench_report, markdown, write_section

        with tempfile.TemporaryDirectory(prefix="crossings-bench-") as tmp:
            text = markdown(bench_report(args.release, Path(tmp), args.repeats))
        write_section(args.out, text)
        print(text)
        return
    with tempfile.TemporaryDirectory(prefix="crossings-bench-") as tmp:
        work = Path(tmp)
        wanted = args.only or ["ingest", "backfill", "commands"]
        for name, bench in (
            ("ingest", bench_ingest),
            ("backfill", bench_backfill),
            ("commands", bench_commands),
        ):
            if name in wanted:
                print(f"{name}:", flush=True)
                repeats = args.repeats if name != "backfill" else max(2, args.repeats // 2)
                results[name] = bench(args.release, work, repeats)
        results["page"] = bench_page(work)
        if set(wanted) == {"ingest", "backfill", "commands"}:
            write_markdown(args.out, results, args.repeats)
            print(f"wrote {args.out}")
        else:
            for group in results.values():
                if isinstance(group, dict):
                    for t in group.values():
                        if isinstance(t, Timing):
                            print(f"{t.label}: median {t.median:.2f} s, peak {t.peak:.0f} MB")


if __name__ == "__main__":
    main()
