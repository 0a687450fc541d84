"""`protect first P% blocks, last [N] block(s), blocks [i, ...] | none`: blocks held out of pruning.

Its own grammar rule (not ``HEAD arg*``), so it is not in ``STATEMENTS``; ``scope.walk`` calls it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from resp_dsl import codes as C
from resp_dsl.diagnostics import Span
from resp_dsl.ir import models as M
from resp_dsl.ir.values import show
from resp_dsl.syntax import ast as A

if TYPE_CHECKING:
    from resp_dsl.ir.build import Builder
    from resp_dsl.ir.scope import Scope


def build(b: Builder, st: A.Protect, scope: Scope, top: bool) -> None:
    b.set(scope, "protect", spec(b, st), st.span)


def spec(b: Builder, st: A.Protect) -> M.ProtectSpec | None:
    first = 0.0
    last = False
    blocks: list[int] = []
    block_spans: dict[str, Span] = {}
    ok = True
    for item in st.items:
        v = b.resolve(item.value) if item.value is not None else None
        if item.kind == "none":
            if len(st.items) > 1:
                b.sink.add(C.INCOMPATIBLE_OPTIONS, item.span, "`protect none` cannot be combined with other rules")
                ok = False
        elif item.kind == "first":
            if isinstance(v, A.Percent):
                first = v.value
                if not 0 <= v.value <= 1:
                    b.sink.add(C.OUT_OF_RANGE, v.span, f"protected fraction must be within 0%..100%, got {v.text}")
                    ok = False
            elif isinstance(v, A.Number) and isinstance(v.value, int):
                if v.value < 0:
                    b.sink.add(C.OUT_OF_RANGE, v.span, f"block count must be >= 0, got {v.text}")
                    ok = False
                blocks.extend(range(min(v.value, 10_000)))
            else:
                b.sink.add(C.WRONG_TYPE, v.span, f"`protect first` takes a percentage or a block count, got {show(v)}",
                           hint="e.g. protect first 10% blocks")
                ok = False
        elif item.kind == "last":
            count = 1
            if v is not None:
                if isinstance(v, A.Number) and isinstance(v.value, int) and v.value >= 1:
                    count = v.value
                else:
                    b.sink.add(C.WRONG_TYPE, v.span, f"`protect last` takes a block count >= 1, got {show(v)}")
                    ok = False
            last = True
            blocks.extend(-i for i in range(2, min(count, 10_000) + 1))
        elif item.kind == "blocks":
            for x in b.values(v, "protected blocks"):
                if isinstance(x, A.Number) and isinstance(x.value, int):
                    blocks.append(x.value)
                    block_spans.setdefault(str(x.value), x.span)
                else:
                    b.sink.add(C.WRONG_TYPE, x.span, f"block indices are whole numbers, got {show(x)}")
                    ok = False
    if not ok:
        return None
    return M.ProtectSpec(first_fraction=first, last=last, blocks=tuple(sorted(set(blocks))), span=st.span,
                         spans=block_spans)
