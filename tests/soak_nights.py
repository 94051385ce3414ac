"""Night after night: the real `crossings run` against the local GOV.UK, one simulated day each.

Shared by the CI soak (tests/test_soak.py, 15 nights) and the benchmark (benchmarks/soak.py, 60
nights). Each night sets CROSSINGS_TODAY to its day, has GOV.UK publish what it had that day
(tests/govuk_calendar.py) and runs `crossings run` through `flows.cli.main` in this process,
against the one Prefect API already configured (PREFECT_API_URL): no server start per night.
After every night `check_night` lists what is wrong: the exit status against the README's
table, the store's integrity, the figures against what GOV.UK published, the report and its
stale banner. The figures in `NightResult` (time, peak memory, store size) feed `Limits`.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
from cli_run import consistency_problems
from govuk_calendar import GovukCalendar, Night

STALE_AFTER_DAYS = 1  # tight, so the banner is due on the night GOV.UK is out of reach
HOLD_SECONDS = 6.0  # how long the reader holds the store on the "held" night
_HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("SELECT count(*) FROM publications").fetchall()
print("held", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
print("released", flush=True)
"""


@dataclass(frozen=True)
class Expected:
    """What the README says the night ends with."""

    status: int  # 0, or 10 when a source failed or the figures are stale
    data_through: date
    stale: bool  # the report's stale banner is due


@dataclass
class NightResult:
    """One night: what was expected, what happened, what it cost, what is wrong."""

    night: Night
    expected: Expected
    status: int
    seconds: float
    peak_mb: float  # this process's peak RSS during the night (VmHWM, reset before it)
    store_mb: float  # the file (and any write-ahead log) on disk
    rows: int  # rows in the store's tables
    problems: list[str] = field(default_factory=list)
    output: str = ""


def expect(night: Night, before: date | None, stale_after_days: int = STALE_AFTER_DAYS) -> Expected:
    """The documented outcome: the page brings figures to yesterday whatever its shape (its
    readable days are stored); with GOV.UK out of reach, the figures held and exit 10."""
    through = night.day - timedelta(days=1) if night.reachable or before is None else before
    stale = (night.day - through).days > stale_after_days
    return Expected(0 if night.reachable and not stale else 10, through, stale)


class Soak:
    """The nights of a plan against one store, one reports folder and the local GOV.UK."""

    def __init__(self, folder: Path, nights: list[Night]) -> None:
        self.folder = folder
        self.nights = nights
        self.calendar = GovukCalendar(folder / "govuk", nights)
        self.db = folder / "crossings.duckdb"
        self.reports = folder / "reports"
        self.raw = folder / "raw"
        # what GOV.UK served on reachable nights: release file names, pages by their day; and
        # what of it the store does not hold (reported on the night it went missing)
        self.served: set[str] = set()
        self.lost: set[str] = set()

    def run(self, after_night: Callable[[NightResult], None] | None = None) -> list[NightResult]:
        """Every night in turn; `after_night` sees each result as it comes."""
        results: list[NightResult] = []
        with self.calendar.serving(), _environment(self._settings()):
            before: date | None = None
            for night in self.nights:
                result = self.night(night, before)
                results.append(result)
                before = result.expected.data_through
                if after_night:
                    after_night(result)
        return results

    def _settings(self) -> dict[str, str]:
        return {
            "CROSSINGS_GOVUK_URL": self.calendar.url,
            "CROSSINGS_STALE_AFTER_DAYS": str(STALE_AFTER_DAYS),
            "CROSSINGS_LOG_DIR": str(self.folder / "logs"),
            "CROSSINGS_NOTIFY": "",
            "CROSSINGS_SOURCE": "",
        }

    def night(self, night: Night, before: date | None) -> NightResult:
        """Publish the day's GOV.UK, run `crossings run` as if it were that day, check."""
        from flows.cli import main

        self.calendar.publish(night)
        if night.reachable:
            self.served |= {self.calendar.release(night.day).name, night.day.isoformat()}
        expected = expect(night, before)
        args = ["run", "--db", str(self.db), "--reports-dir", str(self.reports)]
        args += ["--raw-dir", str(self.raw)]
        out = io.StringIO()
        with _environment({"CROSSINGS_TODAY": night.day.isoformat()}), _held(self.db, night):
            _reset_peak()
            started, wall = time.perf_counter(), time.time()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                status = main(args)
            seconds = time.perf_counter() - started
            peak = _peak_mb()
        result = NightResult(night, expected, status, seconds, peak, *_store_size(self.db))
        result.output = out.getvalue()
        result.problems = check_night(self, night, expected, status, wall)
        return result


