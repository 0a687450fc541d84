"""The path shared by milestone and iterative segments: checkpointed intervals
(``sparsity.path_intervals``), each score -> prune (k linear steps, re-scoring at each); before
pruning past a milestone, or past the start of a chained segment, the traces are regenerated
when ρ > 0."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from resp_dsl.sparsity import path_intervals

if TYPE_CHECKING:
    from resp_dsl.compile.lower import ArmLowering
    from resp_dsl.ir.models import Segment


def walk(lw: ArmLowering, seg: Segment, steps: int | None, milestones: Collection[float],
         inside: Collection[float]) -> None:
    """Lower ``seg`` as a path from ``lw.cur_s`` in ``steps`` steps (None: one per interval),
    checkpointed at the targets and at the points ``inside`` it; advance ``lw`` to its end."""
    start_s = lw.cur_s
    for start, stop, k in path_intervals(start_s, seg.targets, inside, steps):
        if (start in milestones or start == start_s > 0) and seg.rho > 0 and lw.cal is not None and start > 0:
            lw.cal = lw.regenerated(seg, start)
        s = lw.scored(seg, lw.cur, lw.cal, start)
        lw.cur = lw.pruned(seg, lw.cur, s, lw.cal, start, stop, k)
        lw.at[stop] = lw.cur
    lw.cur_s = seg.targets[-1]
