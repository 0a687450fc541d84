"""Statements: one module per statement head, each ``build(b, cmd, args, scope, top)``, listed in
``STATEMENTS``, the one table of heads (as ``resp_dsl.check`` lists its checks in ``CHECKS``).

A statement reads its arguments through ``Args`` (``resp_dsl.ir.args``) and its values through
the ``Builder``'s readers (``resp_dsl.ir.values``), so every diagnostic carries a span; it stores
its meaning in the scope (``b.set(scope, kind, spec, span)``, ``scope.segments``, ``scope.evals``,
...) or, for definitions and reports, on the ``Builder``. Adding a statement is one module here,
one line below, and grammar only if its syntax is new. ``protect``, ``param``, ``use``, ``arm`` and
``for`` have their own grammar rules: ``protect`` is ``statements/protect.py``, the others
belong to the builder (``build.py``, ``scope.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from resp_dsl import codes as C
from resp_dsl.diagnostics import suggest
from resp_dsl.ir.args import Args
from resp_dsl.ir.statements import (
    basis, calibrate, eval, export, model, prune, repeat, report, schedule, score, task,
)
from resp_dsl.syntax import ast as A

if TYPE_CHECKING:
    from resp_dsl.ir.build import Builder
    from resp_dsl.ir.scope import Scope

STATEMENTS: dict[str, Callable[..., None]] = {
    "model": model.build,
    "task": task.build,
    "calibrate": calibrate.build,
    "score": score.build,
    "schedule": schedule.build,
    "prune": prune.build,
    "basis": basis.build,
    "repeat": repeat.build,
    "eval": eval.build,
    "export": export.build,
    "report": report.build,
}
KEYWORDS = tuple(STATEMENTS) + ("use", "param", "protect", "arm", "for")


def command(b: Builder, cmd: A.Command, scope: Scope, top: bool) -> None:
    """Give one command its meaning: the statement its head names, else an unknown-statement error."""
    handler = STATEMENTS.get(cmd.head)
    if handler is None:
        b.sink.add(C.UNKNOWN_STATEMENT, cmd.head_span, f'unknown statement "{cmd.head}"', suggest(cmd.head, KEYWORDS))
        return
    handler(b, cmd, Args(b, cmd), scope, top)
