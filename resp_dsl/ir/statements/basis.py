"""`basis params|structures`: what a sparsity counts."""

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
    v = a.take()
    a.finish()
    if v is None:
        b.sink.add(C.MISSING_ARGUMENT, cmd.span, "`basis` needs params or structures")
        return
    b.set(scope, "basis", b.word(v, V.BASES, "sparsity basis"), cmd.span)
