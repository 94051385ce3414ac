"""The milestone chances as printed: calibrated, and bounded where the data say little.

"Chance the year ends above last year" straight from the paths scored worse than the reader's
own rule ("up to date, so up at the end", Brier 0.119 against 0.091 on 2022-2025): the paths
are too sure. Every year of 2019-2021 went up, so validation cannot calibrate it; the setting
was chosen by leaving one year out over 2019-2025 (each year scored with the setting chosen on
the other six, benchmarks/model_scores.md): a blend of the paths' chance and the rule hedged as
80/20 whose weight on the paths grows through the year, from a quarter on 1 January to all of
it on 31 December (quadratically: the rule knows little in spring, the paths a lot in
December). Every chance is then bounded: one the paths put below 5% (or above 95%) rests on the
tails of a few past years, so it is printed as "very unlikely" (or "almost certain"), never "2%".
"""

from __future__ import annotations

__all__ = [
    "MODEL_WEIGHT",
    "paths_weight",
    "paths_chance",
    "BOUND",
    "chance_above_last_year",
    "calibrated_chances",
    "bounded",
    "says_little",
]

MODEL_WEIGHT = 0.25  # the paths' weight on 1 January, rising to 1 on 31 December ...
WEIGHT_POWER = 2.0  # ... as the square of the share of the year gone
RULE_UP, RULE_DOWN = 0.8, 0.2  # the plain rule hedged as 80/20
BOUND = 0.05  # no chance printed below 5% or above 95%


def bounded(p: float) -> float:
    """A chance within [BOUND, 1 - BOUND]."""
    return min(max(float(p), BOUND), 1.0 - BOUND)


def paths_weight(year_gone: float) -> float:
    """The weight of the paths' chance against the rule, `year_gone` (0-1) into the year."""
    return float(
        MODEL_WEIGHT + (1.0 - MODEL_WEIGHT) * min(max(year_gone, 0.0), 1.0) ** WEIGHT_POWER
    )


def chance_above_last_year(paths: float, up_to_date: bool, year_gone: float) -> float:
    """The printed chance of passing last year's total: the paths' chance blended with the plain
    rule (up on last year to the same day: 80%, else 20%), bounded."""
    w = paths_weight(year_gone)
    rule = RULE_UP if up_to_date else RULE_DOWN
    return bounded(w * float(paths) + (1.0 - w) * rule)


def paths_chance(printed: float, up_to_date: bool, year_gone: float) -> float:
    """The paths' own chance behind a printed one (for the leave-one-year-out benchmark): the
    blend inverted; at a bound, the nearest end (0 or 1)."""
    if printed <= BOUND or printed >= 1.0 - BOUND:
        return 0.0 if printed < 0.5 else 1.0
    w = paths_weight(year_gone)
    rule = RULE_UP if up_to_date else RULE_DOWN
    return min(max((printed - (1.0 - w) * rule) / w, 0.0), 1.0)


def says_little(p: float) -> bool:
    """True where a chance sits at its bound: word it ("very unlikely", "almost certain")."""
    return p <= BOUND or p >= 1.0 - BOUND


def calibrated_chances(
    shares: list[float], last_year: float | None, up_to_date: bool, year_gone: float
) -> list[float]:
    """Every milestone's printed chance from the share of paths passing it.

    The paths are reweighted, those ending above last year's total against those below, so the
    chance of passing it is `chance_above_last_year`; every other milestone's chance follows
    from the same reweighted paths (a piecewise-linear map of its share through that point),
    so a bigger total is never likelier to be passed. Then bounded.
    """
    if last_year is None:
        return [bounded(s) for s in shares]
    c = chance_above_last_year(last_year, up_to_date, year_gone)
    out = []
    for s in shares:
        if s < last_year:  # a total above last year's: only paths above it can pass
            mapped = c * s / last_year
        elif s < 1.0:
            mapped = c + (1.0 - c) * (s - last_year) / (1.0 - last_year)
        else:
            mapped = c if last_year >= 1.0 else 1.0
        out.append(bounded(mapped))
    return out
