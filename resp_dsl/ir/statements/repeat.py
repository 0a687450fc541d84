"""`repeat seeds [S, ...]`: repeat every arm below over calibration seeds (one arm per seed)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from resp_dsl import codes as C
from resp_dsl.ir import models as M
from resp_dsl.ir.values import label, show
from resp_dsl.syntax import ast as A

if TYPE_CHECKING:
    from resp_dsl.ir.args import Args
    from resp_dsl.ir.build import Builder
    from resp_dsl.ir.scope import Scope

REPEAT_KINDS = (M.SEED + "s",)  # `repeat seeds [...]`


def build(b: Builder, cmd: A.Command, a: Args, scope: Scope, top: bool) -> None:
    kind = a.head(REPEAT_KINDS, "repeat kind", "`repeat` needs what to repeat over: seeds")
    v = a.take()
    a.finish()
    if kind is None:
        return
    if v is None:
        b.sink.add(C.MISSING_ARGUMENT, cmd.span, "`repeat seeds` needs a list of calibration seeds",
                   hint="e.g. repeat seeds [0, 1, 2]")
        return
    if not isinstance(v, A.ListValue):
        b.sink.add(C.WRONG_TYPE, v.span, f"`repeat seeds` takes a list of seeds, got {show(v)}",
                   hint=f"e.g. repeat seeds [{label(v)}]" if isinstance(v, A.Number) else
                   "e.g. repeat seeds [0, 1, 2]")
        return
    seeds: dict[int, A.Value] = {}
    ok = True
    for item in b.values(v, "seeds"):
        n = b.number(item, "a seed", integer=True)
        if n is None:
            ok = False
        elif n < 0:
            b.sink.add(C.OUT_OF_RANGE, item.span, f"a seed must be >= 0, got {show(item)}")
            ok = False
        elif n in seeds:
            b.sink.add(C.DUPLICATE_SEED, item.span, f"seed {n} is listed twice",
                       hint="each seed is one calibration draw; a repeated one would count twice in the mean",
                       notes=(f"first listed at {seeds[n].span}",))
            ok = False
        else:
            seeds[n] = item
    if ok and seeds:
        b.set(scope, "repeat", M.RepeatSpec(seeds=tuple(seeds), span=cmd.span), cmd.span)
        b.effects.append((cmd.span, "repeat"))
