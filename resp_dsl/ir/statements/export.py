"""`export FORMAT [to PATH] [at POINTS] [round=R]`: write pruned models of every arm below."""

from __future__ import annotations

from typing import TYPE_CHECKING

from resp_dsl import codes as C
from resp_dsl import vocab as V
from resp_dsl.syntax import ast as A

if TYPE_CHECKING:
    from resp_dsl.ir.args import Args
    from resp_dsl.ir.build import Builder
    from resp_dsl.ir.scope import Scope


def build(b: Builder, cmd: A.Command, a: Args, scope: Scope, top: bool) -> None:
    fmt_v = a.take()
    to = a.clause("to")
    at = a.clause("at")
    round_v = a.opt("round")
    a.finish(("round",), ("to", "at"))
    if fmt_v is None:
        b.sink.add(C.MISSING_ARGUMENT, cmd.span, "`export` needs a format: per_layer, uniform or masked")
        return
    fmt = b.word(fmt_v, V.EXPORT_FORMATS, "export format")
    rounding = b.word(round_v, V.EXPORT_ROUNDING, "export rounding") if round_v is not None else "none"
    if rounding is None:
        return
    if rounding != "none" and fmt != "uniform":
        b.sink.add(C.INCOMPATIBLE_OPTIONS, round_v.span, f"`round` applies to uniform exports, not {fmt}",
                   hint="per_layer exports keep every block's own sizes; nothing to round")
        return
    path = b.text(to.values[0], "export path") if to else "exports/{recipe}/{arm}-{sparsity}"
    points = b.points(at.values[0]) if at else [("final", cmd.span)]
    if fmt is None or path is None:
        return
    scope.exports.append((fmt, path, points, cmd.span, rounding))
    b.effects.append((cmd.span, "export"))