def check_night(
    soak: Soak, night: Night, expected: Expected, status: int, wall: float
) -> list[str]:
    """Everything wrong with the state the night left (empty: the next night can build on it)."""
    problems = [] if status == expected.status else [f"exit {status}, expected {expected.status}"]
    problems += consistency_problems(soak.db)
    problems += _forecast_problems(soak.db)
    problems += _figure_problems(soak, night, expected)
    problems += _report_problems(soak.reports, expected, wall)
    return problems


def _rows(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _forecast_problems(db: Path) -> list[str]:
    """One production forecast per as-of date held, each whole (its weeks), no stray weeks."""
    rows = _rows(
        db,
        """
        SELECT 'as of ' || as_of || ': ' || count(*) FILTER (WHERE production)
               || ' production forecasts' FROM forecasts GROUP BY as_of
        HAVING count(*) FILTER (WHERE production) <> 1
        UNION ALL
        SELECT 'as of ' || f.as_of || ', ' || f.model || ': no weeks' FROM forecasts f
        WHERE NOT EXISTS (SELECT 1 FROM forecast_weeks w
                          WHERE w.as_of = f.as_of AND w.model = f.model)
        UNION ALL
        SELECT count(*) || ' forecast weeks without their forecast' FROM forecast_weeks w
        WHERE NOT EXISTS (SELECT 1 FROM forecasts f WHERE f.as_of = w.as_of AND f.model = w.model)
        HAVING count(*) > 0
        """,
    )
    return [text for (text,) in rows]


def _figure_problems(soak: Soak, night: Night, expected: Expected) -> list[str]:
    """The official figures run to the expected day, each as GOV.UK last published it, and
    every publication GOV.UK served on a reachable night is held."""
    from forecasting.store import last_official_day, latest_daily

    problems = []
    through = last_official_day(soak.db)
    if through != expected.data_through:
        problems.append(f"figures to {through}, expected {expected.data_through}")
    daily = latest_daily(soak.db).daily
    held = dict(zip(daily["date"], daily["migrants_arrived"].astype(int), strict=True))
    truth = soak.calendar.truth(expected.data_through, published_on=night.day)
    wrong = sorted(d for d, n in truth.items() if held.get(d) != n)
    if wrong:
        problems.append(f"{len(wrong)} days differ from GOV.UK's figures, first {wrong[0]}")
    held_now = set(
        _rows(
            soak.db,
            "SELECT file_name FROM publications WHERE kind = 'weekly_release' UNION ALL "
            "SELECT strftime(timezone('Europe/London', published_at), '%Y-%m-%d') "
            "FROM publications WHERE kind = 'last_7_days'",
        )
    )
    missing = {key for key in soak.served if (key,) not in held_now}
    if missing - soak.lost:
        problems.append(f"served but not held: {', '.join(sorted(missing - soak.lost))}")
    soak.lost |= missing
    return problems


def _report_problems(reports: Path, expected: Expected, wall: float) -> list[str]:
    """The night's report written (this night), with the stale banner when and only when due."""
    page = reports / expected.data_through.isoformat() / "index.html"
    problems = []
    for path in (page, reports / "index.html"):
        if not path.is_file() or path.stat().st_mtime < wall - 1:
            problems.append(f"{path.relative_to(reports)} not written this night")
    if page.is_file():
        banner = 'id="stale-warning"' in page.read_text(encoding="utf-8")
        if banner != expected.stale:
            problems.append(f"stale banner {'shown' if banner else 'missing'}")
    return problems


# ---------------------------------------------------------------------------------------------
# The process around the nights


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set these variables for the block, then put back what was there."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def _held(db: Path, night: Night) -> Iterator[None]:
    """On the "held" night, another process holds the store (a reader) as the night starts."""
    if "held" not in night.events:
        yield
        return
    reader = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(db), str(HOLD_SECONDS)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert reader.stdout is not None
    try:
        if reader.stdout.readline().strip() != "held":
            raise RuntimeError("the reader could not open the store")
        yield
    finally:
        reader.wait(timeout=HOLD_SECONDS + 60)
        reader.stdout.close()


def _reset_peak() -> None:
    """Start this process's peak RSS (VmHWM) afresh (Linux: clear_refs 5)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _peak_mb() -> float:
    found = re.search(r"VmHWM:\s+(\d+) kB", Path("/proc/self/status").read_text())
    return int(found[1]) / 1024 if found else float("nan")


def _store_size(db: Path) -> tuple[float, int]:
    """The store's size on disk and the rows its tables hold."""
    wal = db.with_name(db.name + ".wal")
    on_disk = sum(p.stat().st_size for p in (db, wal) if p.exists()) / 2**20
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
        ).fetchall()
        rows = sum(
            (con.execute(f'SELECT count(*) FROM "{name}"').fetchone() or (0,))[0]
            for (name,) in tables
        )
    finally:
        con.close()
    return on_disk, rows


