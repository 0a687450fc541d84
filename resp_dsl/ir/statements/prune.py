"""`prune to TARGET[S] [steps=N] [mode=M]`: the short form of a one-shot (or, with steps > 1,
iterative) schedule segment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from resp_dsl import codes as C
from resp_dsl.ir import models as M
from resp_dsl.ir.statements.schedule import read_mode
from resp_dsl.syntax import ast as A

if TYPE_CHECKING:
    from resp_dsl.ir.args import Args
    from resp_dsl.ir.build import Builder
    from resp_dsl.ir.scope import Scope


def build(b: Builder, cmd: A.Command, a: Args, scope: Scope, top: bool) -> None:
    to = a.clause("to")
    mode = read_mode(b, a)
    steps_v = a.opt("steps")
    a.finish(("mode", "steps"), ("to",))
    if to is None:
        b.sink.add(C.MISSING_ARGUMENT, cmd.span, "`prune` needs `to TARGET`", hint="e.g. prune to [0.2, 0.3, 0.4]")
        return
    targets = b.sparsities(to.values[0], "target")
    steps = b.number(steps_v, "steps", integer=True) if steps_v is not None else 1
    if not targets or mode is None or steps is None:
        return
    if steps > 1:
        if len(targets) != 1:
            b.sink.add(C.WRONG_TYPE, to.span, "an iterative prune (steps > 1) has one target")
            return
        seg = M.Segment(kind="iterative", targets=tuple(targets), steps=steps, mode=mode, span=cmd.span,
                        spans={"targets": to.values[0].span})
    else:
        seg = M.Segment(kind="oneshot", targets=tuple(targets), mode=mode, span=cmd.span,
                        spans={"targets": to.values[0].span})
    scope.segments.append(seg)
