"""`crossings report` side by side: this tree against a baseline commit, on one snapshot store.

The store holds the release given (the bundled snapshot's by default), the production forecast
of its last day and the track record's 52 weekly forecasts, as after a first `crossings run`.
Each round runs the baseline's and this tree's `crossings report` in turn, each a fresh process
on its own source tree (the baseline extracted with `git archive`, so the repository is not
touched); the medians, their ratio and both pages' sizes go into BENCHMARKS.md between markers.

    python benchmarks/report_compare.py [--baseline main] [--repeats 7]

Also run by `python benchmarks/run.py --only report`.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tarfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import BEGIN, CROSSINGS, END, ROOT, Timing, run_measured  # noqa: E402

SNAPSHOT = ROOT / "forecasting" / "bundled" / "27_February_2026_Small_boats_-_time_series.ods"


def _baseline_tree(ref: str, work: Path) -> tuple[Path, str]:
    """The baseline's source tree under `work`, and its commit."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", ref], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    archive = subprocess.run(["git", "archive", commit], cwd=ROOT, capture_output=True, check=True)
    tree = work / f"baseline-{commit}"
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(tree, filter="data")
    return tree, commit


def _snapshot_store(release: Path, db: Path) -> None:
    """Ingest, the track record and the forecast, with this tree's code."""
    code = (
        "import sys; from datetime import date; from pathlib import Path;"
        "from forecasting.operations.ingest import ingest_many;"
        "from forecasting.operations.forecast import forecast_and_store;"
        "from forecasting.store import last_official_day;"
        "from forecasting.track_record import fill_track_record;"
        "db = Path(sys.argv[1]); ingest_many(db, [sys.argv[2]], raw_dir=db.parent / 'raw');"
        "day = last_official_day(db); fill_track_record(db, day); forecast_and_store(db, day)"
    )
    subprocess.run([sys.executable, "-c", code, str(db), str(release)], cwd=ROOT, check=True)


def bench_report(release: Path, work: Path, repeats: int, baseline: str = "main") -> dict:
    tree, commit = _baseline_tree(baseline, work)
    db = work / "report-store" / "crossings.duckdb"
    db.parent.mkdir(parents=True, exist_ok=True)
    _snapshot_store(release, db)
    sides = {f"baseline {commit}": tree, "this tree": ROOT}
    timings = {label: Timing(label) for label in sides}
    pages = {}
    for _ in range(repeats):
        for label, source in sides.items():
            out = work / f"reports-{label.split()[0]}"
            cmd = [*CROSSINGS, "report", "--db", str(db), "--reports-dir", str(out)]
            wall, peak = run_measured(cmd, env={"PYTHONPATH": str(source)})
            timings[label].seconds.append(wall)
            timings[label].peak_mb.append(peak)
            pages[label] = next(out.glob("*/index.html")).stat().st_size / 1e6
            print(f"  {label}: {wall:.2f} s, {peak:.0f} MB", flush=True)
    return {"timings": timings, "pages": pages, "commit": commit, "repeats": repeats}


def markdown(result: dict) -> str:
    timings, pages = result["timings"], result["pages"]
    base, ours = (timings[k] for k in timings)
    ratio = ours.median / base.median
    lines = [
        BEGIN,
        "## `crossings report` side by side",
        "",
        f"Measured on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `python "
        f"benchmarks/report_compare.py --repeats {result['repeats']}`: the snapshot store "
        "(release of 27 February 2026, its forecast and 52-week track record), each side a "
        "fresh process, alternated.",
        "",
        "| side | median s | runs (s) | peak MB | page MB |",
        "|---|---:|---|---:|---:|",
    ]
    for t in (base, ours):
        runs = ", ".join(f"{s:.2f}" for s in t.seconds)
        lines.append(
            f"| {t.label} | {t.median:.2f} | {runs} | {t.peak:.0f} | {pages[t.label]:.2f} |"
        )
    lines += ["", f"Ratio (this tree / baseline): {ratio:.2f}.", END]
    return "\n".join(lines)


def write_section(out: Path, text: str) -> None:
    """Replace the section between the markers in `out` (or append it)."""
    current = out.read_text("utf-8") if out.exists() else ""
    if BEGIN in current and END in current:
        head, rest = current.split(BEGIN, 1)
        current = head + text + rest.split(END, 1)[1]
    else:
        current = current.rstrip("\n") + "\n\n" + text + "\n"
    out.write_text(current, "utf-8")


def main() -> None:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="main")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--release", type=Path, default=SNAPSHOT)
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="crossings-report-bench-") as tmp:
        result = bench_report(args.release, Path(tmp), args.repeats, args.baseline)
    text = markdown(result)
    write_section(args.out, text)
    print(text)


if __name__ == "__main__":
    main()
