"""The rest of the year's total, calibrated on past remaining totals of the same length and season.

Summing weekly errors (the paths' copula) gave a year-end range that held 68% of the time from
October-December origins and 100% from April-June ones: how much a year can still move depends
on which weeks are left, not only on how many. So the spread of what is left of the year comes
from the model's own errors on exactly that: at every past origin within SEASON_WEEKS of the
same point of the year (so the same weeks are left), the log-ratio of the true remaining total
to the point forecast's, measured with the data as known at that origin (the members are re-run
at those origins, `season_origins`, as at the recent ones for the weekly errors). Every such
origin counts and each past year weighs the same: a normal through the root mean square of each
year's errors, averaged over the years, widened by Student's t for the few years known. (Each
year's mean, used before, let misses of opposite sign a week or two apart cancel: on 8 August
2021 the range was +-7% of what was left of the year, which came in 71% above the median.)
The paths' remaining totals are mapped onto it, rank for rank, around their own median (which
stays the projection), and each path's weeks are scaled by the same factor: the weekly paths,
the running total, the year end and every milestone chance stay one set.

Every constant was chosen on the validation origins (2019-2021); benchmarks/model_scores.md
lists the variants tried and how they scored.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

__all__ = [
    "SEASON_WEEKS",
    "RemainingErrors",
    "remaining_errors",
    "rescale_remaining",
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
    """Log-ratio errors of past remaining-year totals at the same point of the year, per past
    year: the mean square over its origins within SEASON_WEEKS (what the width reads) and the
    error of the one nearest that point (what the report names)."""

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
        """Error-scale offsets from the median at probabilities p."""
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


def season_origins(week_ending: np.ndarray) -> np.ndarray:
    """The origins at the same point of the year as the last one (within SEASON_WEEKS), with a
    year of history before them: the only ones `remaining_errors` reads, so the only past
    origins beyond the recent ones that a forecast must re-run."""
    left = _calendar(week_ending)[3]
    if len(left) == 0:
        return np.zeros(0, dtype=int)
    near = np.abs(left - int(left[-1])) <= 7 * SEASON_WEEKS
    return np.flatnonzero(near & (np.arange(len(left)) >= MIN_HISTORY))


def remaining_errors(
    y: np.ndarray, week_ending: np.ndarray, points: np.ndarray
) -> RemainingErrors | None:
    """The errors of past origins at the same point of the year as the last one.

    `points[o]` is the model's forecast from origin o (weeks o+1...; NaN rows: not run). Only
    origins whose whole remaining year is known count, so nothing after the last week is read.
    """
    n, horizon = points.shape
    ends, years, dec31, left = _calendar(week_ending)
    found: list[float] = []
    of_year: list[int] = []
    apart: list[int] = []  # days from the same point of the year
    for o in season_origins(week_ending):
        k = int(np.ceil(left[o] / 7))
        if years[o] >= years[-1] or o + k >= n or k > horizon or k < 1:
            continue
        if not np.isfinite(points[o, :k]).all():
            continue
        share = _in_year_share(ends[o + 1 : o + k + 1], dec31[o])
        actual = float((y[o + 1 : o + k + 1] * share).sum())
        point = float((points[o, :k] * share).sum())
        found.append(np.log(actual + OFFSET) - np.log(point + OFFSET))
        of_year.append(int(years[o]))
        apart.append(abs(int(left[o]) - int(left[-1])))
    if len(set(of_year)) < MIN_YEARS:
        return None
    e, which, days = np.asarray(found), np.asarray(of_year), np.asarray(apart)
    known = tuple(sorted(set(of_year)))
    squares = np.array([np.mean(e[which == year] ** 2) for year in known])
    nearest = np.array([e[which == year][np.argmin(days[which == year])] for year in known])
    return RemainingErrors(squares, nearest, known)


def rescale_remaining(
    steps: np.ndarray, errors: RemainingErrors | None, rng: np.random.Generator
) -> np.ndarray:
    """The paths' in-year weekly amounts (n_paths, weeks) with each path's total moved, rank
    for rank, onto the calibrated distribution around the paths' median total."""
    if errors is None or steps.shape[1] == 0:
        return steps
    total = steps.sum(axis=1)
    m = len(total)
    rank = np.argsort(np.argsort(total, kind="stable"), kind="stable")
    u = (rank + rng.random(m)) / m
    centre = float(np.median(np.log(np.maximum(total, 0.0) + OFFSET)))
    offset = errors.quantiles(u)
    target = np.maximum(np.exp(centre + offset) - OFFSET, 0.0)
    shape = steps.mean(axis=0)
    shape = shape / shape.sum() if shape.sum() > 0 else np.full(len(shape), 1 / len(shape))
    spread = np.where(total[:, None] > 0, steps / np.maximum(total, 1e-9)[:, None], shape[None, :])
    return spread * target[:, None]
