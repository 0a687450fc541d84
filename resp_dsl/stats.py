"""Honest numbers for accuracies: intervals, paired comparisons, seeds. Pure Python (no torch).

- ``wilson(k, n)``: the 95% Wilson score interval of one accuracy k/n (good at 0%, 100% and small n).
- ``mcnemar(a, b)``: exact two-sided McNemar test of two arms evaluated on the *same* problems
  (only the discordant pairs count), with the paired difference and its 95% Wilson-style
  (Newcombe) interval.
- ``format_p(p)``: a p-value as a report prints it (3 significant digits, ``<1e-4`` below that).
- ``bootstrap_over_seeds(runs)``: the mean accuracy over calibration seeds with a 95% interval
  from a two-level bootstrap (resample seeds, then problems within each seed), so that both the
  seed-to-seed spread and the finite test set enter the interval.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

Z95 = 1.959963984540054


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of k successes in n trials ((0, 1) when n is 0)."""
    if n <= 0:
        return 0.0, 1.0
    if not 0 <= k <= n:
        raise ValueError(f"{k} successes out of {n} trials")
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # At k = 0 (k = n) the bound is exactly 0 (1); rounding would leave it a hair inside, above 0/n.
    return 0.0 if k == 0 else max(0.0, centre - half), 1.0 if k == n else min(1.0, centre + half)


@dataclass(frozen=True)
class Paired:
    n: int
    accuracy_a: float
    accuracy_b: float
    only_a: int  # problems a solved and b did not
    only_b: int
    difference: float  # accuracy_a - accuracy_b
    interval: tuple[float, float]  # 95% interval of the difference (Newcombe, method 10)
    p_value: float  # exact two-sided McNemar


def mcnemar(a: Sequence[bool], b: Sequence[bool]) -> Paired:
    """Compare two arms on the same problems (``a[i]``, ``b[i]``: problem i solved)."""
    if len(a) != len(b):
        raise ValueError(f"paired comparison needs the same problems: {len(a)} vs {len(b)} results")
    n = len(a)
    only_a = sum(1 for x, y in zip(a, b) if x and not y)
    only_b = sum(1 for x, y in zip(a, b) if y and not x)
    both = sum(1 for x, y in zip(a, b) if x and y)
    pa, pb = (both + only_a) / n if n else 0.0, (both + only_b) / n if n else 0.0
    return Paired(n, pa, pb, only_a, only_b, pa - pb, _newcombe(both, only_a, only_b, n), _binom_two_sided(only_a, only_b))


def format_p(p: float | None) -> str:
    """A p-value for a table: 3 significant digits, ``<1e-4`` below 1e-4 (never a bare 0), '' for None."""
    return "" if p is None else f"{p:.3g}" if p >= 1e-4 else "<1e-4"


def _binom_two_sided(x: int, y: int) -> float:
    """Exact two-sided p-value of x vs y discordant pairs under p = 1/2."""
    m = x + y
    if m == 0:
        return 1.0
    k = min(x, y)
    tail = sum(math.comb(m, i) for i in range(k + 1)) / 2 ** m
    return min(1.0, 2 * tail)


def _newcombe(both: int, only_a: int, only_b: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Newcombe's (1998, method 10) interval for a difference of paired proportions."""
    if n == 0:
        return -1.0, 1.0
    pa, pb = (both + only_a) / n, (both + only_b) / n
    la, ua = wilson(both + only_a, n, z)
    lb, ub = wilson(both + only_b, n, z)
    neither = n - both - only_a - only_b
    denom = (both + only_a) * (neither + only_b) * (both + only_b) * (neither + only_a)
    phi = 0.0
    if denom > 0:
        prod = both * neither - only_a * only_b
        adj = max(abs(prod) - n / 2, 0.0) if prod > 0 else prod
        phi = adj / math.sqrt(denom)
    d = pa - pb
    lo = d - math.sqrt(max(0.0, (pa - la) ** 2 - 2 * phi * (pa - la) * (ub - pb) + (ub - pb) ** 2))
    hi = d + math.sqrt(max(0.0, (ua - pa) ** 2 - 2 * phi * (ua - pa) * (pb - lb) + (pb - lb) ** 2))
    return max(-1.0, lo), min(1.0, hi)


@dataclass(frozen=True)
class OverSeeds:
    mean: float
    per_seed: tuple[float, ...]
    interval: tuple[float, float]
    problems: int  # per seed
    iterations: int


def bootstrap_over_seeds(runs: Sequence[Sequence[float]], *, iterations: int = 2000, seed: int = 0) -> OverSeeds:
    """Mean accuracy over seeds (each run: per-problem correctness on the same problems) with a 95%
    percentile interval from resampling seeds and, within each drawn seed, problems. A run may also hold
    per-problem paired differences (1, 0, -1): the mean paired difference over seeds."""
    if not runs or any(len(r) == 0 for r in runs):
        raise ValueError("every seed needs at least one evaluated problem")
    per_seed = tuple(sum(r) / len(r) for r in runs)
    rng = random.Random(seed)
    means = []
    for _ in range(iterations):  # choices(): one C loop per draw, ~3x faster than randrange per problem
        means.append(sum(sum(rng.choices(r, k=len(r))) / len(r) for r in rng.choices(runs, k=len(runs))) / len(runs))
    means.sort()
    lo = means[int(0.025 * (iterations - 1))]
    hi = means[int(math.ceil(0.975 * (iterations - 1)))]
    return OverSeeds(sum(per_seed) / len(per_seed), per_seed, (lo, hi), len(runs[0]), iterations)
