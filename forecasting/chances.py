"""The milestone chances as printed: the simulated years' own shares, bounded where the data say
little.

Every chance on the page comes from the same simulated years as the median, the 80% range and
the dates, so they can be read against each other: a median below last year's total comes with
a chance below one in two of passing it. A blend of that share with the reader's rule ("up on
last year so far, so up at the end") scored better on "ends above last year" (Brier 0.091
against 0.121 on 2022-2025, benchmarks/model_scores.md) but could not be squared with the
simulations: on the snapshot of 26 February 2026 it printed a 67% chance of passing 2025 beside
a median 38% below it, and 18% for 100,000 people, twice the record. It was withdrawn; the
report's "why" section says instead what the year so far can and cannot tell.

A chance the simulations put below 5% (or above 95%) rests on the tails of a few past years, so
it is printed in words ("very unlikely", "almost certain"), never as "2%".
"""

from __future__ import annotations

__all__ = ["BOUND", "printed_chances", "bounded", "says_little"]

BOUND = 0.05  # no chance printed below 5% or above 95%


def bounded(p: float) -> float:
    """A chance within [BOUND, 1 - BOUND]."""
    return min(max(float(p), BOUND), 1.0 - BOUND)


def says_little(p: float) -> bool:
    """True where a chance sits at its bound: word it ("very unlikely", "almost certain")."""
    return p <= BOUND or p >= 1.0 - BOUND


def printed_chances(shares: list[float]) -> list[float]:
    """Every milestone's printed chance: the share of simulated years passing it, bounded. From
    one set of paths, a bigger total is never likelier to be passed."""
    return [bounded(s) for s in shares]
