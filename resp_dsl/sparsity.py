"""Sparsity paths, protected blocks and regeneration seeds: the arithmetic, in one torch-free place.

The compiler lowers a schedule into graph nodes with these functions and the pruning
library steps along the same targets, so the two can never disagree about where a step
lands, how many steps an interval holds, or which seed a milestone samples with.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Sequence

# Sparsities are rounded so that a step landing on 0.30000000000000004 and a milestone 0.3 coincide.
DIGITS = 12


def linear_targets(target: float, steps: int, start: float = 0.0) -> list[float]:
    """The sparsity after each of `steps` equal steps from `start` to `target` (the last is exactly `target`)."""
    if steps < 1:
        raise ValueError("steps must be at least 1")
    return [round(start + (target - start) * k / steps, DIGITS) for k in range(1, steps)] + [float(target)]


def path_intervals(start: float, marks: Sequence[float], stops: Iterable[float] = (),
                   steps: int | None = None) -> list[tuple[float, float, int]]:
    """Split a schedule's path into checkpointed intervals: ``(from, to, steps in it)``.

    The path runs from ``start`` to the last of ``marks`` (the milestones, or an iterative
    target). ``stops`` are further sparsities that need a checkpoint (evaluation and export
    points strictly inside the path). With ``steps`` the path is that many linear steps,
    each interval taking the grid points it contains (at least one: a stop off the grid
    adds a step there); without, every interval is one step (one-shot per milestone).
    """
    marks = sorted({round(float(m), DIGITS) for m in marks})
    if not marks:
        raise ValueError("a path needs at least one target")
    end = marks[-1]
    bounds = sorted(set(marks) | {round(float(s), DIGITS) for s in stops if start < s < end})
    grid = linear_targets(end, steps, start) if steps else None
    out, prev = [], start
    for b in bounds:
        k = sum(1 for g in grid if prev + 1e-12 < g <= b + 1e-12) if grid else 1
        out.append((prev, b, max(1, k)))
        prev = b
    return out


def protected_blocks(n_layers: int, *, first_fraction: float = 0.0, last: bool = False,
                     blocks: Iterable[int] = ()) -> list[int]:
    """The blocks a protection rule holds out of pruning, for a model of `n_layers` blocks.

    ``first_fraction`` protects the first int(f·L) blocks, as the authors' code does, computed so
    that float rounding never drops a block (58% of 50 blocks is 29, not 28.999… -> 28);
    ``last`` the final block; ``blocks`` explicit indices, negative ones counting from the end
    (indices outside the model are ignored here; `check` reports them).
    """
    out = set(range(min(n_layers, int(first_fraction * n_layers + 1e-9))))
    if last and n_layers:
        out.add(n_layers - 1)
    for b in blocks:
        idx = b + n_layers if b < 0 else b
        if 0 <= idx < n_layers:
            out.add(idx)
    return sorted(out)


def regeneration_seed(seed: int, milestone: float) -> int:
    """The sampling seed of the traces regenerated at `milestone` of a run calibrated with `seed`.

    Each milestone samples with its own seed, so a slightly pruned model does not replay the
    dense model's random draws token for token; the same (seed, milestone) always gives the same seed.
    """
    digest = hashlib.sha256(f"resp-dsl:regenerate:{int(seed)}:{round(float(milestone), DIGITS)!r}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFF_FFFF


def regenerated_indices(n: int, rho: float, seed: int) -> list[int]:
    """Which of `n` calibration samples a fraction `rho` regenerates (chosen with `seed`, sorted)."""
    if not 0.0 <= rho <= 1.0:
        raise ValueError(f"regeneration ratio {rho} must be in [0, 1]")
    return sorted(random.Random(seed).sample(range(n), round(rho * n)))
