"""`schedule oneshot|iterative|milestones ...`: one segment of an arm's pruning path; and the
``mode=`` option that `prune` shares.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from resp_dsl import codes as C
from resp_dsl import vocab as V
from resp_dsl.diagnostics import Span
from resp_dsl.ir import models as M
from resp_dsl.syntax import ast as A

if TYPE_CHECKING:
    from resp_dsl.ir.args import Args
    from resp_dsl.ir.build import Builder
    from resp_dsl.ir.scope import Scope


def read_mode(b: Builder, a: Args) -> str | None:
    v = a.opt("mode")
    return b.word(v, V.MODES, "prune mode") if v is not None else "physical"


def build(b: Builder, cmd: A.Command, a: Args, scope: Scope, top: bool) -> None:
    kind = a.head(V.SCHEDULE_KINDS, "schedule",
                  "`schedule` needs a kind: milestones, iterative or oneshot")
    if kind is None:
        return
    mode = read_mode(b, a)
    seg: M.Segment | None = None
    spans: dict[str, Span] = {}
    if kind == "milestones":
        ms_v = a.take()
        ms = b.sparsities(ms_v, "milestones")
        if ms_v is not None:
            spans["targets"] = ms_v.span
        steps_v = a.opt("steps")
        steps = None
        if steps_v is not None:
            steps = b.number(steps_v, "steps", integer=True)
            spans["steps"] = steps_v.span
        regen = a.clause("regen")
        rho = 0.0
        if regen is not None:
            kv = regen.values[0]
            if kv.key not in ("ρ", "rho"):
                b.sink.add(C.UNKNOWN_OPTION, kv.key_span, f'`regen` takes ρ=..., not "{kv.key}"', 'write regen ρ=1.0')
            else:
                rho = b.number(kv.value, "ρ")
                spans["rho"] = kv.value.span
        a.finish(("steps", "mode"), ("regen",))
        if ms is None:
            b.sink.add(C.MISSING_ARGUMENT, cmd.span, "`schedule milestones` needs a list of sparsities",
                       hint="e.g. schedule milestones [0.1..0.4] steps=112 regen ρ=1.0")
        elif ms and rho is not None and mode and (steps_v is None or steps is not None):
            seg = M.Segment(kind="milestones", targets=tuple(ms), rho=float(rho), steps=steps, mode=mode,
                            span=cmd.span, spans=spans)
    elif kind == "iterative":
        to = a.clause("to")
        every = a.clause("every")
        steps_v = a.opt("steps")
        a.finish(("steps", "mode"), ("to", "every"))
        targets = b.sparsities(to.values[0], "target") if to else None
        if to is not None:
            spans["targets"] = to.values[0].span
        if steps_v is not None:
            spans["steps"] = steps_v.span
        if every is not None:
            spans["every"] = every.values[0].span
        if to is None:
            b.sink.add(C.MISSING_ARGUMENT, cmd.span, "`schedule iterative` needs `to TARGET`",
                       hint="e.g. schedule iterative steps=112 to 0.4")
            return
        if steps_v is not None and every is not None:
            b.sink.add(C.INCOMPATIBLE_OPTIONS, every.span, "give either steps=N or every X, not both")
            return
        steps = b.number(steps_v, "steps", integer=True) if steps_v is not None else None
        ev = b.number(every.values[0], "every") if every is not None else None
        if steps_v is None and every is None:
            ev = 0.01
        if targets and len(targets) != 1:
            b.sink.add(C.WRONG_TYPE, to.span, "an iterative schedule has one target; evaluate in between with `eval ... at`")
            return
        if targets and mode and (steps is not None or ev is not None):
            seg = M.Segment(kind="iterative", targets=tuple(targets), steps=steps, every=ev, mode=mode, span=cmd.span,
                            spans=spans)
    elif kind == "oneshot":
        to = a.clause("to")
        a.finish(("mode",), ("to",))
        if to is None:
            b.sink.add(C.MISSING_ARGUMENT, cmd.span, "`schedule oneshot` needs `to TARGET`")
            return
        targets = b.sparsities(to.values[0], "target")
        if targets and mode:
            seg = M.Segment(kind="oneshot", targets=tuple(targets), mode=mode, span=cmd.span,
                            spans={"targets": to.values[0].span})
    else:
        a.finish(("mode", "steps"), ("to", "every", "regen"))
    if seg is not None:
        scope.segments.append(seg)
