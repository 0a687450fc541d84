"""Lowering of schedule segments, one module per schedule kind (``vocab.SCHEDULE_KINDS``).

Each is ``lower(lw: ArmLowering, seg: Segment) -> None``: it adds the segment's nodes through
``lw.scored`` / ``lw.pruned`` / ``lw.regenerated`` (``compile/lower.py`` names the nodes) and
advances the arm's path: ``lw.cur`` (the last model node), ``lw.cur_s`` (its sparsity), ``lw.cal``
(the traces in force) and ``lw.at`` (the model node at each sparsity reached). A new kind is one
module here and one line below (its word in ``vocab.SCHEDULE_KINDS``, its statement in
``ir/statements/schedule.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from resp_dsl.compile.lowering import iterative, milestones, oneshot

if TYPE_CHECKING:
    from resp_dsl.compile.lower import ArmLowering
    from resp_dsl.ir.models import Segment

SEGMENTS: dict[str, Callable[[ArmLowering, Segment], None]] = {
    "milestones": milestones.lower,
    "iterative": iterative.lower,
    "oneshot": oneshot.lower,
}
