"""The rest of the year's total, calibrated on past remaining totals of the same length and season.

Summing weekly errors (the paths' copula) gave a year-end range that held 68% of the time from
October-December origins and 100% from April-June ones: how much a year can still move depends
on which weeks are left, not only on how many. So the spread of what is left of the year comes
from the model's own misses on exactly that: at every past origin within SEASON_WEEKS of the
same point of the year (so the same weeks are left), the log-ratio of the true remaining total
to the centre of that origin's own paths, in units of their own spread (both computed with the
data up to that origin: past_paths.py). A miss in February 2021, when that forecast's paths
were 2.3 times as unsure as February 2026's (a spread of 0.93 against 0.40 on the log scale),
counts for less than half of the same miss today.
Every such origin counts and each past year weighs the same: a normal through the root mean
square of each year's relative misses, averaged over the years, widened by Student's t for the
few years known, times today's paths' own spread. The paths' remaining totals are mapped onto
it, rank for rank, around their own median (which stays the projection), and each path's weeks
are scaled by the same factor: the weekly paths, the running total, the year end and every
milestone chance stay one set.

Every constant was chosen on the validation origins (2019-2021); benchmarks/model_scores.md
lists the variants tried and how they scored.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

__all__ = [
    "OFFSET",
    "SEASON_WEEKS",
    "Z90",
    "RemainingErrors",
    "own_spread",
    "remaining_errors",
    "rescale_remaining",
    "rest_of_year",
    "season_origins",
    "widening",
]

SEASON_WEEKS = 2  # past origins within 2 weeks of the same point in the year
MIN_YEARS = 2  # fewer past years than this: the paths' own spread is kept
MIN_HISTORY = 52  # origins with a year of history before them (the members need one)
OFFSET = 10.0  # the log scale of remaining totals, as for weeks (scale.py)
# Student's t 90% quantile by degrees of freedom (past years), over the normal's (Z90): with
# few years, their spread understates what the next year can do.
T90 = {1: 3.078, 2: 1.886, 3: 1.638, 4: 1.533, 5: 1.476, 6: 1.440, 7: 1.415, 8: 1.397,
       9: 1.383, 10: 1.372, 11: 1.363, 12: 1.356}  # fmt: skip
Z90 = 1.2816
_NORMAL = NormalDist()


@dataclass(frozen=True)
class RemainingErrors:
    """Misses of past remaining-year totals at the same point of the year, per past year: the
    mean square of its origins' misses within SEASON_WEEKS in units of their paths' spread
    (what the width reads) and the log-ratio miss of the one nearest that point (what the
    report names)."""

    mean_squares: np.ndarray
    at_point: np.ndarray
    past_years: tuple[int, ...] = ()  # the year of each, when known

    @property
    def years(self) -> int:
        return len(self.mean_squares)

    def by_year(self) -> dict[int, float]:
        """Each past year's error at the same point of the year (the log-ratio of what was left
        of it to the forecast made then)."""
        return {y: float(e) for y, e in zip(self.past_years, self.at_point, strict=True)}

    def quantiles(self, p: np.ndarray) -> np.ndarray:
        """Offsets from the median at probabilities p, in units of the paths' own spread."""
        sd = float(np.sqrt(np.mean(self.mean_squares)))
        widen = widening(self.years)
        z = np.array([_NORMAL.inv_cdf(float(v)) for v in np.clip(p, 1e-4, 1 - 1e-4)])
        return sd * widen * z


def widening(years: int) -> float:
    """How much wider than the past years' spread the range is drawn when only `years` are known
    (Student's t over the normal at the 90% quantile)."""
    return T90.get(years, Z90) / Z90


def _in_year_share(week_ending: np.ndarray, year_end: np.ndarray) -> np.ndarray:
    """Share of each week's days (Monday-Sunday ending `week_ending`) on or before `year_end`."""
    days = (year_end - week_ending).astype("int64") + 7
    return np.asarray(np.clip(days, 0, 7) / 7.0, dtype=float)