# ---------------------------------------------------------------------------------------------
# Across the nights


@dataclass(frozen=True)
class Limits:
    """The soak's limits across nights, from the figures of the first and last ten nights."""

    first_seconds: float  # median
    last_seconds: float
    first_peak_mb: float  # median of the nights' peaks
    last_peak_mb: float
    first_growth_mb: float  # the file's growth a night (least squares), first half of nights 2-N
    last_growth_mb: float  # the same, second half
    rows_r2: float  # how well a straight line fits the rows held after nights 2-N
    half: int  # nights in each half

    @classmethod
    def of(cls, results: list[NightResult]) -> Limits:
        return cls.of_figures(
            [r.seconds for r in results],
            [r.peak_mb for r in results],
            [r.store_mb for r in results],
            [float(r.rows) for r in results],
        )

    @classmethod
    def of_figures(
        cls,
        seconds: list[float],
        peaks: list[float],
        sizes: list[float],
        rows: list[float],
        window: int = 10,
    ) -> Limits:
        """From each night's time, peak memory, store file size and rows held, in night order
        (the first night, which creates the store, is left out of the growth)."""
        half = (len(sizes) - 1) // 2
        return cls(
            statistics.median(seconds[:window]),
            statistics.median(seconds[-window:]),
            statistics.median(peaks[:window]),
            statistics.median(peaks[-window:]),
            _fit(sizes[1 : 1 + half])[0],
            _fit(sizes[-half:])[0],
            _fit(rows[1:])[1],
            half,
        )

    def failures(self) -> list[str]:
        """The limits not met: time within 1.25x, memory within 15%, the store growing
        linearly: its content (rows) on a straight line (R² 0.95 or more) and its file growing
        no faster in the second half than 1.25x the first (give or take one 256 kB block)."""
        out = []
        if self.last_seconds > 1.25 * self.first_seconds:
            out.append(f"time {self.last_seconds:.1f} s > 1.25 x {self.first_seconds:.1f} s")
        if self.last_peak_mb > 1.15 * self.first_peak_mb:
            out.append(f"memory {self.last_peak_mb:.0f} MB > 1.15 x {self.first_peak_mb:.0f} MB")
        if self.rows_r2 < 0.95:
            out.append(f"rows held not on a straight line (R² {self.rows_r2:.3f})")
        block = 0.25 / max(self.half, 1)  # one 256 kB block over the half, a night
        if self.last_growth_mb > 1.25 * max(self.first_growth_mb, 0) + block:
            out.append(
                f"the file grows faster: {self.first_growth_mb:.3f} then "
                f"{self.last_growth_mb:.3f} MB a night"
            )
        return out


def _fit(values: list[float]) -> tuple[float, float]:
    """The least-squares line through (night, value): its slope, and R² (1: a perfect line)."""
    xs = list(range(len(values)))
    if len(values) < 3 or len(set(values)) == 1:
        return 0.0, 1.0
    slope, intercept = statistics.linear_regression(xs, values)
    residual = sum((v - (slope * x + intercept)) ** 2 for x, v in zip(xs, values, strict=True))
    total = sum((v - statistics.fmean(values)) ** 2 for v in values)
    return slope, 1 - residual / total
