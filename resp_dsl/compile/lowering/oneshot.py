"""A one-shot segment: one score node at the path's current point, then one prune node per
target, each a branch straight from that point (targets do not chain; the path stays where it was)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from resp_dsl.compile.lower import ArmLowering
    from resp_dsl.ir.models import Segment


def lower(lw: ArmLowering, seg: Segment) -> None:
    s = lw.scored(seg, lw.cur, lw.cal, lw.cur_s)
    for t in seg.targets:
        lw.at[t] = lw.pruned(seg, lw.cur, s, lw.cal, lw.cur_s, t, 1)
