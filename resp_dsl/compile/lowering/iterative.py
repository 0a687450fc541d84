"""An iterative segment (GISP): a path to one target in ``steps`` linear steps (or one step per
``every`` of sparsity), re-scored at each, checkpointed at the evaluation/export points inside it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from resp_dsl.compile.lowering.path import walk

if TYPE_CHECKING:
    from resp_dsl.compile.lower import ArmLowering
    from resp_dsl.ir.models import Segment


def lower(lw: ArmLowering, seg: Segment) -> None:
    steps = max(1, round((seg.targets[0] - lw.cur_s) / seg.every)) if seg.steps is None else seg.steps
    walk(lw, seg, steps, (), lw.points)
