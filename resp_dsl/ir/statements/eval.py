"""`eval TASK [at POINTS] [task options]`: evaluate every arm below at points of its path."""

from __future__ import annotations

from typing import TYPE_CHECKING

from resp_dsl import codes as C
from resp_dsl.ir.statements.task import TASK_OPTIONS, lookup_task, task_options
from resp_dsl.syntax import ast as A

if TYPE_CHECKING:
    from resp_dsl.ir.args import Args
    from resp_dsl.ir.build import Builder
    from resp_dsl.ir.scope import Scope


def build(b: Builder, cmd: A.Command, a: Args, scope: Scope, top: bool) -> None:
    tv = a.take()
    at = a.clause("at")
    opts = task_options(b, a)
    a.finish(TASK_OPTIONS, ("at",))
    if tv is None:
        b.sink.add(C.MISSING_ARGUMENT, cmd.span, "`eval` needs a task", hint="e.g. eval gsm8k at [0.2, 0.3, 0.4]")
        return
    task = lookup_task(b, tv, "evaluation task")
    points = b.points(at.values[0]) if at else None
    if task is None or any(v is None for k, v in opts.items() if k != "limit"):
        return
    task = task.model_copy(update={k: v for k, v in opts.items()} | {"span": cmd.span})
    scope.evals.append((task, points, cmd.span))
    b.effects.append((cmd.span, "eval"))