def _calendar(week_ending: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each origin's last day, the year it forecasts, that year's 31 December and the days
    from the origin to it."""
    ends = week_ending.astype("datetime64[D]")
    next_day = ends + 1
    years = next_day.astype("datetime64[Y]").astype(int) + 1970
    dec31 = (next_day.astype("datetime64[Y]") + 1).astype("datetime64[D]") - 1
    return ends, years, dec31, (dec31 - ends).astype("int64")


def rest_of_year(origin: np.datetime64) -> tuple[int, np.ndarray]:
    """The weeks after an origin (a Sunday) up to the one holding 31 December, and the share of
    each week's days inside the year."""
    ends, _, dec31, left = _calendar(np.array([origin], dtype="datetime64[D]"))
    k = int(np.ceil(left[0] / 7))
    return k, _in_year_share(ends[0] + 7 * np.arange(1, k + 1), dec31[0])


def season_origins(week_ending: np.ndarray) -> np.ndarray:
    """The origins at the same point of earlier years as the last one (within SEASON_WEEKS),
    with a year of history before them: the only ones `remaining_errors` reads, so the only past
    origins beyond the recent ones that a forecast must re-run."""
    _, years, _, left = _calendar(week_ending)
    if len(left) == 0:
        return np.zeros(0, dtype=int)
    near = np.abs(left - int(left[-1])) <= 7 * SEASON_WEEKS
    earlier = years < years[-1]  # this year's origins: its rest is not known yet
    return np.flatnonzero(near & earlier & (np.arange(len(left)) >= MIN_HISTORY))


def remaining_errors(
    y: np.ndarray, week_ending: np.ndarray, centres: np.ndarray, spreads: np.ndarray
) -> RemainingErrors | None:
    """The misses of past origins at the same point of the year as the last one.

    `centres[o]` and `spreads[o]` are what origin o's own paths said of the rest of its year
    (past_paths.py; NaN: not run). Only origins whose whole remaining year is known count, so
    nothing after the last week is read.
    """
    n = len(y)
    ends, years, _, left = _calendar(week_ending)
    found: list[float] = []
    relative: list[float] = []
    of_year: list[int] = []
    apart: list[int] = []  # days from the same point of the year
    for o in season_origins(week_ending):
        k, share = rest_of_year(ends[o])
        if o + k >= n or k < 1:  # its rest not all known yet
            continue
        if not (np.isfinite(centres[o]) and np.isfinite(spreads[o]) and spreads[o] > 1e-9):
            continue
        actual = float((y[o + 1 : o + k + 1] * share).sum())
        miss = float(np.log(actual + OFFSET) - np.log(centres[o] + OFFSET))
        found.append(miss)
        relative.append(miss / float(spreads[o]))
        of_year.append(int(years[o]))
        apart.append(abs(int(left[o]) - int(left[-1])))
    if len(set(of_year)) < MIN_YEARS:
        return None
    e, z = np.asarray(found), np.asarray(relative)
    which, days = np.asarray(of_year), np.asarray(apart)
    known = tuple(sorted(set(of_year)))
    squares = np.array([np.mean(z[which == year] ** 2) for year in known])
    nearest = np.array([e[which == year][np.argmin(days[which == year])] for year in known])
    return RemainingErrors(squares, nearest, known)


def own_spread(logs: np.ndarray) -> float:
    """The paths' own spread of the log remaining total: their 10%-90% range over a normal's."""
    return float((np.quantile(logs, 0.9) - np.quantile(logs, 0.1)) / (2 * Z90))


def rescale_remaining(
    steps: np.ndarray, errors: RemainingErrors | None, rng: np.random.Generator
) -> np.ndarray:
    """The paths' in-year weekly amounts (n_paths, weeks) with each path's total moved, rank
    for rank, onto the calibrated distribution around the paths' median total (its width: the
    past misses in units of their paths' spread, times these paths' own spread)."""
    if errors is None or steps.shape[1] == 0:
        return steps
    total = steps.sum(axis=1)
    m = len(total)
    rank = np.argsort(np.argsort(total, kind="stable"), kind="stable")
    u = (rank + rng.random(m)) / m
    logs = np.log(np.maximum(total, 0.0) + OFFSET)
    centre = float(np.median(logs))
    offset = errors.quantiles(u) * own_spread(logs)
    target = np.maximum(np.exp(centre + offset) - OFFSET, 0.0)
    shape = steps.mean(axis=0)
    shape = shape / shape.sum() if shape.sum() > 0 else np.full(len(shape), 1 / len(shape))
    spread = np.where(total[:, None] > 0, steps / np.maximum(total, 1e-9)[:, None], shape[None, :])
    return spread * target[:, None]
