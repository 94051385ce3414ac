"""The rest of the year's total, calibrated on past remaining totals of the same length and season.

Summing weekly errors (the paths' copula) gives a year-end range that shrinks as the weeks run
out, faster than the year's last weeks really settle: a few December weather windows can still
carry thousands, and a spring range summed over forty weeks was wider than any spring needed.
So the spread of what is left of the year comes from the model's own errors on exactly that:
at every past origin with (about) as many weeks left before 31 December, which is the same
time of year, the log-ratio of the true remaining total to the point forecast's, measured with
the data as known at that origin (the members are re-run at every past origin, as for the
weekly errors). The paths' remaining totals are then mapped, rank for rank, onto that
distribution around their own median, and each path's weeks are scaled by the same factor: the
weekly paths, the running total, the year end and every milestone chance stay one set.

Every constant was chosen on the validation origins (2019-2021); benchmarks/model_scores.md
lists the variants tried.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

__all__ = ["SEASON_WEEKS", "RemainingErrors", "remaining_errors", "rescale_remaining"]

SEASON_WEEKS = 2  # past origins within 4 weeks of the same point in the year
MIN_YEARS = 2  # fewer past years than this: the paths' own spread is kept
MIN_HISTORY = 52  # origins with a year of history before them (the members need one)
OFFSET = 10.0  # the log scale of remaining totals, as for weeks (scale.py)
WEIGHT = 0.5  # the calibrated spread's weight against the paths' own (log-quantile blend)
SPREAD = "years"  # "years": a normal through the past years' errors; "widest", "blend", "pooled"
# Student's t 90% quantile over the normal's, by degrees of freedom (past years): with few
# years, their spread understates what the next year can do.
T90 = {1: 3.078, 2: 1.886, 3: 1.638, 4: 1.533, 5: 1.476, 6: 1.440, 7: 1.415, 8: 1.397}
Z90 = 1.2816
_NORMAL = NormalDist()


@dataclass(frozen=True)
class RemainingErrors:
    """Centred log-ratio errors of past remaining-year totals, sorted, and how many years."""

    errors: np.ndarray
    years: int
    year_means: np.ndarray  # each past year's mean error (not centred)

    def quantiles(self, p: np.ndarray) -> np.ndarray:
        if SPREAD == "years":  # one error per past year, its root mean square, widened for few
            sd = float(np.sqrt(np.mean(self.year_means**2)))
            widen = T90.get(len(self.year_means), Z90) / Z90
            z = np.array([_NORMAL.inv_cdf(float(v)) for v in np.clip(p, 1e-4, 1 - 1e-4)])
            return sd * widen * z
        return np.interp(p, (np.arange(len(self.errors)) + 0.5) / len(self.errors), self.errors)


def _in_year_share(week_ending: np.ndarray, year_end: np.ndarray) -> np.ndarray:
    """Share of each week's days (Monday-Sunday ending `week_ending`) on or before `year_end`."""
    days = (year_end - week_ending).astype("int64") + 7
    return np.clip(days, 0, 7) / 7.0


def remaining_errors(
    y: np.ndarray, week_ending: np.ndarray, points: np.ndarray
) -> RemainingErrors | None:
    """The errors of past origins at the same point of the year as the last one.

    `points[o]` is the model's forecast from origin o (weeks o+1...; NaN rows: not run). Only
    origins whose whole remaining year is known count, so nothing after the last week is read.
    """
    n, horizon = points.shape
    ends = week_ending.astype("datetime64[D]")
    next_day = ends + 1
    years = next_day.astype("datetime64[Y]").astype(int) + 1970
    dec31 = (next_day.astype("datetime64[Y]") + 1).astype("datetime64[D]") - 1
    left = (dec31 - ends).astype("int64")  # days from each origin to its 31 December
    now = int(left[-1])
    found: list[float] = []
    of_year: list[int] = []
    near = np.abs(left - now) <= 7 * SEASON_WEEKS
    for o in np.flatnonzero(near & (np.arange(n) >= MIN_HISTORY)):
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
    if len(set(of_year)) < MIN_YEARS:
        return None
    e, which = np.asarray(found), np.asarray(of_year)
    means = np.array([e[which == year].mean() for year in sorted(set(of_year))])
    return RemainingErrors(np.sort(e - np.median(e)), len(means), means)


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
    log_total = np.log(np.maximum(total, 0.0) + OFFSET)
    centre = float(np.median(log_total))
    own = log_total - centre  # the paths' own spread, at each path's rank
    calibrated = errors.quantiles(u)
    if SPREAD == "years":
        offset = calibrated
    elif SPREAD == "widest":
        offset = np.where(calibrated < 0, np.minimum(own, calibrated), np.maximum(own, calibrated))
    elif SPREAD == "blend":
        offset = WEIGHT * calibrated + (1 - WEIGHT) * own
    else:
        offset = calibrated
    target = np.maximum(np.exp(centre + offset) - OFFSET, 0.0)
    shape = steps.mean(axis=0)
    shape = shape / shape.sum() if shape.sum() > 0 else np.full(len(shape), 1 / len(shape))
    spread = np.where(total[:, None] > 0, steps / np.maximum(total, 1e-9)[:, None], shape[None, :])
    return spread * target[:, None]
