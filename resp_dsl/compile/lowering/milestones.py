"""A milestone segment (RESP): a path through each milestone in turn, the traces regenerated at
each (ρ > 0). With ``steps`` the path is that many linear steps, checkpointed also at the
evaluation/export points inside it; without, one step per milestone."""

from __future__ import annotations

from typing import TYPE_CHECKING

from resp_dsl.compile.lowering.path import walk

if TYPE_CHECKING:
    from resp_dsl.compile.lower import ArmLowering
    from resp_dsl.ir.models import Segment


def lower(lw: ArmLowering, seg: Segment) -> None:
    walk(lw, seg, seg.steps, set(seg.targets), lw.points if seg.steps else ())
